//! Per-target upstream timeouts. Pingora sets none by default, so every peer gets these.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Timeouts of one upstream target. `total` bounds the whole exchange including retries and
/// their backoff; the others bound one attempt's phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// Establishing the connection (TCP and TLS).
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub connect: Duration,
    /// Waiting for each read from the upstream (headers or the next body chunk).
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub read: Duration,
    /// Waiting for each write to the upstream.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub write: Duration,
    /// The whole exchange, all attempts and backoff included.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub total: Duration,
    /// How long a pooled connection may sit unused before it is closed.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(10),
            write: Duration::from_secs(10),
            total: Duration::from_secs(15),
            idle: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fields = [
            ("timeouts.connect", self.connect),
            ("timeouts.read", self.read),
            ("timeouts.write", self.write),
            ("timeouts.total", self.total),
            ("timeouts.idle", self.idle),
        ];
        if let Some((field, _)) = fields.iter().find(|(_, d)| d.is_zero()) {
            return Err(ConfigError::new(field, "must be greater than zero"));
        }
        if self.total < self.connect {
            return Err(ConfigError::new(
                "timeouts.total",
                "must be at least connect",
            ));
        }
        Ok(())
    }

    /// What is left of `total` after `elapsed`; `None` once it is used up.
    pub fn remaining(&self, elapsed: Duration) -> Option<Duration> {
        self.total
            .checked_sub(elapsed)
            .filter(|left| !left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounded() {
        let t = Timeouts::default();
        assert!(t.validate().is_ok());
        assert_eq!(t.connect, Duration::from_secs(2));
        assert_eq!(t.total, Duration::from_secs(15));
    }

    #[test]
    fn rejects_zero_and_inverted() {
        let zero = Timeouts {
            read: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(zero.validate().map_err(|e| e.field), Err("timeouts.read"));
        let inverted = Timeouts {
            total: Duration::from_secs(1),
            ..Default::default()
        };
        assert_eq!(
            inverted.validate().map_err(|e| e.field),
            Err("timeouts.total")
        );
    }

    #[test]
    fn remaining_counts_down_to_none() {
        let t = Timeouts::default();
        assert_eq!(
            t.remaining(Duration::from_secs(5)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(t.remaining(Duration::from_secs(15)), None);
        assert_eq!(t.remaining(Duration::from_secs(20)), None);
    }
}
