//! The compiled, immutable policy snapshot and the handle that swaps it on reload.
//!
//! Requests load the current snapshot once (`PolicyHandle::current`) and keep that `Arc` to the
//! end, so a reload never changes the rules under a request in flight.

pub mod body_fields;
pub mod compile;
pub mod model;
pub mod outlets;
pub mod routes;
pub mod template;
pub mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::config::{Config, Diagnostic};
use crate::signature::{AuthFailure, Verifier, VerifyKey};
use crate::telemetry::metrics::{self, LimitSeries, RouteSeries};
use body_fields::BodyFields;
pub use model::{EventHook, LimitMode, LimitScope};
use routes::RouteTable;
use template::{KeyTemplate, PathSegment};

/// One compiled set of routes, tenants and everything they refer to.
#[derive(Debug)]
pub struct Policy {
    pub routes: RouteTable<Arc<Route>>,
    pub tenants: Arc<frontdesk_booking::TenantDirectory>,
    /// Tenants' own Retell keys by tenant id (tenants without are absent).
    pub tenant_keys: HashMap<String, Vec<VerifyKey>>,
    /// How many tenants verify with the policy's (shared) Retell keys: when more than one, a
    /// shared key cannot tell which of them a request is for.
    pub shared_key_tenants: usize,
    /// Tenants' booking-event endpoints and calendar-feed tokens, read with this snapshot.
    pub outlets: outlets::Outlets,
    /// Short content hash of every file that went into this snapshot.
    pub hash: String,
    pub files: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct Route {
    pub name: String,
    pub body_limit: u64,
    pub json: bool,
    /// What the stages read of a `json: true` body.
    pub body_fields: BodyFields,
    pub auth: Option<Arc<AuthStage>>,
    pub tenant: Option<TenantSource>,
    pub limits: Vec<Arc<Limit>>,
    pub validate: Option<Validation>,
    pub dedupe: Option<Dedupe>,
    pub redact: Option<Arc<frontdesk_redact::Redactor>>,
    /// `redact` for a tenant with `raw_transcript: true`: transcript fields pass as spoken.
    pub redact_raw_transcript: Option<Arc<frontdesk_redact::Redactor>>,
    pub dispatch: Dispatch,
    pub on_event: Option<EventHook>,
    pub idempotent: bool,
    pub series: RouteSeries,
}

#[derive(Debug)]
pub struct AuthStage {
    pub name: String,
    pub verifier: Verifier,
    /// Charged per failed attempt, checked before any signature work.
    pub failure_limit: Option<Arc<Limit>>,
}

#[derive(Debug)]
pub struct Limit {
    pub name: String,
    pub key: KeyTemplate,
    pub rate: frontdesk_store::Rate,
    pub scope: LimitScope,
    pub mode: LimitMode,
    pub fallback: String,
    pub series: LimitSeries,
}

#[derive(Debug)]
pub struct TenantSource {
    pub agent_id: Option<KeyTemplate>,
    pub number: Option<KeyTemplate>,
    pub id: Option<KeyTemplate>,
    pub required: bool,
}

#[derive(Debug)]
pub struct Validation {
    pub schema: Option<Arc<frontdesk_validate::Schema>>,
    pub by_function: BTreeMap<String, Arc<frontdesk_validate::Schema>>,
    pub function: Option<KeyTemplate>,
    pub at: Option<Vec<PathSegment>>,
}

#[derive(Debug)]
pub struct Dedupe {
    pub key: KeyTemplate,
    /// How long a processed delivery is remembered.
    pub ttl: Duration,
    /// How long a delivery in progress blocks its retries (then a retry processes it again).
    pub pending_ttl: Duration,
    pub status: u16,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// Answered in-process by the booking engine.
    Booking,
    /// Forwarded to a configured upstream.
    Forward { upstream: String },
    /// Acknowledged with an empty answer.
    Ack { status: u16 },
}

/// The outcome of the last reload attempt, for `/health/detailed` and `/admin/reload`.
#[derive(Debug, Clone)]
pub struct ReloadStatus {
    pub loaded_at: SystemTime,
    pub last_error: Option<Vec<String>>,
    pub last_attempt: SystemTime,
}

/// The live snapshot plus what is needed to rebuild it.
pub struct PolicyHandle {
    config: Config,
    current: ArcSwap<Policy>,
    status: Mutex<ReloadStatus>,
    /// Serialises reloads from the watcher, SIGHUP and the admin API.
    reload_lock: Mutex<()>,
}

impl PolicyHandle {
    pub fn load(config: Config) -> Result<Self, Vec<Diagnostic>> {
        let policy = compile::compile(&config)?;
        prime_series(&policy);
        let now = SystemTime::now();
        Ok(Self {
            config,
            current: ArcSwap::from_pointee(policy),
            status: Mutex::new(ReloadStatus {
                loaded_at: now,
                last_error: None,
                last_attempt: now,
            }),
            reload_lock: Mutex::new(()),
        })
    }

