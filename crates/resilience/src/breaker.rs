//! The thread-safe breaker callers hold: admission ([`Breaker::try_acquire`]), result recording
//! ([`Permit::record`]), admin modes and snapshots, with metrics on every transition.
//!
//! The closed path is one atomic load to admit and one short lock to record. The state machine
//! sits behind a `parking_lot` mutex; next to it an atomic word publishes `epoch << 2 | tag`, where
//! the tag says whether a call may be admitted without the lock (closed, or disabled). A reader
//! that sees a stale word admits at most a few calls right after a trip, and their results are
//! discarded because their epoch no longer matches.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use frontdesk_clock::Clock;
use parking_lot::Mutex;

use crate::config::{BreakerConfig, Settings};
use crate::error::ConfigError;
use crate::machine::{Admission, AdmissionKind, Machine, TAG_CLOSED, TAG_DISABLED};
use crate::metrics;
use crate::outcome::Outcome;
use crate::shared::SharedTrip;
use crate::state::{BreakerSnapshot, BreakerState, Mode, Rejected};
use crate::time::millis;

const TAG_BITS: u32 = 2;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;

/// A circuit breaker for one upstream target. Cloning is cheap and shares the state.
#[derive(Clone)]
pub struct Breaker {
    inner: Arc<Inner>,
}

struct Inner {
    target: String,
    clock: Arc<dyn Clock>,
    fast: AtomicU64,
    machine: Mutex<Machine>,
}

impl Breaker {
    /// A closed breaker for `target` (a configured upstream name: it becomes a metric label).
    pub fn new(
        target: impl Into<String>,
        config: &BreakerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ConfigError> {
        let settings = config.compile()?;
        let target = target.into();
        let machine = Machine::new(settings, clock.now_ms());
        let fast = AtomicU64::new(encode(&machine));
        metrics::set_state(&target, machine.state());
        Ok(Self {
            inner: Arc::new(Inner {
                target,
                clock,
                fast,
                machine: Mutex::new(machine),
            }),
        })
    }

    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// Admits a call, or says why not and when to come back. Record the call's result on the
    /// returned permit.
    pub fn try_acquire(&self) -> Result<Permit, Rejected> {
        let word = self.inner.fast.load(Ordering::Acquire);
        let kind = match word & TAG_MASK {
            TAG_CLOSED => Some(AdmissionKind::Counted),
            TAG_DISABLED => Some(AdmissionKind::Uncounted),
            _ => None,
        };
        let admission = match kind {
            Some(kind) => Admission {
                epoch: word >> TAG_BITS,
                kind,
            },
            None => self
                .inner
                .with_machine(|machine, now| machine.acquire(now))?,
        };
        Ok(Permit {
            breaker: Arc::clone(&self.inner),
            admission,
            started_ms: self.inner.clock.now_ms(),
            armed: true,
        })
    }

    /// The current state, with a due open → half-open move applied.
    pub fn state(&self) -> BreakerState {
        self.inner.with_machine(|machine, now| {
            machine.refresh(now);
            machine.state()
        })
    }

    pub fn snapshot(&self) -> BreakerSnapshot {
        let target = &self.inner.target;
        self.inner
            .with_machine(|machine, now| machine.snapshot(target, now))
    }

    /// Sets the admin mode; see [`Mode`].
    pub fn set_mode(&self, mode: Mode) {
        self.inner
            .with_machine(|machine, now| machine.set_mode(now, mode));
    }

    /// Whether this breaker shares its trips through the store.
    pub fn is_shared(&self) -> bool {
        self.inner.machine.lock().settings().shared
    }

    /// Applies a new configuration and keeps the state.
    pub fn reconfigure(&self, config: &BreakerConfig) -> Result<(), ConfigError> {
        let settings: Settings = config.compile()?;
        self.inner
            .with_machine(|machine, _| machine.reconfigure(settings));
        Ok(())
    }

    /// Applies time-driven transitions (open → half-open) so metrics move without traffic.
    pub(crate) fn tick(&self) {
        self.inner.with_machine(|machine, now| machine.refresh(now));
    }

    pub(crate) fn take_unpublished(&self) -> Option<SharedTrip> {
        self.inner
            .with_machine(|machine, now| machine.take_unpublished(now))
    }

    pub(crate) fn retry_publish(&self, trip: SharedTrip) {
        self.inner
            .with_machine(|machine, _| machine.retry_publish(trip));
    }

    pub(crate) fn adopt(&self, trip: SharedTrip) -> bool {
        self.inner
            .with_machine(|machine, now| machine.adopt(now, trip))
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }
}

impl Inner {
    /// Runs `f` on the locked machine, then republishes the fast word and reports transitions
    /// (metrics are updated after the lock is released).
    fn with_machine<R>(&self, f: impl FnOnce(&mut Machine, u64) -> R) -> R {
        let now = self.clock.now_ms();
        let (result, transitions) = {
            let mut machine = self.machine.lock();
            let epoch = machine.epoch();
            let result = f(&mut machine, now);
            if machine.epoch() != epoch {
                self.fast.store(encode(&machine), Ordering::Release);
            }
            (result, machine.drain_transitions())
        };
        for to in transitions {
            tracing::info!(target_name = %self.target, to = to.label(), "circuit breaker transition");
            metrics::transition(&self.target, to);
        }
        result
    }
}

fn encode(machine: &Machine) -> u64 {
    (machine.epoch() << TAG_BITS) | machine.fast_tag()
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker")
            .field("target", &self.inner.target)
            .finish_non_exhaustive()
    }
}

/// Admission of one call. Record its result with [`Permit::record`].
///
/// Dropped without a result (the caller gave up, or its future was cancelled), a permit counts as
/// neither success nor failure, unless it was held longer than `slow_call`: then it is a failure,
/// because the upstream was too slow whoever gave up. A half-open probe slot is freed either way,
/// so an abandoned probe never wedges the breaker.
#[must_use = "a permit records the call's result; dropping it at once abandons the call"]
pub struct Permit {
    breaker: Arc<Inner>,
    admission: Admission,
    started_ms: u64,
    armed: bool,
}

impl Permit {
    /// Records the call's outcome and how long it took (a call slower than `slow_call` is a
    /// failure whatever its outcome).
    pub fn record(mut self, outcome: Outcome, elapsed: Duration) {
        self.armed = false;
        if self.admission.kind == AdmissionKind::Uncounted {
            return;
        }
        let admission = self.admission;
        self.breaker.with_machine(|machine, now| {
            let failed = machine.is_failure(outcome, millis(elapsed));
            machine.finish(now, admission, failed);
        });
    }

    /// Whether this call is a half-open probe (its result decides whether the breaker closes).
    pub fn is_probe(&self) -> bool {
        self.admission.kind == AdmissionKind::Probe
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.armed || self.admission.kind == AdmissionKind::Uncounted {
            return;
        }
        let admission = self.admission;
        let started = self.started_ms;
        self.breaker.with_machine(|machine, now| {
            machine.abandon(now, admission, now.saturating_sub(started));
        });
    }
}

impl fmt::Debug for Permit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("target", &self.breaker.target)
            .field("probe", &self.is_probe())
            .finish_non_exhaustive()
    }
}
