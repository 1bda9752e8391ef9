//! Shared fixtures: tenants from YAML, a manual clock, an engine over a temporary SQLite file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use frontdesk_booking::{
    Engine, LocalCalendar, ProviderKind, Tenant, TenantDirectory, TenantsFile,
};
use frontdesk_store::{Clock, ManualClock, MemoryStore, Store};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// Compiles one tenant from a YAML tenant entry (indented as a list item body).
pub fn tenant_from_yaml(yaml: &str) -> Arc<Tenant> {
    let file = TenantsFile::from_yaml(yaml).expect("yaml");
    let dir = TenantDirectory::compile(&file).expect("compiles");
    dir.tenants().next().expect("one tenant").clone()
}

pub const DEMO: &str = r#"
tenants:
  - id: demo
    company_id: demo
    branch_id: main
    agent_ids: [agent_demo]
    calendar: { provider: local }
    services:
      beratung: { duration: 30m }
      lang: { duration: 2h }
"#;

pub const DEMO_EN: &str = r#"
tenants:
  - id: demo-en
    company_id: demo
    branch_id: london
    agent_ids: [agent_en]
    calendar: { provider: local }
    language: en
"#;

pub fn demo() -> Arc<Tenant> {
    tenant_from_yaml(DEMO)
}

pub fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").unwrap()
}

/// Milliseconds of a Berlin wall-clock time.
pub fn berlin_ms(dt: DateTime) -> u64 {
    berlin().to_timestamp(dt).unwrap().as_millisecond() as u64
}

/// A clock at Monday 2026-01-05 07:00 Berlin: before opening, so that whole week is bookable.
pub fn clock() -> ManualClock {
    ManualClock::new(berlin_ms(jiff::civil::date(2026, 1, 5).at(7, 0, 0, 0)))
}

pub struct Fixture {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("frontdesk.sqlite")
    }
}

pub fn engine_at(path: &Path, store: Arc<dyn Store>, clock: ManualClock) -> Engine {
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock);
    let local = LocalCalendar::open(path, clock_dyn.clone()).expect("open sqlite");
    Engine::new(store, clock_dyn)
        .expect("engine")
        .with_provider(ProviderKind::Local, Arc::new(local))
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(clock.clone())));
    let engine = engine_at(
        &dir.path().join("frontdesk.sqlite"),
        store.clone(),
        clock.clone(),
    );
    Fixture {
        engine: Arc::new(engine),
        store,
        clock,
        dir,
    }
}
