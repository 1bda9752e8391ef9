//! Builds the booking engine from the config (the embedded SQLite calendar, and Cal.com behind
//! its slot cache) and adapts it to the gateway's [`Functions`] seam.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::config::Config;
use crate::functions::{CallInfo, Functions};
use frontdesk_booking::{
    CallContext, Engine, LocalCalendar, ProviderKind, Tenant, TenantDirectory,
};
use frontdesk_calcom::CachedProvider;
use frontdesk_resilience::BreakerRegistry;

/// The embedded calendar's database file inside `data_dir`.
pub const LOCAL_CALENDAR_FILE: &str = "frontdesk.sqlite";

pub async fn build(
    config: &Config,
    store: Arc<dyn frontdesk_store::Store>,
    clock: Arc<dyn frontdesk_store::Clock>,
    breakers: Arc<BreakerRegistry>,
) -> Result<Arc<dyn Functions>, String> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create data_dir {}: {e}", config.data_dir.display()))?;
    let path = config.data_dir.join(LOCAL_CALENDAR_FILE);
    let local = LocalCalendar::open(&path, clock.clone())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let calcom =
        frontdesk_calcom::build(&config.file.calcom, store.clone(), clock.clone(), &breakers)
            .map_err(|e| format!("calcom: {e}"))?;
    let engine = Engine::new(store, clock)
        .map_err(|e| e.to_string())?
        .with_provider(ProviderKind::Local, Arc::new(local))
        .with_provider(ProviderKind::Calcom, calcom.clone());
    Ok(Arc::new(BookingFunctions {
        engine,
        calcom,
        breakers,
    }))
}

struct BookingFunctions {
    engine: Engine,
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

    fn health(&self) -> Value {
        let breaker = self
            .breakers
            .get(frontdesk_calcom::BREAKER_TARGET)
            .map(|b| b.snapshot());
        json!([
            { "provider": "local", "status": "ok" },
            { "provider": "calcom", "breaker": breaker },
        ])
    }
}
