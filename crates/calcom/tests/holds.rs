//! Holds on Cal.com: slot reservations made for a call, through the cache and the client,
//! against the fake Cal.com on an injected clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use frontdesk_booking::{
    Attendee, CalendarError, CalendarProvider, HoldOutcome, HoldRequest, NewBooking, SlotQuery,
};
use frontdesk_calcom_fake::{Endpoint, Failure};
use jiff::{SignedDuration, Timestamp};

const HOLD_FOR: Duration = Duration::from_secs(300);

fn ten() -> Timestamp {
    berlin_ts(TUESDAY.at(10, 0, 0, 0))
}

fn eleven() -> Timestamp {
    berlin_ts(TUESDAY.at(11, 0, 0, 0))
}

fn thirty() -> SignedDuration {
    SignedDuration::from_mins(30)
}

fn query(call: &str) -> SlotQuery {
    SlotQuery {
        from: TUESDAY,
        to: TUESDAY,
        duration_min: 30,
        service: Some("beratung".to_owned()),
        for_call: Some(call.to_owned()),
    }
}

fn hold(call: &str, starts: &[Timestamp]) -> HoldRequest {
    HoldRequest {
        call_id: call.to_owned(),
        starts: starts.to_vec(),
        duration_min: 30,
        service: Some("beratung".to_owned()),
        hold_for: HOLD_FOR,
    }
}

fn booking(call: &str, start: Timestamp) -> NewBooking {
    NewBooking {
        start,
        duration_min: 30,
        service: Some("beratung".to_owned()),
        attendee: Attendee {
            name: "Erika Muster".to_owned(),
            email: None,
            phone: Some("+4915112345678".to_owned()),
        },
        notes: None,
        call_id: Some(call.to_owned()),
        request_key: None,
    }
}

async fn offered(r: &Rig, call: &str) -> Vec<Timestamp> {
    r.cache
        .free_slots(&r.tenant, &query(call))
        .await
        .expect("slots")
        .into_iter()
        .map(|s| s.start)
        .collect()
}

/// `frontdesk_booking_holds_total{calendar="calcom",event}` (nextest runs each test alone).
fn holds_metric(event: &str) -> u64 {
    prometheus::default_registry()
        .gather()
        .iter()
        .filter(|f| f.name() == "frontdesk_booking_holds_total")
        .flat_map(|f| f.get_metric().iter())
        .filter(|m| {
            let labels = m.get_label();
            labels
                .iter()
                .any(|l| l.name() == "calendar" && l.value() == "calcom")
                && labels
                    .iter()
                    .any(|l| l.name() == "event" && l.value() == event)
        })
        .map(|m| m.get_counter().value() as u64)
        .sum()
}

/// A rig whose fake shares the test clock, with a short cache so checks refetch.
async fn hold_rig() -> Rig {
    let r = rig_with(|cfg| {
        cfg.cache.ttl = Duration::from_secs(1);
        cfg.cache.stale = Duration::ZERO;
    })
    .await;
    r.fake.set_clock(Arc::new(r.clock.clone()));
    r
}

