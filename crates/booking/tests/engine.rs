//! The engine end to end over the local calendar: reply shapes, adjustment, the booking
//! lifecycle, input errors, language, and retry semantics.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use frontdesk_booking::{
    Booking, CalendarError, CalendarProvider, CallContext, ContactQuery, Engine, HoldOutcome,
    HoldRequest, LocalCalendar, NewBooking, ProviderKind, Slot, SlotQuery, Tenant,
};
use frontdesk_clock::Clock;
use frontdesk_store::{MemoryStore, Store};
use jiff::Timestamp;
use serde_json::{Value, json};

fn caller(call_id: &str) -> CallContext {
    CallContext {
        call_id: Some(call_id.into()),
        from_number: Some("+49 30 1234567".into()),
    }
}

#[tokio::test]
async fn check_free_slot_has_spec_shape() {
    let f = common::fixture();
    let t = common::demo();
    let r = f
        .engine
        .call(
            &t,
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-06", "time": "14:30"}),
        )
        .await;
    assert_eq!(r["success"], true);
    assert_eq!(r["available"], true);
    assert_eq!(
        r["requested"],
        json!({"date": "2026-01-06", "time": "14:30"})
    );
    assert!(r.get("adjusted").is_none());
    assert_eq!(r["alternatives"], json!([]));
    assert_eq!(
        r["message"],
        "Am Dienstag, 6. Januar um 14:30 Uhr ist ein Termin frei. Soll ich ihn für Sie buchen?"
    );
}

#[tokio::test]
async fn lifecycle_check_book_check_cancel_rebook_reschedule() {
    let f = common::fixture();
    let t = common::demo();
    let e = &f.engine;
    let slot = json!({"date": "2026-01-06", "time": "14:30"});

    let booked = e
        .call(
            &t,
            caller("c1"),
            "book_appointment",
            &json!({"date": "06.01.2026", "time": "14:30 Uhr", "name": "Max"}),
        )
        .await;
    assert_eq!(booked["success"], true, "{booked}");
    let booking = &booked["booking"];
    assert_eq!(booking["start"], "2026-01-06T14:30:00+01:00");
    assert_eq!(booking["end"], "2026-01-06T15:00:00+01:00");
    assert_eq!(booking["status"], "accepted");
    assert!(booking["uid"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(
        booked["message"],
        "Ihr Termin am Dienstag, 6. Januar um 14:30 Uhr ist gebucht. Vielen Dank!"
    );

    let again = e.call(&t, caller("c2"), "check_availability", &slot).await;
    assert_eq!(again["available"], false);
    let alts = again["alternatives"].as_array().unwrap();
    assert_eq!(alts.len(), 3);
    // Nearest first. 14:15 and 14:45 overlap the 30-minute booking, so 14:00 and 15:00 are the
    // nearest free starts, both 30 minutes away; the later wins the tie.
    assert_eq!(
        alts[0],
        json!({"date": "2026-01-06", "time": "15:00", "start": "2026-01-06T15:00:00+01:00"})
    );
    assert_eq!(alts[1]["time"], "14:00");
    assert_eq!(
        alts[2],
        json!({"date": "2026-01-07", "time": "14:30", "start": "2026-01-07T14:30:00+01:00"})
    );
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("Mittwoch, 7. Januar um 14:30 Uhr")
    );

    // Cancel by date + caller's phone (defaulted from the call).
    let cancelled = e
        .call(
            &t,
            caller("c3"),
            "cancel_appointment",
            &json!({"date": "2026-01-06"}),
        )
        .await;
    assert_eq!(cancelled["success"], true, "{cancelled}");
    assert_eq!(cancelled["booking"]["id"], booking["id"]);
    assert_eq!(cancelled["booking"]["status"], "cancelled");

    let rebooked = e
        .call(
            &t,
            caller("c4"),
            "book_appointment",
            &json!({"date": "2026-01-06", "time": "14:30", "name": "Max"}),
        )
        .await;
    assert_eq!(rebooked["success"], true, "{rebooked}");
    let id = rebooked["booking"]["id"].clone();

    let moved = e
        .call(
            &t,
            caller("c4"),
            "reschedule_appointment",
            &json!({"booking_id": id, "date": "2026-01-08", "time": "10:00"}),
        )
        .await;
    assert_eq!(moved["success"], true, "{moved}");
    assert_eq!(moved["booking"]["start"], "2026-01-08T10:00:00+01:00");
    assert_eq!(
        moved["message"],
        "Ihr Termin ist jetzt am Donnerstag, 8. Januar um 10:00 Uhr."
    );

    let old = e.call(&t, caller("c5"), "check_availability", &slot).await;
    assert_eq!(old["available"], true);
    let new = e
        .call(
            &t,
            caller("c5"),
            "check_availability",
            &json!({"date": "2026-01-08", "time": "10:00"}),
        )
        .await;
    assert_eq!(new["available"], false);
}

#[tokio::test]
async fn adjusted_requests_say_what_moved_and_why() {
    let f = common::fixture();
    let t = common::demo();
    let cases = [
        (
            json!({"date": "2026-01-06", "time": "08:00"}),
            "2026-01-06",
            "09:00",
            "before_opening",
        ),
        (
            json!({"date": "2026-01-06", "time": "19:00"}),
            "2026-01-07",
            "09:00",
            "after_closing",
        ),
        (
            json!({"date": "2026-01-10", "time": "11:00"}),
            "2026-01-12",
            "09:00",
            "weekend",
        ),
    ];
    for (args, date, time, reason) in cases {
        let r = f
            .engine
            .call(&t, CallContext::default(), "check_availability", &args)
            .await;
        assert_eq!(
            r["adjusted"],
            json!({"date": date, "time": time, "reason": reason}),
            "{r}"
        );
        assert_eq!(r["requested"]["time"], args["time"]);
        assert_eq!(r["available"], true);
    }
    let r = f
        .engine
        .call(
            &t,
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-06", "time": "08:00"}),
        )
        .await;
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("Wir öffnen erst um 9:00 Uhr."),
        "{r}"
    );
}

