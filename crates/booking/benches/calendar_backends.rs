//! The embedded calendar on SQLite beside PostgreSQL, in one run: `check_availability` with
//! the occupancy read from the database (the short read cache always expired) and
//! `book_appointment` (each booking cancelled again by the same worker, so slots do not run
//! out), 8 concurrent callers, three interleaved rounds per backend; throughput and p99 as
//! medians over the rounds. Needs `DATABASE_URL` (`make bench` sets it).
//!
//! Run: `cargo bench -p frontdesk-booking --bench calendar_backends`.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmark code"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk_booking::{
    CalendarStoreConfig, CallContext, Engine, LocalCalendar, ProviderKind, Tenant, TenantDirectory,
    TenantsFile,
};
use frontdesk_clock::{Clock, ManualClock};
use frontdesk_store::{MemoryStore, Store};
use frontdesk_testdb::TestDatabase;
use serde_json::json;

const TENANTS: &str = r#"
tenants:
  - id: bench
    company_id: bench
    branch_id: main
    agent_ids: [agent_bench]
    calendar: { provider: local, resources: [r0, r1, r2, r3, r4, r5, r6, r7] }
"#;
const WORKERS: usize = 8;
const ROUND: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;

struct Backend {
    name: &'static str,
    engine: Arc<Engine>,
    clock: ManualClock,
}

async fn backend(name: &'static str, calendar: LocalCalendar, clock: ManualClock) -> Backend {
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock_dyn.clone()));
    let engine = Engine::new(store, clock_dyn)
        .expect("engine")
        .with_provider(ProviderKind::Local, Arc::new(calendar));
    Backend {
        name,
        engine: Arc::new(engine),
        clock,
    }
}

/// Runs `op` from `WORKERS` tasks for one round; returns (operations per second, p99).
async fn round<F, Fut>(op: F) -> (f64, Duration)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while started.elapsed() < ROUND {
                    let t = Instant::now();
                    op(worker, n).await;
                    latencies.push(t.elapsed());
                    n += 1;
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("worker"));
    }
    all.sort();
    let p99 = all[(all.len() * 99 / 100).min(all.len() - 1)];
    (all.len() as f64 / started.elapsed().as_secs_f64(), p99)
}

fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("ordered"));
    v[v.len() / 2]
}

async fn check(b: &Backend, tenant: &Arc<Tenant>) -> (f64, Duration) {
    let (engine, clock, tenant) = (b.engine.clone(), b.clock.clone(), tenant.clone());
    round(move |_, _| {
        // Past the one-second read cache: every check reads the database.
        clock.advance(Duration::from_millis(1_001));
        let (engine, tenant) = (engine.clone(), tenant.clone());
        async move {
            let r = engine
                .call(
                    &tenant,
                    CallContext::default(),
                    "check_availability",
                    &json!({"date": "2026-01-14", "time": "10:00"}),
                )
                .await;
            assert_eq!(r["success"], true, "{r}");
        }
    })
    .await
}

async fn book(b: &Backend, tenant: &Arc<Tenant>, round_no: usize) -> (f64, Duration) {
    let (engine, tenant, name) = (b.engine.clone(), tenant.clone(), b.name);
    round(move |worker, n| {
        let (engine, tenant) = (engine.clone(), tenant.clone());
        async move {
            let call = CallContext {
                call_id: Some(format!("{name}-{round_no}-{worker}-{n}")),
                from_number: Some("+4915112345678".into()),
            };
            let args = json!({
                "date": "2026-01-15",
                "time": format!("{:02}:00", 9 + worker),
                "name": "Bench",
            });
            let booked = engine
                .call(&tenant, call.clone(), "book_appointment", &args)
                .await;
            assert_eq!(booked["success"], true, "{booked}");
            let cancelled = engine
                .call(
                    &tenant,
                    call,
                    "cancel_appointment",
                    &json!({"booking_id": booked["booking"]["uid"]}),
                )
                .await;
            assert_eq!(cancelled["success"], true, "{cancelled}");
        }
    })
    .await
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").expect("tz");
    let now = tz
        .to_timestamp(jiff::civil::date(2026, 1, 5).at(7, 0, 0, 0))
        .expect("time")
        .as_millisecond();
    let file = TenantsFile::from_yaml(TENANTS).expect("yaml");
    let directory = TenantDirectory::compile(&file).expect("tenants");
    let tenant = directory.get("bench").expect("tenant");
    let dir = tempfile::tempdir().expect("tempdir");
    let database = TestDatabase::create();

    rt.block_on(async {
        let clock = || ManualClock::new(u64::try_from(now).expect("positive"));
        let sqlite_clock = clock();
        let sqlite = LocalCalendar::open(
            &dir.path().join("bench.sqlite"),
            Arc::new(sqlite_clock.clone()),
        )
        .expect("sqlite");
        let pg_clock = clock();
        let postgres = LocalCalendar::postgres(
            &CalendarStoreConfig::default(),
            &database.url,
            Arc::new(pg_clock.clone()),
        )
        .await
        .expect("postgres");
        let backends = [
            backend("sqlite", sqlite, sqlite_clock).await,
            backend("postgres", postgres, pg_clock).await,
        ];
        let mut results = vec![(Vec::new(), Vec::new(), Vec::new(), Vec::new()); 2];
        for round_no in 0..ROUNDS {
            for (i, b) in backends.iter().enumerate() {
                let (rate, p99) = check(b, &tenant).await;
                results[i].0.push(rate);
                results[i].1.push(p99);
                let (rate, p99) = book(b, &tenant, round_no).await;
                results[i].2.push(rate);
                results[i].3.push(p99);
            }
        }
        println!(
            "| backend | check_availability/s | p99 | book+cancel pairs/s | p99 |\n|---|---|---|---|---|"
        );
        for (b, (check_rate, check_p99, book_rate, book_p99)) in backends.iter().zip(results) {
            println!(
                "| {} | {:.0} | {:.2} ms | {:.0} | {:.2} ms |",
                b.name,
                median(check_rate),
                median(check_p99).as_secs_f64() * 1e3,
                median(book_rate),
                median(book_p99).as_secs_f64() * 1e3,
            );
        }
    });
}
