//! The seam between the gateway and the booking engine: what a route with `handler: booking`
//! and a route with `on_event` (`calcom_invalidate`, `retell_call_events`) need, and nothing
//! about HTTP.

use async_trait::async_trait;
use serde_json::Value;

use frontdesk_booking::{Tenant, TenantDirectory};

/// Who is calling, as far as the request tells.
#[derive(Debug, Clone, Default)]
pub struct CallInfo {
    pub call_id: Option<String>,
    pub from_number: Option<String>,
}

#[async_trait]
pub trait Functions: Send + Sync + 'static {
    /// Answers one Retell function call; always a reply object (`success`, `message`, ...).
    async fn call(&self, tenant: &Tenant, call: CallInfo, function: &str, args: &Value) -> Value;

    /// A calendar webhook (Cal.com booking created/cancelled/rescheduled) arrived.
    async fn on_calendar_event(&self, tenants: &TenantDirectory, body: &Value);

    /// A Retell call ended (signed `call_ended` event of the tenant): its held slots are freed.
    async fn on_call_ended(&self, tenant: &Tenant, call_id: &str);

    /// Calendar providers and their state, for `/health/detailed`.
    fn health(&self) -> Value;
}
