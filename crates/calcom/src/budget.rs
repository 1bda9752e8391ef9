//! The outbound budget per tenant API key: a token bucket in the store (one per key variable, so
//! every replica draws from the same bucket) and the windows Cal.com itself announces.
//!
//! Two priorities share a key's bucket. Bookings (create, cancel, reschedule, get and list for
//! them, slot reservations) may take every token; slot fetches, which only fill or refresh the
//! cache, stop while `reserved_for_bookings` or fewer are left, so a practice's busy checks never
//! starve its bookings. Cal.com's `X-RateLimit-Remaining-Default` / `X-RateLimit-Reset-Default`
//! close the key in-process: all requests after a 429 or at 0 remaining, slot fetches once the
//! remaining count falls to the reserve. While a key is closed, checks are answered from the
//! cache (fresh or stale) and nothing known taken is offered.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use frontdesk_store::{Rate, Store};
use parking_lot::Mutex;

use crate::config::BudgetConfig;

/// Which requests a key's remaining budget is spent on first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// A caller is booking, moving or cancelling (or holding a slot for that).
    Booking,
    /// Availability for the cache: waits when the budget runs low.
    Refresh,
}

/// When a key's windows close, in clock milliseconds.
#[derive(Debug, Default, Clone, Copy)]
struct Closed {
    all_until_ms: u64,
    refresh_until_ms: u64,
}

pub(crate) struct Budget {
    store: Arc<dyn Store>,
    rate: Rate,
    reserved: u32,
    /// Bounded by the number of configured key variables.
    closed: Mutex<HashMap<String, Closed>>,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("rate", &self.rate)
            .field("reserved", &self.reserved)
            .finish_non_exhaustive()
    }
}

impl Budget {
    pub(crate) fn new(store: Arc<dyn Store>, cfg: &BudgetConfig) -> Self {
        Self {
            store,
            rate: Rate {
                count: cfg.requests_per_minute,
                period: Duration::from_secs(60),
                burst: cfg.burst,
            },
            reserved: cfg.reserved_for_bookings,
            closed: Mutex::new(HashMap::new()),
        }
    }

    /// Uses the store from now on (the shared one, so replicas share each key's bucket).
    pub(crate) fn with_store(self, store: Arc<dyn Store>) -> Self {
        Self { store, ..self }
    }

    fn bucket_key(key_env: &str) -> String {
        format!("calcom:budget:{key_env}")
    }

    /// Time left in a window Cal.com announced for this key and priority, if one is open.
    pub(crate) fn closed_for(
        &self,
        key_env: &str,
        priority: Priority,
        now_ms: u64,
    ) -> Option<Duration> {
        let closed = *self.closed.lock().get(key_env)?;
        let until = match priority {
            Priority::Booking => closed.all_until_ms,
            Priority::Refresh => closed.all_until_ms.max(closed.refresh_until_ms),
        };
        (until > now_ms).then(|| Duration::from_millis(until - now_ms))
    }

    /// Closes the key for every request until `until_ms` (a 429, or nothing left).
    pub(crate) fn close_all(&self, key_env: &str, until_ms: u64) {
        let mut map = self.closed.lock();
        let entry = map.entry(key_env.to_owned()).or_default();
        entry.all_until_ms = entry.all_until_ms.max(until_ms);
    }

    /// Reads Cal.com's rate-limit headers of one answer.
    pub(crate) fn observe(
        &self,
        key_env: &str,
        remaining: Option<u32>,
        reset: Option<Duration>,
        now_ms: u64,
    ) {
        let (Some(remaining), Some(reset)) = (remaining, reset) else {
            return;
        };
        let until = now_ms.saturating_add(u64::try_from(reset.as_millis()).unwrap_or(u64::MAX));
        if remaining == 0 {
            self.close_all(key_env, until);
        } else if remaining <= self.reserved {
            let mut map = self.closed.lock();
            let entry = map.entry(key_env.to_owned()).or_default();
            entry.refresh_until_ms = entry.refresh_until_ms.max(until);
        }
    }

    /// Takes one token for a request of `priority`, or says how long to wait. A store that
    /// cannot answer lets the request through: Cal.com's own limit still applies.
    pub(crate) async fn take(&self, key_env: &str, priority: Priority) -> Result<(), Duration> {
        let key = Self::bucket_key(key_env);
        if priority == Priority::Refresh {
            match self.store.gcra(&key, self.rate, 0).await {
                Ok(peek) if !peek.allowed => return Err(peek.retry_after),
                Ok(peek) if peek.remaining <= self.reserved => {
                    let interval = self.rate.period / self.rate.count.max(1);
                    return Err(interval * (self.reserved + 1 - peek.remaining));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "Cal.com budget unreadable; request not limited");
                    return Ok(());
                }
            }
        }
        match self.store.gcra(&key, self.rate, 1).await {
            Ok(decision) if decision.allowed => Ok(()),
            Ok(decision) => Err(decision.retry_after),
            Err(e) => {
                tracing::warn!(error = %e, "Cal.com budget unreadable; request not limited");
                Ok(())
            }
        }
    }
}
