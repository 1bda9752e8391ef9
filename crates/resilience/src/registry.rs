//! All breakers of a process by target name, admin control over them, and the periodic sync that
//! shares trips through the store.
//!
//! Sharing is done off the request path: [`BreakerRegistry::sync`] (run every ~250 ms by
//! [`BreakerRegistry::spawn_sync`] or the caller's own task) reads each shared breaker's record,
//! adopts a remote trip that keeps the breaker open longer than the local state does, and writes
//! a local trip that is not yet in the store. A replica therefore honours another's trip within
//! two sync periods (one for the writer, one for the reader). Store errors are counted and logged;
//! they never fail a call, and the breaker keeps working on its local state.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use frontdesk_clock::Clock;
use frontdesk_store::Store;
use parking_lot::RwLock;

use crate::breaker::Breaker;
use crate::config::BreakerConfig;
use crate::error::ConfigError;
use crate::shared::{self, SharedTrip};
use crate::state::{BreakerSnapshot, Mode};

/// The shortest TTL a trip record is written with, so a record written just before its open
/// period ends still lives long enough to be read.
const MIN_RECORD_TTL: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("unknown breaker target")]
    UnknownTarget,
    #[error("breaker `{target}`: {source}")]
    Config {
        target: String,
        #[source]
        source: ConfigError,
    },
}

/// What one [`BreakerRegistry::sync`] did; `store_errors > 0` means sharing is degraded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Local trips written to the store.
    pub published: usize,
    /// Remote trips this replica opened for.
    pub adopted: usize,
    pub store_errors: usize,
}

struct SharedStore {
    store: Arc<dyn Store>,
    namespace: String,
}

/// The breakers of one process, by target name.
pub struct BreakerRegistry {
    clock: Arc<dyn Clock>,
    store: Option<SharedStore>,
    breakers: RwLock<BTreeMap<String, Breaker>>,
}

impl BreakerRegistry {
    /// A registry whose breakers are all local (`shared: true` has no effect).
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            store: None,
            breakers: RwLock::new(BTreeMap::new()),
        }
    }

    /// A registry whose `shared` breakers share trips through `store`. `namespace` prefixes the
    /// keys (`{namespace}:breaker:{target}`), so deployments or tests can share one store.
    pub fn with_store(
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
        namespace: impl Into<String>,
    ) -> Self {
        Self {
            clock,
            store: Some(SharedStore {
                store,
                namespace: namespace.into(),
            }),
            breakers: RwLock::new(BTreeMap::new()),
        }
    }

    /// Makes the set of breakers match `targets`: new targets get a closed breaker, existing ones
    /// keep their state under the new configuration, absent ones are removed. Every configuration
    /// is checked first, so an invalid one changes nothing.
    pub fn configure(
        &self,
        targets: &BTreeMap<String, BreakerConfig>,
    ) -> Result<(), RegistryError> {
        for (target, config) in targets {
            config.validate().map_err(|source| RegistryError::Config {
                target: target.clone(),
                source,
            })?;
        }
        let mut breakers = self.breakers.write();
        breakers.retain(|target, _| {
            let keep = targets.contains_key(target);
            if !keep {
                crate::metrics::forget(target);
            }
            keep
        });
        for (target, config) in targets {
            let result = match breakers.get(target) {
                Some(existing) => existing.reconfigure(config),
                None => {
                    Breaker::new(target.clone(), config, Arc::clone(&self.clock)).map(|breaker| {
                        breakers.insert(target.clone(), breaker);
                    })
                }
            };
            // Validated above; a failure here would mean compile is not deterministic.
            result.map_err(|source| RegistryError::Config {
                target: target.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The breaker of `target`. Callers may keep the returned handle: it shares state with the
    /// registry's until the target is removed by [`BreakerRegistry::configure`].
    pub fn get(&self, target: &str) -> Option<Breaker> {
        self.breakers.read().get(target).cloned()
    }

    /// Admin control: sets `target`'s mode and returns its state afterwards.
    pub fn force(&self, target: &str, mode: Mode) -> Result<BreakerSnapshot, RegistryError> {
        let breaker = self.get(target).ok_or(RegistryError::UnknownTarget)?;
        breaker.set_mode(mode);
        Ok(breaker.snapshot())
    }

    /// Every breaker's state, ordered by target name.
    pub fn snapshots(&self) -> Vec<BreakerSnapshot> {
        let breakers: Vec<Breaker> = self.breakers.read().values().cloned().collect();
        breakers.iter().map(Breaker::snapshot).collect()
    }

    /// Applies due open → half-open moves to every breaker, then exchanges trips with the store
    /// for the shared ones. Never fails: store problems are counted in the report.
    pub async fn sync(&self) -> SyncReport {
        let breakers: Vec<Breaker> = self.breakers.read().values().cloned().collect();
        let mut report = SyncReport::default();
        for breaker in &breakers {
            breaker.tick();
            if let Some(shared) = &self.store
                && breaker.is_shared()
            {
                sync_one(shared, breaker, &mut report).await;
            }
        }
        report
    }

    /// Runs [`BreakerRegistry::sync`] every `period` on the current tokio runtime until the
    /// registry is dropped (or the handle aborted).
    pub fn spawn_sync(self: &Arc<Self>, period: Duration) -> tokio::task::JoinHandle<()> {
        let registry: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(registry) = registry.upgrade() else {
                    break;
                };
                registry.sync().await;
            }
        })
    }
}

async fn sync_one(shared: &SharedStore, breaker: &Breaker, report: &mut SyncReport) {
    let key = shared::key(&shared.namespace, breaker.target());
    match shared.store.get(&key).await {
        Ok(Some(bytes)) => match SharedTrip::decode(&bytes) {
            Some(trip) => {
                if breaker.adopt(trip) {
                    report.adopted += 1;
                }
            }
            None => tracing::warn!(
                target_name = breaker.target(),
                "ignoring malformed shared breaker record"
            ),
        },
        Ok(None) => {}
        Err(error) => {
            report.store_errors += 1;
            tracing::warn!(target_name = breaker.target(), %error, "reading shared breaker state failed; using local state");
        }
    }
    // After adopting: a remote trip that outlasts ours supersedes it, so nothing is written then.
    let Some(trip) = breaker.take_unpublished() else {
        return;
    };
    let remaining = Duration::from_millis(trip.open_until_ms.saturating_sub(breaker.now_ms()));
    match shared
        .store
        .set(&key, &trip.encode(), remaining.max(MIN_RECORD_TTL))
        .await
    {
        Ok(()) => report.published += 1,
        Err(error) => {
            report.store_errors += 1;
            breaker.retry_publish(trip);
            tracing::warn!(target_name = breaker.target(), %error, "publishing breaker trip failed; will retry");
        }
    }
}

impl std::fmt::Debug for BreakerRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerRegistry")
            .field("targets", &self.breakers.read().keys().collect::<Vec<_>>())
            .field(
                "shared_store",
                &self.store.as_ref().map(|s| s.store.backend()),
            )
            .finish()
    }
}
