//! Breaker configuration as written in YAML, its defaults, validation, and the compiled form the
//! state machine reads.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::outcome::{OutcomeClass, OutcomeSet};
use crate::time::millis;

/// One breaker's configuration. Every field has a default; the defaults reproduce the replaced
/// gateway's breaker (5 consecutive failures → open; 60 s → half-open; 2 successes → closed) and
/// add a growing open time for repeated trips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker. `0` turns this rule off.
    pub consecutive_failures: u32,
    /// Opens the breaker when the failure rate over a sliding time window reaches a threshold.
    /// Absent: the rule is off.
    pub failure_rate: Option<FailureRateConfig>,
    /// A call slower than this counts as a failure, whatever its outcome. Absent: off.
    #[serde(with = "humantime_serde::option")]
    #[schemars(with = "Option<String>")]
    pub slow_call: Option<Duration>,
    /// How long the breaker stays open after its first trip before it admits probes.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub open_time: Duration,
    /// Each further trip of the same incident multiplies the open time by this (≥ 1).
    pub open_time_multiplier: f64,
    /// The open time never grows past this.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub max_open_time: Duration,
    /// Fraction (0 ≤ jitter < 1) by which each open time is randomly shortened, so replicas with
    /// local breakers do not probe a recovering upstream in lockstep. The open time is never
    /// lengthened: `open_time` stays an upper bound.
    pub jitter: f64,
    /// Probes admitted at once while half-open; further calls are rejected until one finishes.
    pub half_open_max_probes: u32,
    /// Successful probes that close the breaker.
    pub half_open_successes: u32,
    /// Which outcomes count as failures.
    pub failure_on: Vec<OutcomeClass>,
    /// Share trips with every replica through the store.
    pub shared: bool,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            failure_rate: None,
            slow_call: None,
            open_time: Duration::from_secs(60),
            open_time_multiplier: 2.0,
            max_open_time: Duration::from_secs(300),
            jitter: 0.0,
            half_open_max_probes: 1,
            half_open_successes: 2,
            failure_on: vec![
                OutcomeClass::ConnectError,
                OutcomeClass::Timeout,
                OutcomeClass::Status5xx,
            ],
            shared: false,
        }
    }
}

/// The failure-rate trip rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FailureRateConfig {
    /// The sliding time window the rate is computed over.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub window: Duration,
    /// No trip on rate before the window holds this many calls.
    pub minimum_calls: u32,
    /// Trip when failures are at least this percentage of the calls in the window (1-100).
    pub threshold_percent: u8,
}

impl Default for FailureRateConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            minimum_calls: 10,
            threshold_percent: 50,
        }
    }
}

/// [`BreakerConfig`] checked and turned into what the state machine needs on each call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub(crate) consecutive_failures: u32,
    pub(crate) failure_rate: Option<RateRule>,
    pub(crate) slow_call_ms: Option<u64>,
    pub(crate) open_ms: u64,
    pub(crate) multiplier: f64,
    pub(crate) max_open_ms: u64,
    pub(crate) jitter: f64,
    pub(crate) half_open_max_probes: u32,
    pub(crate) half_open_successes: u32,
    pub(crate) failure_on: OutcomeSet,
    pub(crate) shared: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RateRule {
    pub(crate) window: Duration,
    pub(crate) minimum_calls: u32,
    pub(crate) threshold_percent: u32,
}

impl BreakerConfig {
    /// Checks every field; the same check runs when a breaker is built or reconfigured.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.compile().map(|_| ())
    }

    pub(crate) fn compile(&self) -> Result<Settings, ConfigError> {
        if self.consecutive_failures == 0 && self.failure_rate.is_none() {
            return Err(ConfigError::new(
                "breaker.consecutive_failures",
                "no trip rule: set consecutive_failures or failure_rate (mode `disabled` turns a breaker off)",
            ));
        }
        if self.failure_on.is_empty() && self.slow_call.is_none() {
            return Err(ConfigError::new(
                "breaker.failure_on",
                "nothing would count as a failure: list at least one outcome or set slow_call",
            ));
        }
        if self.open_time.is_zero() {
            return Err(ConfigError::new(
                "breaker.open_time",
                "must be greater than zero",
            ));
        }
        if self.max_open_time < self.open_time {
            return Err(ConfigError::new(
                "breaker.max_open_time",
                "must be at least open_time",
            ));
        }
        if !self.open_time_multiplier.is_finite() || self.open_time_multiplier < 1.0 {
            return Err(ConfigError::new(
                "breaker.open_time_multiplier",
                "must be a finite number of at least 1",
            ));
        }
        if !(0.0..1.0).contains(&self.jitter) {
            return Err(ConfigError::new(
                "breaker.jitter",
                "must be at least 0 and below 1",
            ));
        }
        if self.half_open_max_probes == 0 {
            return Err(ConfigError::new(
                "breaker.half_open_max_probes",
                "must be at least 1",
            ));
        }
        if self.half_open_successes == 0 {
            return Err(ConfigError::new(
                "breaker.half_open_successes",
                "must be at least 1",
            ));
        }
        if self.slow_call.is_some_and(|d| d.is_zero()) {
            return Err(ConfigError::new(
                "breaker.slow_call",
                "must be greater than zero",
            ));
        }
        let failure_rate = self.failure_rate.as_ref().map(compile_rate).transpose()?;
        Ok(Settings {
            consecutive_failures: self.consecutive_failures,
            failure_rate,
            slow_call_ms: self.slow_call.map(millis),
            open_ms: millis(self.open_time),
            multiplier: self.open_time_multiplier,
            max_open_ms: millis(self.max_open_time),
            jitter: self.jitter,
            half_open_max_probes: self.half_open_max_probes,
            half_open_successes: self.half_open_successes,
            failure_on: self.failure_on.iter().collect(),
            shared: self.shared,
        })
    }
}

