//! Keeping requests alive when the shared store is not: [`FallbackStore`] answers from a local
//! [`MemoryStore`] whenever the primary (Redis) fails or is slow, and finds its way back alone.
//!
//! States: *healthy* (every operation goes to the primary; a failure is counted, answered locally
//! and switches to degraded) and *degraded* (operations go straight to the local store, so a dead
//! Redis costs no timeout per request; at most one probe per `probe_interval`, a `PING` on its own
//! task, switches back to healthy on success). Rate limits follow [`LimitFallback`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::health::StoreHealth;
use crate::memory::MemoryStore;
use crate::metrics::STORE_ERRORS;
use crate::{Decision, GcraCheck, Rate, Store, StoreError};

/// Rate-limit decisions while Redis is unavailable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LimitFallback {
    /// Each replica limits on its own (a limit of N becomes up to N per replica).
    #[default]
    Local,
    /// Every request passes.
    Allow,
    /// Every limited request is denied.
    Deny,
}

/// How often a degraded store probes its primary unless configured otherwise.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// A primary store with a local fallback. Implements [`Store`]; no operation but `ping` ever
/// returns an error.
///
/// Writes made while degraded land only in the local store and are not replayed to the primary
/// on recovery (a short-lived idempotency or dedupe record is the worst that is lost).
pub struct FallbackStore {
    primary: Arc<dyn Store>,
    local: Arc<MemoryStore>,
    limits: LimitFallback,
    probe_interval: Duration,
    state: Arc<State>,
}

/// Shared with probe tasks, which outlive the call that started them.
#[derive(Default)]
struct State {
    degraded: AtomicBool,
    probing: AtomicBool,
    status: Mutex<Status>,
}

#[derive(Default)]
struct Status {
    reachable: bool,
    last_error: Option<String>,
    last_ping: Option<Duration>,
    // Probe pacing is about real elapsed time on the network, not business time, so it uses the
    // monotonic clock rather than the injected `Clock` (a frozen test clock must not stop recovery).
    last_probe: Option<Instant>,
}

impl std::fmt::Debug for FallbackStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackStore")
            .field("primary", &self.primary.backend())
            .field("limits", &self.limits)
            .field("degraded", &self.is_degraded())
            .finish_non_exhaustive()
    }
}

impl FallbackStore {
    /// Wraps `primary`; `local` answers while it is unavailable. Starts healthy: the first failure
    /// (or [`FallbackStore::check_health`]) finds out otherwise.
    pub fn new(primary: Arc<dyn Store>, local: Arc<MemoryStore>, limits: LimitFallback) -> Self {
        Self {
            primary,
            local,
            limits,
            probe_interval: DEFAULT_PROBE_INTERVAL,
            state: Arc::default(),
        }
    }

    /// Sets the least time between two probes of a degraded primary.
    pub fn with_probe_interval(mut self, probe_interval: Duration) -> Self {
        self.probe_interval = probe_interval;
        self
    }

    /// `true` while operations are answered locally.
    pub fn is_degraded(&self) -> bool {
        self.state.degraded.load(Ordering::Acquire)
    }

    /// The local store answering while degraded.
    pub fn local(&self) -> &Arc<MemoryStore> {
        &self.local
    }

    /// The last known state, without touching the network. While degraded this also starts a
    /// probe when one is due, so a health poller alone is enough to notice recovery.
    pub fn health(&self) -> StoreHealth {
        if self.is_degraded() {
            self.maybe_probe();
        }
        let status = self.state.status.lock();
        StoreHealth {
            backend: self.primary.backend(),
            reachable: status.reachable,
            degraded: self.is_degraded(),
            last_error: status.last_error.clone(),
            last_ping_ms: status.last_ping.map(StoreHealth::ping_ms),
        }
    }

    /// Pings the primary now (bounded by its timeout), updates the state, and returns it.
    pub async fn check_health(&self) -> StoreHealth {
        // The outcome is recorded in the state the snapshot reads.
        let _ = probe(self.primary.as_ref(), &self.state).await;
        self.health()
    }

    /// Starts a background probe if the store is degraded, none is running, and the last one is at
    /// least `probe_interval` old. Never waits.
    fn maybe_probe(&self) {
        {
            let mut status = self.state.status.lock();
            let due = status
                .last_probe
                .is_none_or(|at| at.elapsed() >= self.probe_interval);
            if !due || self.state.probing.swap(true, Ordering::AcqRel) {
                return;
            }
            status.last_probe = Some(Instant::now());
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.state.probing.store(false, Ordering::Release);
            return;
        };
        let primary = self.primary.clone();
        let state = self.state.clone();
        runtime.spawn(async move {
            let _ = probe(primary.as_ref(), &state).await;
            state.probing.store(false, Ordering::Release);
        });
    }

