//! Replays a realistic day against the fake Cal.com and reports what the slot cache saves:
//! Cal.com requests per 1000 availability checks, the share of checks answered without waiting
//! for Cal.com, the per-day hit/stale/miss split, and stale offers (offered slots that were
//! already booked at the time of the check — the number that must be zero).
//!
//! The day: 5 practices (2 services each) open 08:00-18:00; 2000 checks spread over the day
//! (one every 18 s), each asking for the engine's window (the requested date plus 14 days, dates
//! weighted towards the next few days); about 1 check in 8 books one of the offered slots through
//! the cache, 1 in 40 cancels one of ours, 1 in 25 is followed by a booking made elsewhere on
//! Cal.com; every booking change is followed by Cal.com's webhook (our own included, as Cal.com
//! sends them for API bookings too). Two cache settings are replayed: the defaults (ttl 10 m,
//! stale 1 h: webhook-driven) and the earlier defaults (ttl 60 s, stale 5 m).
//!
//! Then criterion times one warm 15-day check through the cache.
//!
//! Run: `cargo bench -p frontdesk-calcom --bench replay -- --warm-up-time 1 --measurement-time 3`
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmark code"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use criterion::Criterion;
use frontdesk_booking::{
    Attendee, CalendarProvider, NewBooking, SlotQuery, Tenant, TenantDirectory, TenantsFile,
};
use frontdesk_calcom::{
    BREAKER_TARGET, CacheConfig, CachedProvider, CalcomConfig, CalcomProvider, StaticApiKeys,
};
use frontdesk_calcom_fake::{Endpoint, EventTypeSpec, FakeCalcom};
use frontdesk_clock::{Clock, ManualClock};
use frontdesk_resilience::BreakerRegistry;
use frontdesk_store::{MemoryStore, Store};
use jiff::{SignedDuration, ToSpan};

const TENANTS: usize = 5;
const CHECKS: usize = 2000;
const STEP: Duration = Duration::from_secs(18);

/// A small deterministic PRNG (xorshift64*), so every run replays the same day.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn directory() -> TenantDirectory {
    let mut yaml = String::from("tenants:\n");
    for i in 0..TENANTS {
        yaml.push_str(&format!(
            "  - id: p{i}\n    company_id: practice{i}\n    branch_id: main\n    agent_ids: [agent{i}]\n    \
             calendar: {{ provider: calcom, api_key_env: K, event_types: {{ kurz: {}, lang: {} }} }}\n    \
             services: {{ kurz: {{ duration: 30m }}, lang: {{ duration: 1h }} }}\n    \
             business_hours:\n      monday: {{ open: \"08:00\", close: \"18:00\" }}\n      tuesday: {{ open: \"08:00\", close: \"18:00\" }}\n      \
             wednesday: {{ open: \"08:00\", close: \"18:00\" }}\n      thursday: {{ open: \"08:00\", close: \"18:00\" }}\n      \
             friday: {{ open: \"08:00\", close: \"18:00\" }}\n",
            100 + 2 * i,
            101 + 2 * i
        ));
    }
    TenantDirectory::compile(&TenantsFile::from_yaml(&yaml).expect("yaml")).expect("tenants")
}

struct World {
    fake: FakeCalcom,
    clock: ManualClock,
    cache: Arc<CachedProvider>,
    dir: TenantDirectory,
    tenants: Vec<Arc<Tenant>>,
}

