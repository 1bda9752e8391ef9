//! The slot cache over the real client and the fake Cal.com: single-flight, TTL and stale
//! answers, invalidation by our own writes and by webhooks, the taken overlay, and serving from
//! cache while Cal.com rate-limits.
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
use frontdesk_booking::{Attendee, CalendarError, CalendarProvider, NewBooking, SlotQuery};
use frontdesk_calcom::{CachedProvider, metrics::CacheResult};
use frontdesk_calcom_fake::{Endpoint, Failure};
use jiff::civil::date;
use serde_json::Value;

fn day(service: &str) -> SlotQuery {
    SlotQuery {
        for_call: None,
        from: TUESDAY,
        to: TUESDAY,
        duration_min: 30,
        service: Some(service.to_owned()),
    }
}

fn two_weeks() -> SlotQuery {
    SlotQuery {
        for_call: None,
        from: date(2026, 1, 5),
        to: date(2026, 1, 19),
        duration_min: 30,
        service: Some("beratung".to_owned()),
    }
}

fn booking_at(hour: i8) -> NewBooking {
    NewBooking {
        start: berlin_ts(TUESDAY.at(hour, 0, 0, 0)),
        duration_min: 30,
        service: Some("beratung".to_owned()),
        attendee: Attendee {
            name: "Max Muster".to_owned(),
            email: Some("max@example.org".to_owned()),
            phone: None,
        },
        notes: None,
        call_id: None,
        request_key: None,
    }
}

async fn offered(cache: &CachedProvider, r: &Rig, hour: i8) -> bool {
    let slots = cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("slots");
    slots
        .iter()
        .any(|s| s.start == berlin_ts(TUESDAY.at(hour, 0, 0, 0)))
}

#[tokio::test]
async fn fifty_concurrent_cold_checks_make_one_request() {
    let r = rig().await;
    // Park Cal.com so every check is in flight at once.
    r.fake.hold();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let cache = r.cache.clone();
        let tenant = r.tenant.clone();
        tasks.push(tokio::spawn(async move {
            cache.free_slots(&tenant, &day("beratung")).await
        }));
    }
    r.fake.wait_held(1).await;
    // Every other check has joined the leader's flight before Cal.com answers.
    while r.cache.waiting_fills() < 49 {
        tokio::task::yield_now().await;
    }
    r.fake.release();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task").expect("slots"));
    }
    assert_eq!(r.fake.count(Endpoint::Slots), 1);
    assert!(answers.iter().all(|a| a == &answers[0]));
    assert_eq!(answers[0].len(), 18);
}

#[tokio::test]
async fn a_two_week_check_is_one_request_then_all_hits() {
    let r = rig().await;
    let first = r
        .cache
        .free_slots(&r.tenant, &two_weeks())
        .await
        .expect("slots");
    assert_eq!(r.fake.count(Endpoint::Slots), 1);
    for _ in 0..10 {
        let again = r
            .cache
            .free_slots(&r.tenant, &two_weeks())
            .await
            .expect("slots");
        assert_eq!(again, first);
    }
    assert_eq!(r.fake.count(Endpoint::Slots), 1);
    // 11 working days x 18 slots.
    assert_eq!(first.len(), 11 * 18);
}

#[tokio::test]
async fn booking_created_webhook_masks_the_slot_before_the_ttl() {
    let r = rig().await;
    assert!(offered(&r.cache, &r, 10).await);
    // Someone books 10:00 on Cal.com's own page; our cache is still fresh.
    let uid = r
        .fake
        .book_directly(CONSULT, berlin_ts(TUESDAY.at(10, 0, 0, 0)))
        .expect("booked");
    assert!(offered(&r.cache, &r, 10).await, "fresh cache still answers");
    assert_eq!(r.fake.count(Endpoint::Slots), 1);

    let body = r.fake.webhook_body("BOOKING_CREATED", &uid).expect("body");
    let invalidated = r.cache.invalidate_from_webhook(&r.dir, &body).await;
    assert_eq!(invalidated, 1);
    assert!(!offered(&r.cache, &r, 10).await);
    assert_eq!(r.fake.count(Endpoint::Slots), 2, "the day was refetched");
}

