//! The `calcom:` block of `frontdesk.yaml`: where Cal.com is, how long to wait for it, how the
//! slot cache behaves, and the breaker in front of it. Validation lives here too, so
//! `frontdesk check` reports a bad value before anything is served.

use std::time::Duration;

use frontdesk_resilience::{BreakerConfig, OutcomeClass, Timeouts};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The breaker target name of the Cal.com client (a `frontdesk_breaker_state{target}` label).
pub const BREAKER_TARGET: &str = "calcom";

/// How frontdesk talks to Cal.com API v2. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CalcomConfig {
    /// Cal.com API origin, without `/v2` (tests and self-hosted Cal.com point elsewhere).
    pub base_url: String,
    /// Connect, per-read and total timeouts of every Cal.com request (`write` is not enforced
    /// separately by the HTTP client; `total` bounds it).
    pub timeouts: Timeouts,
    pub cache: CacheConfig,
    /// The circuit breaker of target `calcom`.
    pub breaker: BreakerConfig,
    /// Whether a 429 from Cal.com counts as a breaker failure. Off by default: a rate-limited
    /// Cal.com is alive, and the client already waits for `X-RateLimit-Reset-Default`.
    pub count_429_as_failure: bool,
    /// How long to stay away after a 429 that carries no usable reset header.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub rate_limit_fallback_wait: Duration,
    /// frontdesk's own outbound budget per tenant API key, below Cal.com's limit.
    pub budget: BudgetConfig,
}

/// The outbound token bucket per tenant API key (the `api_key_env` a tenant names), kept in the
/// store so every replica draws from one bucket. In any minute at most
/// `requests_per_minute + burst` requests leave per key; the defaults stay below the 120 per
/// minute Cal.com documents for an API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    /// Sustained requests per minute per API key.
    pub requests_per_minute: u32,
    /// Requests that may leave at once on top of the sustained rate.
    pub burst: u32,
    /// Of the burst, how many only bookings (create, cancel, reschedule, slot reservations)
    /// may use: slot fetches and cache refreshes wait once fewer are left, and checks are
    /// answered from the cache meanwhile. Must be below `burst`.
    pub reserved_for_bookings: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            requests_per_minute: 90,
            burst: 10,
            reserved_for_bookings: 3,
        }
    }
}

impl Default for CalcomConfig {
    fn default() -> Self {
        Self {
            base_url: "https://api.cal.com".to_owned(),
            timeouts: Timeouts {
                connect: Duration::from_secs(2),
                read: Duration::from_secs(5),
                write: Duration::from_secs(5),
                // A caller is waiting on the phone: better an apology after 8 s than silence.
                total: Duration::from_secs(8),
                idle: Duration::from_secs(60),
            },
            cache: CacheConfig::default(),
            breaker: BreakerConfig::default(),
            count_429_as_failure: false,
            rate_limit_fallback_wait: Duration::from_secs(60),
            budget: BudgetConfig::default(),
        }
    }
}

/// The slot cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// How long a fetched day of slots is answered without asking Cal.com.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub ttl: Duration,
    /// After `ttl`, how long the day may still be answered while one background refresh runs
    /// (and while Cal.com is rate limiting or down). `0s` turns stale answers off.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub stale: Duration,
    /// How long a slot we (or a webhook) just saw booked stays masked, even if Cal.com's slot
    /// list still shows it free. Never shorter than `ttl + stale`, the longest a day refetched
    /// from a lagging Cal.com can be answered.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub taken_overlay: Duration,
    /// The longest a caller waits for slots Cal.com has not sent yet (nothing cached for a
    /// day): past it the answer is "calendar unavailable" while the fetch goes on in the
    /// background and warms the cache for the next question. Days in the cache, fresh or
    /// stale, never wait.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub answer_budget: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            // Webhooks and the taken overlay keep the cache honest, so it may live long; the
            // replay bench chose these values (its figures are in docs/calcom.md).
            ttl: Duration::from_secs(600),
            stale: Duration::from_secs(3600),
            taken_overlay: Duration::from_secs(4200),
            // Retell's callers hear silence while we wait; the replaced gateway promised p95 < 2 s.
            answer_budget: Duration::from_millis(1500),
        }
    }
}

