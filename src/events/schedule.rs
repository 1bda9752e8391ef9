//! When a failed event is tried again: exponential backoff with jitter inside the retry
//! window, then the dead letter.

use crate::config::BookingEventsConfig;

/// What follows the `attempts`-th failed attempt (1 for the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again at this instant (Unix ms).
    RetryAt(i64),
    /// The retry window is spent.
    Dead,
}

/// `base × 2^(attempts−1)`, capped at `backoff_max`, then shortened by up to half at random
/// ("equal jitter": receivers recovering together are not hit in one wave, and every wait is
/// still at least half the nominal one). The last retry lands on the window's end.
pub fn after_failure(
    config: &BookingEventsConfig,
    attempts: u32,
    queued_ms: i64,
    now_ms: i64,
    unit: f64,
) -> Next {
    let window_end = queued_ms.saturating_add(millis(config.retry_for));
    if now_ms >= window_end {
        return Next::Dead;
    }
    let nominal = millis(config.backoff_base)
        .saturating_mul(1i64 << attempts.saturating_sub(1).min(40))
        .min(millis(config.backoff_max));
    let wait = nominal - (nominal as f64 * 0.5 * unit.clamp(0.0, 1.0)) as i64;
    Next::RetryAt(now_ms.saturating_add(wait.max(1)).min(window_end))
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_with_jitter_until_the_cap_then_the_window_ends() {
        let config = BookingEventsConfig::default();
        let at = |n, unit| match after_failure(&config, n, 0, 1_000, unit) {
            Next::RetryAt(t) => t - 1_000,
            Next::Dead => -1,
        };
        assert_eq!(at(1, 0.0), 5_000);
        assert_eq!(at(1, 1.0), 2_500);
        assert_eq!(at(2, 0.0), 10_000);
        assert_eq!(at(4, 0.0), 40_000);
        assert_eq!(at(20, 0.0), 3_600_000);
        assert_eq!(at(60, 0.0), 3_600_000);
        let day = 24 * 3_600_000;
        assert_eq!(
            after_failure(&config, 30, 0, day - 10, 0.0),
            Next::RetryAt(day),
            "the last retry lands on the window's end"
        );
        assert_eq!(after_failure(&config, 31, 0, day, 0.0), Next::Dead);
    }
}
