//! The Cal.com client against the fake server: the v2 shapes it sends, and every row of the
//! error table through a real HTTP exchange.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use frontdesk_booking::{
    Attendee, BookingStatus, CalendarError, CalendarProvider, ContactQuery, NewBooking, SlotQuery,
};
use frontdesk_calcom::metrics;
use frontdesk_calcom::{CalcomProvider, StaticApiKeys};
use frontdesk_calcom_fake::{Endpoint, Failure};
use frontdesk_clock::Clock;
use frontdesk_resilience::BreakerState;
use jiff::civil::date;

fn day_query(service: &str, duration_min: u32) -> SlotQuery {
    SlotQuery {
        for_call: None,
        from: TUESDAY,
        to: TUESDAY,
        duration_min,
        service: Some(service.to_owned()),
    }
}

fn new_booking(hour: i8, minute: i8) -> NewBooking {
    NewBooking {
        start: berlin_ts(TUESDAY.at(hour, minute, 0, 0)),
        duration_min: 30,
        service: Some("beratung".to_owned()),
        attendee: Attendee {
            name: "Erika Muster".to_owned(),
            email: Some("erika@example.org".to_owned()),
            phone: Some("+4930111222".to_owned()),
        },
        notes: Some("Erstbesuch".to_owned()),
        call_id: None,
        request_key: None,
    }
}

#[tokio::test]
async fn slots_use_v2_shape_and_business_hours() {
    let r = rig().await;
    let slots = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect("slots");
    // 09:00..17:30 every 30 minutes, all inside the default 09:00-18:00 hours.
    assert_eq!(slots.len(), 18);
    assert_eq!(slots[0].start, berlin_ts(TUESDAY.at(9, 0, 0, 0)));
    assert_eq!(slots[17].start, berlin_ts(TUESDAY.at(17, 30, 0, 0)));
    let requests = r.fake.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.endpoint, Endpoint::Slots);
    assert_eq!(req.api_version.as_deref(), Some("2024-09-04"));
    assert!(req.has_bearer);
    assert!(req.path_and_query.contains("eventTypeId=1234567"));
    assert!(req.path_and_query.contains("timeZone=Europe%2FBerlin"));
    // The service's own length: no explicit duration.
    assert!(!req.path_and_query.contains("duration="));
}

#[tokio::test]
async fn past_slots_are_not_offered() {
    let r = rig().await;
    r.clock
        .set_ms(u64::try_from(berlin_ts(TUESDAY.at(12, 10, 0, 0)).as_millisecond()).expect("ms"));
    let slots = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect("slots");
    assert_eq!(slots[0].start, berlin_ts(TUESDAY.at(12, 30, 0, 0)));
}

#[tokio::test]
async fn create_get_find_reschedule_cancel_round_trip() {
    let r = rig().await;
    let created = r
        .client
        .create(&r.tenant, &new_booking(10, 0))
        .await
        .expect("created");
    assert_eq!(created.start, berlin_ts(TUESDAY.at(10, 0, 0, 0)));
    assert_eq!(created.end, berlin_ts(TUESDAY.at(10, 30, 0, 0)));
    assert_eq!(created.status, BookingStatus::Accepted);
    assert_eq!(created.service.as_deref(), Some("beratung"));
    assert_eq!(created.id, created.uid);

    let create_req = r
        .fake
        .requests()
        .into_iter()
        .find(|q| q.endpoint == Endpoint::CreateBooking)
        .expect("create request");
    assert_eq!(create_req.api_version.as_deref(), Some("2026-02-25"));
    let body = create_req.body.expect("json body");
    // No hold, so no reservation is named.
    assert!(body.get("reservedSlotUid").is_none());
    assert_eq!(body["eventTypeId"], 1234567);
    assert_eq!(body["start"], "2026-01-06T09:00:00Z");
    assert_eq!(body["attendee"]["timeZone"], "Europe/Berlin");
    assert_eq!(body["attendee"]["language"], "de");
    assert!(body.get("lengthInMinutes").is_none());

    let got = r
        .client
        .get_booking(&r.tenant, &created.uid)
        .await
        .expect("get");
    assert_eq!(got, created);

    let found = r
        .client
        .find_bookings(
            &r.tenant,
            &ContactQuery {
                phone: Some("+49 30 111222".to_owned()),
                email: None,
                from: None,
            },
        )
        .await
        .expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].uid, created.uid);

    let moved = r
        .client
        .reschedule(
            &r.tenant,
            &created.uid,
            berlin_ts(date(2026, 1, 7).at(11, 0, 0, 0)),
        )
        .await
        .expect("moved");
    assert_ne!(moved.uid, created.uid);
    assert_eq!(moved.start, berlin_ts(date(2026, 1, 7).at(11, 0, 0, 0)));

    let cancelled = r
        .client
        .cancel(&r.tenant, &moved.uid)
        .await
        .expect("cancelled");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    // Cancelling again is a no-op, not an error.
    let again = r
        .client
        .cancel(&r.tenant, &moved.uid)
        .await
        .expect("idempotent");
    assert_eq!(again.status, BookingStatus::Cancelled);
}

