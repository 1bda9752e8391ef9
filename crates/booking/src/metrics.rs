//! Booking metrics in the process-wide Prometheus registry.
//!
//! `frontdesk_bookings_total{outcome}` counts what book/cancel/reschedule calls ended in. The
//! outcome label comes from a fixed set, so its cardinality is bounded.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts};

static BOOKINGS_TOTAL: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    let opts = Opts::new(
        "frontdesk_bookings_total",
        "Booking function outcomes (created, cancelled, rescheduled, slot_unavailable, ...)",
    );
    let counter = IntCounterVec::new(opts, &["outcome"]).ok()?;
    match prometheus::default_registry().register(Box::new(counter.clone())) {
        Ok(()) => Some(counter),
        Err(e) => {
            // A metric that cannot register must not take booking down with it.
            tracing::warn!(error = %e, "frontdesk_bookings_total not registered");
            None
        }
    }
});

/// Every outcome the engine counts, created at zero so dashboards see the series from the start.
pub const OUTCOMES: &[&str] = &[
    "created",
    "cancelled",
    "rescheduled",
    "slot_unavailable",
    "outside_hours",
    "invalid_input",
    "not_found",
    "ambiguous",
];

pub fn init() {
    if let Some(counter) = BOOKINGS_TOTAL.as_ref() {
        for outcome in OUTCOMES {
            counter.with_label_values(&[outcome]);
        }
    }
}

/// Counts one booking-function outcome; `outcome` must be one of a fixed set of literals.
pub fn booking_outcome(outcome: &'static str) {
    if let Some(counter) = BOOKINGS_TOTAL.as_ref() {
        counter.with_label_values(&[outcome]).inc();
    }
}
