//! Booking-event metrics (catalogued in docs/metrics.md). Tenant ids label the queue gauge:
//! operator-chosen identifiers, bounded by the tenants file, never caller data.

use std::sync::LazyLock;

use prometheus::{
    Histogram, IntCounterVec, IntGaugeVec, register_histogram, register_int_counter_vec,
    register_int_gauge_vec,
};

pub static EVENTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "frontdesk_booking_events_total",
        "Booking-event delivery attempts and outcomes by result (delivered, failed, dead, requeued).",
        &["result"]
    )
    .expect("metric frontdesk_booking_events_total")
});

/// From the change to the receiver's 2xx: a day at most, so buckets reach past it.
pub static DELIVERY_SECONDS: LazyLock<Histogram> = LazyLock::new(|| {
    register_histogram!(
        "frontdesk_booking_event_delivery_seconds",
        "Time from a booking change to its event's successful delivery.",
        vec![
            0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0, 21600.0, 86400.0
        ]
    )
    .expect("metric frontdesk_booking_event_delivery_seconds")
});

pub static QUEUED: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    register_int_gauge_vec!(
        "frontdesk_booking_events_queued",
        "Booking events not delivered, by tenant and state (pending, dead).",
        &["tenant", "state"]
    )
    .expect("metric frontdesk_booking_events_queued")
});

/// Registers the series with zero values, so dashboards and alerts see them from the start.
pub fn init() {
    for result in ["delivered", "failed", "dead", "requeued"] {
        EVENTS.with_label_values(&[result]);
    }
    LazyLock::force(&DELIVERY_SECONDS);
    LazyLock::force(&QUEUED);
}
