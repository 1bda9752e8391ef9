//! `calendar_store` in `frontdesk.yaml`: which database holds the embedded calendar.

use std::path::PathBuf;
use std::time::Duration;

use frontdesk_resilience::BreakerConfig;
use frontdesk_secrets::SecretRef;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CalendarBackend {
    /// A file in `data_dir`: one host (several processes on it may share the file).
    #[default]
    Sqlite,
    /// A PostgreSQL database: any number of replicas.
    Postgres,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CalendarStoreConfig {
    pub backend: CalendarBackend,
    /// PostgreSQL: where the connection URL comes from (`postgres://user:password@host/db`;
    /// a secret, so from the environment or a file, never written in this file).
    pub url: SecretRef,
    /// PostgreSQL: connect over TLS (required, certificate verified; never falls back to
    /// plain TCP), against the system's roots or `ca_file`.
    pub tls: bool,
    /// PostgreSQL with `tls`: PEM certificates to verify the server against instead of the
    /// system's roots (a private CA, a self-signed server).
    pub ca_file: Option<PathBuf>,
    /// PostgreSQL: connections at most in this process's pool.
    pub pool: usize,
    /// PostgreSQL: the longest a connection attempt may take.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub connect_timeout: Duration,
    /// PostgreSQL: the longest one calendar operation (pool wait, queries, commit) may take;
    /// also set as the server's `statement_timeout`. Keep it below the callers' deadline.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub operation_timeout: Duration,
    /// Opens after consecutive database failures; callers then hear "try again" at once.
    pub breaker: BreakerConfig,
}

impl Default for CalendarStoreConfig {
    fn default() -> Self {
        Self {
            backend: CalendarBackend::Sqlite,
            url: SecretRef::env("FRONTDESK_DATABASE_URL", false),
            tls: false,
            ca_file: None,
            pool: 16,
            connect_timeout: Duration::from_secs(3),
            // Retell waits a few seconds for a function; the caller must hear "try again" in it.
            operation_timeout: Duration::from_secs(2),
            breaker: BreakerConfig {
                // A database comes back quickly (failover, restart): probe soon.
                open_time: Duration::from_secs(5),
                max_open_time: Duration::from_secs(30),
                ..BreakerConfig::default()
            },
        }
    }
}

impl CalendarStoreConfig {
    /// Problems as `(field, reason)`.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if self.backend == CalendarBackend::Postgres {
            if self.url.env.is_none() && self.url.file.is_none() {
                return Err(("url", "needs `env` or `file`"));
            }
            if self.pool == 0 {
                return Err(("pool", "must be at least 1"));
            }
            if self.operation_timeout.is_zero() || self.connect_timeout.is_zero() {
                return Err(("operation_timeout", "timeouts must be greater than zero"));
            }
        }
        Ok(())
    }
}
