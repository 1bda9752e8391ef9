//! frontdesk's Cal.com calendar: an API v2 client behind the booking engine's
//! [`CalendarProvider`](frontdesk_booking::CalendarProvider) trait, and a tenant-isolated slot
//! cache in front of it.
//!
//! Start from [`build`]: it turns the `calcom:` configuration into a [`CachedProvider`] over a
//! [`CalcomProvider`]. Register it with
//! `Engine::with_provider(ProviderKind::Calcom, handle.clone())` and hand Cal.com webhooks to
//! [`CachedProvider::invalidate_from_webhook`].
//!
//! Module map:
//! - [`config`] — the YAML model and its validation;
//! - [`client`] — the HTTP client: API key, rate-limit window, breaker, v2 calls, slot holds
//!   as Cal.com reservations;
//! - [`budget`] — the outbound token bucket per API key; [`holds`] — each call's reservations
//!   in the store;
//! - [`errors`] — the one table from Cal.com answers to `CalendarError`;
//! - [`wire`] — Cal.com's v2 JSON shapes; [`event_type`] — service → event type;
//! - [`key`] — the only way to build a cache key; [`cache`] — the caching decorator;
//! - [`singleflight`], [`overlay`], [`held`], [`webhook`] — the cache's parts;
//! - [`metrics`]. The fake Cal.com server of the tests is the dev-only `frontdesk-calcom-fake`.
//!
//! `docs/calcom.md` describes behaviour and configuration for operators.

#![forbid(unsafe_code)]

use std::sync::Arc;

use frontdesk_clock::Clock;
use frontdesk_resilience::BreakerRegistry;
use frontdesk_store::Store;

pub mod budget;
pub mod cache;
pub mod client;
pub mod config;
pub mod errors;
pub mod event_type;
pub mod held;
pub mod holds;
pub mod key;
pub mod metrics;
pub mod overlay;
pub mod singleflight;
pub mod webhook;
pub mod wire;

pub use cache::CachedProvider;
pub use client::{ApiKeys, CalcomProvider, ClientError, EnvApiKeys, StaticApiKeys};
pub use config::{BREAKER_TARGET, BudgetConfig, CacheConfig, CalcomConfig, CalcomConfigError};
pub use key::{DayGroup, KeyError, SlotKey, TenantGroup};

/// Why [`build`] failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] CalcomConfigError),
    #[error(
        "no circuit breaker `calcom` in the registry: configure it with CalcomConfig::effective_breaker()"
    )]
    MissingBreaker,
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The Cal.com provider with its slot cache. The registry must already hold the breaker
/// [`BREAKER_TARGET`] (configured from [`CalcomConfig::effective_breaker`]), so the admin API
/// and `/health/detailed` see the same breaker the client uses.
pub fn build(
    cfg: &CalcomConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    breakers: &BreakerRegistry,
) -> Result<Arc<CachedProvider>, BuildError> {
    build_with_keys(cfg, store, clock, breakers, Arc::new(EnvApiKeys))
}

/// [`build`] with API keys from `keys` instead of the environment.
pub fn build_with_keys(
    cfg: &CalcomConfig,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    breakers: &BreakerRegistry,
    keys: Arc<dyn ApiKeys>,
) -> Result<Arc<CachedProvider>, BuildError> {
    cfg.validate()?;
    let breaker = breakers
        .get(BREAKER_TARGET)
        .ok_or(BuildError::MissingBreaker)?;
    let client = CalcomProvider::new(cfg, breaker, Arc::clone(&clock))?
        .with_api_keys(keys)
        .with_store(Arc::clone(&store));
    Ok(Arc::new(CachedProvider::new(
        Arc::new(client),
        store,
        clock,
        &cfg.cache,
    )))
}
