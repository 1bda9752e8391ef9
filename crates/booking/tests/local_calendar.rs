//! The embedded calendar's provider suite, run against both databases (SQLite and
//! PostgreSQL): persistence across restarts, database-enforced slot exclusivity, tenant
//! isolation, the concurrency guarantees of booking through the engine, and replies that state
//! what the database holds.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use frontdesk_booking::{
    Attendee, CalendarError, CalendarProvider, CallContext, ContactQuery, NewBooking, SlotQuery,
};
use frontdesk_clock::Clock;
use frontdesk_store::{MemoryStore, Store};
use jiff::civil::date;
use serde_json::{Value, json};

fn book_args() -> Value {
    json!({"date": "2026-01-06", "time": "10:00", "name": "Erika Mustermann", "phone": "+49301234567"})
}

fn call(id: &str) -> CallContext {
    CallContext {
        call_id: Some(id.to_owned()),
        from_number: Some("+49301234567".into()),
    }
}

fn new_booking(h: i8, m: i8) -> NewBooking {
    NewBooking {
        start: common::berlin()
            .to_timestamp(date(2026, 1, 6).at(h, m, 0, 0))
            .unwrap(),
        duration_min: 30,
        service: None,
        attendee: Attendee {
            name: "Erika".into(),
            email: Some("erika@example.org".into()),
            phone: Some("+49301234567".into()),
        },
        notes: None,
        call_id: None,
        request_key: None,
    }
}

async fn bookings_survive_a_restart(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let booked = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &book_args())
        .await;
    assert_eq!(booked["success"], true, "{booked}");
    let id = booked["booking"]["id"].as_str().unwrap().to_owned();
    drop(f.engine);

    // A new process: fresh calendar and store over the same file.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(f.clock.clone())));
    let engine = f.db.engine(store, f.clock.clone()).await;
    let check = engine
        .call(
            &tenant,
            call("c2"),
            "check_availability",
            &json!({"date": "2026-01-06", "time": "10:00"}),
        )
        .await;
    assert_eq!(check["available"], false, "{check}");
    let cancel = engine
        .call(
            &tenant,
            call("c2"),
            "cancel_appointment",
            &json!({"booking_id": id}),
        )
        .await;
    assert_eq!(cancel["success"], true, "{cancel}");
    assert_eq!(cancel["booking"]["status"], "cancelled");
    let check = engine
        .call(
            &tenant,
            call("c3"),
            "check_availability",
            &json!({"date": "2026-01-06", "time": "10:00"}),
        )
        .await;
    assert_eq!(check["available"], true, "{check}");
}

async fn two_calendars_on_one_database_cannot_double_book(backend: common::Backend) {
    // Two handles on one database behave like two processes: only SQLite arbitrates.
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let a = Arc::new(f.db.calendar(clock.clone()).await);
    let b = Arc::new(f.db.calendar(clock).await);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let cal = if i % 2 == 0 { a.clone() } else { b.clone() };
        let tenant = tenant.clone();
        // Overlapping but different starts: 10:00 and 10:15 (30 minutes each) collide.
        let booking = new_booking(10, if i % 3 == 0 { 15 } else { 0 });
        tasks.push(tokio::spawn(
            async move { cal.create(&tenant, &booking).await },
        ));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(CalendarError::SlotTaken) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1);
}

async fn tenants_never_see_each_other(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let cal = f.db.calendar(clock).await;
    let a = common::demo();
    let b = common::tenant_from_yaml(common::DEMO_EN);
    let booking = cal.create(&a, &new_booking(10, 0)).await.unwrap();

    // Same slot is free for the other tenant, and bookable there.
    let query = SlotQuery {
        for_call: None,
        from: date(2026, 1, 6),
        to: date(2026, 1, 6),
        duration_min: 30,
        service: None,
    };
    let free_b = cal.free_slots(&b, &query).await.unwrap();
    assert!(free_b.iter().any(|s| s.start == booking.start));
    let free_a = cal.free_slots(&a, &query).await.unwrap();
    assert!(!free_a.iter().any(|s| s.start == booking.start));

    // Tenant B can neither read, cancel nor move A's booking, by id or uid.
    for r in [&booking.id, &booking.uid] {
        assert_eq!(cal.get_booking(&b, r).await, Err(CalendarError::NotFound));
        assert_eq!(cal.cancel(&b, r).await, Err(CalendarError::NotFound));
        assert_eq!(
            cal.reschedule(&b, r, booking.start).await,
            Err(CalendarError::NotFound)
        );
    }
    let contact = ContactQuery {
        phone: Some("+49 30 1234567".into()),
        ..Default::default()
    };
    assert!(cal.find_bookings(&b, &contact).await.unwrap().is_empty());
    assert_eq!(cal.find_bookings(&a, &contact).await.unwrap().len(), 1);
    cal.create(&b, &new_booking(10, 0)).await.unwrap();
}

