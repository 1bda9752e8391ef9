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

static HOLDS_TOTAL: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    let opts = Opts::new(
        "frontdesk_booking_holds_total",
        "Slots held for a call, by calendar and what became of the hold (created, consumed, expired, released)",
    );
    let counter = IntCounterVec::new(opts, &["calendar", "event"]).ok()?;
    match prometheus::default_registry().register(Box::new(counter.clone())) {
        Ok(()) => Some(counter),
        Err(e) => {
            tracing::warn!(error = %e, "frontdesk_booking_holds_total not registered");
            None
        }
    }
});

/// What becomes of a hold; the `event` label of `frontdesk_booking_holds_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldEvent {
    Created,
    /// The call booked the held slot.
    Consumed,
    /// Its time passed unbooked.
    Expired,
    /// Given up: a cancel, the end of the call, another check or booking of the same call.
    Released,
}

impl HoldEvent {
    pub const ALL: [HoldEvent; 4] = [Self::Created, Self::Consumed, Self::Expired, Self::Released];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Consumed => "consumed",
            Self::Expired => "expired",
            Self::Released => "released",
        }
    }
}

/// Counts `n` holds of `calendar` (`local`, `calcom`) that went through `event`.
pub fn count_holds(calendar: &'static str, event: HoldEvent, n: usize) {
    if let Some(counter) = HOLDS_TOTAL.as_ref() {
        counter
            .with_label_values(&[calendar, event.as_str()])
            .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
    }
}

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
    if let Some(counter) = HOLDS_TOTAL.as_ref() {
        for calendar in ["local", "calcom"] {
            for event in HoldEvent::ALL {
                counter.with_label_values(&[calendar, event.as_str()]);
            }
        }
    }
}

/// Counts one booking-function outcome; `outcome` must be one of a fixed set of literals.
pub fn booking_outcome(outcome: &'static str) {
    if let Some(counter) = BOOKINGS_TOTAL.as_ref() {
        counter.with_label_values(&[outcome]).inc();
    }
}