#[tokio::test]
async fn day_without_time_lists_free_times() {
    let f = common::fixture();
    let t = common::demo();
    let r = f
        .engine
        .call(
            &t,
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-06"}),
        )
        .await;
    assert_eq!(r["available"], true);
    let slots = r["slots"].as_array().unwrap();
    assert_eq!(
        slots.first().unwrap(),
        &json!({"time": "09:00", "start": "2026-01-06T09:00:00+01:00"})
    );
    assert_eq!(slots.last().unwrap()["time"], "17:30");
    assert_eq!(slots.len(), 35);
    assert_eq!(
        r["message"],
        "Am Dienstag, 6. Januar sind noch Termine frei, zum Beispiel um 9:00, 9:15 oder 9:30 Uhr. Welche Uhrzeit passt Ihnen?"
    );
}

#[tokio::test]
async fn booking_outside_hours_writes_nothing_and_offers_the_adjusted_time() {
    let f = common::fixture();
    let t = common::demo();
    let r = f
        .engine
        .call(
            &t,
            caller("c1"),
            "book_appointment",
            &json!({"date": "2026-01-10", "time": "10:00", "name": "Max"}),
        )
        .await;
    assert_eq!(r["success"], false);
    assert_eq!(r["reason"], "outside_business_hours");
    assert_eq!(r["adjusted"]["reason"], "weekend");
    assert_eq!(r["alternatives"][0]["start"], "2026-01-12T09:00:00+01:00");
    let check = f
        .engine
        .call(
            &t,
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-12", "time": "09:00"}),
        )
        .await;
    assert_eq!(check["available"], true);
}

#[tokio::test]
async fn invalid_input_lists_fields_and_asks_again() {
    let f = common::fixture();
    let t = common::demo();
    let r = f
        .engine
        .call(
            &t,
            caller("c1"),
            "book_appointment",
            &json!({"date": "31.02.2026", "time": "14:30", "email": "not-an-email", "duration": 5}),
        )
        .await;
    assert_eq!(r["success"], false);
    assert_eq!(r["reason"], "invalid_input");
    assert_eq!(
        r["errors"],
        json!([
            {"field": "date", "code": "invalid"},
            {"field": "duration", "code": "out_of_range"},
            {"field": "name", "code": "required"},
            {"field": "email", "code": "invalid"},
        ])
    );
    assert_eq!(
        r["message"],
        "Könnten Sie bitte das Datum, die gewünschte Dauer, Ihren Namen und Ihre E-Mail-Adresse noch einmal nennen?"
    );
    let unknown = f
        .engine
        .call(
            &t,
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-06", "service": "tattoo"}),
        )
        .await;
    assert_eq!(
        unknown["errors"],
        json!([{"field": "service", "code": "unknown"}])
    );
}

