//! Holds on the embedded calendar, on both databases: the slot a check reports free stays the
//! asking call's while its caller gives their details — other calls see it taken and cannot
//! book it — until the call books it, cancels, ends, or the hold runs out.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Backend, fixture_on};
use frontdesk_booking::{
    CalendarProvider, CallContext, Engine, HoldOutcome, HoldRequest, SlotQuery, Tenant,
};
use frontdesk_clock::Clock;
use frontdesk_store::{MemoryStore, Store};
use jiff::civil::date;
use serde_json::{Value, json};

fn call(id: &str) -> CallContext {
    CallContext {
        call_id: Some(id.to_owned()),
        from_number: Some("+49301234567".into()),
    }
}

async fn check(engine: &Engine, t: &Tenant, call_id: &str, time: &str) -> Value {
    engine
        .call(
            t,
            call(call_id),
            "check_availability",
            &json!({"date": "2026-01-06", "time": time}),
        )
        .await
}

async fn book(engine: &Engine, t: &Tenant, call_id: &str, time: &str) -> Value {
    engine
        .call(
            t,
            call(call_id),
            "book_appointment",
            &json!({"date": "2026-01-06", "time": time, "name": "Erika Mustermann"}),
        )
        .await
}

fn starts(reply: &Value) -> Vec<String> {
    reply["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["start"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_checked_slot_is_kept_for_that_call_until_it_books(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::demo();
    let a = check(&f.engine, &t, "call-a", "10:00").await;
    assert_eq!(a["available"], true, "{a}");
    assert_eq!(a["held_until"], "2026-01-05T07:05:00+01:00", "{a}");

    let b = check(&f.engine, &t, "call-b", "10:00").await;
    assert_eq!(b["available"], false, "held for call A: {b}");
    assert!(
        !starts(&b).iter().any(|s| s.starts_with("2026-01-06T10:00")),
        "{b}"
    );
    assert!(!starts(&b).is_empty(), "B gets alternatives: {b}");

    let b_books = book(&f.engine, &t, "call-b", "10:00").await;
    assert_eq!(b_books["reason"], "slot_unavailable", "{b_books}");

    let a_books = book(&f.engine, &t, "call-a", "10:00").await;
    assert_eq!(a_books["success"], true, "{a_books}");
    assert_eq!(a_books["booking"]["status"], "accepted");
}

async fn an_unbooked_hold_runs_out(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::demo();
    assert_eq!(
        check(&f.engine, &t, "call-a", "10:00").await["available"],
        true
    );
    f.clock.advance(Duration::from_secs(4 * 60 + 59));
    assert_eq!(
        check(&f.engine, &t, "call-b", "10:00").await["available"],
        false,
        "still held a second before the five minutes are up"
    );
    f.clock.advance(Duration::from_secs(1));
    let b = check(&f.engine, &t, "call-b", "10:00").await;
    assert_eq!(b["available"], true, "A's hold ran out: {b}");
    // Now B holds it: A, who never booked, hears the truth.
    let a_books = book(&f.engine, &t, "call-a", "10:00").await;
    assert_eq!(a_books["reason"], "slot_unavailable", "{a_books}");
}

async fn the_end_of_the_call_and_a_cancel_release_its_holds(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::demo();
    assert_eq!(
        check(&f.engine, &t, "call-a", "10:00").await["available"],
        true
    );
    f.engine.call_ended(&t, "call-a").await;
    assert_eq!(
        check(&f.engine, &t, "call-b", "10:00").await["available"],
        true,
        "call_ended frees it"
    );

    let cancelled = f
        .engine
        .call(
            &t,
            call("call-b"),
            "cancel_appointment",
            &json!({"date": "2026-01-06", "phone": "+49301234567"}),
        )
        .await;
    assert_eq!(cancelled["reason"], "not_found", "{cancelled}");
    assert_eq!(
        check(&f.engine, &t, "call-c", "10:00").await["available"],
        true,
        "a cancel frees what the call held"
    );
}

async fn a_new_check_replaces_the_calls_holds(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::demo();
    assert_eq!(
        check(&f.engine, &t, "call-a", "10:00").await["available"],
        true
    );
    assert_eq!(
        check(&f.engine, &t, "call-a", "11:00").await["available"],
        true
    );
    assert_eq!(
        check(&f.engine, &t, "call-b", "10:00").await["available"],
        true,
        "A moved on to 11:00"
    );
    assert_eq!(
        check(&f.engine, &t, "call-c", "11:00").await["available"],
        false
    );
}

/// Two replicas over one database: a hold placed through one is seen by the other's booking,
/// which re-checks inside its own transaction whatever its reads cached.
async fn holds_bind_every_replica_of_the_database(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::demo();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(f.clock.clone())));
    let other = f.db.engine(store, f.clock.clone()).await;
    // Replica 2 reads (and caches) the day before replica 1 holds 10:00; a date-only check
    // holds nothing.
    let day = other
        .call(
            &t,
            call("call-b"),
            "check_availability",
            &json!({"date": "2026-01-06"}),
        )
        .await;
    assert!(day["slots"].to_string().contains("\"10:00\""), "{day}");
    assert_eq!(
        check(&f.engine, &t, "call-a", "10:00").await["available"],
        true
    );
    let b_books = book(&other, &t, "call-b", "10:00").await;
    assert_eq!(
        b_books["reason"], "slot_unavailable",
        "held by call A through the other replica: {b_books}"
    );
}

