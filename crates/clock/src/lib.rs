//! Injected time: production reads the system clock, tests move a manual one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock milliseconds since the Unix epoch. One clock serves limiters, breakers, caches and
/// business hours, so a test that moves it moves all of them consistently.
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> u64;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(start_ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(start_ms)))
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn set_ms(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Wall-clock milliseconds read from the CPU's timestamp counter instead of the system clock.
///
/// Reading the system clock costs a system call on some hosts (tens to hundreds of nanoseconds),
/// which would dominate a local rate-limit check. This clock reads the wall time once, then
/// advances it with the (monotonic, nanosecond-cheap) timestamp counter. It does not follow later
/// steps of the system clock, and drifts by the counter's error (parts per million), so it suits
/// rate limits and expiries; use [`SystemClock`] where calendar time must track the host exactly.
#[derive(Debug, Clone)]
pub struct FastClock {
    counter: quanta::Clock,
    origin: quanta::Instant,
    origin_ms: u64,
}

impl FastClock {
    /// Calibrates the counter (a few milliseconds, once) and anchors it to the system clock.
    pub fn new() -> Self {
        let counter = quanta::Clock::new();
        let origin = counter.now();
        Self {
            origin_ms: SystemClock.now_ms(),
            origin,
            counter,
        }
    }
}

impl Default for FastClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FastClock {
    fn now_ms(&self) -> u64 {
        let elapsed = self.counter.now().duration_since(self.origin);
        self.origin_ms
            .saturating_add(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_clock_tracks_the_system_clock() {
        let fast = FastClock::new();
        let (a, b) = (fast.now_ms(), SystemClock.now_ms());
        assert!(a.abs_diff(b) < 1_000, "fast {a} system {b}");
        assert!(fast.now_ms() >= a, "monotonic");
    }
}
