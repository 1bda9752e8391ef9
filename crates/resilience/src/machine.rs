//! The breaker state machine: single-threaded, time passed in as milliseconds, no I/O. Locking,
//! metrics and store sharing wrap it in `breaker` and `registry`.
//!
//! Every transition (and every admin mode change) bumps an epoch. A permit carries the epoch it
//! was issued in, and its result only counts if the epoch is unchanged: a late success from before
//! a trip must not count as a probe, and a late failure from a previous closed period must not
//! re-open a breaker that healed since.

use crate::backoff::open_duration_ms;
use crate::config::Settings;
use crate::outcome::Outcome;
use crate::shared::SharedTrip;
use crate::state::{BreakerSnapshot, BreakerState, Mode, RejectReason, Rejected};
use crate::window::RollingCounts;
use std::time::Duration;

/// While half-open with every probe slot taken, callers are told to come back after this: the
/// probes in flight decide within about a round trip.
const PROBES_BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open { until_ms: u64 },
    HalfOpen { in_flight: u32, successes: u32 },
}

/// How an admitted call's result is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AdmissionKind {
    /// Closed: the result feeds the trip rules.
    Counted,
    /// Half-open: the result decides between closing and re-opening.
    Probe,
    /// Disabled: the result is ignored.
    Uncounted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Admission {
    pub(crate) epoch: u64,
    pub(crate) kind: AdmissionKind,
}

/// The fast-path tag published next to the epoch (see `breaker`): calls may be admitted without
/// taking the lock only in these two cases.
pub(crate) const TAG_CLOSED: u64 = 0;
pub(crate) const TAG_DISABLED: u64 = 1;
pub(crate) const TAG_SLOW_PATH: u64 = 2;

#[derive(Debug)]
pub(crate) struct Machine {
    settings: Settings,
    window: Option<RollingCounts>,
    mode: Mode,
    phase: Phase,
    epoch: u64,
    consecutive_failures: u32,
    /// Trips of the current incident (see `trip`).
    trips: u32,
    closed_at_ms: Option<u64>,
    last_transition_ms: u64,
    /// A local trip not yet written to the store.
    unpublished: bool,
    /// States entered since the owner last drained them, for metrics.
    transitions: Vec<BreakerState>,
}

