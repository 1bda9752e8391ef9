//! The retry budget (Finagle's `RetryBudget`, Envoy's `retry_budget`): retries are limited to a
//! percentage of recent requests plus a small reserve, so a struggling upstream never sees
//! retries multiply its load.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_clock::Clock;
use parking_lot::Mutex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::time::millis;
use crate::window::RollingCounts;

/// How many retries a target may spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RetryBudgetConfig {
    /// Retries may add up to this percentage of the requests in the window (0-100).
    pub percent: u8,
    /// Retries always allowed per second of window, so low-traffic targets can retry at all.
    pub min_per_second: u32,
    /// The sliding window requests and retries are counted over.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub window: Duration,
}

impl Default for RetryBudgetConfig {
    fn default() -> Self {
        Self {
            percent: 20,
            min_per_second: 3,
            window: Duration::from_secs(10),
        }
    }
}

impl RetryBudgetConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.percent > 100 {
            return Err(ConfigError::new(
                "retry.budget.percent",
                "must be between 0 and 100",
            ));
        }
        if self.window < Duration::from_secs(1) {
            return Err(ConfigError::new(
                "retry.budget.window",
                "must be at least 1s",
            ));
        }
        Ok(())
    }
}

/// One target's retry budget. Count every original request with
/// [`RetryBudget::record_request`]; ask [`RetryBudget::try_withdraw`] before each retry.
pub struct RetryBudget {
    clock: Arc<dyn Clock>,
    percent: u64,
    /// Retries always allowed per window, in hundredths (to compare with `percent × requests`).
    reserve_centi: u64,
    /// (requests, retries) over the window.
    counts: Mutex<RollingCounts>,
}

impl RetryBudget {
    pub fn new(config: &RetryBudgetConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        config.validate()?;
        let reserve = u64::from(config.min_per_second).saturating_mul(millis(config.window)) / 1000;
        Ok(Self {
            clock,
            percent: u64::from(config.percent),
            reserve_centi: reserve.saturating_mul(100),
            counts: Mutex::new(RollingCounts::new(config.window)),
        })
    }

    /// Deposits one original request (not a retry).
    pub fn record_request(&self) {
        let now = self.clock.now_ms();
        self.counts.lock().add(now, 1, 0);
    }

    /// Takes one retry from the budget; `false` when the budget is spent.
    pub fn try_withdraw(&self) -> bool {
        let now = self.clock.now_ms();
        let mut counts = self.counts.lock();
        let (requests, retries) = counts.totals(now);
        let allowance = self.reserve_centi + self.percent * u64::from(requests);
        if (u64::from(retries) + 1) * 100 > allowance {
            return false;
        }
        counts.add(now, 0, 1);
        true
    }
}

impl std::fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryBudget")
            .field("percent", &self.percent)
            .field("reserve_centi", &self.reserve_centi)
            .finish_non_exhaustive()
    }
}