    /// Runs `op` on the primary unless degraded; answers with `local` when that is not possible.
    async fn run<T, Fut>(&self, op: impl FnOnce() -> Fut, local: impl FnOnce() -> T) -> T
    where
        Fut: Future<Output = Result<T, StoreError>>,
    {
        if self.is_degraded() {
            self.maybe_probe();
            return local();
        }
        match op().await {
            Ok(value) => value,
            Err(err) => {
                record_failure(self.primary.backend(), &self.state, &err);
                local()
            }
        }
    }

    /// [`Self::limit_fallback`] over a sequence, with [`Store::gcra_all`]'s stopping rule.
    fn limits_fallback(&self, checks: &[GcraCheck<'_>]) -> Vec<Decision> {
        let mut decisions = Vec::with_capacity(checks.len());
        for check in checks {
            let decision = self.limit_fallback(check.key, check.rate, check.cost);
            decisions.push(decision);
            if check.ends_sequence(&decision) {
                break;
            }
        }
        decisions
    }

    fn limit_fallback(&self, key: &str, rate: Rate, cost: u32) -> Decision {
        match self.limits {
            LimitFallback::Local => self.local.check_rate(key, rate, cost),
            LimitFallback::Allow => Decision {
                allowed: true,
                limit: rate.burst,
                remaining: rate.burst,
                retry_after: Duration::ZERO,
                reset_after: Duration::ZERO,
            },
            LimitFallback::Deny => {
                let interval = rate.period / rate.count.max(1);
                Decision {
                    allowed: false,
                    limit: rate.burst,
                    remaining: 0,
                    retry_after: interval,
                    reset_after: interval,
                }
            }
        }
    }
}

/// One `PING`: success makes the store healthy again, failure keeps (or makes) it degraded.
async fn probe(primary: &dyn Store, state: &State) -> Result<Duration, StoreError> {
    let result = primary.ping().await;
    match &result {
        Ok(latency) => {
            {
                let mut status = state.status.lock();
                status.reachable = true;
                status.last_ping = Some(*latency);
            }
            if state.degraded.swap(false, Ordering::AcqRel) {
                tracing::info!(backend = primary.backend(), "store recovered");
            }
        }
        Err(err) => record_failure(primary.backend(), state, err),
    }
    result
}

fn record_failure(backend: &'static str, state: &State, err: &StoreError) {
    STORE_ERRORS.with_label_values(&[backend]).inc();
    {
        let mut status = state.status.lock();
        status.reachable = false;
        status.last_error = Some(err.to_string());
        // A failure is as good as a probe: the next one is a full interval away.
        status.last_probe = Some(Instant::now());
    }
    if !state.degraded.swap(true, Ordering::AcqRel) {
        // Logged on the transition only; the counter carries the rate.
        tracing::warn!(backend, error = %err, "store degraded, answering from local memory");
    }
}

#[async_trait]
impl Store for FallbackStore {
    fn backend(&self) -> &'static str {
        self.primary.backend()
    }

    async fn gcra(&self, key: &str, rate: Rate, cost: u32) -> Result<Decision, StoreError> {
        Ok(self
            .run(
                || self.primary.gcra(key, rate, cost),
                || self.limit_fallback(key, rate, cost),
            )
            .await)
    }

    async fn gcra_all(&self, checks: &[GcraCheck<'_>]) -> Result<Vec<Decision>, StoreError> {
        Ok(self
            .run(
                || self.primary.gcra_all(checks),
                || self.limits_fallback(checks),
            )
            .await)
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self
            .run(
                || self.primary.set_if_absent(key, value, ttl),
                || self.local.insert_if_absent(key, value, ttl),
            )
            .await)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .run(|| self.primary.get(key), || self.local.load(key))
            .await)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.run(
            || self.primary.set(key, value, ttl),
            || self.local.store(key, value, ttl),
        )
        .await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.run(|| self.primary.delete(key), || self.local.remove(key))
            .await;
        Ok(())
    }

    async fn generation(&self, group: &str) -> Result<u64, StoreError> {
        Ok(self
            .run(
                || self.primary.generation(group),
                || self.local.current_generation(group),
            )
            .await)
    }

    async fn bump_generation(&self, group: &str) -> Result<u64, StoreError> {
        Ok(self
            .run(
                || self.primary.bump_generation(group),
                || self.local.next_generation(group),
            )
            .await)
    }

    /// The one operation that reports failure: it is the health check. It also updates the
    /// degraded state either way.
    async fn ping(&self) -> Result<Duration, StoreError> {
        probe(self.primary.as_ref(), &self.state).await
    }
}
