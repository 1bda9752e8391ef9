//! `booking_events` in `frontdesk.yaml`: how the delivery worker sends and retries.

use std::time::Duration;

use frontdesk_resilience::BreakerConfig;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BookingEventsConfig {
    /// How often the worker looks for due events (a booking wakes it at once).
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub poll: Duration,
    /// The longest one delivery attempt may take (connect included); longer is a failure.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub timeout: Duration,
    /// How long an event is retried before it is dead-lettered.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub retry_for: Duration,
    /// The wait after the first failure; it doubles per failure up to `backoff_max`.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub backoff_base: Duration,
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub backoff_max: Duration,
    /// Events claimed per round.
    pub batch: u32,
    /// Per tenant endpoint: opens after consecutive failures, so a dead receiver is not
    /// hammered; its events wait their backoff meanwhile.
    pub breaker: BreakerConfig,
}

impl Default for BookingEventsConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            // Like the webhook services practices already use: a day.
            retry_for: Duration::from_secs(24 * 3600),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            batch: 50,
            breaker: BreakerConfig::default(),
        }
    }
}

impl BookingEventsConfig {
    /// Problems as `(field, reason)`.
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        for (field, value) in [
            ("poll", self.poll),
            ("timeout", self.timeout),
            ("retry_for", self.retry_for),
            ("backoff_base", self.backoff_base),
            ("backoff_max", self.backoff_max),
        ] {
            if value.is_zero() {
                return Err((field, "must be more than 0s"));
            }
        }
        if self.backoff_max < self.backoff_base {
            return Err(("backoff_max", "must be at least backoff_base"));
        }
        if self.batch == 0 {
            return Err(("batch", "must be at least 1"));
        }
        if self.breaker.validate().is_err() {
            return Err(("breaker", "is not a valid breaker configuration"));
        }
        Ok(())
    }

    /// How long a claim holds an event: longer than any attempt can take, so no other
    /// replica sends it meanwhile.
    pub fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(5)
    }
}
