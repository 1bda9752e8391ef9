//! A time-bucketed sliding window of two counters (calls and failures, or requests and retries).
//!
//! The window is split into a fixed number of buckets; a bucket is reused once it falls out of the
//! window, so adding and summing cost O(buckets) with no allocation after construction. The window
//! is time-based rather than count-based so that, at low traffic, failures from long ago do not
//! linger in the failure rate.

use std::time::Duration;

/// How many buckets a window is split into: the window's effective length varies by at most one
/// bucket (a tenth of it), which is precise enough for trip and budget decisions.
const BUCKETS: usize = 10;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    /// `now_ms / bucket_ms` of the period this bucket currently counts.
    period: u64,
    first: u32,
    second: u32,
}

/// Two counters summed over the last `window` of time.
#[derive(Debug, Clone)]
pub(crate) struct RollingCounts {
    bucket_ms: u64,
    buckets: [Bucket; BUCKETS],
}

impl RollingCounts {
    pub(crate) fn new(window: Duration) -> Self {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        Self {
            bucket_ms: (window_ms / BUCKETS as u64).max(1),
            buckets: [Bucket::default(); BUCKETS],
        }
    }

    pub(crate) fn add(&mut self, now_ms: u64, first: u32, second: u32) {
        let period = now_ms / self.bucket_ms;
        // Periods are < 2^64 / bucket_ms, so the modulo is always in range of `usize` slots.
        let bucket = &mut self.buckets[(period % BUCKETS as u64) as usize];
        if bucket.period != period {
            *bucket = Bucket {
                period,
                first: 0,
                second: 0,
            };
        }
        bucket.first = bucket.first.saturating_add(first);
        bucket.second = bucket.second.saturating_add(second);
    }

    /// The sums of both counters over the buckets still inside the window at `now_ms`.
    pub(crate) fn totals(&self, now_ms: u64) -> (u32, u32) {
        let current = now_ms / self.bucket_ms;
        self.buckets
            .iter()
            .filter(|b| b.period <= current && current - b.period < BUCKETS as u64)
            .filter(|b| b.first > 0 || b.second > 0)
            .fold((0u32, 0u32), |(f, s), b| {
                (f.saturating_add(b.first), s.saturating_add(b.second))
            })
    }

    pub(crate) fn clear(&mut self) {
        self.buckets = [Bucket::default(); BUCKETS];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_inside_the_window_and_forgets_outside() {
        let mut w = RollingCounts::new(Duration::from_secs(10));
        w.add(1_000, 1, 0);
        w.add(5_000, 1, 1);
        assert_eq!(w.totals(5_000), (2, 1));
        // At 11.5 s the bucket of t=1 s (period 1) is 10 periods old: gone.
        assert_eq!(w.totals(11_500), (1, 1));
        assert_eq!(w.totals(16_000), (0, 0));
    }

    #[test]
    fn a_reused_bucket_starts_from_zero() {
        let mut w = RollingCounts::new(Duration::from_secs(10));
        w.add(1_000, 3, 3);
        w.add(11_000, 1, 0); // same slot, ten periods later
        assert_eq!(w.totals(11_000), (1, 0));
    }

    #[test]
    fn clear_forgets_everything() {
        let mut w = RollingCounts::new(Duration::from_secs(1));
        w.add(10, 4, 2);
        w.clear();
        assert_eq!(w.totals(10), (0, 0));
    }

    #[test]
    fn tiny_windows_still_work() {
        let mut w = RollingCounts::new(Duration::from_millis(3));
        w.add(100, 1, 1);
        assert_eq!(w.totals(100), (1, 1));
        assert_eq!(w.totals(200), (0, 0));
    }
}