#[tokio::test]
async fn call_a_holds_ten_call_b_is_not_offered_it_and_a_books_it() {
    let r = hold_rig().await;
    assert!(offered(&r, "call_a").await.contains(&ten()));

    let outcomes = r
        .cache
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    let until = ten_until(&r);
    assert_eq!(outcomes, vec![HoldOutcome::Held { until }]);

    // The reservation request Cal.com documents.
    let reserve = r
        .fake
        .requests()
        .into_iter()
        .find(|q| q.endpoint == Endpoint::ReserveSlot)
        .expect("reservation request");
    assert_eq!(reserve.method, "POST");
    assert_eq!(reserve.path_and_query, "/v2/slots/reservations");
    assert_eq!(reserve.api_version.as_deref(), Some("2024-09-04"));
    assert!(reserve.has_bearer);
    let body = reserve.body.expect("body");
    assert_eq!(body["eventTypeId"], CONSULT);
    assert_eq!(body["slotStart"], "2026-01-06T09:00:00Z");
    assert_eq!(body["reservationDuration"], 5);
    assert!(body.get("slotDuration").is_none());
    assert_eq!(
        r.fake
            .reserved(CONSULT, ten(), ten().checked_add(thirty()).unwrap()),
        1
    );

    // Call B: from the cached day (held overlay) and after a refetch (Cal.com hides it).
    assert!(!offered(&r, "call_b").await.contains(&ten()));
    r.clock.advance(Duration::from_secs(2));
    let b = offered(&r, "call_b").await;
    assert!(!b.contains(&ten()), "B is never offered A's held slot");
    assert!(b.contains(&eleven()), "the rest of the day is offered");
    // Call A still is: Cal.com no longer lists the reserved slot, the hold is A's.
    assert!(offered(&r, "call_a").await.contains(&ten()));

    // B's booking of it is refused by Cal.com; that does not mask it past the hold.
    assert_eq!(
        r.cache.create(&r.tenant, &booking("call_b", ten())).await,
        Err(CalendarError::SlotTaken)
    );

    let booked = r
        .cache
        .create(&r.tenant, &booking("call_a", ten()))
        .await
        .expect("A books its held slot");
    assert_eq!(booked.start, ten());
    let create = r
        .fake
        .requests()
        .into_iter()
        .rfind(|q| q.endpoint == Endpoint::CreateBooking)
        .expect("create request");
    let uid = create
        .body
        .as_ref()
        .and_then(|b| b["reservedSlotUid"].as_str())
        .expect("the booking names its reservation");
    assert!(uid.starts_with("rsv-"));
    assert_eq!(
        r.fake
            .reserved(CONSULT, ten(), ten().checked_add(thirty()).unwrap()),
        0,
        "the booking consumed the reservation"
    );
    assert_eq!(holds_metric("created"), 1);
    assert_eq!(holds_metric("consumed"), 1);
    // Nothing left to release at the end of the call.
    assert_eq!(r.cache.release_holds(&r.tenant, "call_a").await, Ok(0));
    assert_eq!(r.fake.count(Endpoint::DeleteReservation), 0);
}

/// When the fake's reservation of 10:00 lapses (now + 5 min on the shared clock).
fn ten_until(r: &Rig) -> Timestamp {
    use frontdesk_clock::Clock;
    let now = i64::try_from(r.clock.now_ms()).expect("clock");
    Timestamp::from_millisecond(now + 300_000).expect("instant")
}

#[tokio::test]
async fn a_hold_a_never_books_expires_by_the_clock_and_frees_the_slot() {
    let r = hold_rig().await;
    r.cache
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    assert!(!offered(&r, "call_b").await.contains(&ten()));

    r.clock.advance(HOLD_FOR + Duration::from_secs(1));
    assert_eq!(
        r.fake
            .reserved(CONSULT, ten(), ten().checked_add(thirty()).unwrap()),
        0
    );
    assert!(offered(&r, "call_b").await.contains(&ten()));
    let booked = r
        .cache
        .create(&r.tenant, &booking("call_b", ten()))
        .await
        .expect("a lapsed reservation never blocks a free slot");
    assert_eq!(booked.start, ten());

    // The call ends later: its hold is counted as expired, nothing is deleted at Cal.com.
    assert_eq!(r.cache.release_holds(&r.tenant, "call_a").await, Ok(0));
    assert_eq!(r.fake.count(Endpoint::DeleteReservation), 0);
    assert_eq!(holds_metric("expired"), 1);
    assert_eq!(holds_metric("released"), 0);
}

