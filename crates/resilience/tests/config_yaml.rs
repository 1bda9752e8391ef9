//! The YAML shapes documented in docs/resilience.md parse into the expected values, unknown fields
//! are rejected, and omitted fields take the documented defaults.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use std::time::Duration;

use frontdesk_resilience::{
    BreakerConfig, FailureRateConfig, Mode, OutcomeClass, RetryBudgetConfig, RetryPolicy, Timeouts,
};

#[test]
fn a_full_breaker_config_parses() {
    let yaml = r#"
consecutive_failures: 5
failure_rate:
  window: 60s
  minimum_calls: 20
  threshold_percent: 50
slow_call: 5s
open_time: 60s
open_time_multiplier: 2.0
max_open_time: 5m
jitter: 0.1
half_open_max_probes: 1
half_open_successes: 2
failure_on: [connect_error, timeout, status_5xx, status_429]
shared: true
"#;
    let config: BreakerConfig = serde_yaml::from_str(yaml).expect("parses");
    assert_eq!(
        config.failure_rate,
        Some(FailureRateConfig {
            window: Duration::from_secs(60),
            minimum_calls: 20,
            threshold_percent: 50
        })
    );
    assert_eq!(config.slow_call, Some(Duration::from_secs(5)));
    assert_eq!(config.max_open_time, Duration::from_secs(300));
    assert!(config.failure_on.contains(&OutcomeClass::Status429));
    assert!(config.shared);
    assert!(config.validate().is_ok());
}

#[test]
fn an_empty_breaker_config_is_the_default() {
    let config: BreakerConfig = serde_yaml::from_str("{}").expect("parses");
    assert_eq!(config, BreakerConfig::default());
}

#[test]
fn unknown_fields_and_outcomes_are_rejected() {
    assert!(serde_yaml::from_str::<BreakerConfig>("consecutive_failure: 5").is_err());
    assert!(serde_yaml::from_str::<BreakerConfig>("failure_on: [status_4xx]").is_err());
    assert!(serde_yaml::from_str::<Timeouts>("conect: 1s").is_err());
    assert!(serde_yaml::from_str::<RetryPolicy>("budget: {percent: 20, ttl: 10s}").is_err());
}

#[test]
fn timeouts_and_retry_parse() {
    let timeouts: Timeouts = serde_yaml::from_str("connect: 500ms\ntotal: 8s").expect("parses");
    assert_eq!(timeouts.connect, Duration::from_millis(500));
    assert_eq!(timeouts.total, Duration::from_secs(8));
    assert_eq!(
        timeouts.read,
        Duration::from_secs(10),
        "omitted fields keep their default"
    );

    let yaml = r#"
max_attempts: 3
backoff_base: 25ms
backoff_cap: 400ms
idempotent_only: true
retry_on: [connect_error, timeout]
budget: { percent: 10, min_per_second: 1, window: 30s }
"#;
    let retry: RetryPolicy = serde_yaml::from_str(yaml).expect("parses");
    assert_eq!(retry.max_attempts, 3);
    assert_eq!(retry.backoff_base, Duration::from_millis(25));
    assert_eq!(
        retry.budget,
        RetryBudgetConfig {
            percent: 10,
            min_per_second: 1,
            window: Duration::from_secs(30)
        }
    );
    assert!(retry.validate().is_ok());
}

#[test]
fn admin_modes_parse_in_snake_case() {
    let mode: Mode = serde_json::from_str("\"forced_open\"").expect("parses");
    assert_eq!(mode, Mode::ForcedOpen);
    assert!(serde_json::from_str::<Mode>("\"ForcedOpen\"").is_err());
}

#[test]
fn the_json_schema_names_every_field() {
    let schema = serde_json::to_string(&schemars::schema_for!(BreakerConfig)).expect("serialises");
    for field in [
        "consecutive_failures",
        "failure_rate",
        "slow_call",
        "half_open_max_probes",
        "shared",
    ] {
        assert!(schema.contains(field), "{field} missing from the schema");
    }
}

#[test]
fn the_documented_example_parses_and_validates() {
    let doc = include_str!("../../../docs/resilience.md");
    let start = doc.find("```yaml\nupstreams:").expect("example present") + "```yaml\n".len();
    let end = start + doc[start..].find("```").expect("example closed");
    let example: serde_yaml::Value = serde_yaml::from_str(&doc[start..end]).expect("valid YAML");
    let app = &example["upstreams"]["app"];

    let breaker: BreakerConfig = serde_yaml::from_value(app["breaker"].clone()).expect("breaker");
    breaker.validate().expect("valid breaker");
    // Apart from the two rules that are off by default, the example shows the defaults.
    let defaults = BreakerConfig {
        failure_rate: None,
        slow_call: None,
        ..breaker.clone()
    };
    assert_eq!(defaults, BreakerConfig::default());
    assert_eq!(breaker.failure_rate, Some(FailureRateConfig::default()));

    let timeouts: Timeouts = serde_yaml::from_value(app["timeouts"].clone()).expect("timeouts");
    assert_eq!(timeouts, Timeouts::default());
    let retry: RetryPolicy = serde_yaml::from_value(app["retry"].clone()).expect("retry");
    assert_eq!(retry, RetryPolicy::default());
}
