//! A short-lived cache of the occupancy the local calendar reads for free slots.
//!
//! Reading SQLite means a hop to the blocking pool and back (two thread wake-ups) for every
//! `check_availability`, which costs more than the query. Answers are cached per tenant scope
//! and time range. Every write made through this calendar moves a generation counter, which
//! invalidates everything at once — also a read that raced with the write, because a read only
//! stores what it fetched under the generation it started with. [`TTL`] bounds what another
//! process writing the same database can leave stale; a booking re-checks its slot inside its
//! own transaction either way.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How long a cached read is used when nothing in this process wrote meanwhile.
pub(crate) const TTL_MS: u64 = 1_000;
/// Entries kept at most; past it the cache starts over (ranges move with the clock).
const MAX_ENTRIES: usize = 4_096;

/// A hold as free-slot reads see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeldRow {
    pub resource: String,
    pub call_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub expires_ms: i64,
}

/// What keeps slots from being free: bookings' granules per resource, and live holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Taken {
    pub booked: HashMap<String, HashSet<i64>>,
    pub held: Vec<HeldRow>,
}

/// `(company, branch, from_ms, to_ms)`.
pub(crate) type RangeKey = (String, String, i64, i64);

struct Entry {
    generation: u64,
    fetched_ms: u64,
    taken: Arc<Taken>,
}

#[derive(Default)]
pub(crate) struct TakenCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<RangeKey, Entry>>,
}

impl TakenCache {
    /// The generation a read starts under; pass it back to [`Self::store`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Invalidates every cached read; call after each committed write.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn get(&self, key: &RangeKey, now_ms: u64) -> Option<Arc<Taken>> {
        let generation = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && now_ms.saturating_sub(e.fetched_ms) < TTL_MS)
            .map(|e| e.taken.clone())
    }

    /// Keeps a read made under `generation`, unless a write happened since.
    pub(crate) fn store(&self, key: RangeKey, generation: u64, now_ms: u64, taken: Arc<Taken>) {
        if generation != self.generation() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                generation,
                fetched_ms: now_ms,
                taken,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RangeKey {
        ("acme".into(), "main".into(), 0, 3_600_000)
    }

    fn taken(slot: i64) -> Arc<Taken> {
        Arc::new(Taken {
            booked: HashMap::from([("room".to_owned(), HashSet::from([slot]))]),
            held: Vec::new(),
        })
    }

    #[test]
    fn reads_expire_and_writes_invalidate() {
        let cache = TakenCache::default();
        let g = cache.generation();
        cache.store(key(), g, 10_000, taken(1));
        assert_eq!(cache.get(&key(), 10_500), Some(taken(1)));
        assert_eq!(cache.get(&key(), 10_000 + TTL_MS), None, "expired");

        cache.store(key(), cache.generation(), 20_000, taken(2));
        cache.invalidate();
        assert_eq!(cache.get(&key(), 20_001), None, "a write invalidates");
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_kept() {
        let cache = TakenCache::default();
        let started_under = cache.generation();
        cache.invalidate(); // a write commits while the read is in flight
        cache.store(key(), started_under, 1_000, taken(1));
        assert_eq!(cache.get(&key(), 1_001), None);
    }
}
