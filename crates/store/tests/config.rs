//! The `store:` configuration: YAML shape, defaults, validation, and building.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use std::sync::Arc;
use std::time::Duration;

use frontdesk_clock::ManualClock;
use frontdesk_store::{Backend, BuildError, LimitFallback, Rate, StoreConfig, StoreHealth, build};

#[test]
fn defaults_are_memory_with_sensible_redis_settings() {
    let cfg: StoreConfig = serde_yaml::from_str("{}").unwrap();
    assert_eq!(cfg, StoreConfig::default());
    assert_eq!(cfg.backend, Backend::Memory);
    assert_eq!(cfg.redis.prefix, "frontdesk:");
    assert_eq!(cfg.redis.timeout, Duration::from_millis(50));
    assert_eq!(cfg.fallback.limits, LimitFallback::Local);
    assert_eq!(cfg.memory.max_entries, Some(1_000_000));
}

#[test]
fn full_yaml_shape_parses() {
    let cfg: StoreConfig = serde_yaml::from_str(
        "backend: redis\n\
         redis:\n  url_env: REDIS_URL\n  prefix: \"fd:\"\n  timeout: 80ms\n  connect_timeout: 2s\n  probe_interval: 500ms\n\
         fallback:\n  limits: deny\n\
         memory:\n  max_entries: 5000\n",
    )
    .unwrap();
    assert_eq!(cfg.backend, Backend::Redis);
    assert_eq!(cfg.redis.url_env.as_deref(), Some("REDIS_URL"));
    assert_eq!(cfg.redis.prefix, "fd:");
    assert_eq!(cfg.redis.timeout, Duration::from_millis(80));
    assert_eq!(cfg.redis.connect_timeout, Duration::from_secs(2));
    assert_eq!(cfg.redis.probe_interval, Duration::from_millis(500));
    assert_eq!(cfg.fallback.limits, LimitFallback::Deny);
    assert_eq!(cfg.memory.max_entries, Some(5_000));
}

#[test]
fn unknown_fields_and_values_are_rejected() {
    assert!(serde_yaml::from_str::<StoreConfig>("backend: redis\nredis:\n  urls: x\n").is_err());
    assert!(serde_yaml::from_str::<StoreConfig>("backend: etcd\n").is_err());
    assert!(serde_yaml::from_str::<StoreConfig>("fallback:\n  limits: maybe\n").is_err());
    assert!(serde_yaml::from_str::<StoreConfig>("redis:\n  timeout: soon\n").is_err());
}

#[test]
fn schema_describes_the_section() {
    let schema = serde_json::to_string(&schemars::schema_for!(StoreConfig)).unwrap();
    for field in [
        "backend",
        "url_env",
        "prefix",
        "timeout",
        "limits",
        "max_entries",
    ] {
        assert!(schema.contains(field), "schema lacks {field}");
    }
}

#[test]
fn debug_output_hides_the_password() {
    let mut cfg = StoreConfig::default();
    cfg.redis.url = Some("redis://:hunter2@db:6379".to_owned());
    let shown = format!("{cfg:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("db:6379"), "{shown}");
}

#[tokio::test]
async fn memory_backend_builds_and_is_healthy() {
    let handle = build(&StoreConfig::default(), Arc::new(ManualClock::new(0)))
        .await
        .unwrap();
    assert_eq!(handle.store().backend(), "memory");
    assert_eq!(handle.health(), StoreHealth::memory());
    assert_eq!(handle.check_health().await, StoreHealth::memory());
    let rate = Rate {
        count: 1,
        period: Duration::from_secs(60),
        burst: 1,
    };
    assert!(handle.store().gcra("k", rate, 1).await.unwrap().allowed);
    assert!(
        !handle.local().check_rate("k", rate, 1).allowed,
        "local() is the same store"
    );
}

#[tokio::test]
async fn redis_backend_needs_exactly_one_url_source() {
    let clock = || Arc::new(ManualClock::new(0));
    let mut cfg = StoreConfig {
        backend: Backend::Redis,
        ..StoreConfig::default()
    };
    assert!(matches!(
        build(&cfg, clock()).await,
        Err(BuildError::MissingUrl)
    ));

    cfg.redis.url_env = Some("FRONTDESK_STORE_TEST_UNSET_VARIABLE".to_owned());
    let err = build(&cfg, clock()).await.unwrap_err();
    assert!(matches!(err, BuildError::UrlEnvUnset { .. }));
    assert!(
        err.to_string()
            .contains("FRONTDESK_STORE_TEST_UNSET_VARIABLE")
    );

    cfg.redis.url = Some("redis://127.0.0.1:6379".to_owned());
    assert!(matches!(
        build(&cfg, clock()).await,
        Err(BuildError::BothUrls)
    ));

    cfg.redis.url_env = None;
    cfg.redis.url = Some("mysql://:hunter2@db".to_owned());
    let err = build(&cfg, clock()).await.unwrap_err();
    assert!(matches!(err, BuildError::InvalidUrl(_)));
    assert!(!err.to_string().contains("hunter2"));
}
