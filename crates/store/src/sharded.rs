//! A sharded, expiring string-keyed map: the storage engine under the memory store and the local
//! limiter.
//!
//! It owns three things and nothing else: spreading keys over independently locked shards (so
//! concurrent requests rarely contend), treating expired entries as absent, and keeping memory
//! bounded under key churn. Expired entries are swept from a shard when it has grown to twice its
//! size after the previous sweep, so the sweep cost is amortised over the inserts that caused it;
//! an optional entry cap then evicts the entries closest to expiry.
//!
//! Why not `moka`, the usual expiring cache: moka measures expiry on its own clock, while every
//! expiry here (dedupe records, idempotency markers, limiter state) must follow the injected
//! `frontdesk_clock::Clock`, so that tests and replicas decide on one notion of now; and the
//! limiter needs a synchronous read-modify-write of one key on the request path, without moka's
//! background housekeeping. What is left is a hash table per shard under a mutex: this file.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use parking_lot::Mutex;

/// Shards per map. A power of two so the shard index is a mask; 64 keeps contention negligible on
/// the core counts a proxy replica runs on while costing only a few KiB when empty.
const SHARDS: usize = 64;

/// A shard is not swept before it holds this many entries: sweeping tiny shards buys nothing.
const MIN_SWEEP_LEN: usize = 64;

/// A value that stops existing at some instant (in the caller's time unit).
pub(crate) trait Expiring {
    /// The instant from which the value counts as absent.
    fn expires_at(&self) -> u64;
}

/// What an [`ShardedMap::update`] callback wants done with the key.
pub(crate) enum Write<V> {
    /// Leave the stored value as it is (or absent).
    Keep,
    /// Store this value.
    Put(V),
    /// Remove the key.
    Remove,
}

struct Slot<V> {
    hash: u64,
    key: Box<str>,
    value: V,
}

struct Shard<V> {
    table: HashTable<Slot<V>>,
    /// The length at which the next sweep runs.
    sweep_at: usize,
}

pub(crate) struct ShardedMap<V> {
    shards: Box<[Mutex<Shard<V>>]>,
    // A randomly seeded hasher: keys are partly client-controlled (addresses, header values), so
    // the seed keeps collisions from being chosen by a client.
    hasher: DefaultHashBuilder,
    /// Most entries one shard may hold (`usize::MAX` when unbounded).
    shard_cap: usize,
}

impl<V: Expiring> ShardedMap<V> {
    /// A map holding at most `max_entries` entries (at least one per shard; `None`: bounded only by
    /// expiry).
    pub(crate) fn new(max_entries: Option<usize>) -> Self {
        // Rounded down so the total never exceeds `max_entries` (for caps of at least one per shard).
        let shard_cap = max_entries.map_or(usize::MAX, |max| (max / SHARDS).max(1));
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    table: HashTable::new(),
                    sweep_at: MIN_SWEEP_LEN,
                })
            })
            .collect();
        Self {
            shards,
            hasher: DefaultHashBuilder::default(),
            shard_cap,
        }
    }

    /// Runs `f` on the live value of `key` (`None` when absent or expired) under the shard lock,
    /// then applies the [`Write`] it returns. This is the single atomic read-modify-write primitive.
    pub(crate) fn update<R>(
        &self,
        key: &str,
        now: u64,
        f: impl FnOnce(Option<&mut V>) -> (R, Write<V>),
    ) -> R {
        let hash = self.hasher.hash_one(key);
        // The high bits pick the shard; the table uses the low bits, so the two stay independent.
        let mut shard = self.shards[(hash >> 58) as usize & (SHARDS - 1)].lock();
        let eq = |slot: &Slot<V>| &*slot.key == key;

        if let Some(slot) = shard.table.find_mut(hash, eq) {
            let live = slot.value.expires_at() > now;
            let (out, write) = f(if live { Some(&mut slot.value) } else { None });
            match write {
                Write::Put(value) => slot.value = value,
                Write::Keep if live => {}
                // An expired entry the caller did not replace is dead weight: drop it now.
                Write::Keep | Write::Remove => {
                    if let Ok(occupied) = shard.table.find_entry(hash, eq) {
                        occupied.remove();
                    }
                }
            }
            return out;
        }

        let (out, write) = f(None);
        if let Write::Put(value) = write {
            shard.make_room(now, self.shard_cap);
            shard.table.insert_unique(
                hash,
                Slot {
                    hash,
                    key: key.into(),
                    value,
                },
                |slot| slot.hash,
            );
        }
        out
    }

    /// Live and not-yet-swept entries across all shards.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().table.len())
            .sum()
    }
}

impl<V: Expiring> Shard<V> {
    /// Called before inserting a new key: sweeps expired entries once the shard has doubled since
    /// the last sweep, and evicts the entries nearest to expiry when the cap would be exceeded.
    fn make_room(&mut self, now: u64, cap: usize) {
        if self.table.len() < self.sweep_at && self.table.len() < cap {
            return;
        }
        self.table.retain(|slot| slot.value.expires_at() > now);
        if self.table.len() >= cap {
            self.evict_nearest_expiry(cap);
        }
        self.sweep_at = (self.table.len() * 2).max(MIN_SWEEP_LEN);
    }

    /// Evicts down to 7/8 of `cap` (so the next few inserts do not evict again), dropping the
    /// entries that would have expired first: for rate-limit state those are the buckets closest
    /// to full, for cached values the ones closest to their end anyway.
    fn evict_nearest_expiry(&mut self, cap: usize) {
        let keep = cap - cap / 8 - 1;
        let mut expiries: Vec<u64> = self.table.iter().map(|s| s.value.expires_at()).collect();
        let evict = expiries.len().saturating_sub(keep);
        if evict == 0 {
            return;
        }
        let (_, threshold, _) = expiries.select_nth_unstable(evict - 1);
        let threshold = *threshold;
        let mut budget = evict;
        self.table.retain(|slot| {
            if budget > 0 && slot.value.expires_at() <= threshold {
                budget -= 1;
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Until(u64);
    impl Expiring for Until {
        fn expires_at(&self) -> u64 {
            self.0
        }
    }

    fn put(map: &ShardedMap<Until>, key: &str, now: u64, until: u64) {
        map.update(key, now, |_| ((), Write::Put(Until(until))));
    }

    fn live(map: &ShardedMap<Until>, key: &str, now: u64) -> bool {
        map.update(key, now, |v| (v.is_some(), Write::Keep))
    }

    #[test]
    fn expired_values_read_as_absent_and_are_dropped() {
        let map = ShardedMap::new(None);
        put(&map, "a", 0, 10);
        assert!(live(&map, "a", 9));
        assert!(!live(&map, "a", 10));
        assert_eq!(map.len(), 0, "reading an expired entry removes it");
    }

    #[test]
    fn churn_stays_bounded_by_sweeps() {
        let map = ShardedMap::new(None);
        for i in 0..100_000u64 {
            // Each key lives 10 ticks; at most ~10 are live at any time.
            put(&map, &format!("k{i}"), i, i + 10);
        }
        assert!(map.len() < SHARDS * MIN_SWEEP_LEN * 2, "len {}", map.len());
    }

    #[test]
    fn cap_evicts_nearest_expiry_first() {
        let map = ShardedMap::new(Some(SHARDS * 16));
        for i in 0..10_000u64 {
            put(&map, &format!("k{i}"), 0, 1_000_000 + i);
        }
        assert!(map.len() <= SHARDS * 16, "len {}", map.len());
        assert!(live(&map, "k9999", 0), "the latest-expiring entry survives");
    }
}
