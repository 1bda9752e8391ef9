//! GCRA (generic cell rate algorithm): the decision math, and [`LocalLimiter`], the in-process keyed
//! limiter built on it.
//!
//! A key's whole state is one number, its theoretical arrival time (TAT): when the bucket would be
//! full again. The math is integer-only and exact: with burst `N`, exactly `N` requests pass at
//! once and the next is denied; after one emission interval (`period / count`) exactly one more
//! passes. The Redis backend runs the same math in Lua (see `redis/gcra.lua`), so both backends
//! agree on every decision.

use std::sync::Arc;
use std::time::Duration;

use crate::sharded::{Expiring, ShardedMap, Write};
use crate::{Decision, Rate};
use frontdesk_clock::Clock;

/// A rate converted to integer time units, ready for [`step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    /// Time between two replenished requests, rounded up so the limit is never exceeded.
    pub interval: u64,
    /// `interval * burst`: how far the TAT may run ahead of now.
    pub tolerance: u64,
    pub burst: u32,
}

impl Params {
    /// `None` when the rate lets nothing through (zero `count` or zero `burst`).
    /// `nanos_per_unit` is the resolution: 1 locally (nanoseconds), 1000 in Redis (`TIME` gives
    /// microseconds). This runs on every check, so it is one 64-bit division, no 128-bit math.
    #[inline]
    pub(crate) fn new(rate: Rate, nanos_per_unit: u64) -> Option<Self> {
        if rate.count == 0 || rate.burst == 0 {
            return None;
        }
        let period_ns = u64::try_from(rate.period.as_nanos()).unwrap_or(u64::MAX);
        let interval = period_ns.div_ceil(nanos_per_unit.saturating_mul(u64::from(rate.count)));
        Some(Self {
            interval,
            tolerance: interval.saturating_mul(u64::from(rate.burst)),
            burst: rate.burst,
        })
    }
}

/// One GCRA decision in abstract time units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    pub allowed: bool,
    pub remaining: u32,
    pub retry_after: u64,
    pub reset_after: u64,
    /// The TAT to store (only when allowed and something changed).
    pub new_tat: Option<u64>,
}

/// The GCRA rule. `tat` is the stored TAT, `None` for a key never seen (or expired). A cost of
/// 0 peeks: allowed exactly when one more request would be, and nothing is recorded.
pub(crate) fn step(now: u64, tat: Option<u64>, p: Params, cost: u32) -> Step {
    let tat = tat.map_or(now, |tat| tat.max(now));
    let new_tat = tat.saturating_add(p.interval.saturating_mul(u64::from(cost)));
    let probe_tat = tat.saturating_add(p.interval.saturating_mul(u64::from(cost.max(1))));
    let allow_at = probe_tat.saturating_sub(p.tolerance);
    let remaining_at = |tat: u64| match p.interval {
        0 => p.burst,
        interval => {
            let left = p.tolerance.saturating_sub(tat - now) / interval;
            u32::try_from(left).unwrap_or(u32::MAX).min(p.burst)
        }
    };
    if now < allow_at {
        Step {
            allowed: false,
            remaining: remaining_at(tat),
            retry_after: allow_at - now,
            reset_after: tat - now,
            new_tat: None,
        }
    } else {
        Step {
            allowed: true,
            remaining: remaining_at(new_tat),
            retry_after: 0,
            reset_after: new_tat - now,
            new_tat: (new_tat != tat).then_some(new_tat),
        }
    }
}

/// The decision for a rate that lets nothing through (zero `count` or `burst`). `period` is the
/// only meaningful retry hint there is.
pub(crate) fn never(rate: Rate) -> Decision {
    Decision {
        allowed: false,
        limit: rate.burst,
        remaining: 0,
        retry_after: rate.period,
        reset_after: rate.period,
    }
}

impl Step {
    pub(crate) fn into_decision(self, limit: u32, unit: fn(u64) -> Duration) -> Decision {
        Decision {
            allowed: self.allowed,
            limit,
            remaining: self.remaining,
            retry_after: unit(self.retry_after),
            reset_after: unit(self.reset_after),
        }
    }
}

/// A key's TAT in nanoseconds; the key is forgotten once its bucket is full again.
struct Tat(u64);

impl Expiring for Tat {
    fn expires_at(&self) -> u64 {
        self.0
    }
}