#[tokio::test]
async fn unknown_function_is_a_reply_not_an_error() {
    let f = common::fixture();
    let t = common::demo();
    let r = f
        .engine
        .call(&t, CallContext::default(), "order_pizza", &json!({}))
        .await;
    assert_eq!(r["success"], false);
    assert_eq!(r["reason"], "unknown_function");
    assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn english_tenant_speaks_english() {
    let f = common::fixture();
    let t = common::tenant_from_yaml(common::DEMO_EN);
    let r = f
        .engine
        .call(
            &t,
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-06", "time": "14:30"}),
        )
        .await;
    assert_eq!(
        r["message"],
        "Tuesday, January 6 at 2:30 PM is available. Shall I book it for you?"
    );
}

#[tokio::test]
async fn summer_times_carry_the_summer_offset() {
    let f = common::fixture();
    let t = common::demo();
    // 2026-03-30 is the Monday after the spring change.
    let r = f
        .engine
        .call(
            &t,
            caller("c1"),
            "book_appointment",
            &json!({"date": "2026-03-30", "time": "09:00", "name": "Max"}),
        )
        .await;
    assert_eq!(r["booking"]["start"], "2026-03-30T09:00:00+02:00", "{r}");
}

#[tokio::test]
async fn calcom_tenant_without_provider_is_a_configuration_error() {
    let f = common::fixture();
    let t = common::tenant_from_yaml(
        "tenants:\n  - id: c\n    company_id: c\n    branch_id: c\n    agent_ids: [a]\n    calendar: { provider: calcom, api_key_env: K, event_types: { s: 1 } }\n    services: { s: { duration: 30m } }\n",
    );
    let r = f
        .engine
        .call(
            &t,
            CallContext::default(),
            "check_availability",
            &json!({"date": "2026-01-06"}),
        )
        .await;
    assert_eq!(r["reason"], "configuration_error");
}

/// A calendar that fails its first `create` as unavailable, then delegates.
struct FlakyOnce {
    inner: LocalCalendar,
    failed: AtomicBool,
}

#[async_trait]
impl CalendarProvider for FlakyOnce {
    fn name(&self) -> &'static str {
        "flaky"
    }
    async fn free_slots(&self, t: &Tenant, q: &SlotQuery) -> Result<Vec<Slot>, CalendarError> {
        self.inner.free_slots(t, q).await
    }
    async fn create(&self, t: &Tenant, b: &NewBooking) -> Result<Booking, CalendarError> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Err(CalendarError::Unavailable("down".into()));
        }
        self.inner.create(t, b).await
    }
    async fn get_booking(&self, t: &Tenant, r: &str) -> Result<Booking, CalendarError> {
        self.inner.get_booking(t, r).await
    }
    async fn cancel(&self, t: &Tenant, r: &str) -> Result<Booking, CalendarError> {
        self.inner.cancel(t, r).await
    }
    async fn reschedule(
        &self,
        t: &Tenant,
        r: &str,
        s: Timestamp,
    ) -> Result<Booking, CalendarError> {
        self.inner.reschedule(t, r, s).await
    }
    async fn find_bookings(
        &self,
        t: &Tenant,
        c: &ContactQuery,
    ) -> Result<Vec<Booking>, CalendarError> {
        self.inner.find_bookings(t, c).await
    }

    async fn hold(&self, t: &Tenant, h: &HoldRequest) -> Result<Vec<HoldOutcome>, CalendarError> {
        self.inner.hold(t, h).await
    }

    async fn release_holds(&self, t: &Tenant, call_id: &str) -> Result<usize, CalendarError> {
        self.inner.release_holds(t, call_id).await
    }
}

#[tokio::test]
async fn calendar_outage_is_not_remembered_so_a_retry_books() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock_dyn.clone()));
    let flaky = FlakyOnce {
        inner: LocalCalendar::open(&dir.path().join("db.sqlite"), clock_dyn.clone()).unwrap(),
        failed: AtomicBool::new(false),
    };
    let engine = Engine::new(store, clock_dyn)
        .unwrap()
        .with_provider(ProviderKind::Local, Arc::new(flaky));
    let t = common::demo();
    let args: Value = json!({"date": "2026-01-06", "time": "11:00", "name": "Max"});
    let first = engine
        .call(&t, caller("retry"), "book_appointment", &args)
        .await;
    assert_eq!(first["reason"], "calendar_unavailable", "{first}");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("nicht erreichbar")
    );
    let second = engine
        .call(&t, caller("retry"), "book_appointment", &args)
        .await;
    assert_eq!(second["success"], true, "{second}");
}

async fn day_check(f: &common::Fixture, args: serde_json::Value) -> serde_json::Value {
    f.engine
        .call(
            &common::demo(),
            CallContext::default(),
            "check_availability",
            &args,
        )
        .await
}

#[tokio::test]
async fn a_part_of_the_day_narrows_the_slots() {
    let f = common::fixture();
    for (asked, first, last) in [
        ("nach 16 Uhr", "16:00", "17:30"),
        ("after 16:00", "16:00", "17:30"),
        ("nachmittags", "12:00", "16:45"),
        ("vormittags", "09:00", "11:45"),
    ] {
        let r = day_check(&f, json!({"date": "2026-01-06", "time": asked})).await;
        let slots = r["slots"].as_array().unwrap();
        assert_eq!(slots.first().unwrap()["time"], first, "{asked}: {r}");
        assert_eq!(slots.last().unwrap()["time"], last, "{asked}: {r}");
        assert_eq!(r["available"], true);
    }
    let r = day_check(&f, json!({"date": "2026-01-06", "time": "irgendwann"})).await;
    assert_eq!(r["reason"], "invalid_input", "{r}");
}

#[tokio::test]
async fn slots_carry_the_offset_of_their_own_day_across_a_dst_change() {
    let f = common::fixture();
    // Berlin moves to summer time on Sunday 2026-03-29.
    let before = day_check(&f, json!({"date": "2026-03-27"})).await;
    let after = day_check(&f, json!({"date": "2026-03-30"})).await;
    assert_eq!(
        before["slots"][0]["start"], "2026-03-27T09:00:00+01:00",
        "{before}"
    );
    assert_eq!(
        after["slots"][0]["start"], "2026-03-30T09:00:00+02:00",
        "{after}"
    );
}