#[tokio::test]
async fn overlay_masks_a_webhook_slot_even_when_cal_com_lags() {
    let r = rig().await;
    assert!(offered(&r.cache, &r, 10).await);
    r.fake.set_slots_lag(true);
    let uid = r
        .fake
        .book_directly(CONSULT, berlin_ts(TUESDAY.at(10, 0, 0, 0)))
        .expect("booked");
    let body = r.fake.webhook_body("BOOKING_CREATED", &uid).expect("body");
    r.cache.invalidate_from_webhook(&r.dir, &body).await;
    // Cal.com still lists 10:00 free; the overlay does not.
    assert!(!offered(&r.cache, &r, 10).await);
    // The 60-minute service overlapping 10:00 is masked as well (same practice).
    let long = r
        .cache
        .free_slots(
            &r.tenant,
            &SlotQuery {
                for_call: None,
                duration_min: 60,
                ..day("lang")
            },
        )
        .await
        .expect("slots");
    assert!(
        !long
            .iter()
            .any(|s| s.start == berlin_ts(TUESDAY.at(10, 0, 0, 0)))
    );
    assert!(
        long.iter()
            .any(|s| s.start == berlin_ts(TUESDAY.at(11, 0, 0, 0)))
    );
}

#[tokio::test]
async fn the_fixture_webhook_maps_to_the_tenant_and_dates() {
    let r = rig().await;
    let text = fixture("calcom_wh_booking_created.json");
    let body: Value = serde_json::from_str(&text).expect("json");
    // The fixture's event type 1234567 belongs to acme-berlin; 17:00Z is 18:00 Berlin: one day.
    assert_eq!(r.cache.invalidate_from_webhook(&r.dir, &body).await, 1);
    let rescheduled: Value =
        serde_json::from_str(&fixture("calcom_wh_booking_rescheduled.json")).expect("json");
    // Old day (06) and new day (08).
    assert_eq!(
        r.cache.invalidate_from_webhook(&r.dir, &rescheduled).await,
        2
    );
    let cancelled: Value =
        serde_json::from_str(&fixture("calcom_wh_booking_cancelled.json")).expect("json");
    assert_eq!(r.cache.invalidate_from_webhook(&r.dir, &cancelled).await, 1);
    let unknown = serde_json::json!({"triggerEvent":"BOOKING_CREATED","payload":{"eventTypeId":1,
        "startTime":"2026-01-06T17:00:00Z","endTime":"2026-01-06T17:30:00Z"}});
    assert_eq!(r.cache.invalidate_from_webhook(&r.dir, &unknown).await, 0);
}

#[tokio::test]
async fn our_own_booking_is_never_offered_again() {
    let r = rig().await;
    assert!(offered(&r.cache, &r, 10).await);
    r.fake.set_slots_lag(true);
    r.cache
        .create(&r.tenant, &booking_at(10))
        .await
        .expect("created");
    assert!(!offered(&r.cache, &r, 10).await);
    assert!(offered(&r.cache, &r, 11).await);
}

#[tokio::test]
async fn a_refused_booking_is_known_taken() {
    let r = rig().await;
    assert!(offered(&r.cache, &r, 10).await);
    r.fake.set_slots_lag(true);
    r.fake.fail_next(Failure::SlotTaken);
    let err = r
        .cache
        .create(&r.tenant, &booking_at(10))
        .await
        .expect_err("taken");
    assert_eq!(err, CalendarError::SlotTaken);
    assert!(!offered(&r.cache, &r, 10).await);
}

#[tokio::test]
async fn cancel_and_reschedule_through_the_cache_free_and_take_slots() {
    let r = rig().await;
    let booked = r
        .cache
        .create(&r.tenant, &booking_at(10))
        .await
        .expect("created");
    assert!(!offered(&r.cache, &r, 10).await);
    let moved = r
        .cache
        .reschedule(&r.tenant, &booked.uid, berlin_ts(TUESDAY.at(14, 0, 0, 0)))
        .await
        .expect("moved");
    assert!(offered(&r.cache, &r, 10).await, "old time is free again");
    assert!(!offered(&r.cache, &r, 14).await, "new time is taken");
    r.cache
        .cancel(&r.tenant, &moved.uid)
        .await
        .expect("cancelled");
    assert!(offered(&r.cache, &r, 14).await);
}

#[tokio::test]
async fn ttl_then_stale_while_revalidate_then_miss() {
    let r = rig().await;
    let hits = frontdesk_calcom::metrics::cache_requests(CacheResult::Hit);
    r.cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("cold");
    r.cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("hit");
    assert!(frontdesk_calcom::metrics::cache_requests(CacheResult::Hit) > hits);
    assert_eq!(r.fake.count(Endpoint::Slots), 1);

    // Past the TTL: answered from the stale entry, refreshed in the background.
    r.clock.advance(r.cfg.cache.ttl + Duration::from_secs(1));
    r.fake
        .book_directly(CONSULT, berlin_ts(TUESDAY.at(15, 0, 0, 0)));
    assert!(offered(&r.cache, &r, 15).await, "stale answer");
    r.cache.settle().await;
    assert_eq!(r.fake.count(Endpoint::Slots), 2);
    assert!(!offered(&r.cache, &r, 15).await, "refreshed");
    assert_eq!(r.fake.count(Endpoint::Slots), 2);

    // Past TTL + stale: a plain miss.
    r.clock
        .advance(r.cfg.cache.ttl + r.cfg.cache.stale + Duration::from_secs(1));
    r.cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("miss");
    assert_eq!(r.fake.count(Endpoint::Slots), 3);
}

