//! The store's part of `/health/detailed`.

use std::time::Duration;

use serde::Serialize;

/// A point-in-time view of the store, safe to serve: it holds no URL, key or value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreHealth {
    /// The configured backend (`memory`, `redis`).
    pub backend: &'static str,
    /// The last contact with the backend succeeded.
    pub reachable: bool,
    /// Operations are being answered by the local fallback instead of the backend.
    pub degraded: bool,
    /// The most recent failure, as a fixed description (`store timed out after 50ms`, ...).
    pub last_error: Option<String>,
    /// Round-trip time of the most recent successful ping, in milliseconds.
    pub last_ping_ms: Option<f64>,
}

impl StoreHealth {
    /// The embedded store: always there, never degraded.
    pub fn memory() -> Self {
        Self {
            backend: "memory",
            reachable: true,
            degraded: false,
            last_error: None,
            last_ping_ms: Some(0.0),
        }
    }

    pub(crate) fn ping_ms(latency: Duration) -> f64 {
        latency.as_secs_f64() * 1_000.0
    }
}
