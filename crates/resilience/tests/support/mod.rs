//! Helpers shared by the integration tests: a breaker on a manual clock, one-line calls, and a
//! store that can be told to fail.

#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use frontdesk_clock::ManualClock;
use frontdesk_resilience::{Breaker, BreakerConfig, Outcome};
use frontdesk_store::memory::MemoryStore;
use frontdesk_store::{Decision, Rate, Store, StoreError};

/// A fixed, realistic start time (2026-01-01T00:00:00Z).
pub const T0: u64 = 1_767_225_600_000;

/// A target name no other test uses, so metric series do not collide across parallel tests.
pub fn unique_target(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn breaker(config: BreakerConfig) -> (Breaker, ManualClock) {
    let clock = ManualClock::new(T0);
    let breaker = Breaker::new(unique_target("sm"), &config, Arc::new(clock.clone()))
        .expect("test config is valid");
    (breaker, clock)
}

pub fn call(breaker: &Breaker, outcome: Outcome) {
    call_taking(breaker, outcome, Duration::from_millis(10));
}

pub fn call_taking(breaker: &Breaker, outcome: Outcome, elapsed: Duration) {
    breaker
        .try_acquire()
        .expect("call admitted")
        .record(outcome, elapsed);
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A [`MemoryStore`] that fails every operation while `failing` is set.
pub struct FlakyStore {
    pub inner: MemoryStore,
    pub failing: AtomicBool,
}

impl FlakyStore {
    pub fn new(clock: ManualClock) -> Self {
        Self {
            inner: MemoryStore::new(Arc::new(clock)),
            failing: AtomicBool::new(false),
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("injected failure".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for FlakyStore {
    fn backend(&self) -> &'static str {
        "flaky"
    }
    async fn gcra(&self, key: &str, rate: Rate, cost: u32) -> Result<Decision, StoreError> {
        self.check()?;
        self.inner.gcra(key, rate, cost).await
    }
    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.set_if_absent(key, value, ttl).await
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.check()?;
        self.inner.get(key).await
    }
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.check()?;
        self.inner.set(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }
    async fn generation(&self, group: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.generation(group).await
    }
    async fn bump_generation(&self, group: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.bump_generation(group).await
    }
    async fn ping(&self) -> Result<Duration, StoreError> {
        self.check()?;
        self.inner.ping().await
    }
}
