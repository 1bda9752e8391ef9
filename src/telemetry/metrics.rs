//! Metrics owned by the gateway itself. The core crates register theirs (store, breakers,
//! validation, redaction, bookings, slot cache) in the same default registry.

use std::sync::LazyLock;

use prometheus::{HistogramVec, IntCounterVec, register_histogram_vec, register_int_counter_vec};

/// Latency buckets from 0.5 ms to 10 s: in-process answers take well under a millisecond,
/// calendar round trips up to seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

macro_rules! counter {
    ($name:ident, $metric:literal, $help:literal, $labels:expr) => {
        pub static $name: LazyLock<IntCounterVec> = LazyLock::new(|| {
            register_int_counter_vec!($metric, $help, $labels)
                .unwrap_or_else(|e| panic!("metric {}: {e}", $metric))
        });
    };
}

counter!(
    REQUESTS,
    "frontdesk_requests_total",
    "Requests answered, by route and HTTP status.",
    &["route", "status"]
);
counter!(
    RATELIMIT_DECISIONS,
    "frontdesk_ratelimit_decisions_total",
    "Rate-limit decisions by limit and decision (allowed, denied, shadow_denied).",
    &["limit", "decision"]
);
counter!(
    AUTH_FAILURES,
    "frontdesk_auth_failures_total",
    "Refused authentications by route and reason.",
    &["route", "reason"]
);
counter!(
    POLICY_RELOADS,
    "frontdesk_policy_reloads_total",
    "Policy reload attempts by result.",
    &["result"]
);
counter!(
    WEBHOOK_DUPLICATES,
    "frontdesk_webhook_duplicates_total",
    "Webhook deliveries acknowledged as duplicates, by source.",
    &["source"]
);
counter!(
    UPSTREAM_REQUESTS,
    "frontdesk_upstream_requests_total",
    "Upstream exchanges by target and outcome (success, error, timeout, rejected).",
    &["target", "outcome"]
);

pub static REQUEST_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "frontdesk_request_duration_seconds",
        "Time from request start to the last response byte, by route.",
        &["route"],
        LATENCY_BUCKETS.to_vec()
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_request_duration_seconds: {e}"))
});

pub static UPSTREAM_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "frontdesk_upstream_duration_seconds",
        "Duration of upstream exchanges, by target.",
        &["target"],
        LATENCY_BUCKETS.to_vec()
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_upstream_duration_seconds: {e}"))
});

/// Registers every metric with its common label values, so dashboards and alerts see zeroes
/// instead of missing series before the first event.
pub fn init() {
    for result in ["success", "error"] {
        POLICY_RELOADS.with_label_values(&[result]);
    }
    LazyLock::force(&REQUESTS);
    LazyLock::force(&REQUEST_DURATION);
    LazyLock::force(&RATELIMIT_DECISIONS);
    LazyLock::force(&AUTH_FAILURES);
    LazyLock::force(&WEBHOOK_DUPLICATES);
    LazyLock::force(&UPSTREAM_REQUESTS);
    LazyLock::force(&UPSTREAM_DURATION);
}

/// Creates the series a policy can produce, at zero, so alerts and dashboards see them before the
/// first event (a labelled counter is absent from the exposition until then).
pub fn prime(policy: &crate::policy::Policy, upstreams: &[String]) {
    for route in policy.routes.iter() {
        for limit in route
            .limits
            .iter()
            .chain(route.auth.iter().filter_map(|a| a.failure_limit.as_ref()))
        {
            for decision in ["allowed", "denied"] {
                RATELIMIT_DECISIONS.with_label_values(&[&limit.name, decision]);
            }
        }
        if route.auth.is_some() {
            for reason in crate::stages::auth::AuthFailure::ALL {
                AUTH_FAILURES.with_label_values(&[&route.name, reason.as_str()]);
            }
        }
        if let Some(dedupe) = &route.dedupe {
            WEBHOOK_DUPLICATES.with_label_values(&[&dedupe.source]);
        }
    }
    for target in upstreams {
        for outcome in ["success", "error", "timeout", "rejected"] {
            UPSTREAM_REQUESTS.with_label_values(&[target, outcome]);
        }
        UPSTREAM_DURATION.with_label_values(&[target]);
    }
}

/// The Prometheus text exposition of every registered metric.
pub fn render() -> String {
    use prometheus::Encoder;
    let mut out = Vec::new();
    let families = prometheus::gather();
    if prometheus::TextEncoder::new()
        .encode(&families, &mut out)
        .is_err()
    {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}
