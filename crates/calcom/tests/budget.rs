//! The outbound budget per tenant API key, counted at the fake Cal.com on an injected clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use frontdesk_booking::{Attendee, CalendarProvider, NewBooking, SlotQuery};
use frontdesk_calcom::BudgetConfig;
use jiff::Timestamp;

fn query() -> SlotQuery {
    SlotQuery {
        from: TUESDAY,
        to: TUESDAY,
        duration_min: 30,
        service: Some("beratung".to_owned()),
        for_call: None,
    }
}

fn booking(start: Timestamp) -> NewBooking {
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
        call_id: None,
        request_key: None,
    }
}

/// Every check wants a refresh: the cached day is stale after 1 ms and answerable for an hour.
async fn busy_rig(budget: BudgetConfig) -> Rig {
    let r = rig_with(|cfg| {
        cfg.budget = budget;
        cfg.cache.ttl = Duration::from_millis(1);
        cfg.cache.stale = Duration::from_secs(3600);
    })
    .await;
    r.fake.set_clock(Arc::new(r.clock.clone()));
    r
}

#[tokio::test]
async fn one_hundred_fifty_checks_in_a_minute_stay_inside_the_keys_budget_and_a_booking_gets_through()
 {
    let budget = BudgetConfig::default();
    let ceiling = usize::try_from(budget.requests_per_minute + budget.burst).expect("small");
    let r = busy_rig(budget).await;
    // Cal.com's documented limit per key, enforced by the fake.
    r.fake.set_rate_limit(120);
    let booked_at = berlin_ts(TUESDAY.at(14, 0, 0, 0));
    for i in 0..150 {
        if i == 120 {
            // A caller books while checks have drained the bucket to its reserve.
            r.cache
                .create(&r.tenant, &booking(booked_at))
                .await
                .expect("a booking is never starved by refreshes");
        }
        let slots = r
            .cache
            .free_slots(&r.tenant, &query())
            .await
            .expect("every check is answered (from the cache while the budget is spent)");
        if i >= 120 {
            assert!(
                slots.iter().all(|s| s.start != booked_at),
                "check {i} offered the slot just booked"
            );
        }
        r.cache.settle().await;
        r.clock.advance(Duration::from_millis(400));
    }
    let sent = r.fake.count_for_key(KEY);
    assert!(
        sent <= ceiling,
        "{sent} requests left in one minute, budget {ceiling}"
    );
    assert!(
        sent <= 120,
        "Cal.com's limit for the key was reached ({sent})"
    );
    // The budget did bite: 150 checks wanted a refresh each.
    assert!(sent < 150, "{sent}");
    // And it is not idle either: refreshes went out at the sustained rate.
    assert!(sent >= 80, "{sent}");
}

#[tokio::test]
async fn calcoms_remaining_header_stops_refreshes_before_its_limit() {
    // Our own budget is generous here; Cal.com's (20 a minute) is the one that binds.
    let r = busy_rig(BudgetConfig {
        requests_per_minute: 10_000,
        burst: 1_000,
        reserved_for_bookings: 3,
    })
    .await;
    r.fake.set_rate_limit(20);
    for _ in 0..100 {
        r.cache
            .free_slots(&r.tenant, &query())
            .await
            .expect("answered from the cache");
        r.cache.settle().await;
        r.clock.advance(Duration::from_millis(500));
    }
    // 50 s: one window of the fake. Refreshes stopped at 3 remaining, so no 429 was reached.
    let sent = r.fake.count_for_key(KEY);
    assert!(sent <= 17, "{sent}");
    assert!(sent >= 10, "{sent}");
    // The reserve is still there for a booking.
    r.cache
        .create(&r.tenant, &booking(berlin_ts(TUESDAY.at(15, 0, 0, 0))))
        .await
        .expect("booked within Cal.com's window");
    assert_eq!(r.fake.count_for_key(KEY), sent + 1);
}
