//! The `store:` section of the configuration, and turning it into a running store.

use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::Store;
use crate::fallback::{DEFAULT_PROBE_INTERVAL, FallbackStore, LimitFallback};
use crate::health::StoreHealth;
use crate::memory::MemoryStore;
use crate::redact::redact_url;
use crate::redis::{InvalidRedisUrl, RedisSettings, RedisStore};
use frontdesk_clock::Clock;

/// `store:` in the configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub backend: Backend,
    pub redis: RedisConfig,
    pub fallback: FallbackConfig,
    pub memory: MemoryConfig,
}

/// Where shared state lives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Embedded, per replica.
    #[default]
    Memory,
    /// Shared by every replica, with a local fallback.
    Redis,
}

/// `store.redis`. Exactly one of `url` and `url_env` is needed when the backend is `redis`.
#[derive(Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// The Redis URL. Prefer `url_env` when it carries a password.
    pub url: Option<String>,
    /// Name of the environment variable holding the Redis URL.
    pub url_env: Option<String>,
    /// Prepended to every key.
    pub prefix: String,
    /// Upper bound on each operation; past it the fallback answers.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub timeout: Duration,
    /// Upper bound on each connection attempt.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub connect_timeout: Duration,
    /// Least time between two recovery probes while degraded.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub probe_interval: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            url_env: None,
            prefix: "frontdesk:".to_owned(),
            timeout: Duration::from_millis(50),
            connect_timeout: Duration::from_secs(1),
            probe_interval: DEFAULT_PROBE_INTERVAL,
        }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("url_env", &self.url_env)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("probe_interval", &self.probe_interval)
            .finish()
    }
}

/// `store.fallback`: what answers while Redis is unavailable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackConfig {
    pub limits: LimitFallback,
}

/// `store.memory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// Most values (and, separately, most limiter keys) held; `null` for no cap beyond expiry.
    pub max_entries: Option<usize>,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            max_entries: Some(1_000_000),
        }
    }
}

/// Why the configured store could not be built. Never quotes the Redis URL.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("store.redis needs `url` or `url_env`")]
    MissingUrl,
    #[error("store.redis: set `url` or `url_env`, not both")]
    BothUrls,
    #[error("environment variable {name} named by store.redis.url_env is not set")]
    UrlEnvUnset { name: String },
    #[error(transparent)]
    InvalidUrl(#[from] InvalidRedisUrl),
}

impl RedisConfig {
    /// The URL from `url` or the `url_env` variable.
    pub fn resolve_url(&self) -> Result<String, BuildError> {
        match (&self.url, &self.url_env) {
            (Some(url), None) => Ok(url.clone()),
            (None, Some(name)) => {
                std::env::var(name).map_err(|_| BuildError::UrlEnvUnset { name: name.clone() })
            }
            (None, None) => Err(BuildError::MissingUrl),
            (Some(_), Some(_)) => Err(BuildError::BothUrls),
        }
    }
}

/// The running store and its health, as built from [`StoreConfig`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StoreHandle {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Memory(Arc<MemoryStore>),
    Redis(Arc<FallbackStore>),
}

impl StoreHandle {
    /// The store every shared-state user should go through.
    pub fn store(&self) -> Arc<dyn Store> {
        match &self.kind {
            Kind::Memory(memory) => memory.clone(),
            Kind::Redis(fallback) => fallback.clone(),
        }
    }

    /// The per-replica store (for limits with `scope: local`); with Redis it is also the fallback.
    pub fn local(&self) -> Arc<MemoryStore> {
        match &self.kind {
            Kind::Memory(memory) => memory.clone(),
            Kind::Redis(fallback) => fallback.local().clone(),
        }
    }

    /// The last known health, without network I/O.
    pub fn health(&self) -> StoreHealth {
        match &self.kind {
            Kind::Memory(_) => StoreHealth::memory(),
            Kind::Redis(fallback) => fallback.health(),
        }
    }

    /// Pings the backend (bounded by its timeout) and returns fresh health.
    pub async fn check_health(&self) -> StoreHealth {
        match &self.kind {
            Kind::Memory(_) => StoreHealth::memory(),
            Kind::Redis(fallback) => fallback.check_health().await,
        }
    }
}

/// Builds the configured store. Never waits for Redis: with Redis down it returns at once and the
/// store starts answering from its fallback. Must run inside a Tokio runtime.
pub async fn build(cfg: &StoreConfig, clock: Arc<dyn Clock>) -> Result<StoreHandle, BuildError> {
    let local = Arc::new(MemoryStore::with_max_entries(clock, cfg.memory.max_entries));
    let kind = match cfg.backend {
        Backend::Memory => {
            crate::metrics::init("memory");
            Kind::Memory(local)
        }
        Backend::Redis => {
            crate::metrics::init("redis");
            let redis = RedisStore::new(&RedisSettings {
                url: cfg.redis.resolve_url()?,
                prefix: cfg.redis.prefix.clone(),
                timeout: cfg.redis.timeout,
                connect_timeout: cfg.redis.connect_timeout,
            })?;
            tracing::info!(redis = redis.target(), prefix = %cfg.redis.prefix, "store: redis");
            let fallback = FallbackStore::new(Arc::new(redis), local, cfg.fallback.limits)
                .with_probe_interval(cfg.redis.probe_interval);
            let fallback = Arc::new(fallback);
            // Learn reachability (and start the connection) right away rather than on the first
            // request; a Redis that is down marks the store degraded before traffic arrives.
            let first_probe = fallback.clone();
            tokio::spawn(async move { first_probe.check_health().await });
            Kind::Redis(fallback)
        }
    };
    Ok(StoreHandle { kind })
}