    pub fn current(&self) -> Arc<Policy> {
        self.current.load_full()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn status(&self) -> ReloadStatus {
        self.status.lock().clone()
    }

    /// Recompiles everything; swaps the snapshot only when all of it compiled.
    pub fn reload(&self, trigger: &str) -> Result<Arc<Policy>, Vec<Diagnostic>> {
        let _serial = self.reload_lock.lock();
        let result = compile::compile(&self.config);
        let now = SystemTime::now();
        let mut status = self.status.lock();
        status.last_attempt = now;
        match result {
            Ok(policy) => {
                prime_series(&policy);
                let policy = Arc::new(policy);
                let changed = policy.hash != self.current.load().hash;
                self.current.store(policy.clone());
                status.loaded_at = now;
                status.last_error = None;
                metrics::POLICY_RELOADS
                    .with_label_values(&["success"])
                    .inc();
                tracing::info!(trigger, hash = %policy.hash, changed, routes = policy.routes.len(), "policy reloaded");
                Ok(policy)
            }
            Err(errors) => {
                metrics::POLICY_RELOADS.with_label_values(&["error"]).inc();
                for e in &errors {
                    tracing::error!(trigger, error = %e, "policy reload refused; the previous policy keeps serving");
                }
                status.last_error = Some(errors.iter().map(|e| e.to_string()).collect());
                Err(errors)
            }
        }
    }
}
/// Creates the series a policy can produce, at zero, so alerts and dashboards see them before the
/// first event (a labelled counter is absent from the exposition until then).
fn prime_series(policy: &Policy) {
    for route in policy.routes.iter() {
        for limit in route
            .limits
            .iter()
            .chain(route.auth.iter().filter_map(|a| a.failure_limit.as_ref()))
        {
            for outcome in [
                metrics::LimitOutcome::Allowed,
                metrics::LimitOutcome::Denied,
            ] {
                metrics::RATELIMIT_DECISIONS.with_label_values(&[&limit.name, outcome.as_str()]);
            }
        }
        if let Some(auth) = &route.auth {
            for reason in AuthFailure::ALL {
                metrics::AUTH_FAILURES.with_label_values(&[&route.name, reason.as_str()]);
            }
            if auth.failure_limit.is_some() {
                metrics::AUTH_BUDGET_TRIPS.with_label_values(&[&auth.name]);
            }
        }
        if route.tenant.is_some() {
            for reason in ["mismatch", "unverified"] {
                metrics::TENANT_REFUSALS.with_label_values(&[&route.name, reason]);
            }
        }
        if let Some(dedupe) = &route.dedupe {
            metrics::WEBHOOK_DUPLICATES.with_label_values(&[&dedupe.source]);
            for result in ["duplicate", "in_progress", "unkeyed"] {
                metrics::WEBHOOK_DEDUPE.with_label_values(&[&dedupe.source, result]);
            }
        }
    }
}