async fn world(cache_cfg: CacheConfig) -> World {
    let fake = FakeCalcom::start().await.expect("fake");
    for i in 0..TENANTS as u64 {
        let mut short = EventTypeSpec::weekdays("Europe/Berlin", 30);
        short.open = jiff::civil::Time::constant(8, 0, 0, 0);
        let mut long = EventTypeSpec::weekdays("Europe/Berlin", 60);
        long.open = jiff::civil::Time::constant(8, 0, 0, 0);
        short.host = i;
        long.host = i;
        fake.add_event_type(100 + 2 * i, short);
        fake.add_event_type(101 + 2 * i, long);
    }
    let cfg = CalcomConfig {
        base_url: fake.base_url(),
        cache: cache_cfg,
        // The five practices share one key here; the replay measures the cache, not the budget.
        budget: frontdesk_calcom::BudgetConfig {
            requests_per_minute: 100_000,
            burst: 10_000,
            reserved_for_bookings: 3,
        },
        ..CalcomConfig::default()
    };
    // Monday 2026-01-05 08:00 Berlin.
    let clock = ManualClock::new(1_767_596_400_000);
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock_dyn.clone()));
    let breakers = BreakerRegistry::new(clock_dyn.clone());
    breakers
        .configure(&BTreeMap::from([(
            BREAKER_TARGET.to_owned(),
            cfg.effective_breaker(),
        )]))
        .expect("breaker");
    let client = CalcomProvider::new(
        &cfg,
        breakers.get(BREAKER_TARGET).expect("breaker"),
        clock_dyn.clone(),
    )
    .expect("client")
    .with_api_keys(Arc::new(StaticApiKeys::new([("K", "cal_bench")])));
    let cache = Arc::new(CachedProvider::new(
        Arc::new(client),
        store,
        clock_dyn,
        &cfg.cache,
    ));
    let dir = directory();
    let tenants = (0..TENANTS)
        .map(|i| dir.get(&format!("p{i}")).expect("tenant"))
        .collect();
    World {
        fake,
        clock,
        cache,
        dir,
        tenants,
    }
}

#[derive(Debug, Default)]
struct Report {
    checks: usize,
    /// Checks that waited for Cal.com (some day was a miss).
    waited: usize,
    day_hits: usize,
    day_stale: usize,
    day_misses: usize,
    stale_offers: usize,
    bookings: usize,
    refused_bookings: usize,
    cancels: usize,
    external: usize,
    calcom_requests: usize,
}

fn cache_counts() -> (u64, u64, u64) {
    use frontdesk_calcom::metrics::{CacheResult, cache_requests};
    (
        cache_requests(CacheResult::Hit),
        cache_requests(CacheResult::Stale),
        cache_requests(CacheResult::Miss),
    )
}

async fn replay(cache_cfg: CacheConfig) -> Report {
    let w = world(cache_cfg).await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut report = Report::default();
    let mut ours: Vec<(usize, String)> = Vec::new();
    let monday = jiff::civil::date(2026, 1, 5);
    for _ in 0..CHECKS {
        w.clock.advance(STEP);
        // Busier practices get more calls.
        let t = [0, 0, 0, 1, 1, 2, 2, 3, 4][rng.below(9)];
        let tenant = &w.tenants[t];
        let (service, duration, event_type) = if rng.below(4) == 0 {
            ("lang", 60, 101 + 2 * t as u64)
        } else {
            ("kurz", 30, 100 + 2 * t as u64)
        };
        // Mostly the next days, sometimes up to two weeks out.
        let offset = [0, 1, 1, 2, 2, 3, 4, 5, 7, 9, 11, 13][rng.below(12)];
        let from = monday.checked_add(offset.days()).expect("date");
        let query = SlotQuery {
            for_call: None,
            from,
            to: from.checked_add(14.days()).expect("date"),
            duration_min: duration,
            service: Some(service.to_owned()),
        };
        let before = cache_counts();
        let slots = match w.cache.free_slots(tenant, &query).await {
            Ok(slots) => slots,
            Err(e) => panic!("check failed: {e}"),
        };
        let after = cache_counts();
        report.checks += 1;
        report.day_hits += (after.0 - before.0) as usize;
        report.day_stale += (after.1 - before.1) as usize;
        let misses = (after.2 - before.2) as usize;
        report.day_misses += misses;
        if misses > 0 {
            report.waited += 1;
        }
        let length = SignedDuration::from_mins(i64::from(duration));
        report.stale_offers += slots
            .iter()
            .filter(|s| w.fake.is_booked(event_type, s.start, s.start + length))
            .count();

        // About one check in eight books one of the first offered slots.
        if !slots.is_empty() && rng.below(8) == 0 {
            let pick = slots[rng.below(slots.len().min(6))];
            let booking = NewBooking {
                start: pick.start,
                duration_min: duration,
                service: Some(service.to_owned()),
                attendee: Attendee {
                    name: "Caller".to_owned(),
                    email: Some("caller@example.org".to_owned()),
                    phone: None,
                },
                notes: None,
                call_id: None,
                request_key: None,
            };
            match w.cache.create(tenant, &booking).await {
                Ok(b) => {
                    report.bookings += 1;
                    if let Some(body) = w.fake.webhook_body("BOOKING_CREATED", &b.uid) {
                        w.cache.invalidate_from_webhook(&w.dir, &body).await;
                    }
                    ours.push((t, b.uid));
                }
                Err(_) => report.refused_bookings += 1,
            }
        }
        // Now and then one of ours is cancelled.
        if !ours.is_empty() && rng.below(40) == 0 {
            let (t, uid) = ours.swap_remove(rng.below(ours.len()));
            if w.cache.cancel(&w.tenants[t], &uid).await.is_ok() {
                report.cancels += 1;
                if let Some(body) = w.fake.webhook_body("BOOKING_CANCELLED", &uid) {
                    w.cache.invalidate_from_webhook(&w.dir, &body).await;
                }
            }
        }
        // Bookings made elsewhere (Cal.com's own page, the practice's staff).
        if rng.below(25) == 0 {
            let et = 100 + 2 * rng.below(TENANTS) as u64;
            let day = monday
                .checked_add((rng.below(14) as i32).days())
                .expect("date");
            let hour = 8 + rng.below(9) as i8;
            let start = jiff::tz::TimeZone::get("Europe/Berlin")
                .expect("tz")
                .to_timestamp(day.at(hour, 0, 0, 0))
                .expect("ts");
            if let Some(uid) = w.fake.book_directly(et, start) {
                report.external += 1;
                if let Some(body) = w.fake.webhook_body("BOOKING_CREATED", &uid) {
                    w.cache.invalidate_from_webhook(&w.dir, &body).await;
                }
            }
        }
    }
    w.cache.settle().await;
    report.calcom_requests = w.fake.count(Endpoint::Slots);
    report
}

