//! The memory backend: exact limits on a manual clock, expiry, bounded size, generations.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use std::sync::Arc;
use std::time::Duration;

use frontdesk_clock::ManualClock;
use frontdesk_store::{MemoryStore, Rate, Store};

fn store() -> (ManualClock, MemoryStore) {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = MemoryStore::new(Arc::new(clock.clone()));
    (clock, store)
}

#[tokio::test]
async fn exactly_burst_pass_then_exactly_one_per_interval() {
    let (clock, store) = store();
    let rate = Rate {
        count: 30,
        period: Duration::from_secs(60),
        burst: 10,
    };
    for i in 0..10 {
        let d = store.gcra("call:a", rate, 1).await.unwrap();
        assert!(d.allowed, "request {i} of the burst");
        assert_eq!((d.limit, d.remaining), (10, 9 - i));
    }
    let denied = store.gcra("call:a", rate, 1).await.unwrap();
    assert!(!denied.allowed, "request 11 is denied");
    assert_eq!(denied.remaining, 0);
    assert_eq!(denied.retry_after, Duration::from_secs(2));

    // Other keys are unaffected.
    assert!(store.gcra("call:b", rate, 1).await.unwrap().allowed);

    // One emission interval (60 s / 30 = 2 s) later, exactly one more passes.
    clock.advance(Duration::from_secs(2));
    assert!(store.gcra("call:a", rate, 1).await.unwrap().allowed);
    assert!(!store.gcra("call:a", rate, 1).await.unwrap().allowed);

    // A full refill (burst * interval) restores the whole burst, and no more.
    clock.advance(Duration::from_secs(20));
    let passed = futures_count(&store, "call:a", rate, 15).await;
    assert_eq!(passed, 10);
}

async fn futures_count(store: &MemoryStore, key: &str, rate: Rate, n: usize) -> usize {
    let mut passed = 0;
    for _ in 0..n {
        if store.gcra(key, rate, 1).await.unwrap().allowed {
            passed += 1;
        }
    }
    passed
}

#[tokio::test]
async fn values_expire_on_the_clock() {
    let (clock, store) = store();
    store.set("k", b"v", Duration::from_secs(5)).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    clock.advance(Duration::from_millis(4_999));
    assert!(store.get("k").await.unwrap().is_some());
    clock.advance(Duration::from_millis(1));
    assert_eq!(store.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn set_if_absent_respects_live_entries_only() {
    let (clock, store) = store();
    let ttl = Duration::from_secs(10);
    assert!(store.set_if_absent("idem", b"1", ttl).await.unwrap());
    assert!(!store.set_if_absent("idem", b"2", ttl).await.unwrap());
    assert_eq!(store.get("idem").await.unwrap().as_deref(), Some(&b"1"[..]));
    clock.advance(ttl);
    assert!(
        store.set_if_absent("idem", b"3", ttl).await.unwrap(),
        "expired entry is absent"
    );
    store.delete("idem").await.unwrap();
    assert_eq!(store.get("idem").await.unwrap(), None);
}

#[tokio::test]
async fn memory_stays_bounded_under_key_churn() {
    let (clock, store) = store();
    // 200k distinct keys, each living 1 s, one written per millisecond: ~1000 live at a time.
    for i in 0..200_000 {
        store
            .set(&format!("dedupe:{i}"), b"x", Duration::from_secs(1))
            .await
            .unwrap();
        clock.advance(Duration::from_millis(1));
    }
    assert!(store.len() < 20_000, "held {} entries", store.len());
}

#[tokio::test]
async fn max_entries_caps_live_entries() {
    let clock = ManualClock::new(0);
    let store = MemoryStore::with_max_entries(Arc::new(clock.clone()), Some(1_000));
    for i in 0..50_000 {
        store
            .set(&format!("slot:{i}"), b"x", Duration::from_secs(3_600 + i))
            .await
            .unwrap();
    }
    assert!(store.len() <= 1_000, "held {} entries", store.len());
    // Eviction takes the entries nearest to expiry: the latest write survives.
    assert!(store.get("slot:49999").await.unwrap().is_some());
    assert_eq!(store.get("slot:0").await.unwrap(), None);
}

#[tokio::test]
async fn generations_start_at_zero_and_bump_per_group() {
    let (_clock, store) = store();
    assert_eq!(store.generation("slots:t1").await.unwrap(), 0);
    assert_eq!(store.bump_generation("slots:t1").await.unwrap(), 1);
    assert_eq!(store.bump_generation("slots:t1").await.unwrap(), 2);
    assert_eq!(store.generation("slots:t1").await.unwrap(), 2);
    assert_eq!(store.generation("slots:t2").await.unwrap(), 0);
}