/// The provider contract itself: no two calls' holds, and no hold and booking, share a
/// resource's time; the call's own hold never blocks it.
async fn holds_and_bookings_never_overlap(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::demo();
    let clock: Arc<dyn Clock> = Arc::new(f.clock.clone());
    let calendar = f.db.calendar(clock).await;
    let ten = common::berlin()
        .to_timestamp(date(2026, 1, 6).at(10, 0, 0, 0))
        .unwrap();
    let ten_fifteen = common::berlin()
        .to_timestamp(date(2026, 1, 6).at(10, 15, 0, 0))
        .unwrap();
    let hold = |call: &str, start| HoldRequest {
        call_id: call.to_owned(),
        starts: vec![start],
        duration_min: 30,
        service: None,
        hold_for: Duration::from_secs(300),
    };
    let a = calendar.hold(&t, &hold("a", ten)).await.unwrap();
    assert!(matches!(a[..], [HoldOutcome::Held { .. }]), "{a:?}");
    let b = calendar.hold(&t, &hold("b", ten_fifteen)).await.unwrap();
    assert_eq!(
        b,
        vec![HoldOutcome::Taken],
        "10:15-10:45 overlaps A's 10:00-10:30"
    );
    let again = calendar.hold(&t, &hold("a", ten)).await.unwrap();
    assert!(
        matches!(again[..], [HoldOutcome::Held { .. }]),
        "extends A's own hold"
    );

    let day = SlotQuery {
        from: date(2026, 1, 6),
        to: date(2026, 1, 6),
        duration_min: 30,
        service: None,
        for_call: Some("b".into()),
    };
    let free_for_b = calendar.free_slots(&t, &day).await.unwrap();
    assert!(
        !free_for_b
            .iter()
            .any(|s| s.start == ten || s.start == ten_fifteen)
    );
    let free_for_a = calendar
        .free_slots(
            &t,
            &SlotQuery {
                for_call: Some("a".into()),
                ..day
            },
        )
        .await
        .unwrap();
    assert!(
        free_for_a.iter().any(|s| s.start == ten),
        "A's own hold is free for A"
    );

    assert_eq!(calendar.release_holds(&t, "a").await.unwrap(), 1);
    let b = calendar.hold(&t, &hold("b", ten_fifteen)).await.unwrap();
    assert!(
        matches!(b[..], [HoldOutcome::Held { .. }]),
        "free once A released: {b:?}"
    );
}

/// With `hold_alternatives`, the times offered instead are the asking call's too.
async fn offered_alternatives_are_held_when_the_tenant_says_so(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::tenant_from_yaml(&common::DEMO.replace(
        "calendar: { provider: local }",
        "calendar: { provider: local }\n    hold_alternatives: true",
    ));
    assert_eq!(
        book(&f.engine, &t, "call-x", "10:00").await["success"],
        true
    );
    let a = check(&f.engine, &t, "call-a", "10:00").await;
    assert_eq!(a["available"], false, "{a}");
    let first = a["alternatives"][0].clone();
    assert!(first["held_until"].as_str().is_some(), "{a}");
    let b = check(&f.engine, &t, "call-b", first["time"].as_str().unwrap()).await;
    assert_eq!(b["available"], false, "A holds what it was offered: {b}");
    let a_books = book(&f.engine, &t, "call-a", first["time"].as_str().unwrap()).await;
    assert_eq!(a_books["success"], true, "{a_books}");
}

