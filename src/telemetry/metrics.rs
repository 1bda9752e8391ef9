//! Metrics owned by the gateway itself. The core crates register theirs (store, breakers,
//! validation, redaction, bookings, slot cache) in the same default registry.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use prometheus::{
    Histogram, HistogramVec, IntCounter, IntCounterVec, register_histogram_vec,
    register_int_counter_vec,
};

/// Latency buckets from 0.5 ms to 10 s: in-process answers take well under a millisecond,
/// calendar round trips up to seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

macro_rules! counter {
    ($vis:vis $name:ident, $metric:literal, $help:literal, $labels:expr) => {
        $vis static $name: LazyLock<IntCounterVec> = LazyLock::new(|| {
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
    pub RATELIMIT_DECISIONS,
    "frontdesk_ratelimit_decisions_total",
    "Rate-limit decisions by limit and decision (allowed, denied, shadow_denied).",
    &["limit", "decision"]
);
counter!(
    pub AUTH_FAILURES,
    "frontdesk_auth_failures_total",
    "Refused authentications by route and reason.",
    &["route", "reason"]
);
counter!(
    pub POLICY_RELOADS,
    "frontdesk_policy_reloads_total",
    "Policy reload attempts by result.",
    &["result"]
);
counter!(
    pub WEBHOOK_DUPLICATES,
    "frontdesk_webhook_duplicates_total",
    "Webhook deliveries acknowledged as duplicates, by source.",
    &["source"]
);
counter!(
    pub WEBHOOK_DEDUPE,
    "frontdesk_webhook_dedupe_total",
    "Webhook deliveries that were not processed as first deliveries, by source and result (duplicate, in_progress, unkeyed).",
    &["source", "result"]
);
counter!(
    pub AUTH_BUDGET_TRIPS,
    "frontdesk_auth_failure_budget_trips_total",
    "Authentication-failure budgets spent (further failures answered 429), by auth scheme entry.",
    &["auth"]
);
counter!(
    pub TENANT_REFUSALS,
    "frontdesk_tenant_refusals_total",
    "Signed requests refused because unsigned data disagreed with or could not prove the tenant, by route and reason (mismatch, unverified).",
    &["route", "reason"]
);
counter!(
    UPSTREAM_REQUESTS,
    "frontdesk_upstream_requests_total",
    "Upstream exchanges by target and outcome (success, error, timeout, rejected).",
    &["target", "outcome"]
);

static REQUEST_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "frontdesk_request_duration_seconds",
        "Time from request start to the last response byte, by route.",
        &["route"],
        LATENCY_BUCKETS.to_vec()
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_request_duration_seconds: {e}"))
});

static UPSTREAM_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "frontdesk_upstream_duration_seconds",
        "Duration of upstream exchanges, by target.",
        &["target"],
        LATENCY_BUCKETS.to_vec()
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_upstream_duration_seconds: {e}"))
});

/// Statuses whose request counter a route keeps at hand; rarer ones are looked up when counted.
const COMMON_STATUSES: [u16; 18] = [
    200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504,
];

/// One route's request count and duration series, looked up on first use and kept with the
/// route: `with_label_values` hashes the labels and takes the vector's lock on every call.
#[derive(Debug)]
pub struct RouteSeries {
    duration: OnceLock<Histogram>,
    by_status: [OnceLock<IntCounter>; COMMON_STATUSES.len()],
}

impl RouteSeries {
    pub const fn new() -> Self {
        Self {
            duration: OnceLock::new(),
            by_status: [const { OnceLock::new() }; COMMON_STATUSES.len()],
        }
    }

    /// Counts one answered request of `route` (`status` 0: nothing was answered).
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        self.duration
            .get_or_init(|| REQUEST_DURATION.with_label_values(&[route]))
            .observe(elapsed.as_secs_f64());
        let counter = || {
            let status = http::StatusCode::from_u16(status);
            REQUESTS.with_label_values(&[route, status.as_ref().map_or("0", |s| s.as_str())])
        };
        match COMMON_STATUSES.iter().position(|&s| s == status) {
            Some(slot) => self.by_status[slot].get_or_init(counter).inc(),
            None => counter().inc(),
        }
    }
}

impl Default for RouteSeries {
    fn default() -> Self {
        Self::new()
    }
}

/// The series of requests that matched no route (label `none`).
pub static UNROUTED: RouteSeries = RouteSeries::new();

/// What a rate limit decided about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitOutcome {
    Allowed,
    Denied,
    /// Over the limit, let through because the limit is in shadow mode.
    ShadowDenied,
}

impl LimitOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::ShadowDenied => "shadow_denied",
        }
    }
}

/// One limit's decision counters, looked up on first use and kept with the limit.
#[derive(Debug, Default)]
pub struct LimitSeries([OnceLock<IntCounter>; 3]);