async fn twenty_identical_book_calls_make_one_booking_with_one_answer(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let engine = f.engine.clone();
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .call(&tenant, call("same-call"), "book_appointment", &book_args())
                .await
        }));
    }
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    assert_eq!(replies[0]["success"], true, "{}", replies[0]);
    assert!(
        replies.iter().all(|r| *r == replies[0]),
        "all answers identical"
    );

    // A later retry (same call, same args, other spelling) still gets the first answer.
    let retry = f
        .engine
        .call(
            &tenant,
            call("same-call"),
            "collect_appointment",
            &json!({"date": "06.01.2026", "time": "10:00 Uhr", "name": "Erika Mustermann", "phone": "+49 30 1234567"}),
        )
        .await;
    assert_eq!(retry, replies[0]);

    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let cal = f.db.calendar(clock).await;
    let contact = ContactQuery {
        phone: Some("+49301234567".into()),
        ..Default::default()
    };
    assert_eq!(cal.find_bookings(&tenant, &contact).await.unwrap().len(), 1);
}

async fn twenty_calls_for_one_slot_make_one_booking_and_nineteen_alternatives(
    backend: common::Backend,
) {
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let engine = f.engine.clone();
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .call(
                    &tenant,
                    call(&format!("call-{i}")),
                    "book_appointment",
                    &book_args(),
                )
                .await
        }));
    }
    let mut ok = 0;
    let mut taken = 0;
    for t in tasks {
        let r = t.await.unwrap();
        if r["success"] == true {
            ok += 1;
        } else {
            assert_eq!(r["reason"], "slot_unavailable", "{r}");
            let alts = r["alternatives"].as_array().unwrap();
            assert_eq!(alts.len(), 3, "{r}");
            assert!(
                alts.iter()
                    .all(|a| a["time"] != "10:00" || a["date"] != "2026-01-06")
            );
            taken += 1;
        }
    }
    assert_eq!((ok, taken), (1, 19));
}

async fn duplicates_across_replicas_share_one_booking(backend: common::Backend) {
    // Two engines (replicas) with one shared store and one database.
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let replica_b = Arc::new(f.db.engine(f.store.clone(), f.clock.clone()).await);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let engine = if i % 2 == 0 {
            f.engine.clone()
        } else {
            replica_b.clone()
        };
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .call(
                    &tenant,
                    call("shared-call"),
                    "book_appointment",
                    &book_args(),
                )
                .await
        }));
    }
    let mut replies = BTreeSet::new();
    for t in tasks {
        replies.insert(t.await.unwrap().to_string());
    }
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert!(replies.iter().next().unwrap().contains("\"success\":true"));
}

async fn reschedule_moves_occupancy_and_keeps_duration(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let cal = f.db.calendar(clock).await;
    let tenant = common::demo();
    let first = cal.create(&tenant, &new_booking(10, 0)).await.unwrap();
    let other = cal.create(&tenant, &new_booking(11, 0)).await.unwrap();
    // Moving onto another booking fails and leaves everything as it was.
    assert_eq!(
        cal.reschedule(&tenant, &first.id, other.start).await,
        Err(CalendarError::SlotTaken)
    );
    let query = SlotQuery {
        for_call: None,
        from: date(2026, 1, 6),
        to: date(2026, 1, 6),
        duration_min: 30,
        service: None,
    };
    let free = cal.free_slots(&tenant, &query).await.unwrap();
    assert!(!free.iter().any(|s| s.start == first.start));
    // Moving by 15 minutes overlaps its own old time, which must not block it.
    let later = common::berlin()
        .to_timestamp(date(2026, 1, 6).at(10, 15, 0, 0))
        .unwrap();
    let moved = cal.reschedule(&tenant, &first.uid, later).await.unwrap();
    assert_eq!(moved.start, later);
    assert_eq!(moved.start.duration_until(moved.end).as_mins(), 30);
    let free = cal.free_slots(&tenant, &query).await.unwrap();
    assert!(
        !free.iter().any(|s| s.start == first.start),
        "10:00 overlaps 10:15–10:45"
    );
    let nine_thirty = common::berlin()
        .to_timestamp(date(2026, 1, 6).at(9, 30, 0, 0))
        .unwrap();
    assert!(free.iter().any(|s| s.start == nine_thirty));
}