/// Asking again about the held time keeps the hold while more than half of it is left, and
/// extends it after that.
async fn asking_again_keeps_then_extends_the_hold(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::demo();
    let first = check(&f.engine, &t, "call-a", "10:00").await;
    assert_eq!(first["held_until"], "2026-01-05T07:05:00+01:00", "{first}");
    f.clock.advance(Duration::from_secs(2 * 60));
    let kept = check(&f.engine, &t, "call-a", "10:00").await;
    assert_eq!(kept["held_until"], "2026-01-05T07:05:00+01:00", "{kept}");
    f.clock.advance(Duration::from_secs(60));
    let extended = check(&f.engine, &t, "call-a", "10:00").await;
    assert_eq!(
        extended["held_until"], "2026-01-05T07:08:00+01:00",
        "{extended}"
    );
    f.clock.advance(Duration::from_secs(4 * 60));
    assert_eq!(
        check(&f.engine, &t, "call-b", "10:00").await["available"],
        false,
        "held past the first five minutes"
    );
}

/// Past the practice's `max_holds`, checks still answer truthfully but hold nothing.
async fn holds_stop_at_the_practices_cap(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::tenant_from_yaml(&common::DEMO.replace(
        "calendar: { provider: local }",
        "calendar: { provider: local }\n    max_holds: 2",
    ));
    for (call, time) in [("call-a", "10:00"), ("call-b", "11:00")] {
        assert!(check(&f.engine, &t, call, time).await["held_until"].is_string());
    }
    let c = check(&f.engine, &t, "call-c", "12:00").await;
    assert_eq!(c["available"], true, "{c}");
    assert!(c.get("held_until").is_none(), "over the cap: {c}");
    assert_eq!(
        check(&f.engine, &t, "call-d", "12:00").await["available"],
        true,
        "nothing was held for C"
    );
    let a = check(&f.engine, &t, "call-a", "14:00").await;
    assert!(a["held_until"].is_string(), "A replaces its own hold: {a}");
}

/// The call's own held times stay in what it is offered: the day's slots, and an alternative
/// it asks about next.
async fn the_calls_own_holds_stay_offered_to_it(backend: Backend) {
    let f = fixture_on(backend).await;
    let t = common::tenant_from_yaml(&common::DEMO.replace(
        "calendar: { provider: local }",
        "calendar: { provider: local }\n    hold_alternatives: true",
    ));
    assert!(check(&f.engine, &t, "call-a", "10:00").await["held_until"].is_string());
    let day = f
        .engine
        .call(
            &t,
            call("call-a"),
            "check_availability",
            &json!({"date": "2026-01-06"}),
        )
        .await;
    assert!(day["slots"].to_string().contains("\"10:00\""), "{day}");

    assert_eq!(
        book(&f.engine, &t, "call-x", "15:00").await["success"],
        true
    );
    let offered = check(&f.engine, &t, "call-a", "15:00").await;
    let first = offered["alternatives"][0]["time"]
        .as_str()
        .unwrap()
        .to_owned();
    let asked = check(&f.engine, &t, "call-a", &first).await;
    assert_eq!(
        asked["available"], true,
        "offered to A, so free for A: {asked}"
    );
    assert_eq!(
        check(&f.engine, &t, "call-b", &first).await["available"],
        false
    );
}

on_both_backends!(
    holds_stop_at_the_practices_cap,
    the_calls_own_holds_stay_offered_to_it,
    asking_again_keeps_then_extends_the_hold,
    offered_alternatives_are_held_when_the_tenant_says_so,
    a_checked_slot_is_kept_for_that_call_until_it_books,
    an_unbooked_hold_runs_out,
    the_end_of_the_call_and_a_cancel_release_its_holds,
    a_new_check_replaces_the_calls_holds,
    holds_bind_every_replica_of_the_database,
    holds_and_bookings_never_overlap,
);
