//! A short-lived cache of the occupancy the local calendar reads for free slots.
//!
//! Reading SQLite means a hop to the blocking pool and back (two thread wake-ups) for every
//! `check_availability`, which costs more than the query. Answers are cached per tenant scope
//! and time range. Every write made through this calendar moves its tenant's generation counter
//! (one of a few stripes, so a write of one practice leaves the others' reads cached), which
//! invalidates all of that tenant's reads at once — also a read that raced with the write,
//! because a read only stores what it fetched under the generation it started with. [`TTL`] bounds what another
//! process writing the same database can leave stale; a booking re-checks its slot inside its
//! own transaction either way.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::directory::TenantScope;

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

/// Generation stripes: tenants that share one only invalidate each other's reads.
const STRIPES: usize = 32;

#[derive(Default)]
pub(crate) struct TakenCache {
    generations: [AtomicU64; STRIPES],
    entries: Mutex<HashMap<RangeKey, Entry>>,
}

fn stripe(company: &str, branch: &str) -> usize {
    let mut hasher = DefaultHasher::new();
    (company, branch).hash(&mut hasher);
    usize::try_from(hasher.finish() % STRIPES as u64).unwrap_or(0)
}

impl TakenCache {
    fn counter(&self, company: &str, branch: &str) -> &AtomicU64 {
        &self.generations[stripe(company, branch)]
    }

    /// The generation a read of the tenant starts under; pass it back to [`Self::store`].
    pub(crate) fn generation(&self, scope: &TenantScope) -> u64 {
        self.counter(&scope.company_id, &scope.branch_id)
            .load(Ordering::Acquire)
    }

    /// Invalidates the tenant's cached reads; call after each of its committed writes.
    pub(crate) fn invalidate(&self, scope: &TenantScope) {
        self.counter(&scope.company_id, &scope.branch_id)
            .fetch_add(1, Ordering::AcqRel);
    }

    fn generation_of(&self, key: &RangeKey) -> u64 {
        self.counter(&key.0, &key.1).load(Ordering::Acquire)
    }

    pub(crate) fn get(&self, key: &RangeKey, now_ms: u64) -> Option<Arc<Taken>> {
        let generation = self.generation_of(key);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && now_ms.saturating_sub(e.fetched_ms) < TTL_MS)
            .map(|e| e.taken.clone())
    }

    /// Keeps a read made under `generation`, unless a write happened since.
    pub(crate) fn store(&self, key: RangeKey, generation: u64, now_ms: u64, taken: Arc<Taken>) {
        if generation != self.generation_of(&key) {
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

    fn scope(company: &str) -> TenantScope {
        TenantScope {
            company_id: company.into(),
            branch_id: "main".into(),
        }
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
        let g = cache.generation(&scope("acme"));
        cache.store(key(), g, 10_000, taken(1));
        assert_eq!(cache.get(&key(), 10_500), Some(taken(1)));
        assert_eq!(cache.get(&key(), 10_000 + TTL_MS), None, "expired");

        cache.store(key(), cache.generation(&scope("acme")), 20_000, taken(2));
        cache.invalidate(&scope("acme"));
        assert_eq!(cache.get(&key(), 20_001), None, "a write invalidates");
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_kept() {
        let cache = TakenCache::default();
        let started_under = cache.generation(&scope("acme"));
        cache.invalidate(&scope("acme")); // a write commits while the read is in flight
        cache.store(key(), started_under, 1_000, taken(1));
        assert_eq!(cache.get(&key(), 1_001), None);
    }

    #[test]
    fn a_write_of_another_practice_keeps_this_ones_reads() {
        let cache = TakenCache::default();
        let other = (0..)
            .map(|i| scope(&format!("other-{i}")))
            .find(|s| stripe(&s.company_id, &s.branch_id) != stripe("acme", "main"))
            .unwrap();
        cache.store(key(), cache.generation(&scope("acme")), 1_000, taken(1));
        cache.invalidate(&other);
        assert_eq!(cache.get(&key(), 1_001), Some(taken(1)));
    }
}