impl Machine {
    pub(crate) fn new(settings: Settings, now_ms: u64) -> Self {
        let window = settings
            .failure_rate
            .as_ref()
            .map(|r| RollingCounts::new(r.window));
        Self {
            settings,
            window,
            mode: Mode::Auto,
            phase: Phase::Closed,
            epoch: 0,
            consecutive_failures: 0,
            trips: 0,
            closed_at_ms: None,
            last_transition_ms: now_ms,
            unpublished: false,
            transitions: Vec::new(),
        }
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Applies new settings and keeps the current state; a changed rate window starts empty.
    pub(crate) fn reconfigure(&mut self, settings: Settings) {
        if settings.failure_rate != self.settings.failure_rate {
            self.window = settings
                .failure_rate
                .as_ref()
                .map(|r| RollingCounts::new(r.window));
        }
        self.settings = settings;
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    pub(crate) fn fast_tag(&self) -> u64 {
        match (self.mode, self.phase) {
            (Mode::Disabled, _) => TAG_DISABLED,
            (Mode::Auto, Phase::Closed) => TAG_CLOSED,
            _ => TAG_SLOW_PATH,
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match (self.mode, self.phase) {
            (Mode::ForcedOpen, _) => BreakerState::ForcedOpen,
            (Mode::Disabled, _) => BreakerState::Disabled,
            (Mode::Auto, Phase::Closed) => BreakerState::Closed,
            (Mode::Auto, Phase::Open { .. }) => BreakerState::Open,
            (Mode::Auto, Phase::HalfOpen { .. }) => BreakerState::HalfOpen,
        }
    }

    pub(crate) fn drain_transitions(&mut self) -> Vec<BreakerState> {
        std::mem::take(&mut self.transitions)
    }

    /// Moves an open breaker whose open time has elapsed to half-open.
    pub(crate) fn refresh(&mut self, now_ms: u64) {
        if let Phase::Open { until_ms } = self.phase
            && now_ms >= until_ms
        {
            self.enter(
                now_ms,
                Phase::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                },
            );
        }
    }

    pub(crate) fn acquire(&mut self, now_ms: u64) -> Result<Admission, Rejected> {
        self.refresh(now_ms);
        let kind = match (self.mode, &mut self.phase) {
            (Mode::Disabled, _) => AdmissionKind::Uncounted,
            (Mode::ForcedOpen, _) => {
                return Err(Rejected {
                    retry_after: Duration::from_millis(self.settings.open_ms),
                    reason: RejectReason::ForcedOpen,
                });
            }
            (Mode::Auto, Phase::Closed) => AdmissionKind::Counted,
            (Mode::Auto, Phase::Open { until_ms }) => {
                return Err(Rejected {
                    retry_after: Duration::from_millis(until_ms.saturating_sub(now_ms)),
                    reason: RejectReason::Open,
                });
            }
            (Mode::Auto, Phase::HalfOpen { in_flight, .. }) => {
                if *in_flight >= self.settings.half_open_max_probes {
                    return Err(Rejected {
                        retry_after: PROBES_BUSY_RETRY_AFTER,
                        reason: RejectReason::ProbesBusy,
                    });
                }
                *in_flight += 1;
                AdmissionKind::Probe
            }
        };
        Ok(Admission {
            epoch: self.epoch,
            kind,
        })
    }

    /// Whether a call with this outcome and duration counts as a failure.
    pub(crate) fn is_failure(&self, outcome: Outcome, elapsed_ms: u64) -> bool {
        self.settings.failure_on.matches(outcome) || self.is_slow(elapsed_ms)
    }

    fn is_slow(&self, elapsed_ms: u64) -> bool {
        self.settings
            .slow_call_ms
            .is_some_and(|limit| elapsed_ms >= limit)
    }

    /// Records the result of an admitted call.
    pub(crate) fn finish(&mut self, now_ms: u64, admission: Admission, failed: bool) {
        self.refresh(now_ms);
        if admission.epoch != self.epoch {
            return;
        }
        match (admission.kind, self.phase) {
            (AdmissionKind::Counted, Phase::Closed) => self.closed_result(now_ms, failed),
            (
                AdmissionKind::Probe,
                Phase::HalfOpen {
                    in_flight,
                    successes,
                },
            ) => {
                if failed {
                    self.trip(now_ms);
                } else if successes + 1 >= self.settings.half_open_successes {
                    self.close(now_ms);
                } else {
                    self.phase = Phase::HalfOpen {
                        in_flight: in_flight.saturating_sub(1),
                        successes: successes + 1,
                    };
                }
            }
            _ => {}
        }
    }

    /// A permit dropped without a result (the caller gave up or was cancelled). It is neither a
    /// success nor a failure, unless it was already slower than `slow_call`: then the upstream
    /// was too slow whoever gave up. A probe's slot is freed either way.
    pub(crate) fn abandon(&mut self, now_ms: u64, admission: Admission, elapsed_ms: u64) {
        if self.is_slow(elapsed_ms) {
            self.finish(now_ms, admission, true);
            return;
        }
        self.refresh(now_ms);
        if admission.epoch != self.epoch || admission.kind != AdmissionKind::Probe {
            return;
        }
        if let Phase::HalfOpen { in_flight, .. } = &mut self.phase {
            *in_flight = in_flight.saturating_sub(1);
        }
    }

    fn closed_result(&mut self, now_ms: u64, failed: bool) {
        if failed {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        } else {
            self.consecutive_failures = 0;
        }
        let by_count = self.settings.consecutive_failures > 0
            && self.consecutive_failures >= self.settings.consecutive_failures;
        let by_rate = match (&mut self.window, &self.settings.failure_rate) {
            (Some(window), Some(rule)) => {
                window.add(now_ms, 1, u32::from(failed));
                let (calls, failures) = window.totals(now_ms);
                calls >= rule.minimum_calls
                    && u64::from(failures) * 100
                        >= u64::from(rule.threshold_percent) * u64::from(calls)
            }
            _ => false,
        };
        if by_count || by_rate {
            self.trip(now_ms);
        }
    }

    /// Opens the breaker. Trips of one incident lengthen the open time: a failed probe is the same
    /// incident, and so is a trip within `max_open_time` of the last close (a flapping upstream);
    /// after a longer healthy period the count starts again at 1.
    fn trip(&mut self, now_ms: u64) {
        let same_incident = match self.phase {
            Phase::HalfOpen { .. } => true,
            _ => self
                .closed_at_ms
                .is_some_and(|closed| now_ms.saturating_sub(closed) < self.settings.max_open_ms),
        };
        self.trips = if same_incident {
            self.trips.saturating_add(1)
        } else {
            1
        };
        let unit = if self.settings.jitter > 0.0 {
            rand::random::<f64>()
        } else {
            0.0
        };
        let open_ms = open_duration_ms(
            self.settings.open_ms,
            self.settings.multiplier,
            self.settings.max_open_ms,
            self.settings.jitter,
            self.trips,
            unit,
        );
        self.unpublished = true;
        self.enter(
            now_ms,
            Phase::Open {
                until_ms: now_ms.saturating_add(open_ms),
            },
        );
    }

    fn close(&mut self, now_ms: u64) {
        self.closed_at_ms = Some(now_ms);
        self.enter(now_ms, Phase::Closed);
    }

    fn enter(&mut self, now_ms: u64, phase: Phase) {
        let before = self.state();
        self.phase = phase;
        self.consecutive_failures = 0;
        if let Some(window) = &mut self.window {
            window.clear();
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.last_transition_ms = now_ms;
        let after = self.state();
        if after != before {
            self.transitions.push(after);
        }
    }

    /// Sets the admin mode. Leaving a forced mode starts from a fresh closed state; the trip count
    /// of the incident is kept so a still-failing upstream re-opens for longer.
    pub(crate) fn set_mode(&mut self, now_ms: u64, mode: Mode) {
        if mode == self.mode {
            return;
        }
        let before = self.state();
        self.mode = mode;
        self.phase = Phase::Closed;
        self.consecutive_failures = 0;
        if let Some(window) = &mut self.window {
            window.clear();
        }
        self.unpublished = false;
        self.epoch = self.epoch.wrapping_add(1);
        self.last_transition_ms = now_ms;
        let after = self.state();
        if after != before {
            self.transitions.push(after);
        }
    }

    /// The local trip to publish, if one happened since the last call and is still running.
    pub(crate) fn take_unpublished(&mut self, now_ms: u64) -> Option<SharedTrip> {
        if !std::mem::take(&mut self.unpublished) {
            return None;
        }
        match self.phase {
            Phase::Open { until_ms } if until_ms > now_ms && self.mode == Mode::Auto => {
                Some(SharedTrip {
                    open_until_ms: until_ms,
                    trips: self.trips,
                })
            }
            _ => None,
        }
    }

    /// Marks `trip` for publishing again after a failed write, unless it has been superseded.
    pub(crate) fn retry_publish(&mut self, trip: SharedTrip) {
        if self.phase
            == (Phase::Open {
                until_ms: trip.open_until_ms,
            })
        {
            self.unpublished = true;
        }
    }

    /// Honours a trip read from the store: if it keeps the breaker open longer than the local
    /// state does, open until the same instant. Returns whether the local state changed.
    pub(crate) fn adopt(&mut self, now_ms: u64, trip: SharedTrip) -> bool {
        if self.mode != Mode::Auto || trip.open_until_ms <= now_ms {
            return false;
        }
        if let Phase::Open { until_ms } = self.phase
            && until_ms >= trip.open_until_ms
        {
            return false;
        }
        self.trips = self.trips.max(trip.trips);
        // The trip is someone else's: do not write it back.
        self.unpublished = false;
        self.enter(
            now_ms,
            Phase::Open {
                until_ms: trip.open_until_ms,
            },
        );
        true
    }

    pub(crate) fn snapshot(&mut self, target: &str, now_ms: u64) -> BreakerSnapshot {
        self.refresh(now_ms);
        let (window_calls, window_failures) =
            self.window.as_ref().map_or((0, 0), |w| w.totals(now_ms));
        let open_until_ms = match (self.mode, self.phase) {
            (Mode::Auto, Phase::Open { until_ms }) => Some(until_ms),
            _ => None,
        };
        BreakerSnapshot {
            target: target.to_owned(),
            state: self.state(),
            mode: self.mode,
            consecutive_failures: self.consecutive_failures,
            window_calls,
            window_failures,
            trips: self.trips,
            last_transition_ms: self.last_transition_ms,
            open_until_ms,
            shared: self.settings.shared,
        }
    }
}