#[tokio::test]
async fn releasing_a_calls_holds_deletes_the_reservation_and_frees_the_slot() {
    let r = hold_rig().await;
    r.cache
        .hold(&r.tenant, &hold("call_a", &[ten(), eleven()]))
        .await
        .expect("held");
    assert!(!offered(&r, "call_b").await.contains(&ten()));

    assert_eq!(r.cache.release_holds(&r.tenant, "call_a").await, Ok(2));
    let deletes: Vec<_> = r
        .fake
        .requests()
        .into_iter()
        .filter(|q| q.endpoint == Endpoint::DeleteReservation)
        .collect();
    assert_eq!(deletes.len(), 2);
    assert!(deletes.iter().all(|d| d.method == "DELETE"
        && d.path_and_query.starts_with("/v2/slots/reservations/rsv-")
        && d.api_version.as_deref() == Some("2024-09-04")));
    assert_eq!(
        r.fake
            .reserved(CONSULT, ten(), eleven().checked_add(thirty()).unwrap()),
        0
    );
    let b = offered(&r, "call_b").await;
    assert!(b.contains(&ten()) && b.contains(&eleven()));
    r.cache
        .create(&r.tenant, &booking("call_b", ten()))
        .await
        .expect("a released slot can be booked");
    assert_eq!(holds_metric("released"), 2);
    // Released twice is released once.
    assert_eq!(r.cache.release_holds(&r.tenant, "call_a").await, Ok(0));
}

#[tokio::test]
async fn a_new_hold_replaces_the_calls_earlier_one_and_the_same_slot_is_extended() {
    let r = hold_rig().await;
    r.cache
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    r.cache
        .hold(&r.tenant, &hold("call_a", &[eleven()]))
        .await
        .expect("held");
    let end = |t: Timestamp| t.checked_add(thirty()).unwrap();
    assert_eq!(r.fake.reserved(CONSULT, ten(), end(ten())), 0);
    assert_eq!(r.fake.reserved(CONSULT, eleven(), end(eleven())), 1);
    assert_eq!(r.fake.count(Endpoint::DeleteReservation), 1);
    let b = offered(&r, "call_b").await;
    assert!(b.contains(&ten()) && !b.contains(&eleven()));

    // Holding 11:00 again a minute later prolongs the reservation in place.
    r.clock.advance(Duration::from_secs(60));
    let outcomes = r
        .cache
        .hold(&r.tenant, &hold("call_a", &[eleven()]))
        .await
        .expect("held");
    assert_eq!(
        outcomes,
        vec![HoldOutcome::Held {
            until: ten_until(&r)
        }]
    );
    assert_eq!(r.fake.count(Endpoint::ReserveSlot), 2);
    assert_eq!(r.fake.count(Endpoint::UpdateReservation), 1);
    assert_eq!(r.fake.count(Endpoint::DeleteReservation), 1);
    assert_eq!(r.fake.reserved(CONSULT, eleven(), end(eleven())), 1);
}

#[tokio::test]
async fn a_booked_or_otherwise_held_slot_is_taken_and_a_failed_reservation_blocks_nothing() {
    let r = hold_rig().await;
    r.fake.book_directly(CONSULT, ten()).expect("booked");
    r.cache
        .hold(&r.tenant, &hold("call_b", &[eleven()]))
        .await
        .expect("held");
    let outcomes = r
        .cache
        .hold(&r.tenant, &hold("call_a", &[ten(), eleven()]))
        .await
        .expect("answered");
    assert_eq!(outcomes, vec![HoldOutcome::Taken, HoldOutcome::Taken]);

    // Cal.com fails the reservation: nothing is held, the free slot can still be booked.
    let noon = berlin_ts(TUESDAY.at(12, 0, 0, 0));
    r.fake.fail_next(Failure::Status(500));
    assert!(matches!(
        r.cache.hold(&r.tenant, &hold("call_a", &[noon])).await,
        Err(CalendarError::Unavailable(_))
    ));
    assert_eq!(
        r.fake
            .reserved(CONSULT, noon, noon.checked_add(thirty()).unwrap()),
        0
    );
    assert!(offered(&r, "call_c").await.contains(&noon));
    r.cache
        .create(&r.tenant, &booking("call_a", noon))
        .await
        .expect("booked without a hold");
}

#[tokio::test]
async fn a_reservation_lost_at_calcom_does_not_keep_the_call_from_its_slot() {
    let r = hold_rig().await;
    r.cache
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    // The reservation disappears at Cal.com (deleted elsewhere): the booking still names it,
    // Cal.com ignores an unknown reservation, and the slot is free.
    assert_eq!(r.fake.clear_reservations(), 1);
    let booked = r
        .cache
        .create(&r.tenant, &booking("call_a", ten()))
        .await
        .expect("booked");
    assert_eq!(booked.start, ten());
}