/// Free slots are cached briefly: a booking made through the same calendar shows at once; one
/// made by another process on the same file shows once the short cache time has passed.
async fn free_slots_see_own_writes_at_once_and_other_processes_within_a_second(
    backend: common::Backend,
) {
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let here = f.db.calendar(clock.clone()).await;
    let elsewhere = f.db.calendar(clock).await;
    let query = SlotQuery {
        for_call: None,
        from: date(2026, 1, 6),
        to: date(2026, 1, 6),
        duration_min: 30,
        service: None,
    };
    let starts = |slots: Vec<frontdesk_booking::Slot>| -> BTreeSet<String> {
        slots.iter().map(|s| s.start.to_string()).collect()
    };
    let ten = new_booking(10, 0).start.to_string();
    let eleven = new_booking(11, 0).start.to_string();
    let before = starts(here.free_slots(&tenant, &query).await.unwrap());
    assert!(before.contains(&ten) && before.contains(&eleven));

    here.create(&tenant, &new_booking(10, 0)).await.unwrap();
    let after_own = starts(here.free_slots(&tenant, &query).await.unwrap());
    assert!(!after_own.contains(&ten), "own write shows at once");

    elsewhere
        .create(&tenant, &new_booking(11, 0))
        .await
        .unwrap();
    f.clock.advance(std::time::Duration::from_millis(1_000));
    let later = starts(here.free_slots(&tenant, &query).await.unwrap());
    assert!(
        !later.contains(&eleven),
        "another process's write shows after a second"
    );
}

async fn a_slot_stays_free_while_any_resource_is_free(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let tenant = common::tenant_from_yaml(&common::DEMO.replace(
        "{ provider: local }",
        "{ provider: local, resources: [room-1, room-2] }",
    ));
    let calendar = f.db.calendar(Arc::new(f.clock.clone())).await;
    let query = SlotQuery {
        for_call: None,
        from: date(2026, 1, 6),
        to: date(2026, 1, 6),
        duration_min: 30,
        service: None,
    };
    let free_at = |slots: &[frontdesk_booking::Slot], h: i8, m: i8| {
        let start = new_booking(h, m).start;
        slots.iter().any(|s| s.start == start)
    };

    calendar.create(&tenant, &new_booking(10, 0)).await.unwrap();
    let one_taken = calendar.free_slots(&tenant, &query).await.unwrap();
    assert!(free_at(&one_taken, 10, 0), "room-2 is still free at 10:00");

    calendar.create(&tenant, &new_booking(10, 0)).await.unwrap();
    let both_taken = calendar.free_slots(&tenant, &query).await.unwrap();
    assert!(!free_at(&both_taken, 10, 0), "both rooms taken at 10:00");
    // A 30-minute slot at 09:45 would overlap 10:00-10:30 in both rooms; 10:30 is free again.
    assert!(!free_at(&both_taken, 9, 45));
    assert!(free_at(&both_taken, 10, 30) && free_at(&both_taken, 9, 30));
    assert!(matches!(
        calendar.create(&tenant, &new_booking(10, 0)).await,
        Err(CalendarError::SlotTaken)
    ));
}

/// What the calendar holds for a tenant at 2026-01-06 10:00, by status, via a fresh view.
async fn check_ten(engine: &frontdesk_booking::Engine, call_id: &str) -> Value {
    engine
        .call(
            &common::demo(),
            call(call_id),
            "check_availability",
            &json!({"date": "2026-01-06", "time": "10:00"}),
        )
        .await
}

/// Book, cancel, book the same slot again in one call: the last answer is a real booking.
async fn book_cancel_book_in_one_call_answers_truthfully(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let first = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &book_args())
        .await;
    assert_eq!(first["success"], true, "{first}");
    let cancel = f
        .engine
        .call(
            &tenant,
            call("c1"),
            "cancel_appointment",
            &json!({"booking_id": first["booking"]["uid"]}),
        )
        .await;
    assert_eq!(cancel["booking"]["status"], "cancelled", "{cancel}");
    let again = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &book_args())
        .await;
    assert_eq!(again["success"], true, "{again}");
    assert_ne!(
        again["booking"]["uid"], first["booking"]["uid"],
        "a new booking"
    );
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let stored =
        f.db.calendar(clock)
            .await
            .get_booking(&tenant, again["booking"]["uid"].as_str().unwrap())
            .await
            .unwrap();
    assert_eq!(stored.status, frontdesk_booking::BookingStatus::Accepted);
    assert_eq!(check_ten(&f.engine, "c2").await["available"], false);
}

