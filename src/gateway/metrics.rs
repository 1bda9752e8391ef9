//! Metrics of the traffic listener's connections: how many are open, how many were refused and
//! why, and which phase's deadline closed them.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, IntGauge, register_int_counter_vec, register_int_gauge};

pub static CONNECTIONS_OPEN: LazyLock<IntGauge> = LazyLock::new(|| {
    register_int_gauge!(
        "frontdesk_connections_open",
        "Traffic connections open now."
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_connections_open: {e}"))
});

static CONNECTIONS_REFUSED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "frontdesk_connections_refused_total",
        "Traffic connections closed at accept, by reason (max_connections, per_client).",
        &["reason"]
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_connections_refused_total: {e}"))
});

static CONNECTION_TIMEOUTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "frontdesk_connection_timeouts_total",
        "Traffic connections closed by a deadline, by phase (idle, header, body).",
        &["phase"]
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_connection_timeouts_total: {e}"))
});

static RESPONSES_ABORTED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "frontdesk_responses_aborted_total",
        "Answers cut short after their first byte went out (the connection was closed), by route.",
        &["route"]
    )
    .unwrap_or_else(|e| panic!("metric frontdesk_responses_aborted_total: {e}"))
});

/// Counts an answer of `route` that was cut short.
pub fn count_aborted(route: &str) {
    RESPONSES_ABORTED.with_label_values(&[route]).inc();
}

/// Why a connection was closed at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `server.max_connections` (or the descriptor limit) reached.
    MaxConnections,
    /// `server.max_connections_per_client` reached for the peer's address.
    PerClient,
}

impl Refused {
    const ALL: [Self; 2] = [Self::MaxConnections, Self::PerClient];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MaxConnections => "max_connections",
            Self::PerClient => "per_client",
        }
    }

    pub fn count(self) {
        CONNECTIONS_REFUSED
            .with_label_values(&[self.as_str()])
            .inc();
    }
}

/// Which deadline closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the next request on a keep-alive connection (`server.keepalive_timeout`).
    Idle,
    /// Reading a request head (`server.header_timeout`).
    Header,
    /// Reading a request body (`server.body_timeout`, `server.body_min_rate`).
    Body,
}

impl Phase {
    const ALL: [Self; 3] = [Self::Idle, Self::Header, Self::Body];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Header => "header",
            Self::Body => "body",
        }
    }

    pub fn count(self) {
        CONNECTION_TIMEOUTS
            .with_label_values(&[self.as_str()])
            .inc();
    }
}

/// Registers the series at zero, so alerts see them before the first event.
pub fn init() {
    LazyLock::force(&CONNECTIONS_OPEN);
    LazyLock::force(&RESPONSES_ABORTED);
    for reason in Refused::ALL {
        CONNECTIONS_REFUSED.with_label_values(&[reason.as_str()]);
    }
    for phase in Phase::ALL {
        CONNECTION_TIMEOUTS.with_label_values(&[phase.as_str()]);
    }
}
