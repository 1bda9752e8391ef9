//! Process-wide state shared by the traffic and admin listeners: the policy snapshot, the store,
//! the booking engine, breakers and the lifecycle flags health checks report.
//!
//! Everything here is runtime-agnostic (`Arc`, atomics, `ArcSwap`), because each Pingora service
//! runs its own tokio runtime. IO clients (Redis, Cal.com) are created on the background runtime
//! and used through channels, which works from any runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use frontdesk_clock::Clock;
use frontdesk_store::Store;

use crate::config::{Config, Secret};
use crate::policy::PolicyHandle;

pub struct App {
    pub policy: PolicyHandle,
    /// Shared state (Redis with local fallback, or memory).
    pub store: Arc<dyn Store>,
    /// Per-replica state for `scope: local` limits.
    pub local: Arc<dyn Store>,
    /// The store as built, for health reports.
    pub store_handle: frontdesk_store::StoreHandle,
    pub clock: Arc<dyn Clock>,
    pub functions: Arc<dyn crate::functions::Functions>,
    /// The embedded calendar (events outbox, feed, bookings API).
    pub calendar: Arc<frontdesk_booking::LocalCalendar>,
    pub breakers: Arc<frontdesk_resilience::BreakerRegistry>,
    pub admin_token: Option<Secret>,
    pub lifecycle: Lifecycle,
    /// The traffic listener's certificate, when it serves TLS.
    pub tls: Option<Arc<crate::tls::ReloadingCert>>,
}

impl App {
    pub fn config(&self) -> &Config {
        self.policy.config()
    }
}

/// Readiness, draining and in-flight accounting.
pub struct Lifecycle {
    started: Instant,
    ready: AtomicBool,
    draining: AtomicBool,
    in_flight: Arc<AtomicUsize>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            ready: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Lifecycle {
    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst) && !self.is_draining()
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    /// Counts a request as in flight until the guard drops.
    pub fn track(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.in_flight.clone())
    }
}

/// Decrements the in-flight count when the request ends, however it ends.
pub struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