#[tokio::test]
async fn non_default_length_is_sent_explicitly() {
    let r = rig().await;
    r.client
        .free_slots(&r.tenant, &day_query("beratung", 45))
        .await
        .expect("slots");
    assert!(r.fake.requests()[0].path_and_query.contains("duration=45"));
}

// ---- the error table, row by row ----

#[tokio::test]
async fn row_400_slot_taken() {
    let r = rig().await;
    r.client
        .create(&r.tenant, &new_booking(10, 0))
        .await
        .expect("first");
    // The fake refuses the overlapping booking with Cal.com's real 400 text.
    let err = r
        .client
        .create(&r.tenant, &new_booking(10, 0))
        .await
        .expect_err("taken");
    assert_eq!(err, CalendarError::SlotTaken);
    r.fake.fail_next(Failure::SlotTaken);
    let err = r
        .client
        .create(&r.tenant, &new_booking(11, 0))
        .await
        .expect_err("taken");
    assert_eq!(err, CalendarError::SlotTaken);
}

#[tokio::test]
async fn row_409_conflict_is_slot_taken() {
    let r = rig().await;
    r.fake.fail_next(Failure::Status(409));
    let err = r
        .client
        .create(&r.tenant, &new_booking(10, 0))
        .await
        .expect_err("conflict");
    assert_eq!(err, CalendarError::SlotTaken);
}

#[tokio::test]
async fn row_400_other_is_rejected() {
    let r = rig().await;
    r.fake.fail_next(Failure::Status(400));
    let err = r
        .client
        .create(&r.tenant, &new_booking(10, 0))
        .await
        .expect_err("rejected");
    assert!(matches!(err, CalendarError::Rejected(_)), "{err:?}");
}

#[tokio::test]
async fn row_401_and_403_are_configuration_errors_with_a_metric() {
    let r = rig().await;
    // A tenant whose key Cal.com does not know: the real 401 path of the fake.
    let wrong_key = CalcomProvider::new(
        &r.cfg,
        r.breakers.get("calcom").expect("breaker"),
        Arc::new(r.clock.clone()),
    )
    .expect("client")
    .with_api_keys(Arc::new(StaticApiKeys::new([(KEY_ENV, "cal_wrong")])));
    let before = metrics::calendar_errors("calcom", "unauthorized");
    let err = wrong_key
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("401");
    assert_eq!(err, CalendarError::Unauthorized);
    r.fake.fail_next(Failure::Status(403));
    let err = r
        .client
        .create(&r.tenant, &new_booking(10, 0))
        .await
        .expect_err("403");
    assert_eq!(err, CalendarError::Unauthorized);
    assert!(metrics::calendar_errors("calcom", "unauthorized") >= before + 2);
    // 4xx answers show Cal.com is alive: the breaker stays closed.
    assert_eq!(
        r.breakers.get("calcom").expect("breaker").state(),
        BreakerState::Closed
    );
}

#[tokio::test]
async fn error_texts_never_carry_the_key() {
    let r = rig().await;
    r.fake.fail_next(Failure::Status(401));
    let err = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("401");
    assert!(!err.to_string().contains(KEY));
    assert!(!format!("{:?}", r.client).contains(KEY));
}

#[tokio::test]
async fn missing_key_is_a_configuration_error_without_a_request() {
    let r = rig().await;
    let keyless = CalcomProvider::new(
        &r.cfg,
        r.breakers.get("calcom").expect("breaker"),
        Arc::new(r.clock.clone()),
    )
    .expect("client")
    .with_api_keys(Arc::new(StaticApiKeys::default()));
    let err = keyless
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("no key");
    assert!(matches!(err, CalendarError::Config(_)));
    assert_eq!(r.fake.total_requests(), 0);
}

