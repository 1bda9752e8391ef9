//! Whether and when a failed upstream request may be tried again.
//!
//! The rule that matters most: a POST is never retried unless its route is marked idempotent,
//! whatever the policy says, because the first attempt may have booked an appointment already.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_clock::Clock;
use http::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::backoff::retry_delay_ms;
use crate::budget::{RetryBudget, RetryBudgetConfig};
use crate::error::ConfigError;
use crate::outcome::{Outcome, OutcomeClass, OutcomeSet};
use crate::time::millis;

/// A target's retry policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in total, the first included: 1 turns retries off.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles per retry ("full jitter": a random pick below).
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub backoff_base: Duration,
    /// The backoff never exceeds this.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub backoff_cap: Duration,
    /// `true`: only requests idempotent by method (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or
    /// routes marked idempotent are retried. `false`: other methods except POST are also retried,
    /// but only after a connect error (the request was never sent).
    pub idempotent_only: bool,
    /// Outcomes worth another attempt.
    pub retry_on: Vec<OutcomeClass>,
    pub budget: RetryBudgetConfig,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 2,
            backoff_base: Duration::from_millis(50),
            backoff_cap: Duration::from_secs(1),
            idempotent_only: true,
            retry_on: vec![
                OutcomeClass::ConnectError,
                OutcomeClass::Timeout,
                OutcomeClass::Status5xx,
            ],
            budget: RetryBudgetConfig::default(),
        }
    }
}

/// What the caller knows after a failed attempt.
#[derive(Debug, Clone, Copy)]
pub struct RetryContext<'a> {
    pub method: &'a Method,
    /// The route is marked idempotent in policy (e.g. it carries an idempotency key).
    pub route_idempotent: bool,
    /// Attempts made so far, the failed one included (≥ 1).
    pub attempts_made: u32,
    pub outcome: Outcome,
    /// What is left of the total timeout; a retry whose backoff does not fit is not made.
    pub time_left: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait `after`, then try again (one retry has been taken from the budget).
    Retry {
        after: Duration,
    },
    Stop(StopReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The outcome is a success or not in `retry_on`.
    NotRetryable,
    /// The request may have had an effect and is not known to be safe to repeat.
    NotIdempotent,
    AttemptsExhausted,
    BudgetExhausted,
    /// The backoff would outlast the total timeout.
    NoTimeLeft,
}

impl RetryPolicy {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_attempts == 0 {
            return Err(ConfigError::new("retry.max_attempts", "must be at least 1"));
        }
        if self.backoff_cap < self.backoff_base {
            return Err(ConfigError::new(
                "retry.backoff_cap",
                "must be at least backoff_base",
            ));
        }
        self.budget.validate()
    }

    /// A budget for one target under this policy.
    pub fn budget(&self, clock: Arc<dyn Clock>) -> Result<RetryBudget, ConfigError> {
        RetryBudget::new(&self.budget, clock)
    }

    /// Whether repeating a request of `method` after `outcome` is safe under this policy.
    pub fn is_safe_to_repeat(
        &self,
        method: &Method,
        route_idempotent: bool,
        outcome: Outcome,
    ) -> bool {
        if route_idempotent {
            return true;
        }
        if method == Method::POST {
            return false;
        }
        if method.is_idempotent() {
            return true;
        }
        !self.idempotent_only && outcome == Outcome::ConnectError
    }

    /// Decides about one failed attempt; takes a retry from `budget` only when answering
    /// [`RetryDecision::Retry`].
    pub fn decide(&self, context: &RetryContext<'_>, budget: &RetryBudget) -> RetryDecision {
        let retry_on: OutcomeSet = self.retry_on.iter().collect();
        if !retry_on.matches(context.outcome) {
            return RetryDecision::Stop(StopReason::NotRetryable);
        }
        if !self.is_safe_to_repeat(context.method, context.route_idempotent, context.outcome) {
            return RetryDecision::Stop(StopReason::NotIdempotent);
        }
        if context.attempts_made >= self.max_attempts {
            return RetryDecision::Stop(StopReason::AttemptsExhausted);
        }
        let after = Duration::from_millis(retry_delay_ms(
            millis(self.backoff_base),
            millis(self.backoff_cap),
            context.attempts_made,
            rand::random::<f64>(),
        ));
        if after >= context.time_left {
            return RetryDecision::Stop(StopReason::NoTimeLeft);
        }
        if !budget.try_withdraw() {
            return RetryDecision::Stop(StopReason::BudgetExhausted);
        }
        RetryDecision::Retry { after }
    }
}