impl LimitSeries {
    pub fn count(&self, limit: &str, outcome: LimitOutcome) {
        self.0[outcome as usize]
            .get_or_init(|| RATELIMIT_DECISIONS.with_label_values(&[limit, outcome.as_str()]))
            .inc();
    }
}

/// How one upstream exchange ended, as counted and logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamOutcome {
    Success,
    Error,
    Timeout,
    /// Not attempted: the target's circuit breaker is open.
    Rejected,
}

impl UpstreamOutcome {
    const ALL: [Self; 4] = [Self::Success, Self::Error, Self::Timeout, Self::Rejected];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Timeout => "timeout",
            Self::Rejected => "rejected",
        }
    }
}

/// One upstream's exchange series, looked up once when the forwarder is built (which also shows
/// them at zero before the first exchange).
#[derive(Debug)]
pub struct UpstreamSeries {
    pub duration: Histogram,
    by_outcome: [IntCounter; UpstreamOutcome::ALL.len()],
}

impl UpstreamSeries {
    pub fn new(target: &str) -> Self {
        Self {
            duration: UPSTREAM_DURATION.with_label_values(&[target]),
            by_outcome: UpstreamOutcome::ALL
                .map(|o| UPSTREAM_REQUESTS.with_label_values(&[target, o.as_str()])),
        }
    }

    pub fn count(&self, outcome: UpstreamOutcome) {
        self.by_outcome[outcome as usize].inc();
    }
}

/// Registers every metric with its common label values, so dashboards and alerts see zeroes
/// instead of missing series before the first event.
static TLS_CERTIFICATE_EXPIRY: LazyLock<prometheus::IntGauge> = LazyLock::new(|| {
    prometheus::register_int_gauge!(
        "frontdesk_tls_certificate_expiry_seconds",
        "When the traffic listener's TLS certificate expires (unix seconds); absent without TLS."
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_tls_certificate_expiry_seconds: {e}"))
});

/// Records the expiry of the certificate in service.
pub fn set_certificate_expiry(not_after: i64) {
    TLS_CERTIFICATE_EXPIRY.set(not_after);
}

pub fn init() {
    for result in ["success", "error"] {
        POLICY_RELOADS.with_label_values(&[result]);
    }
    LazyLock::force(&REQUESTS);
    LazyLock::force(&REQUEST_DURATION);
    LazyLock::force(&RATELIMIT_DECISIONS);
    LazyLock::force(&AUTH_FAILURES);
    LazyLock::force(&WEBHOOK_DUPLICATES);
    LazyLock::force(&WEBHOOK_DEDUPE);
    LazyLock::force(&AUTH_BUDGET_TRIPS);
    LazyLock::force(&TENANT_REFUSALS);
    LazyLock::force(&UPSTREAM_REQUESTS);
    LazyLock::force(&UPSTREAM_DURATION);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn requests(route: &str, status: &str) -> u64 {
        REQUESTS.with_label_values(&[route, status]).get()
    }

    #[test]
    fn route_series_count_common_rare_and_unanswered_statuses() {
        let route = "series_test_route";
        let series = RouteSeries::new();
        for status in [200, 200, 418, 0] {
            series.record(route, status, Duration::from_millis(3));
        }
        assert_eq!(requests(route, "200"), 2);
        assert_eq!(requests(route, "418"), 1);
        assert_eq!(requests(route, "0"), 1);
        let duration = REQUEST_DURATION.with_label_values(&[route]);
        assert_eq!(duration.get_sample_count(), 4);
        assert!((duration.get_sample_sum() - 0.012).abs() < 1e-9);
    }

    #[test]
    fn upstream_series_start_at_zero_and_count_each_outcome_under_its_label() {
        let series = UpstreamSeries::new("series_test_upstream");
        let count = |o| {
            UPSTREAM_REQUESTS
                .with_label_values(&["series_test_upstream", o])
                .get()
        };
        assert_eq!(count("rejected"), 0);
        series.count(UpstreamOutcome::Timeout);
        series.count(UpstreamOutcome::Rejected);
        series.count(UpstreamOutcome::Rejected);
        assert_eq!(
            ["success", "error", "timeout", "rejected"].map(count),
            [0, 0, 1, 2]
        );
    }

    #[test]
    fn limit_series_count_each_outcome_under_its_label() {
        let series = LimitSeries::default();
        for outcome in [
            LimitOutcome::Allowed,
            LimitOutcome::Allowed,
            LimitOutcome::Denied,
            LimitOutcome::ShadowDenied,
        ] {
            series.count("series_test_limit", outcome);
        }
        let count = |d| {
            RATELIMIT_DECISIONS
                .with_label_values(&["series_test_limit", d])
                .get()
        };
        assert_eq!(
            (count("allowed"), count("denied"), count("shadow_denied")),
            (2, 1, 1)
        );
    }
}
