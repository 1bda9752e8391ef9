//! The embedded memory backend: per-replica state with per-entry expiry on the injected clock.
//!
//! Values live in a [`ShardedMap`] whose expired entries are swept as the map grows (see
//! `sharded`), optionally capped at `max_entries`; rate limits go through a [`LocalLimiter`].
//! Every operation completes synchronously; the [`Store`] impl only wraps the inherent methods,
//! which the fallback store also calls directly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;

use crate::gcra::LocalLimiter;
use crate::sharded::{Expiring, ShardedMap, Write};
use crate::{Decision, Rate, Store, StoreError};
use frontdesk_clock::Clock;

struct Entry {
    value: Vec<u8>,
    expires_at_ms: u64,
}

impl Expiring for Entry {
    fn expires_at(&self) -> u64 {
        self.expires_at_ms
    }
}

/// In-process [`Store`]. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct MemoryStore {
    entries: ShardedMap<Entry>,
    limiter: LocalLimiter,
    // Groups are few (one per cache family and tenant) and must never expire, so they live apart
    // from the expiring entries and are never evicted by the cap.
    generations: Mutex<HashMap<String, u64>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.entries.len())
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// A store bounded only by expiry.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_max_entries(clock, None)
    }

    /// A store holding about `max_entries` values and `max_entries` limiter keys at most; past
    /// that, the entries nearest to expiry are evicted first.
    pub fn with_max_entries(clock: Arc<dyn Clock>, max_entries: Option<usize>) -> Self {
        Self {
            entries: ShardedMap::new(max_entries),
            limiter: LocalLimiter::with_max_keys(clock.clone(), max_entries),
            generations: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn expiry(&self, ttl: Duration) -> (u64, u64) {
        let now = self.clock.now_ms();
        // Same rule as Redis `PX`: a TTL below one millisecond still lives one millisecond.
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        (now, now.saturating_add(ttl_ms))
    }

    /// Synchronous [`Store::gcra`].
    pub fn check_rate(&self, key: &str, rate: Rate, cost: u32) -> Decision {
        self.limiter.check(key, rate, cost)
    }

    /// Synchronous [`Store::set_if_absent`].
    pub fn insert_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> bool {
        let (now, expires_at_ms) = self.expiry(ttl);
        self.entries.update(key, now, |current| match current {
            Some(_) => (false, Write::Keep),
            None => (
                true,
                Write::Put(Entry {
                    value: value.to_vec(),
                    expires_at_ms,
                }),
            ),
        })
    }

    /// Synchronous [`Store::get`].
    pub fn load(&self, key: &str) -> Option<Vec<u8>> {
        let now = self.clock.now_ms();
        self.entries.update(key, now, |current| {
            (current.map(|e| e.value.clone()), Write::Keep)
        })
    }

    /// Synchronous [`Store::set`].
    pub fn store(&self, key: &str, value: &[u8], ttl: Duration) {
        let (now, expires_at_ms) = self.expiry(ttl);
        let entry = Entry {
            value: value.to_vec(),
            expires_at_ms,
        };
        self.entries.update(key, now, |_| ((), Write::Put(entry)));
    }

    /// Synchronous [`Store::delete`].
    pub fn remove(&self, key: &str) {
        let now = self.clock.now_ms();
        self.entries.update(key, now, |_| ((), Write::Remove));
    }

    /// Synchronous [`Store::generation`].
    pub fn current_generation(&self, group: &str) -> u64 {
        self.generations.lock().get(group).copied().unwrap_or(0)
    }

    /// Synchronous [`Store::bump_generation`].
    pub fn next_generation(&self, group: &str) -> u64 {
        let mut generations = self.generations.lock();
        let generation = generations.entry(group.to_owned()).or_insert(0);
        *generation = generation.saturating_add(1);
        *generation
    }

    /// Values currently held (including expired ones not yet swept).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when no values are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The limiter behind [`Store::gcra`], for callers that want per-replica limits directly.
    pub fn limiter(&self) -> &LocalLimiter {
        &self.limiter
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn gcra(&self, key: &str, rate: Rate, cost: u32) -> Result<Decision, StoreError> {
        Ok(self.check_rate(key, rate, cost))
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self.insert_if_absent(key, value, ttl))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.load(key))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), StoreError> {
        self.store(key, value, ttl);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.remove(key);
        Ok(())
    }

    async fn generation(&self, group: &str) -> Result<u64, StoreError> {
        Ok(self.current_generation(group))
    }

    async fn bump_generation(&self, group: &str) -> Result<u64, StoreError> {
        Ok(self.next_generation(group))
    }

    async fn ping(&self) -> Result<Duration, StoreError> {
        Ok(Duration::ZERO)
    }
}