/// In-process keyed GCRA limiter. Cheap enough for every request: one hash, one shard lock, a
/// few integer operations. State per key is one `u64`; keys whose bucket has refilled are swept,
/// so memory follows the number of *recently limited* keys, not every key ever seen.
pub struct LocalLimiter {
    tats: ShardedMap<Tat>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLimiter")
            .field("keys", &self.tats.len())
            .finish_non_exhaustive()
    }
}

impl LocalLimiter {
    /// A limiter bounded only by expiry.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_max_keys(clock, None)
    }

    /// A limiter tracking about `max_keys` keys at most. Past the cap the buckets closest to full
    /// are forgotten (treated as full), which is the least generous choice available.
    pub fn with_max_keys(clock: Arc<dyn Clock>, max_keys: Option<usize>) -> Self {
        Self {
            tats: ShardedMap::new(max_keys),
            clock,
        }
    }

    /// Checks `cost` requests against `key` and records them when allowed.
    pub fn check(&self, key: &str, rate: Rate, cost: u32) -> Decision {
        let Some(params) = Params::new(rate, 1) else {
            return never(rate);
        };
        let now = self.clock.now_ms().saturating_mul(1_000_000);
        let step = self.tats.update(key, now, |tat| {
            let step = step(now, tat.as_ref().map(|t| t.0), params, cost);
            let write = match (step.new_tat, tat) {
                (None, _) => Write::Keep,
                (Some(new_tat), Some(tat)) => {
                    tat.0 = new_tat;
                    Write::Keep
                }
                (Some(new_tat), None) => Write::Put(Tat(new_tat)),
            };
            (step, write)
        });
        step.into_decision(rate.burst, Duration::from_nanos)
    }

    /// Keys currently tracked (including refilled ones not yet swept).
    pub fn tracked_keys(&self) -> usize {
        self.tats.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_clock::ManualClock;

    fn rate(count: u32, period: Duration, burst: u32) -> Rate {
        Rate {
            count,
            period,
            burst,
        }
    }

    #[test]
    fn burst_then_one_per_interval() {
        let clock = ManualClock::new(1_000);
        let limiter = LocalLimiter::new(Arc::new(clock.clone()));
        let r = rate(30, Duration::from_secs(60), 10);
        for i in 0..10 {
            let d = limiter.check("k", r, 1);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 9 - i);
        }
        let denied = limiter.check("k", r, 1);
        assert!(!denied.allowed);
        assert_eq!(denied.retry_after, Duration::from_secs(2));
        assert_eq!(denied.reset_after, Duration::from_secs(20));
        clock.advance(Duration::from_millis(1_999));
        assert!(!limiter.check("k", r, 1).allowed);
        clock.advance(Duration::from_millis(1));
        assert!(limiter.check("k", r, 1).allowed);
        assert!(!limiter.check("k", r, 1).allowed);
    }

    #[test]
    fn zero_count_or_burst_denies_and_zero_period_allows() {
        let limiter = LocalLimiter::new(Arc::new(ManualClock::new(0)));
        assert!(
            !limiter
                .check("a", rate(0, Duration::from_secs(1), 5), 1)
                .allowed
        );
        assert!(
            !limiter
                .check("a", rate(5, Duration::from_secs(1), 0), 1)
                .allowed
        );
        for _ in 0..100 {
            assert!(limiter.check("b", rate(1, Duration::ZERO, 1), 1).allowed);
        }
    }

    #[test]
    fn cost_above_burst_is_denied_without_recording() {
        let limiter = LocalLimiter::new(Arc::new(ManualClock::new(0)));
        let r = rate(1, Duration::from_secs(1), 3);
        assert!(!limiter.check("k", r, 4).allowed);
        assert!(limiter.check("k", r, 3).allowed);
    }

    #[test]
    fn refilled_keys_are_forgotten_under_churn() {
        let clock = ManualClock::new(0);
        let limiter = LocalLimiter::new(Arc::new(clock.clone()));
        let r = rate(10, Duration::from_secs(1), 10);
        for i in 0..200_000 {
            limiter.check(&format!("ip-{i}"), r, 1);
            clock.advance(Duration::from_millis(1));
        }
        // Each bucket refills 100 ms after its only request: ~100 keys are live at any time.
        assert!(
            limiter.tracked_keys() < 10_000,
            "{}",
            limiter.tracked_keys()
        );
    }
}