#[tokio::test]
async fn a_day_cached_while_a_slot_was_held_is_fetched_again_once_the_hold_is_gone() {
    // The shipped cache (ttl 10 min) outlives a 5 min hold.
    let r = rig().await;
    r.fake.set_clock(Arc::new(r.clock.clone()));
    r.cache
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    r.cache
        .hold(&r.tenant, &hold("call_c", &[eleven()]))
        .await
        .expect("held");
    // Fetched while held: Cal.com's list hides both.
    let b = offered(&r, "call_b").await;
    assert!(!b.contains(&ten()) && !b.contains(&eleven()));
    let fetches = r.fake.count(Endpoint::Slots);

    // Released: its day is fetched again and 11:00 is back; 10:00 is still A's.
    r.cache
        .release_holds(&r.tenant, "call_c")
        .await
        .expect("released");
    let b = offered(&r, "call_b").await;
    assert!(b.contains(&eleven()) && !b.contains(&ten()));
    assert_eq!(r.fake.count(Endpoint::Slots), fetches + 1);

    // Lapsed: the day cached while 10:00 was held is fetched again, well inside its ttl.
    r.clock.advance(HOLD_FOR + Duration::from_secs(1));
    assert!(offered(&r, "call_b").await.contains(&ten()));
    assert_eq!(r.fake.count(Endpoint::Slots), fetches + 2);
}

#[tokio::test]
async fn the_client_alone_offers_a_call_its_own_held_slot_and_no_other_call() {
    let r = hold_rig().await;
    r.client
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    let direct = |call: &'static str| {
        let (client, tenant) = (r.client.clone(), r.tenant.clone());
        async move {
            client
                .free_slots(&tenant, &query(call))
                .await
                .expect("slots")
                .into_iter()
                .map(|s| s.start)
                .collect::<Vec<_>>()
        }
    };
    assert!(direct("call_a").await.contains(&ten()));
    assert!(!direct("call_b").await.contains(&ten()));
}

#[tokio::test]
async fn a_new_hold_overlapping_the_calls_earlier_one_is_not_refused_as_someone_elses() {
    let r = hold_rig().await;
    r.cache
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    // The caller now wants 10:15 (overlapping its own 10:00 hold).
    let quarter_past = berlin_ts(TUESDAY.at(10, 15, 0, 0));
    let outcomes = r
        .cache
        .hold(&r.tenant, &hold("call_a", &[quarter_past]))
        .await
        .expect("held");
    assert!(
        matches!(outcomes.as_slice(), [HoldOutcome::Held { .. }]),
        "{outcomes:?}"
    );
    assert_eq!(r.fake.reserved(CONSULT, ten(), quarter_past), 0);
    assert_eq!(
        r.fake.reserved(
            CONSULT,
            quarter_past,
            quarter_past.checked_add(thirty()).unwrap()
        ),
        1
    );
}

#[tokio::test]
async fn a_booking_overlapping_the_calls_own_hold_is_not_refused_as_someone_elses() {
    let r = hold_rig().await;
    r.cache
        .hold(&r.tenant, &hold("call_a", &[ten()]))
        .await
        .expect("held");
    // The caller books 10:15 instead, over its own 10:00 hold.
    let quarter_past = berlin_ts(TUESDAY.at(10, 15, 0, 0));
    let booked = r
        .cache
        .create(&r.tenant, &booking("call_a", quarter_past))
        .await
        .expect("booked over its own hold");
    assert_eq!(booked.start, quarter_past);
    assert_eq!(r.fake.count(Endpoint::DeleteReservation), 1);
    // Another call's hold still refuses it.
    r.cache
        .hold(&r.tenant, &hold("call_b", &[eleven()]))
        .await
        .expect("held");
    let quarter_past_eleven = berlin_ts(TUESDAY.at(11, 15, 0, 0));
    assert_eq!(
        r.cache
            .create(&r.tenant, &booking("call_a", quarter_past_eleven))
            .await,
        Err(CalendarError::SlotTaken)
    );
}
