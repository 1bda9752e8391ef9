//! The store's Prometheus metrics, in the default registry.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, register_int_counter_vec};

/// `frontdesk_store_errors_total{backend}`: primary-store operations (and health probes) that
/// failed or timed out. `backend` is the failing backend's name, a fixed small set.
pub(crate) static STORE_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "frontdesk_store_errors_total",
        "Store operations that failed or timed out and were answered by the fallback instead",
        &["backend"]
    )
    // Runs once per process with a constant, valid definition: failure is a programming error.
    .expect("frontdesk_store_errors_total is defined once")
});

/// Creates the series of `backend` at zero, so alerts on it work before the first error.
pub(crate) fn init(backend: &str) {
    STORE_ERRORS.with_label_values(&[backend]);
}

/// Current value of `frontdesk_store_errors_total{backend}`.
pub fn store_errors(backend: &str) -> u64 {
    STORE_ERRORS.with_label_values(&[backend]).get()
}
