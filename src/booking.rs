//! Builds the booking engine from the config (the embedded SQLite calendar, and Cal.com behind
//! its slot cache) and adapts it to the gateway's [`Functions`] seam.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::config::Config;
use crate::functions::{CallInfo, Functions};
use frontdesk_booking::local::BREAKER_TARGET as CALENDAR_BREAKER;
use frontdesk_booking::{
    CalendarBackend, CallContext, Engine, LocalCalendar, ProviderKind, Tenant, TenantDirectory,
};
use frontdesk_calcom::CachedProvider;
use frontdesk_resilience::BreakerRegistry;

/// The embedded calendar's database file inside `data_dir`.
pub const LOCAL_CALENDAR_FILE: &str = "frontdesk.sqlite";

/// Opens the embedded calendar's database as configured (creating and migrating it); the
/// `migrate` command runs exactly this.
pub async fn open_calendar(
    config: &Config,
    clock: Arc<dyn frontdesk_clock::Clock>,
) -> Result<LocalCalendar, String> {
    let store = &config.file.calendar_store;
    match store.backend {
        CalendarBackend::Sqlite => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                format!("cannot create data_dir {}: {e}", config.data_dir.display())
            })?;
            let path = config.data_dir.join(LOCAL_CALENDAR_FILE);
            LocalCalendar::open(&path, clock).map_err(|e| format!("{}: {e}", path.display()))
        }
        CalendarBackend::Postgres => {
            let url = match store.url.resolve() {
                Ok(Some(url)) => url,
                Ok(None) => return Err("calendar_store.url: the database URL is not set".into()),
                Err(e) => return Err(format!("calendar_store.url: {e}")),
            };
            LocalCalendar::postgres(store, url.expose(), clock)
                .await
                .map_err(|e| format!("calendar_store (postgres): {e}"))
        }
    }
}

pub async fn build(
    config: &Config,
    store: Arc<dyn frontdesk_store::Store>,
    clock: Arc<dyn frontdesk_clock::Clock>,
    breakers: Arc<BreakerRegistry>,
) -> Result<(Arc<dyn Functions>, Arc<LocalCalendar>), String> {
    let mut local = open_calendar(config, clock.clone()).await?;
    if let Some(breaker) = breakers.get(CALENDAR_BREAKER) {
        local = local.with_breaker(breaker);
    }
    let local = Arc::new(local);
    let backend = local.backend();
    let calcom =
        frontdesk_calcom::build(&config.file.calcom, store.clone(), clock.clone(), &breakers)
            .map_err(|e| format!("calcom: {e}"))?;
    let engine = Engine::new(store, clock)
        .map_err(|e| e.to_string())?
        .with_provider(ProviderKind::Local, local.clone())
        .with_provider(ProviderKind::Calcom, calcom.clone());
    let functions = Arc::new(BookingFunctions {
        engine,
        backend,
        calcom,
        breakers,
    });
    Ok((functions, local))
}

struct BookingFunctions {
    engine: Engine,
    /// The embedded calendar's database (`sqlite`, `postgres`).
    backend: &'static str,
    calcom: Arc<CachedProvider>,
    breakers: Arc<BreakerRegistry>,
}

#[async_trait]
impl Functions for BookingFunctions {
    async fn call(&self, tenant: &Tenant, call: CallInfo, function: &str, args: &Value) -> Value {
        let context = CallContext {
            call_id: call.call_id,
            from_number: call.from_number,
        };
        self.engine.call(tenant, context, function, args).await
    }

    async fn on_calendar_event(&self, tenants: &TenantDirectory, body: &Value) {
        let invalidated = self.calcom.invalidate_from_webhook(tenants, body).await;
        tracing::info!(invalidated, "calendar webhook applied to the slot cache");
    }

    async fn on_call_ended(&self, tenant: &Tenant, call_id: &str) {
        self.engine.call_ended(tenant, call_id).await;
    }

    fn health(&self) -> Value {
        let breaker = |target: &str| self.breakers.get(target).map(|b| b.snapshot());
        json!([
            { "provider": "local", "backend": self.backend, "breaker": breaker(CALENDAR_BREAKER) },
            { "provider": "calcom", "breaker": breaker(frontdesk_calcom::BREAKER_TARGET) },
        ])
    }
}
