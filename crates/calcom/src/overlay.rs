//! The "just taken" overlay: intervals we know are booked, per tenant-day, kept for a short
//! while in the store. A slot overlapping one is never offered, even when Cal.com's slot list
//! still shows it free (its availability can lag a booking by seconds).
//!
//! The overlay is per tenant-day, not per event type: one practice's event types usually share
//! its people and rooms, so a booking of one hides the other's overlapping slots until Cal.com
//! confirms. Over-masking for a few minutes costs an offer; under-masking would offer a taken
//! slot.
//!
//! Writes are read-modify-write, serialised inside the process; two replicas writing the same
//! tenant-day at the same instant can lose one interval. The day's generation is bumped on
//! every write as well, so the loss only matters if Cal.com also lags.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_store::Store;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::key::DayGroup;

/// One booked interval and when it stops masking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Taken {
    start_ms: i64,
    end_ms: i64,
    expires_ms: u64,
}

/// The overlay of one store.
pub struct Overlay {
    store: Arc<dyn Store>,
    ttl: Duration,
    writes: tokio::sync::Mutex<()>,
}

/// The live intervals of one tenant-day.
#[derive(Debug, Clone, Default)]
pub struct TakenIntervals(Vec<(i64, i64)>);

impl TakenIntervals {
    /// Whether an appointment of `length` starting at `start` overlaps a taken interval.
    pub fn masks(&self, start: Timestamp, length: jiff::SignedDuration) -> bool {
        let s = start.as_millisecond();
        let e = s.saturating_add(i64::try_from(length.as_millis()).unwrap_or(i64::MAX));
        self.0.iter().any(|&(ts, te)| s < te && e > ts)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Overlay {
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Live intervals of the day; a store failure reads as "none" (the day was refetched
    /// anyway, the overlay only covers Cal.com's lag).
    pub async fn read(&self, day: &DayGroup, now_ms: u64) -> TakenIntervals {
        match self.store.get(&day.overlay_key()).await {
            Ok(Some(bytes)) => TakenIntervals(
                decode(&bytes)
                    .into_iter()
                    .filter(|t| t.expires_ms > now_ms)
                    .map(|t| (t.start_ms, t.end_ms))
                    .collect(),
            ),
            Ok(None) => TakenIntervals::default(),
            Err(e) => {
                tracing::warn!(error = %e, "slot overlay unreadable");
                TakenIntervals::default()
            }
        }
    }

    /// Marks `start..end` taken on `day`.
    pub async fn add(&self, day: &DayGroup, start: Timestamp, end: Timestamp, now_ms: u64) {
        let expires_ms = now_ms.saturating_add(u64::try_from(self.ttl.as_millis()).unwrap_or(0));
        let taken = Taken {
            start_ms: start.as_millisecond(),
            end_ms: end.as_millisecond(),
            expires_ms,
        };
        self.update(day, now_ms, |list| {
            if !list.contains(&taken) {
                list.push(taken);
            }
        })
        .await;
    }

    /// Unmarks exactly `start..end` (a cancelled or moved booking of ours).
    pub async fn remove(&self, day: &DayGroup, start: Timestamp, end: Timestamp, now_ms: u64) {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        self.update(day, now_ms, |list| {
            list.retain(|t| !(t.start_ms == s && t.end_ms == e))
        })
        .await;
    }

    async fn update(&self, day: &DayGroup, now_ms: u64, change: impl FnOnce(&mut Vec<Taken>)) {
        let _serial = self.writes.lock().await;
        let key = day.overlay_key();
        let mut list = match self.store.get(&key).await {
            Ok(Some(bytes)) => decode(&bytes),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "slot overlay unreadable; rewriting it");
                Vec::new()
            }
        };
        list.retain(|t| t.expires_ms > now_ms);
        change(&mut list);
        let result = if list.is_empty() {
            self.store.delete(&key).await
        } else {
            match serde_json::to_vec(&list) {
                Ok(bytes) => self.store.set(&key, &bytes, self.ttl).await,
                Err(_) => Ok(()),
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "slot overlay not written");
        }
    }
}

fn decode(bytes: &[u8]) -> Vec<Taken> {
    serde_json::from_slice(bytes).unwrap_or_default()
}
