//! The breaker metrics, registered once in the process-wide Prometheus registry.
//!
//! Label values are breaker target names, which come from configuration, so their number is
//! bounded by the config. Registration failure (a name already taken) must not take the proxy
//! down: the metric is then kept unregistered, so the code paths stay the same, and a warning says
//! why it is missing from `/metrics`.

use std::sync::LazyLock;

use prometheus::core::Collector;
use prometheus::{IntCounterVec, IntGaugeVec, Opts};

use crate::state::BreakerState;

static BREAKER_STATE: LazyLock<Option<IntGaugeVec>> = LazyLock::new(|| {
    register(IntGaugeVec::new(
        Opts::new(
            "frontdesk_breaker_state",
            "Circuit breaker state per upstream target: 0 closed, 1 half-open, 2 open (forced-open reports 2).",
        ),
        &["target"],
    ))
});

static BREAKER_TRANSITIONS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    register(IntCounterVec::new(
        Opts::new(
            "frontdesk_breaker_transitions_total",
            "Circuit breaker state transitions per upstream target and state entered.",
        ),
        &["target", "to"],
    ))
});

fn register<M: Collector + Clone + 'static>(metric: prometheus::Result<M>) -> Option<M> {
    match metric {
        Ok(metric) => {
            if let Err(error) = prometheus::default_registry().register(Box::new(metric.clone())) {
                tracing::warn!(%error, "breaker metric not registered");
            }
            Some(metric)
        }
        Err(error) => {
            tracing::warn!(%error, "breaker metric could not be created");
            None
        }
    }
}

/// Sets the state gauge of `target`, and creates its transition series at zero so alerts on
/// them work before the first transition.
pub(crate) fn set_state(target: &str, state: BreakerState) {
    if let Some(gauge) = BREAKER_STATE.as_ref() {
        gauge.with_label_values(&[target]).set(state.metric_value());
    }
    if let Some(counter) = BREAKER_TRANSITIONS.as_ref() {
        for to in [
            BreakerState::Closed,
            BreakerState::Open,
            BreakerState::HalfOpen,
        ] {
            counter.with_label_values(&[target, to.label()]);
        }
    }
}

/// Counts a transition of `target` into `to` and updates its gauge.
pub(crate) fn transition(target: &str, to: BreakerState) {
    if let Some(counter) = BREAKER_TRANSITIONS.as_ref() {
        counter.with_label_values(&[target, to.label()]).inc();
    }
    set_state(target, to);
}

/// Drops the series of a target that left the configuration.
pub(crate) fn forget(target: &str) {
    if let Some(gauge) = BREAKER_STATE.as_ref() {
        // An error only means the series never existed: nothing to remove.
        let _ = gauge.remove_label_values(&[target]);
    }
}