#[tokio::test]
async fn rate_limited_cal_com_is_served_from_cache() {
    let r = rig().await;
    let before = r
        .cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("cold");
    r.clock.advance(r.cfg.cache.ttl + Duration::from_secs(1));
    r.fake.fail_always(Failure::RateLimited { reset_secs: 120 });
    // Stale answer; the background refresh gets the 429 and closes the window.
    let during = r
        .cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("stale");
    r.cache.settle().await;
    assert_eq!(during, before);
    assert_eq!(r.fake.count(Endpoint::Slots), 2);
    for _ in 0..10 {
        let again = r
            .cache
            .free_slots(&r.tenant, &day("beratung"))
            .await
            .expect("stale");
        assert_eq!(again, before);
        r.cache.settle().await;
    }
    // No request inside the rate-limit window.
    assert_eq!(r.fake.count(Endpoint::Slots), 2);
}

#[tokio::test]
async fn breaker_open_fails_fast_without_touching_cal_com() {
    let r = rig().await;
    r.fake.fail_always(Failure::Status(500));
    for offset in 0..5 {
        let q = SlotQuery {
            for_call: None,
            from: date(2026, 1, 6 + offset),
            to: date(2026, 1, 6 + offset),
            ..day("beratung")
        };
        let err = r.cache.free_slots(&r.tenant, &q).await.expect_err("5xx");
        assert!(matches!(err, CalendarError::Unavailable(_)));
    }
    let seen = r.fake.total_requests();
    let err = r
        .cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect_err("open");
    assert!(matches!(err, CalendarError::Unavailable(_)));
    assert_eq!(r.fake.total_requests(), seen);
}

#[tokio::test]
async fn cache_over_redis_store() {
    use frontdesk_store::{RedisSettings, RedisStore, Store};
    let r = rig().await;
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!(
        "test:calcom:{}:{}:",
        std::process::id(),
        r.fake.base_url().rsplit(':').next().unwrap_or("0")
    );
    let redis: Arc<dyn Store> = Arc::new(
        RedisStore::new(&RedisSettings {
            url,
            prefix,
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
        })
        .expect("redis url"),
    );
    redis.ping().await.expect("redis reachable");
    let cache = CachedProvider::new(
        r.client.clone(),
        redis,
        Arc::new(r.clock.clone()),
        &r.cfg.cache,
    );
    let first = cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("cold");
    let second = cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("hit");
    assert_eq!(first, second);
    assert_eq!(r.fake.count(Endpoint::Slots), 1);
    let uid = r
        .fake
        .book_directly(CONSULT, berlin_ts(TUESDAY.at(9, 0, 0, 0)))
        .expect("booked");
    let body = r.fake.webhook_body("BOOKING_CREATED", &uid).expect("body");
    assert_eq!(cache.invalidate_from_webhook(&r.dir, &body).await, 1);
    let after = cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("refetch");
    assert_eq!(r.fake.count(Endpoint::Slots), 2);
    assert!(
        !after
            .iter()
            .any(|s| s.start == berlin_ts(TUESDAY.at(9, 0, 0, 0)))
    );
}

#[tokio::test]
async fn a_hanging_cal_com_costs_a_check_its_budget_and_the_fetch_warms_the_cache() {
    let budget = Duration::from_millis(300);
    let r = rig_with(|cfg| cfg.cache.answer_budget = budget).await;
    r.fake.hold();
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let err = r
            .cache
            .free_slots(&r.tenant, &day("beratung"))
            .await
            .expect_err("Cal.com holds the request");
        assert!(matches!(err, CalendarError::Unavailable(_)), "{err:?}");
        // The timer decides, not Cal.com's read timeout (1.5 s here); the margin is scheduling.
        assert!(
            started.elapsed() < budget + Duration::from_millis(700),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        r.fake.count(Endpoint::Slots),
        1,
        "the second check joined the first fetch"
    );
    // Cal.com answers after all: the fetch nobody waited for fills the cache.
    r.fake.release();
    // The next check joins that fetch (single flight) or reads what it stored.
    let answered = r
        .cache
        .free_slots(&r.tenant, &day("beratung"))
        .await
        .expect("the cache warmed");
    assert!(!answered.is_empty());
    assert_eq!(
        r.fake.count(Endpoint::Slots),
        1,
        "served from the warmed cache"
    );
}
