//! Circuit breakers, timeouts and retry budgets for frontdesk upstreams.
//!
//! A [`Breaker`] guards one upstream target: callers ask [`Breaker::try_acquire`] before each
//! exchange and report the result on the returned [`Permit`]; while the breaker is open they get a
//! [`Rejected`] at once and answer without touching the upstream. A [`BreakerRegistry`] holds the
//! breakers of a process, gives the admin API control over them, and shares trips between
//! replicas through the `frontdesk_store::Store`. [`Timeouts`], [`RetryPolicy`] and [`RetryBudget`]
//! bound each exchange and decide about retries. Time comes from an injected
//! `frontdesk_clock::Clock`, so every rule is testable without sleeping.
//!
//! The states, configuration and sharing rules are described in `docs/resilience.md`.

mod backoff;
mod breaker;
mod budget;
mod config;
mod error;
mod machine;
mod metrics;
mod outcome;
mod registry;
mod retry;
mod shared;
pub mod singleflight;
mod state;
mod time;
mod timeouts;
mod window;

pub use breaker::{Breaker, Permit};
pub use budget::{RetryBudget, RetryBudgetConfig};
pub use config::{BreakerConfig, FailureRateConfig};
pub use error::ConfigError;
pub use outcome::{Outcome, OutcomeClass};
pub use registry::{BreakerRegistry, RegistryError, SyncReport};
pub use retry::{RetryContext, RetryDecision, RetryPolicy, StopReason};
pub use state::{BreakerSnapshot, BreakerState, Mode, RejectReason, Rejected};
pub use timeouts::Timeouts;

/// The handles are shared across tasks and threads by the gateway and the booking engine.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Breaker>();
    assert_send_sync::<Permit>();
    assert_send_sync::<BreakerRegistry>();
    assert_send_sync::<RetryBudget>();
};
