//! Redis trouble never fails an operation: fallback per mode, error counting, degraded health,
//! and recovery without rebuilding the store.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{RedisServer, eventually, free_port, unique_prefix};
use frontdesk_clock::SystemClock;
use frontdesk_store::metrics::store_errors;
use frontdesk_store::{
    Backend, FallbackStore, LimitFallback, MemoryStore, Rate, RedisSettings, RedisStore, Store,
    StoreConfig, StoreHandle, build,
};

fn hourly(burst: u32) -> Rate {
    Rate {
        count: 1,
        period: Duration::from_secs(3_600),
        burst,
    }
}

/// A fallback store whose primary points at a port nothing listens on.
fn unreachable(limits: LimitFallback) -> FallbackStore {
    let redis = RedisStore::new(&RedisSettings {
        url: format!("redis://:hunter2@127.0.0.1:{}/0", free_port()),
        prefix: unique_prefix("down"),
        timeout: Duration::from_millis(200),
        connect_timeout: Duration::from_millis(200),
    })
    .unwrap();
    let local = Arc::new(MemoryStore::new(Arc::new(SystemClock)));
    FallbackStore::new(Arc::new(redis), local, limits)
}

#[tokio::test]
async fn redis_down_falls_back_to_local_limits_and_reports_degraded() {
    let store = unreachable(LimitFallback::Local);
    let errors_before = store_errors("redis");

    let passed = count_passes(&store, "call:a", hourly(3), 5).await;
    assert_eq!(passed, 3, "the local limiter enforces the burst exactly");
    assert!(store.is_degraded());
    assert!(
        store_errors("redis") > errors_before,
        "the failure is counted"
    );

    let health = store.health();
    assert_eq!(health.backend, "redis");
    assert!(health.degraded);
    assert!(!health.reachable);
    let error = health.last_error.clone().expect("last error is reported");
    let json = serde_json::to_string(&health).unwrap();
    assert!(
        !json.contains("hunter2") && !error.contains("hunter2"),
        "{json}"
    );
    assert!(json.contains("\"degraded\":true"), "{json}");
}

#[tokio::test]
async fn redis_down_with_allow_lets_every_limited_request_pass() {
    let store = unreachable(LimitFallback::Allow);
    assert_eq!(count_passes(&store, "call:a", hourly(3), 10).await, 10);
    assert!(store.is_degraded());
}

#[tokio::test]
async fn redis_down_with_deny_denies_every_limited_request() {
    let store = unreachable(LimitFallback::Deny);
    let d = store.gcra("call:a", hourly(3), 1).await.unwrap();
    assert!(!d.allowed);
    assert_eq!(d.retry_after, Duration::from_secs(3_600));
    assert_eq!(count_passes(&store, "call:a", hourly(3), 10).await, 0);
}

#[tokio::test]
async fn redis_down_serves_key_value_operations_locally() {
    let store = unreachable(LimitFallback::Local);
    let ttl = Duration::from_secs(60);
    assert!(store.set_if_absent("idem", b"1", ttl).await.unwrap());
    assert!(!store.set_if_absent("idem", b"2", ttl).await.unwrap());
    assert_eq!(store.get("idem").await.unwrap().as_deref(), Some(&b"1"[..]));
    store.set("k", b"v", ttl).await.unwrap();
    store.delete("k").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
    assert_eq!(store.bump_generation("g").await.unwrap(), 1);
    assert_eq!(store.generation("g").await.unwrap(), 1);
    assert!(
        store.ping().await.is_err(),
        "ping reports the primary's state"
    );
}

#[tokio::test]
async fn building_against_a_dead_redis_does_not_block_and_degrades() {
    let mut cfg = StoreConfig {
        backend: Backend::Redis,
        ..StoreConfig::default()
    };
    cfg.redis.url = Some(format!("redis://127.0.0.1:{}", free_port()));
    cfg.redis.prefix = unique_prefix("build_down");
    let handle = build(&cfg, Arc::new(SystemClock)).await.unwrap();
    // The first probe runs in the background and finds Redis down.
    eventually(
        "store reports degraded",
        Duration::from_secs(10),
        || async { handle.health().degraded },
    )
    .await;
    let d = handle.store().gcra("k", hourly(1), 1).await.unwrap();
    assert!(d.allowed, "local fallback answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_mid_run_falls_back_then_shared_limiting_resumes() {
    let mut server = RedisServer::start(free_port()).await;
    let mut cfg = StoreConfig {
        backend: Backend::Redis,
        ..StoreConfig::default()
    };
    cfg.redis.url = Some(server.url());
    cfg.redis.prefix = unique_prefix("restart");
    cfg.redis.timeout = Duration::from_millis(500);
    cfg.redis.probe_interval = Duration::from_millis(100);
    // Two replicas sharing one Redis.
    let a = build(&cfg, Arc::new(SystemClock)).await.unwrap();
    let b = build(&cfg, Arc::new(SystemClock)).await.unwrap();
    wait_healthy(&[&a, &b]).await;
    assert_eq!(
        shared_passes(&a, &b, "before", 4).await,
        4,
        "one limit across replicas"
    );

    server.stop();
    for replica in [&a, &b] {
        eventually(
            "replica notices Redis is gone",
            Duration::from_secs(10),
            || async {
                replica
                    .store()
                    .gcra("probe", hourly(1_000), 1)
                    .await
                    .unwrap();
                replica.health().degraded
            },
        )
        .await;
    }
    // Degraded: each replica limits on its own, so together they pass twice the burst.
    assert_eq!(shared_passes(&a, &b, "during", 4).await, 8);
    assert!(a.health().last_error.is_some());

    server.restart().await;
    wait_healthy(&[&a, &b]).await;
    assert!(a.health().reachable && a.health().last_ping_ms.is_some());
    assert_eq!(
        shared_passes(&a, &b, "after", 4).await,
        4,
        "shared limiting resumed"
    );
}

async fn wait_healthy(replicas: &[&StoreHandle]) {
    for replica in replicas {
        eventually("replica reaches Redis", Duration::from_secs(15), || async {
            // Traffic (and health polls) drive the recovery probes.
            replica
                .store()
                .gcra("probe", hourly(1_000), 1)
                .await
                .unwrap();
            !replica.check_health().await.degraded
        })
        .await;
    }
}

/// Alternates 10 requests between two replicas on one key with the given burst.
async fn shared_passes(a: &StoreHandle, b: &StoreHandle, key: &str, burst: u32) -> usize {
    let mut passed = 0;
    for i in 0..10 {
        let replica = if i % 2 == 0 { a } else { b };
        if replica
            .store()
            .gcra(key, hourly(burst), 1)
            .await
            .unwrap()
            .allowed
        {
            passed += 1;
        }
    }
    passed
}

async fn count_passes(store: &dyn Store, key: &str, rate: Rate, n: usize) -> usize {
    let mut passed = 0;
    for _ in 0..n {
        if store.gcra(key, rate, 1).await.unwrap().allowed {
            passed += 1;
        }
    }
    passed
}