fn print(name: &str, r: &Report) {
    let reads = (r.day_hits + r.day_stale + r.day_misses).max(1) as f64;
    println!(
        "replay[{name}]: {} checks, {} Cal.com slot requests = {:.1} per 1000 checks; \
         checks answered without waiting for Cal.com: {:.1} %; day reads: hit {:.1} %, stale {:.1} %, miss {:.1} %; \
         stale offers: {}; bookings {} (refused {}), cancels {}, external bookings {}",
        r.checks,
        r.calcom_requests,
        r.calcom_requests as f64 * 1000.0 / r.checks.max(1) as f64,
        100.0 * (r.checks - r.waited) as f64 / r.checks.max(1) as f64,
        100.0 * r.day_hits as f64 / reads,
        100.0 * r.day_stale as f64 / reads,
        100.0 * r.day_misses as f64 / reads,
        r.stale_offers,
        r.bookings,
        r.refused_bookings,
        r.cancels,
        r.external,
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let default = runtime.block_on(replay(CacheConfig::default()));
    print("defaults (ttl 10m, stale 1h)", &default);
    let short = runtime.block_on(replay(CacheConfig {
        ttl: Duration::from_secs(60),
        stale: Duration::from_secs(300),
        taken_overlay: Duration::from_secs(300),
        ..CacheConfig::default()
    }));
    print("earlier defaults (ttl 60s, stale 5m)", &short);

    let w = runtime.block_on(world(CacheConfig {
        ttl: Duration::from_secs(3600),
        ..CacheConfig::default()
    }));
    let query = SlotQuery {
        for_call: None,
        from: jiff::civil::date(2026, 1, 6),
        to: jiff::civil::date(2026, 1, 20),
        duration_min: 30,
        service: Some("kurz".to_owned()),
    };
    runtime
        .block_on(w.cache.free_slots(&w.tenants[0], &query))
        .expect("warm");
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("warm 15-day check through the cache", |b| {
        b.iter(|| runtime.block_on(w.cache.free_slots(&w.tenants[0], &query)))
    });
    c.final_summary();
}
