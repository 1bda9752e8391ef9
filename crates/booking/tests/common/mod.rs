//! Shared fixtures: tenants from YAML, a manual clock, an engine over a temporary SQLite file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use frontdesk_booking::{
    Engine, LocalCalendar, ProviderKind, Tenant, TenantDirectory, TenantsFile,
};
use frontdesk_clock::{Clock, ManualClock};
use frontdesk_store::{MemoryStore, Store};
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

/// Which database the embedded calendar runs on in a test.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A calendar database of the test's own: a temporary SQLite file or PostgreSQL database.
pub enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(frontdesk_testdb::TestDatabase),
}

impl Db {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Db::Sqlite(tempfile::tempdir().unwrap()),
            Backend::Postgres => Db::Postgres(frontdesk_testdb::TestDatabase::create()),
        }
    }

    /// A calendar over this database: each call is another process's view of it.
    pub async fn calendar(&self, clock: Arc<dyn Clock>) -> LocalCalendar {
        match self {
            Db::Sqlite(dir) => {
                LocalCalendar::open(&dir.path().join("frontdesk.sqlite"), clock).expect("sqlite")
            }
            Db::Postgres(db) => LocalCalendar::postgres(&Default::default(), &db.url, clock)
                .await
                .expect("postgres"),
        }
    }

    /// An engine (a replica) over this database.
    pub async fn engine(&self, store: Arc<dyn Store>, clock: ManualClock) -> Engine {
        let clock_dyn: Arc<dyn Clock> = Arc::new(clock);
        let local = self.calendar(clock_dyn.clone()).await;
        Engine::new(store, clock_dyn)
            .expect("engine")
            .with_provider(ProviderKind::Local, Arc::new(local))
    }
}

/// An engine over a fresh database of `backend`, with an in-memory store.
pub struct BackendFixture {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    pub clock: ManualClock,
    pub db: Db,
}

pub async fn fixture_on(backend: Backend) -> BackendFixture {
    let db = Db::new(backend);
    let clock = clock();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(clock.clone())));
    let engine = db.engine(store.clone(), clock.clone()).await;
    BackendFixture {
        engine: Arc::new(engine),
        store,
        clock,
        db,
    }
}

/// Runs each named `async fn(Backend)` as one test per backend (`sqlite::name`,
/// `postgres::name`): one provider suite, both databases.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}
