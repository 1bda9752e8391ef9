//! The SQLite calendar: persistence across restarts, database-enforced slot exclusivity,
//! tenant isolation, and the concurrency guarantees of booking through the engine.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use frontdesk_booking::{
    Attendee, CalendarError, CalendarProvider, CallContext, ContactQuery, LocalCalendar,
    NewBooking, SlotQuery,
};
use frontdesk_store::{Clock, MemoryStore, Store};
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
    }
}

#[tokio::test]
async fn bookings_survive_a_restart() {
    let f = common::fixture();
    let tenant = common::demo();
    let booked = f
        .engine
        .call(&tenant, call("c1"), "book_appointment", &book_args())
        .await;
    assert_eq!(booked["success"], true, "{booked}");
    let id = booked["booking"]["id"].as_str().unwrap().to_owned();
    let path = f.db_path();
    drop(f.engine);

    // A new process: fresh calendar and store over the same file.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(f.clock.clone())));
    let engine = common::engine_at(&path, store, f.clock.clone());
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

#[tokio::test]
async fn two_calendars_on_one_file_cannot_double_book() {
    // Two handles on one database behave like two processes: only SQLite arbitrates.
    let f = common::fixture();
    let tenant = common::demo();
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let a = Arc::new(LocalCalendar::open(&f.db_path(), clock.clone()).unwrap());
    let b = Arc::new(LocalCalendar::open(&f.db_path(), clock).unwrap());
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

#[tokio::test]
async fn tenants_never_see_each_other() {
    let f = common::fixture();
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let cal = LocalCalendar::open(&f.db_path(), clock).unwrap();
    let a = common::demo();
    let b = common::tenant_from_yaml(common::DEMO_EN);
    let booking = cal.create(&a, &new_booking(10, 0)).await.unwrap();

    // Same slot is free for the other tenant, and bookable there.
    let query = SlotQuery {
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

#[tokio::test]
async fn twenty_identical_book_calls_make_one_booking_with_one_answer() {
    let f = common::fixture();
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
    let cal = LocalCalendar::open(&f.db_path(), clock).unwrap();
    let contact = ContactQuery {
        phone: Some("+49301234567".into()),
        ..Default::default()
    };
    assert_eq!(cal.find_bookings(&tenant, &contact).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_calls_for_one_slot_make_one_booking_and_nineteen_alternatives() {
    let f = common::fixture();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicates_across_replicas_share_one_booking() {
    // Two engines (replicas) with one shared store and one database.
    let f = common::fixture();
    let tenant = common::demo();
    let replica_b = Arc::new(common::engine_at(
        &f.db_path(),
        f.store.clone(),
        f.clock.clone(),
    ));
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

#[tokio::test]
async fn reschedule_moves_occupancy_and_keeps_duration() {
    let f = common::fixture();
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let cal = LocalCalendar::open(&f.db_path(), clock).unwrap();
    let tenant = common::demo();
    let first = cal.create(&tenant, &new_booking(10, 0)).await.unwrap();
    let other = cal.create(&tenant, &new_booking(11, 0)).await.unwrap();
    // Moving onto another booking fails and leaves everything as it was.
    assert_eq!(
        cal.reschedule(&tenant, &first.id, other.start).await,
        Err(CalendarError::SlotTaken)
    );
    let query = SlotQuery {
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
#[tokio::test]
async fn free_slots_see_own_writes_at_once_and_other_processes_within_a_second() {
    let f = common::fixture();
    let tenant = common::demo();
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let here = LocalCalendar::open(&f.db_path(), clock.clone()).unwrap();
    let elsewhere = LocalCalendar::open(&f.db_path(), clock).unwrap();
    let query = SlotQuery {
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

#[tokio::test]
async fn a_slot_stays_free_while_any_resource_is_free() {
    let f = common::fixture();
    let tenant = common::tenant_from_yaml(&common::DEMO.replace(
        "{ provider: local }",
        "{ provider: local, resources: [room-1, room-2] }",
    ));
    let calendar = LocalCalendar::open(&f.db_path(), Arc::new(f.clock.clone())).unwrap();
    let query = SlotQuery {
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
