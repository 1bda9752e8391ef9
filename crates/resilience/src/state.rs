//! The public vocabulary of a breaker: its states, the admin modes, the snapshot reported by
//! `/health/detailed`, and the typed rejection callers map to a 503 or `calendar_unavailable`.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What an operator set through the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The state machine decides (the normal case).
    #[default]
    Auto,
    /// Reject every call until the mode is set back to `auto`.
    ForcedOpen,
    /// Admit every call and count nothing.
    Disabled,
}

/// The state a breaker reports, with admin modes folded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
    ForcedOpen,
    Disabled,
}

impl BreakerState {
    /// The value of `frontdesk_breaker_state`: 0 closed, 1 half-open, 2 open. Forced-open rejects
    /// like open and reports 2; disabled admits like closed and reports 0.
    pub fn metric_value(self) -> i64 {
        match self {
            Self::Closed | Self::Disabled => 0,
            Self::HalfOpen => 1,
            Self::Open | Self::ForcedOpen => 2,
        }
    }

    /// The `to` label of `frontdesk_breaker_transitions_total`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
            Self::ForcedOpen => "forced_open",
            Self::Disabled => "disabled",
        }
    }
}

/// A point-in-time view of one breaker. Times are milliseconds since the Unix epoch, from the
/// breaker's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakerSnapshot {
    pub target: String,
    pub state: BreakerState,
    pub mode: Mode,
    pub consecutive_failures: u32,
    /// Calls and failures inside the failure-rate window (zero when the rule is off).
    pub window_calls: u32,
    pub window_failures: u32,
    /// Trips of the current incident; drives the growing open time.
    pub trips: u32,
    pub last_transition_ms: u64,
    /// When an open breaker starts admitting probes; `None` unless open.
    pub open_until_ms: Option<u64>,
    pub shared: bool,
}

/// Why a call was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Open,
    /// Half-open, and every probe slot is taken.
    ProbesBusy,
    ForcedOpen,
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Open => "is open",
            Self::ProbesBusy => "is half-open and every probe slot is busy",
            Self::ForcedOpen => "is forced open",
        })
    }
}

/// The breaker refused a call. The caller answers at once: upstream routes with 503 and
/// `Retry-After`, in-process callers with their own unavailable error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker {reason}; retry after {retry_after:?}")]
pub struct Rejected {
    /// When trying again may succeed (round up to whole seconds for `Retry-After`).
    pub retry_after: Duration,
    pub reason: RejectReason,
}

impl Rejected {
    /// `retry_after` in whole seconds, rounded up and at least 1, as `Retry-After` wants it.
    pub fn retry_after_secs(&self) -> u64 {
        let ms = crate::time::millis(self.retry_after);
        ms.div_ceil(1000).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let r = |ms| Rejected {
            retry_after: Duration::from_millis(ms),
            reason: RejectReason::Open,
        };
        assert_eq!(r(0).retry_after_secs(), 1);
        assert_eq!(r(1).retry_after_secs(), 1);
        assert_eq!(r(1_000).retry_after_secs(), 1);
        assert_eq!(r(1_001).retry_after_secs(), 2);
        assert_eq!(r(60_000).retry_after_secs(), 60);
    }

    #[test]
    fn rejection_messages_name_the_reason() {
        let r = Rejected {
            retry_after: Duration::from_secs(3),
            reason: RejectReason::ProbesBusy,
        };
        assert_eq!(
            r.to_string(),
            "circuit breaker is half-open and every probe slot is busy; retry after 3s"
        );
    }

    #[test]
    fn forced_open_reports_like_open() {
        assert_eq!(BreakerState::ForcedOpen.metric_value(), 2);
        assert_eq!(BreakerState::Open.metric_value(), 2);
        assert_eq!(BreakerState::HalfOpen.metric_value(), 1);
        assert_eq!(BreakerState::Disabled.metric_value(), 0);
    }
}
