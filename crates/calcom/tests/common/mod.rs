//! Shared rig: a fake Cal.com, a Cal.com tenant, a manual clock, a memory store, a breaker
//! registry, the raw client and the cache over it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use frontdesk_booking::{Tenant, TenantDirectory, TenantsFile};
use frontdesk_calcom::{
    BREAKER_TARGET, CachedProvider, CalcomConfig, CalcomProvider, StaticApiKeys,
};
use frontdesk_calcom_fake::{EventTypeSpec, FakeCalcom};
use frontdesk_clock::{Clock, ManualClock};
use frontdesk_resilience::BreakerRegistry;
use frontdesk_store::{MemoryStore, Store};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

pub const KEY_ENV: &str = "CALCOM_API_KEY_TEST";
pub const KEY: &str = "cal_test_0123456789";
pub const CONSULT: u64 = 1234567;
pub const LONG: u64 = 7654321;

pub const TENANT_YAML: &str = r#"
tenants:
  - id: acme-berlin
    company_id: acme
    branch_id: berlin
    agent_ids: [agent_acme]
    calendar:
      provider: calcom
      api_key_env: CALCOM_API_KEY_TEST
      event_types: { beratung: 1234567, lang: 7654321 }
    services:
      beratung: { duration: 30m }
      lang: { duration: 1h }
    time_zone: Europe/Berlin
    language: de
"#;

pub fn directory(yaml: &str) -> TenantDirectory {
    TenantDirectory::compile(&TenantsFile::from_yaml(yaml).expect("yaml")).expect("compiles")
}

pub fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("tz")
}

pub fn berlin_ts(dt: DateTime) -> Timestamp {
    berlin().to_timestamp(dt).expect("instant")
}

/// Monday 2026-01-05 07:00 Berlin: the whole week lies ahead.
pub fn clock() -> ManualClock {
    let ms = berlin_ts(jiff::civil::date(2026, 1, 5).at(7, 0, 0, 0)).as_millisecond();
    ManualClock::new(u64::try_from(ms).expect("positive"))
}

pub const TUESDAY: Date = jiff::civil::date(2026, 1, 6);

pub struct Rig {
    pub fake: FakeCalcom,
    pub clock: ManualClock,
    pub store: Arc<dyn Store>,
    pub breakers: BreakerRegistry,
    pub client: Arc<CalcomProvider>,
    pub cache: Arc<CachedProvider>,
    pub dir: TenantDirectory,
    pub tenant: Arc<Tenant>,
    pub cfg: CalcomConfig,
}

pub fn config(base_url: &str) -> CalcomConfig {
    let mut cfg = CalcomConfig {
        base_url: base_url.to_owned(),
        ..CalcomConfig::default()
    };
    // Short enough that a held request ends the test quickly; the hold, not a sleep, decides.
    cfg.timeouts.total = Duration::from_millis(1500);
    cfg.timeouts.read = Duration::from_millis(1500);
    cfg.timeouts.connect = Duration::from_millis(500);
    // Tests that hold Cal.com decide when it answers; the answer budget has its own test.
    cfg.cache.answer_budget = Duration::from_secs(30);
    // The clock stands still in most tests; the outbound budget has its own tests.
    cfg.budget.requests_per_minute = 100_000;
    cfg.budget.burst = 10_000;
    cfg
}

pub async fn rig() -> Rig {
    rig_with(|_| {}).await
}

pub async fn rig_with(adjust: impl FnOnce(&mut CalcomConfig)) -> Rig {
    let fake = FakeCalcom::start().await.expect("fake starts");
    fake.add_event_type(CONSULT, EventTypeSpec::weekdays("Europe/Berlin", 30));
    fake.add_event_type(LONG, EventTypeSpec::weekdays("Europe/Berlin", 60));
    fake.require_api_key(KEY);
    let mut cfg = config(&fake.base_url());
    adjust(&mut cfg);
    let clock = clock();
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock_dyn.clone()));
    let breakers = BreakerRegistry::new(clock_dyn.clone());
    breakers
        .configure(&BTreeMap::from([(
            BREAKER_TARGET.to_owned(),
            cfg.effective_breaker(),
        )]))
        .expect("breaker config");
    let breaker = breakers.get(BREAKER_TARGET).expect("breaker");
    let client = Arc::new(
        CalcomProvider::new(&cfg, breaker, clock_dyn.clone())
            .expect("client")
            .with_api_keys(Arc::new(StaticApiKeys::new([(KEY_ENV, KEY)]))),
    );
    let cache = Arc::new(CachedProvider::new(
        client.clone(),
        store.clone(),
        clock_dyn,
        &cfg.cache,
    ));
    let dir = directory(TENANT_YAML);
    let tenant = dir.get("acme-berlin").expect("tenant");
    Rig {
        fake,
        clock,
        store,
        breakers,
        client,
        cache,
        dir,
        tenant,
        cfg,
    }
}

/// The fixture file's bytes.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}
