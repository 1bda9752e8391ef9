//! Two registries (two replicas) sharing one store: a trip in one is honoured by the other, store
//! errors never fail a call, and local breakers stay local.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use frontdesk_clock::ManualClock;
use frontdesk_resilience::{
    BreakerConfig, BreakerRegistry, BreakerState, Mode, Outcome, RegistryError, SyncReport,
};
use frontdesk_store::Store;
use frontdesk_store::memory::MemoryStore;
use frontdesk_store::redis::{RedisSettings, RedisStore};
use support::{FlakyStore, T0, call, ms, secs, unique_target};

fn shared_config() -> BreakerConfig {
    BreakerConfig {
        shared: true,
        ..Default::default()
    }
}

fn targets(entries: &[(&str, BreakerConfig)]) -> BTreeMap<String, BreakerConfig> {
    entries
        .iter()
        .map(|(name, config)| ((*name).to_owned(), config.clone()))
        .collect()
}

/// Two replicas on one clock and one store, each with a breaker named `target`.
fn replicas(
    store: Arc<dyn Store>,
    clock: &ManualClock,
    namespace: &str,
    target: &str,
    config: BreakerConfig,
) -> (BreakerRegistry, BreakerRegistry) {
    let make = || {
        let registry =
            BreakerRegistry::with_store(Arc::new(clock.clone()), Arc::clone(&store), namespace);
        registry
            .configure(&targets(&[(target, config.clone())]))
            .expect("valid");
        registry
    };
    (make(), make())
}

fn trip(registry: &BreakerRegistry, target: &str) {
    let breaker = registry.get(target).expect("configured");
    while breaker.state() == BreakerState::Closed {
        call(&breaker, Outcome::ConnectError);
    }
}

async fn a_trip_in_one_replica_is_honoured_by_the_other(store: Arc<dyn Store>, clock: ManualClock) {
    let target = unique_target("shared");
    let namespace = unique_target("ns");
    let (a, b) = replicas(store, &clock, &namespace, &target, shared_config());
    trip(&a, &target);
    assert_eq!(
        b.get(&target).map(|x| x.state()),
        Some(BreakerState::Closed)
    );

    assert_eq!(
        a.sync().await,
        SyncReport {
            published: 1,
            adopted: 0,
            store_errors: 0
        }
    );
    assert_eq!(
        b.sync().await,
        SyncReport {
            published: 0,
            adopted: 1,
            store_errors: 0
        }
    );

    let on_b = b.get(&target).expect("configured");
    let rejected = on_b.try_acquire().expect_err("replica b honours a's trip");
    assert_eq!(rejected.retry_after, secs(60));
    assert_eq!(
        on_b.snapshot().open_until_ms,
        a.get(&target).and_then(|x| x.snapshot().open_until_ms)
    );

    // Both heal on their own probes once the shared open time is over.
    clock.advance(secs(60));
    for registry in [&a, &b] {
        let breaker = registry.get(&target).expect("configured");
        call(&breaker, Outcome::Success);
        call(&breaker, Outcome::Success);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }
    // Nothing is re-adopted after healing: the record's open period is over.
    assert_eq!(a.sync().await.adopted, 0);
    assert_eq!(b.sync().await.adopted, 0);
}

#[tokio::test]
async fn memory_store_shares_a_trip() {
    let clock = ManualClock::new(T0);
    let store = Arc::new(MemoryStore::new(Arc::new(clock.clone())));
    a_trip_in_one_replica_is_honoured_by_the_other(store, clock).await;
}

#[tokio::test]
async fn redis_store_shares_a_trip() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let store = RedisStore::new(&RedisSettings {
        url,
        prefix: format!("{}:", unique_target("resilience-test")),
        timeout: secs(2),
        connect_timeout: secs(2),
    })
    .expect("valid url");
    store
        .ping()
        .await
        .expect("a Redis server is reachable at REDIS_URL");
    // Redis expires records on its own clock; the open-until instants are compared on ours.
    let clock = ManualClock::new(frontdesk_clock::Clock::now_ms(
        &frontdesk_clock::SystemClock,
    ));
    a_trip_in_one_replica_is_honoured_by_the_other(Arc::new(store), clock).await;
}

#[tokio::test]
async fn a_failed_probe_anywhere_reopens_everywhere_for_longer() {
    let clock = ManualClock::new(T0);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(clock.clone())));
    let target = unique_target("shared");
    let (a, b) = replicas(store, &clock, "", &target, shared_config());
    trip(&a, &target);
    a.sync().await;
    b.sync().await;
    clock.advance(secs(60));
    // b's probe fails: b re-opens for 120 s and so must a.
    call(&b.get(&target).expect("configured"), Outcome::Timeout);
    assert_eq!(b.sync().await.published, 1);
    assert_eq!(a.sync().await.adopted, 1);
    let on_a = a.get(&target).expect("configured");
    assert_eq!(on_a.try_acquire().expect_err("open").retry_after, secs(120));
    assert_eq!(on_a.snapshot().trips, 2);
}

