//! The Cal.com reservations each call holds, kept in the store per (tenant, call) so every
//! replica can use them for the call's booking or release them at its end.
//!
//! A record lives as long as its holds plus [`EXPIRY_GRACE`]: a call that ends (or books) after
//! its holds lapsed still finds them, so they are counted as expired rather than forgotten, and
//! a booking still names its reservation (Cal.com ignores a lapsed one).

use std::sync::Arc;
use std::time::Duration;

use frontdesk_booking::{CalendarError, Tenant};
use frontdesk_store::Store;
use serde::{Deserialize, Serialize};

use crate::key::TenantGroup;

/// How long a record outlives its last hold.
pub const EXPIRY_GRACE: Duration = Duration::from_secs(600);

/// One reservation of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldSlot {
    /// Cal.com's `reservationUid`.
    pub uid: String,
    pub event_type: u64,
    pub start_ms: i64,
    pub duration_min: u32,
    /// When Cal.com lets the reservation lapse (clock milliseconds).
    pub until_ms: u64,
}

impl HeldSlot {
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.until_ms > now_ms
    }
}

/// The store side of the call records.
pub struct HoldBook {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for HoldBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HoldBook")
            .field("store", &self.store.backend())
            .finish()
    }
}

fn key(tenant: &Tenant, call_id: &str) -> Result<String, CalendarError> {
    TenantGroup::new(&tenant.scope.company_id, &tenant.scope.branch_id)
        .and_then(|group| group.call_holds_key(call_id))
        .map_err(|e| CalendarError::Config(e.to_string()))
}

impl HoldBook {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The call's reservations; none when the store cannot say (they lapse at Cal.com anyway).
    pub async fn load(&self, tenant: &Tenant, call_id: &str) -> Vec<HeldSlot> {
        let Ok(key) = key(tenant, call_id) else {
            return Vec::new();
        };
        match self.store.get(&key).await {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(tenant = %tenant.id, error = %e, "hold record unreadable");
                Vec::new()
            }
        }
    }

    /// Replaces the call's record (an empty list deletes it). An error means the record may be
    /// missing: the caller gives the reservations up rather than leave them unnamed.
    pub async fn save(
        &self,
        tenant: &Tenant,
        call_id: &str,
        slots: &[HeldSlot],
        now_ms: u64,
    ) -> Result<(), CalendarError> {
        let key = key(tenant, call_id)?;
        let result = if slots.is_empty() {
            self.store.delete(&key).await
        } else {
            let last = slots.iter().map(|s| s.until_ms).max().unwrap_or(now_ms);
            let ttl =
                Duration::from_millis(last.saturating_sub(now_ms)).saturating_add(EXPIRY_GRACE);
            let bytes = serde_json::to_vec(slots)
                .map_err(|_| CalendarError::Unavailable("hold record not encodable".into()))?;
            self.store.set(&key, &bytes, ttl).await
        };
        result.map_err(|e| {
            tracing::warn!(tenant = %tenant.id, error = %e, "hold record not written");
            CalendarError::Unavailable("hold record not written".into())
        })
    }
}
