//! Builds the booking functions from the config. Until the engine lands this answers every call
//! with `calendar_unavailable`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::config::Config;
use crate::functions::{CallInfo, Functions};
use frontdesk_booking::{Tenant, TenantDirectory};

pub async fn build(
    _config: &Config,
    _store: Arc<dyn frontdesk_store::Store>,
    _clock: Arc<dyn frontdesk_store::Clock>,
    _breakers: Arc<frontdesk_resilience::BreakerRegistry>,
) -> Result<Arc<dyn Functions>, String> {
    Ok(Arc::new(Pending))
}

struct Pending;

#[async_trait]
impl Functions for Pending {
    async fn call(&self, _tenant: &Tenant, _call: CallInfo, _function: &str, _args: &Value) -> Value {
        json!({ "success": false, "reason": "calendar_unavailable", "message": "" })
    }
    async fn on_calendar_event(&self, _tenants: &TenantDirectory, _body: &Value) {}
    fn health(&self) -> Value {
        json!([])
    }
}