#[tokio::test]
async fn a_local_breaker_is_not_shared() {
    let clock = ManualClock::new(T0);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::new(clock.clone())));
    let target = unique_target("local");
    let (a, b) = replicas(store, &clock, "", &target, BreakerConfig::default());
    trip(&a, &target);
    assert_eq!(a.sync().await.published, 0);
    assert_eq!(b.sync().await.adopted, 0);
    assert_eq!(
        b.get(&target).map(|x| x.state()),
        Some(BreakerState::Closed)
    );
}

#[tokio::test]
async fn store_errors_never_fail_a_call_and_the_trip_is_published_later() {
    let clock = ManualClock::new(T0);
    let flaky = Arc::new(FlakyStore::new(clock.clone()));
    let store: Arc<dyn Store> = flaky.clone();
    let target = unique_target("flaky");
    let (a, b) = replicas(store, &clock, "", &target, shared_config());
    flaky.failing.store(true, Ordering::SeqCst);

    let on_a = a.get(&target).expect("configured");
    call(&on_a, Outcome::Success); // admitted and recorded while the store is down
    trip(&a, &target);
    let report = a.sync().await;
    assert_eq!((report.published, report.store_errors), (0, 2));
    assert_eq!(on_a.state(), BreakerState::Open, "local state still works");
    assert_eq!(b.sync().await.store_errors, 1);
    assert_eq!(
        b.get(&target).map(|x| x.state()),
        Some(BreakerState::Closed)
    );

    flaky.failing.store(false, Ordering::SeqCst);
    clock.advance(ms(500));
    assert_eq!(a.sync().await.published, 1, "the failed write is retried");
    assert_eq!(b.sync().await.adopted, 1);
    let rejected = b
        .get(&target)
        .expect("configured")
        .try_acquire()
        .expect_err("open");
    assert_eq!(rejected.retry_after, ms(59_500));
}

#[tokio::test]
async fn a_malformed_record_is_ignored() {
    let clock = ManualClock::new(T0);
    let memory = Arc::new(MemoryStore::new(Arc::new(clock.clone())));
    let target = unique_target("garbage");
    memory.store(&format!("breaker:{target}"), b"{not json", secs(60));
    let store: Arc<dyn Store> = memory;
    let (a, _b) = replicas(store, &clock, "", &target, shared_config());
    assert_eq!(a.sync().await, SyncReport::default());
    assert_eq!(
        a.get(&target).map(|x| x.state()),
        Some(BreakerState::Closed)
    );
}

#[tokio::test]
async fn sync_moves_due_breakers_to_half_open_without_traffic() {
    let clock = ManualClock::new(T0);
    let registry = BreakerRegistry::new(Arc::new(clock.clone()));
    let target = unique_target("tick");
    registry
        .configure(&targets(&[(&target, BreakerConfig::default())]))
        .expect("valid");
    trip(&registry, &target);
    clock.advance(secs(60));
    registry.sync().await;
    let snapshots = registry.snapshots();
    assert_eq!(snapshots.len(), 1);
    assert_eq!(snapshots[0].state, BreakerState::HalfOpen);
    assert_eq!(snapshots[0].last_transition_ms, T0 + 60_000);
}

#[test]
fn registry_admin_and_configuration() {
    let clock = ManualClock::new(T0);
    let registry = BreakerRegistry::new(Arc::new(clock));
    let (x, y) = (unique_target("x"), unique_target("y"));
    registry
        .configure(&targets(&[
            (&x, BreakerConfig::default()),
            (&y, BreakerConfig::default()),
        ]))
        .expect("valid");
    let names: Vec<String> = registry.snapshots().into_iter().map(|s| s.target).collect();
    assert_eq!(names, vec![x.clone(), y.clone()]);

    let snap = registry.force(&x, Mode::ForcedOpen).expect("known target");
    assert_eq!(snap.state, BreakerState::ForcedOpen);
    assert!(registry.get(&x).expect("configured").try_acquire().is_err());
    assert!(matches!(
        registry.force("nope", Mode::Auto),
        Err(RegistryError::UnknownTarget)
    ));

    // An invalid entry rejects the whole configuration and changes nothing.
    let invalid = BreakerConfig {
        half_open_successes: 0,
        ..Default::default()
    };
    let err = registry
        .configure(&targets(&[(&x, BreakerConfig::default()), (&y, invalid)]))
        .expect_err("invalid");
    assert!(err.to_string().contains("half_open_successes"), "{err}");
    assert_eq!(registry.snapshots().len(), 2);

    // Reconfiguring keeps x's state and removes y.
    registry
        .configure(&targets(&[(&x, BreakerConfig::default())]))
        .expect("valid");
    assert!(registry.get(&y).is_none());
    assert_eq!(
        registry.get(&x).map(|b| b.state()),
        Some(BreakerState::ForcedOpen)
    );
}
