//! Shared state for frontdesk.
//!
//! Everything that must agree across replicas — rate-limit state, breaker state, slot cache,
//! idempotency and dedupe records — goes through the [`Store`] trait. Two backends implement it:
//! an embedded memory store (the default) and Redis (shared by every replica). Time is injected
//! through [`frontdesk_clock::Clock`] so limiters and expiries are tested without sleeping.
//!
//! Start from [`build`]: it turns a [`StoreConfig`] into a [`StoreHandle`], which hands out the
//! `Arc<dyn Store>` and the store's health. With Redis configured, the store is a
//! [`FallbackStore`] over a [`RedisStore`] and a [`MemoryStore`]; see `docs/store.md` for what is
//! exact across replicas and what is per replica.

use std::time::Duration;

use async_trait::async_trait;

pub mod config;
pub mod fallback;
pub mod gcra;
pub mod health;
pub mod memory;
pub mod metrics;
pub mod redact;
pub mod redis;
mod sharded;

pub use config::{
    Backend, BuildError, FallbackConfig, MemoryConfig, RedisConfig, StoreConfig, StoreHandle, build,
};
pub use fallback::{FallbackStore, LimitFallback};
pub use gcra::LocalLimiter;
pub use health::StoreHealth;
pub use memory::MemoryStore;
pub use redact::redact_url;
pub use redis::{RedisSettings, RedisStore};

/// A GCRA rate: `count` requests per `period`, with bursts of up to `burst` requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
    pub burst: u32,
}

/// The outcome of one rate-limit check, with what the `RateLimit-*` headers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// The burst size (the most requests that can pass at once).
    pub limit: u32,
    /// Requests that could still pass right now.
    pub remaining: u32,
    /// When a denied request may be retried (zero when allowed).
    pub retry_after: Duration,
    /// When the bucket is full again.
    pub reset_after: Duration,
}

/// One check of [`Store::gcra_all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcraCheck<'a> {
    pub key: &'a str,
    pub rate: Rate,
    /// Requests to charge; 0 peeks (allowed exactly when one more request would be, nothing
    /// recorded).
    pub cost: u32,
    /// Whether a denial of this check ends the sequence (an enforced limit; a shadow limit's
    /// denial does not).
    pub stops: bool,
}

impl GcraCheck<'_> {
    /// Whether `decision` (this check's) ends a [`Store::gcra_all`] sequence.
    pub fn ends_sequence(&self, decision: &Decision) -> bool {
        self.stops && !decision.allowed
    }
}

/// [`Store::gcra_all`] as a sequence of [`Store::gcra`] calls.
pub async fn gcra_in_turn<S: Store + ?Sized>(
    store: &S,
    checks: &[GcraCheck<'_>],
) -> Result<Vec<Decision>, StoreError> {
    let mut decisions = Vec::with_capacity(checks.len());
    for check in checks {
        let decision = store.gcra(check.key, check.rate, check.cost).await?;
        decisions.push(decision);
        if check.ends_sequence(&decision) {
            break;
        }
    }
    Ok(decisions)
}

/// Why a store operation failed. Callers never turn this into a failed request: they fall back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store timed out after {0:?}")]
    Timeout(Duration),
}

/// Shared key-value state. Keys are plain strings; backends add their own prefix.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Backend name for metrics and health (`memory`, `redis`).
    fn backend(&self) -> &'static str;

    /// Atomically checks and, when allowed, records `cost` requests against `key` (GCRA); a
    /// cost of 0 peeks (see [`GcraCheck::cost`]).
    async fn gcra(&self, key: &str, rate: Rate, cost: u32) -> Result<Decision, StoreError>;

    /// Checks in order, each charged when it allows, until the first denial of a check that
    /// [stops](GcraCheck::stops) the sequence: the same decisions as calling [`Store::gcra`] on
    /// each in turn, in one round trip where the backend can. Returns one decision per check
    /// made (a stopping denial is the last one).
    async fn gcra_all(&self, checks: &[GcraCheck<'_>]) -> Result<Vec<Decision>, StoreError> {
        gcra_in_turn(self, checks).await
    }

    /// Stores `value` under `key` only if the key is absent; `true` when this call stored it.
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError>;

    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// The current generation of a group of keys. Callers put it into the keys they build, so
    /// [`Store::bump_generation`] invalidates the whole group at once without KEYS/SCAN.
    async fn generation(&self, group: &str) -> Result<u64, StoreError>;

    /// Invalidates every key built with the group's current generation; returns the new one.
    async fn bump_generation(&self, group: &str) -> Result<u64, StoreError>;

    /// A round trip to the backend, for health checks.
    async fn ping(&self) -> Result<Duration, StoreError>;
}