fn compile_rate(rate: &FailureRateConfig) -> Result<RateRule, ConfigError> {
    if rate.window < Duration::from_millis(10) {
        return Err(ConfigError::new(
            "breaker.failure_rate.window",
            "must be at least 10ms",
        ));
    }
    if rate.minimum_calls == 0 {
        return Err(ConfigError::new(
            "breaker.failure_rate.minimum_calls",
            "must be at least 1",
        ));
    }
    if !(1..=100).contains(&rate.threshold_percent) {
        return Err(ConfigError::new(
            "breaker.failure_rate.threshold_percent",
            "must be between 1 and 100",
        ));
    }
    Ok(RateRule {
        window: rate.window,
        minimum_calls: rate.minimum_calls,
        threshold_percent: u32::from(rate.threshold_percent),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_replaced_gateways() {
        let c = BreakerConfig::default();
        assert_eq!(c.consecutive_failures, 5);
        assert_eq!(c.open_time, Duration::from_secs(60));
        assert_eq!(c.half_open_successes, 2);
        assert!(!c.failure_on.contains(&OutcomeClass::Status429));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn rejects_values_that_cannot_work() {
        let cases: Vec<(BreakerConfig, &str)> = vec![
            (
                BreakerConfig {
                    consecutive_failures: 0,
                    ..Default::default()
                },
                "breaker.consecutive_failures",
            ),
            (
                BreakerConfig {
                    jitter: 1.0,
                    ..Default::default()
                },
                "breaker.jitter",
            ),
            (
                BreakerConfig {
                    jitter: -0.1,
                    ..Default::default()
                },
                "breaker.jitter",
            ),
            (
                BreakerConfig {
                    open_time_multiplier: 0.5,
                    ..Default::default()
                },
                "breaker.open_time_multiplier",
            ),
            (
                BreakerConfig {
                    open_time_multiplier: f64::NAN,
                    ..Default::default()
                },
                "breaker.open_time_multiplier",
            ),
            (
                BreakerConfig {
                    max_open_time: Duration::from_secs(1),
                    ..Default::default()
                },
                "breaker.max_open_time",
            ),
            (
                BreakerConfig {
                    open_time: Duration::ZERO,
                    ..Default::default()
                },
                "breaker.open_time",
            ),
            (
                BreakerConfig {
                    half_open_max_probes: 0,
                    ..Default::default()
                },
                "breaker.half_open_max_probes",
            ),
            (
                BreakerConfig {
                    half_open_successes: 0,
                    ..Default::default()
                },
                "breaker.half_open_successes",
            ),
            (
                BreakerConfig {
                    failure_on: vec![],
                    ..Default::default()
                },
                "breaker.failure_on",
            ),
            (
                BreakerConfig {
                    slow_call: Some(Duration::ZERO),
                    ..Default::default()
                },
                "breaker.slow_call",
            ),
            (
                BreakerConfig {
                    failure_rate: Some(FailureRateConfig {
                        threshold_percent: 0,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "breaker.failure_rate.threshold_percent",
            ),
            (
                BreakerConfig {
                    failure_rate: Some(FailureRateConfig {
                        minimum_calls: 0,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                "breaker.failure_rate.minimum_calls",
            ),
        ];
        for (config, field) in cases {
            let err = config.validate().expect_err(field);
            assert_eq!(err.field, field);
        }
    }

    #[test]
    fn a_rate_rule_alone_is_enough() {
        let c = BreakerConfig {
            consecutive_failures: 0,
            failure_rate: Some(FailureRateConfig::default()),
            ..Default::default()
        };
        assert!(c.validate().is_ok());
    }
}
