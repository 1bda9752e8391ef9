//! `check_availability` through the engine on the local SQLite calendar.
//!
//! A tenant with a half-booked week; measures a free slot, a taken slot (with the alternative
//! search) and a day listing. Run: `cargo bench -p frontdesk-booking --bench check_availability`.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmark code"
)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk_booking::{
    CallContext, Engine, LocalCalendar, ProviderKind, TenantDirectory, TenantsFile,
};
use frontdesk_clock::{Clock, ManualClock};
use frontdesk_store::{MemoryStore, Store};
use serde_json::json;

const TENANTS: &str = r#"
tenants:
  - id: bench
    company_id: bench
    branch_id: main
    agent_ids: [agent_bench]
    calendar: { provider: local }
"#;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").expect("tz");
    let now = tz
        .to_timestamp(jiff::civil::date(2026, 1, 5).at(7, 0, 0, 0))
        .expect("time")
        .as_millisecond();
    let clock = ManualClock::new(u64::try_from(now).expect("positive"));
    let clock: Arc<dyn Clock> = Arc::new(clock);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock.clone()));
    let calendar =
        LocalCalendar::open(&dir.path().join("bench.sqlite"), clock.clone()).expect("sqlite");
    let engine = Engine::new(store, clock)
        .expect("engine")
        .with_provider(ProviderKind::Local, Arc::new(calendar));
    let file = TenantsFile::from_yaml(TENANTS).expect("yaml");
    let directory = TenantDirectory::compile(&file).expect("tenants");
    let tenant = directory.get("bench").expect("tenant");

    // Book every other hour of the first week (Mon 5 – Fri 9 January 2026).
    rt.block_on(async {
        for day in 5..=9 {
            for hour in (9..18).step_by(2) {
                let args = json!({
                    "date": format!("2026-01-{day:02}"),
                    "time": format!("{hour:02}:00"),
                    "duration": 60,
                    "name": "Bench",
                });
                let r = engine
                    .call(&tenant, CallContext::default(), "book_appointment", &args)
                    .await;
                assert_eq!(r["success"], true, "{r}");
            }
        }
    });

    let mut group = c.benchmark_group("check_availability");
    for (name, args) in [
        ("free_slot", json!({"date": "2026-01-06", "time": "10:00"})),
        (
            "taken_slot_with_alternatives",
            json!({"date": "2026-01-06", "time": "11:00"}),
        ),
        ("day_listing", json!({"date": "2026-01-07"})),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(engine.call(
                    &tenant,
                    CallContext::default(),
                    "check_availability",
                    &args,
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