#[tokio::test]
async fn row_404_booking_is_not_found_and_event_type_is_config() {
    let r = rig().await;
    let err = r
        .client
        .cancel(&r.tenant, "doesnotexist")
        .await
        .expect_err("404");
    assert_eq!(err, CalendarError::NotFound);
    let err = r
        .client
        .get_booking(&r.tenant, "doesnotexist")
        .await
        .expect_err("404");
    assert_eq!(err, CalendarError::NotFound);
    r.fake.fail_next(Failure::Status(404));
    let err = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("404");
    assert!(matches!(err, CalendarError::Config(_)));
}

#[tokio::test]
async fn row_429_honours_reset_and_does_not_trip_the_breaker() {
    let r = rig().await;
    r.fake.fail_next(Failure::RateLimited { reset_secs: 30 });
    let err = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("429");
    assert_eq!(
        err,
        CalendarError::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    assert_eq!(r.fake.count(Endpoint::Slots), 1);
    // Inside the window: answered at once, Cal.com untouched.
    for _ in 0..10 {
        let err = r
            .client
            .free_slots(&r.tenant, &day_query("beratung", 30))
            .await
            .expect_err("still limited");
        assert!(matches!(err, CalendarError::RateLimited { .. }));
    }
    assert_eq!(r.fake.count(Endpoint::Slots), 1);
    assert_eq!(
        r.breakers.get("calcom").expect("breaker").state(),
        BreakerState::Closed
    );
    // After the reset Cal.com is asked again.
    r.clock.advance(Duration::from_secs(31));
    r.client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect("window over");
    assert_eq!(r.fake.count(Endpoint::Slots), 2);
}

#[tokio::test]
async fn row_429_trips_the_breaker_when_configured() {
    let r = rig_with(|cfg| cfg.count_429_as_failure = true).await;
    for _ in 0..5 {
        r.fake.fail_next(Failure::RateLimited { reset_secs: 1 });
        let _ = r
            .client
            .free_slots(&r.tenant, &day_query("beratung", 30))
            .await;
        r.clock.advance(Duration::from_secs(2));
    }
    assert_eq!(
        r.breakers.get("calcom").expect("breaker").state(),
        BreakerState::Open
    );
}

#[tokio::test]
async fn row_5xx_is_unavailable_and_opens_the_breaker_then_fails_fast() {
    let r = rig().await;
    r.fake.fail_always(Failure::Status(503));
    for _ in 0..5 {
        let err = r
            .client
            .free_slots(&r.tenant, &day_query("beratung", 30))
            .await
            .expect_err("5xx");
        assert!(matches!(err, CalendarError::Unavailable(_)));
    }
    assert_eq!(r.fake.count(Endpoint::Slots), 5);
    assert_eq!(
        r.breakers.get("calcom").expect("breaker").state(),
        BreakerState::Open
    );
    // Open: every call fails at once, and the fake sees nothing.
    for _ in 0..20 {
        let err = r
            .client
            .create(&r.tenant, &new_booking(10, 0))
            .await
            .expect_err("open");
        assert!(matches!(err, CalendarError::Unavailable(_)));
    }
    assert_eq!(r.fake.total_requests(), 5);
}

#[tokio::test]
async fn row_network_errors_are_unavailable() {
    let mut r = rig().await;
    r.fake.fail_next(Failure::Close);
    let err = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("dropped");
    assert!(matches!(err, CalendarError::Unavailable(_)), "{err:?}");
    r.fake.stop();
    let err = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("refused");
    assert!(matches!(err, CalendarError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn row_timeout_is_unavailable() {
    let r = rig_with(|cfg| {
        cfg.timeouts.total = Duration::from_millis(200);
        cfg.timeouts.read = Duration::from_millis(200);
        cfg.timeouts.connect = Duration::from_millis(200);
    })
    .await;
    r.fake.hold();
    let err = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("timeout");
    assert!(matches!(err, CalendarError::Unavailable(_)), "{err:?}");
    assert_eq!(r.fake.count(Endpoint::Slots), 1);
    r.fake.release();
}

#[tokio::test]
async fn breaker_rejection_does_not_touch_cal_com() {
    let r = rig().await;
    r.breakers
        .force("calcom", frontdesk_resilience::Mode::ForcedOpen)
        .expect("force");
    let err = r
        .client
        .free_slots(&r.tenant, &day_query("beratung", 30))
        .await
        .expect_err("open");
    assert!(matches!(err, CalendarError::Unavailable(_)));
    assert_eq!(r.fake.total_requests(), 0);
    let _ = r.clock.now_ms();
}