/// A problem in the `calcom:` block, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calcom.{field}: {message}")]
pub struct CalcomConfigError {
    pub field: String,
    pub message: String,
}

impl CalcomConfigError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl CalcomConfig {
    /// Checks every field; [`crate::build`] runs the same check.
    pub fn validate(&self) -> Result<(), CalcomConfigError> {
        match reqwest::Url::parse(&self.base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => {
                return Err(CalcomConfigError::new(
                    "base_url",
                    "must be an http:// or https:// URL with a host",
                ));
            }
        }
        self.timeouts
            .validate()
            .map_err(|e| CalcomConfigError::new(e.field, e.reason))?;
        self.effective_breaker()
            .validate()
            .map_err(|e| CalcomConfigError::new(e.field, e.reason))?;
        if self.cache.ttl.is_zero() {
            return Err(CalcomConfigError::new(
                "cache.ttl",
                "must be greater than zero",
            ));
        }
        if self.cache.answer_budget.is_zero() {
            return Err(CalcomConfigError::new(
                "cache.answer_budget",
                "must be greater than zero",
            ));
        }
        if self.cache.taken_overlay.is_zero() {
            return Err(CalcomConfigError::new(
                "cache.taken_overlay",
                "must be greater than zero",
            ));
        }
        if self.budget.requests_per_minute == 0 {
            return Err(CalcomConfigError::new(
                "budget.requests_per_minute",
                "must be greater than zero",
            ));
        }
        if self.budget.burst == 0 {
            return Err(CalcomConfigError::new(
                "budget.burst",
                "must be greater than zero",
            ));
        }
        if self.budget.reserved_for_bookings >= self.budget.burst {
            return Err(CalcomConfigError::new(
                "budget.reserved_for_bookings",
                "must be below budget.burst",
            ));
        }
        if self.rate_limit_fallback_wait.is_zero() {
            return Err(CalcomConfigError::new(
                "rate_limit_fallback_wait",
                "must be greater than zero",
            ));
        }
        Ok(())
    }

    /// The breaker configuration to register under [`BREAKER_TARGET`]: `breaker` with
    /// `status_429` added to `failure_on` when `count_429_as_failure` is set.
    pub fn effective_breaker(&self) -> BreakerConfig {
        let mut breaker = self.breaker.clone();
        if self.count_429_as_failure && !breaker.failure_on.contains(&OutcomeClass::Status429) {
            breaker.failure_on.push(OutcomeClass::Status429);
        }
        breaker
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_checked_and_read_from_yaml() {
        let cfg: CalcomConfig = serde_yaml::from_str(
            "budget: { requests_per_minute: 60, burst: 5, reserved_for_bookings: 2 }",
        )
        .expect("yaml");
        assert_eq!(cfg.budget.requests_per_minute, 60);
        assert_eq!(cfg.validate(), Ok(()));
        let mut bad = cfg.clone();
        bad.budget.reserved_for_bookings = 5;
        assert_eq!(
            bad.validate().map_err(|e| e.field),
            Err("budget.reserved_for_bookings".to_owned())
        );
        bad.budget = BudgetConfig {
            requests_per_minute: 0,
            ..BudgetConfig::default()
        };
        assert_eq!(
            bad.validate().map_err(|e| e.field),
            Err("budget.requests_per_minute".to_owned())
        );
        // The defaults stay below Cal.com's documented 120 per minute and key.
        let d = BudgetConfig::default();
        assert!(d.requests_per_minute + d.burst < 120);
        assert!(serde_yaml::from_str::<CalcomConfig>("budget: { per_minute: 5 }").is_err());
    }
}