/// Retell repeats a function it got no answer for; after a restart the reply store is empty,
/// and the database alone must say the booking is the caller's own.
async fn a_retry_after_a_restart_gets_the_booking_it_made(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let tenant = common::demo();
    let first = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &book_args())
        .await;
    assert_eq!(first["success"], true, "{first}");
    drop(f.engine);
    let fresh: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(f.clock.clone())));
    let restarted = f.db.engine(fresh, f.clock.clone()).await;
    let retry = restarted
        .call(&tenant, call("c1"), "book_appointment", &book_args())
        .await;
    assert_eq!(retry, first, "the same booking, the same answer");
}

/// One call may book two people into one slot of a two-room practice: a second person is a
/// second request, not a retry of the first.
async fn one_call_books_two_people_into_two_rooms(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let tenant = common::tenant_from_yaml(&common::DEMO.replace(
        "{ provider: local }",
        "{ provider: local, resources: [room-1, room-2] }",
    ));
    let person = |name: &str| json!({"date": "2026-01-06", "time": "10:00", "name": name, "phone": "+49301234567"});
    let erika = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &person("Erika"))
        .await;
    let max = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &person("Max"))
        .await;
    assert_eq!(
        (&erika["success"], &max["success"]),
        (&json!(true), &json!(true))
    );
    assert_ne!(erika["booking"]["uid"], max["booking"]["uid"]);
    let anna = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &person("Anna"))
        .await;
    assert_eq!(anna["reason"], "slot_unavailable", "{anna}");
}

/// Three replicas, each with a reply store of its own (nothing shared but the database).
async fn replicas(f: &common::BackendFixture) -> Vec<Arc<frontdesk_booking::Engine>> {
    let mut out = Vec::new();
    for _ in 0..3 {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(f.clock.clone())));
        out.push(Arc::new(f.db.engine(store, f.clock.clone()).await));
    }
    out
}

async fn thirty_callers_on_three_replicas_get_one_booking(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let replicas = replicas(&f).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let engine = replicas[i % 3].clone();
        tasks.push(tokio::spawn(async move {
            engine
                .call(
                    &common::demo(),
                    call(&format!("caller-{i}")),
                    "book_appointment",
                    &book_args(),
                )
                .await
        }));
    }
    let (mut booked, mut refused) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        if r["success"] == true {
            booked += 1;
        } else {
            assert_eq!(r["reason"], "slot_unavailable", "{r}");
            assert!(!r["alternatives"].as_array().unwrap().is_empty(), "{r}");
            refused += 1;
        }
    }
    assert_eq!((booked, refused), (1, 29));
}

async fn thirty_retries_on_three_replicas_get_one_booking_and_one_answer(backend: common::Backend) {
    let f = common::fixture_on(backend).await;
    let replicas = replicas(&f).await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let engine = replicas[i % 3].clone();
        tasks.push(tokio::spawn(async move {
            engine
                .call(
                    &common::demo(),
                    call("one-call"),
                    "book_appointment",
                    &book_args(),
                )
                .await
        }));
    }
    let mut answers = BTreeSet::new();
    for t in tasks {
        answers.insert(t.await.unwrap().to_string());
    }
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers.first().unwrap().contains(r#""success":true"#));
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let contact = ContactQuery {
        phone: Some("+49301234567".into()),
        ..Default::default()
    };
    let found =
        f.db.calendar(clock)
            .await
            .find_bookings(&common::demo(), &contact)
            .await
            .unwrap();
    assert_eq!(found.len(), 1);
}

crate::on_both_backends!(
    bookings_survive_a_restart,
    two_calendars_on_one_database_cannot_double_book,
    tenants_never_see_each_other,
    twenty_identical_book_calls_make_one_booking_with_one_answer,
    twenty_calls_for_one_slot_make_one_booking_and_nineteen_alternatives,
    duplicates_across_replicas_share_one_booking,
    reschedule_moves_occupancy_and_keeps_duration,
    free_slots_see_own_writes_at_once_and_other_processes_within_a_second,
    a_slot_stays_free_while_any_resource_is_free,
    book_cancel_book_in_one_call_answers_truthfully,
    a_retry_after_a_restart_gets_the_booking_it_made,
    one_call_books_two_people_into_two_rooms,
    thirty_callers_on_three_replicas_get_one_booking,
    thirty_retries_on_three_replicas_get_one_booking_and_one_answer,
);
