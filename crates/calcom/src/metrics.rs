//! This crate's metrics in the process-wide Prometheus registry.
//!
//! - `frontdesk_slot_cache_requests_total{result}`: `hit`, `miss`, `stale` — one per cached day
//!   read. All three series exist (at zero) as soon as a cache is built, so a hit-ratio query
//!   never divides by a missing series.
//! - `frontdesk_calendar_errors_total{provider,kind}`: every failed calendar exchange by what it
//!   meant (`unauthorized` is the one ops alert on: a tenant's API key stopped working).
//!
//! Every label comes from a fixed set. A metric that cannot register is logged and skipped:
//! observability must never take booking down.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts};

/// The results of one cached day read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheResult {
    Hit,
    Miss,
    Stale,
}

impl CacheResult {
    pub const ALL: [CacheResult; 3] = [CacheResult::Hit, CacheResult::Miss, CacheResult::Stale];

    pub fn label(self) -> &'static str {
        match self {
            CacheResult::Hit => "hit",
            CacheResult::Miss => "miss",
            CacheResult::Stale => "stale",
        }
    }
}

fn register(name: &str, help: &str, labels: &[&str]) -> Option<IntCounterVec> {
    let counter = IntCounterVec::new(Opts::new(name, help), labels).ok()?;
    match prometheus::default_registry().register(Box::new(counter.clone())) {
        Ok(()) => Some(counter),
        Err(e) => {
            tracing::warn!(metric = name, error = %e, "metric not registered");
            None
        }
    }
}

static SLOT_CACHE_REQUESTS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    register(
        "frontdesk_slot_cache_requests_total",
        "Slot cache reads per tenant-day, by result (hit, miss, stale)",
        &["result"],
    )
});

static CALENDAR_ERRORS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    register(
        "frontdesk_calendar_errors_total",
        "Failed calendar exchanges by provider and kind (unauthorized means a tenant's API key is refused)",
        &["provider", "kind"],
    )
});

/// Creates every `result` series at zero.
pub fn init_cache_metrics() {
    if let Some(counter) = SLOT_CACHE_REQUESTS.as_ref() {
        for result in CacheResult::ALL {
            counter.with_label_values(&[result.label()]);
        }
    }
}

pub fn cache_request(result: CacheResult) {
    if let Some(counter) = SLOT_CACHE_REQUESTS.as_ref() {
        counter.with_label_values(&[result.label()]).inc();
    }
}

/// The current value of one cache series (tests and benches).
pub fn cache_requests(result: CacheResult) -> u64 {
    SLOT_CACHE_REQUESTS
        .as_ref()
        .map_or(0, |c| c.with_label_values(&[result.label()]).get())
}

/// Counts one failed exchange; `kind` is one of [`crate::errors::ErrorKind`]'s labels.
pub fn calendar_error(provider: &'static str, kind: &'static str) {
    if let Some(counter) = CALENDAR_ERRORS.as_ref() {
        counter.with_label_values(&[provider, kind]).inc();
    }
}

/// The current value of one error series (tests).
pub fn calendar_errors(provider: &'static str, kind: &'static str) -> u64 {
    CALENDAR_ERRORS
        .as_ref()
        .map_or(0, |c| c.with_label_values(&[provider, kind]).get())
}
