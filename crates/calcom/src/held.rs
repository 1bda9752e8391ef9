//! The "held" overlay: slots calls of one tenant hold, kept in the store for as long as the
//! holds last. Another call is never offered an interval overlapping one of them (like the taken
//! overlay, across all of the tenant's services); the holding call is offered its own held slots
//! even though Cal.com's slot list hides reserved slots from everyone.
//!
//! One record per tenant (its few live holds), written read-modify-write and serialised inside
//! the process; two replicas writing one tenant's record at the same instant can lose a hold.
//! The loss only costs an offer that Cal.com then refuses (its reservation still stands), which
//! the caller hears as "taken" with alternatives.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_store::Store;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::key::TenantGroup;

/// One held slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub call_id: String,
    pub event_type: u64,
    pub start_ms: i64,
    pub end_ms: i64,
    pub until_ms: u64,
}

impl Held {
    fn overlaps(&self, start: Timestamp, length: SignedDuration) -> bool {
        let s = start.as_millisecond();
        let e = s.saturating_add(i64::try_from(length.as_millis()).unwrap_or(i64::MAX));
        s < self.end_ms && e > self.start_ms
    }
}

/// The live holds of one tenant, as read.
#[derive(Debug, Clone, Default)]
pub struct HeldSlots(Vec<Held>);

impl HeldSlots {
    /// Whether a slot overlaps a hold of a call other than `for_call`.
    pub fn masks_for(
        &self,
        for_call: Option<&str>,
        start: Timestamp,
        length: SignedDuration,
    ) -> bool {
        self.0
            .iter()
            .any(|h| Some(h.call_id.as_str()) != for_call && h.overlaps(start, length))
    }

    /// The starts `call_id` holds for `event_type` and this length.
    pub fn own(&self, call_id: &str, event_type: u64, length: SignedDuration) -> Vec<Timestamp> {
        let length_ms = i64::try_from(length.as_millis()).unwrap_or(i64::MAX);
        self.0
            .iter()
            .filter(|h| {
                h.call_id == call_id
                    && h.event_type == event_type
                    && h.end_ms.saturating_sub(h.start_ms) == length_ms
            })
            .filter_map(|h| Timestamp::from_millisecond(h.start_ms).ok())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Held> {
        self.0.iter()
    }
}

/// The held overlay of one store.
pub struct HeldOverlay {
    store: Arc<dyn Store>,
    writes: tokio::sync::Mutex<()>,
}

impl HeldOverlay {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The tenant's live holds; a store failure reads as none (Cal.com still refuses a booking
    /// of a reserved slot).
    pub async fn read(&self, tenant: &TenantGroup, now_ms: u64) -> HeldSlots {
        match self.store.get(&tenant.held_key()).await {
            Ok(Some(bytes)) => HeldSlots(
                decode(&bytes)
                    .into_iter()
                    .filter(|h| h.until_ms > now_ms)
                    .collect(),
            ),
            Ok(None) => HeldSlots::default(),
            Err(e) => {
                tracing::warn!(error = %e, "held slots unreadable");
                HeldSlots::default()
            }
        }
    }

    /// Replaces `call_id`'s holds with `holds` (empty: removes them); returns the call's
    /// holds before.
    pub async fn replace(
        &self,
        tenant: &TenantGroup,
        call_id: &str,
        holds: Vec<Held>,
        now_ms: u64,
    ) -> Vec<Held> {
        let _serial = self.writes.lock().await;
        let key = tenant.held_key();
        let list = match self.store.get(&key).await {
            Ok(Some(bytes)) => decode(&bytes),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "held slots unreadable; rewriting them");
                Vec::new()
            }
        };
        let (previous, mut list): (Vec<Held>, Vec<Held>) =
            list.into_iter().partition(|h| h.call_id == call_id);
        list.retain(|h| h.until_ms > now_ms);
        list.extend(holds.into_iter().filter(|h| h.until_ms > now_ms));
        let result = match list.iter().map(|h| h.until_ms).max() {
            None => self.store.delete(&key).await,
            Some(last) => match serde_json::to_vec(&list) {
                Ok(bytes) => {
                    let ttl = Duration::from_millis(last.saturating_sub(now_ms));
                    self.store.set(&key, &bytes, ttl).await
                }
                Err(_) => Ok(()),
            },
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "held slots not written");
        }
        previous
    }
}

fn decode(bytes: &[u8]) -> Vec<Held> {
    serde_json::from_slice(bytes).unwrap_or_default()
}
