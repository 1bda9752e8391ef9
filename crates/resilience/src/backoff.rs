//! Durations that grow with repetition: how long a breaker stays open after its n-th trip, and how
//! long a retry waits. Pure functions of a random `unit` in [0, 1), so the bounds are testable.

/// Milliseconds the breaker stays open after trip number `trips` (1 for the first) of an incident:
/// `open_ms × multiplier^(trips−1)`, capped at `max_open_ms`, then shortened by up to `jitter` of
/// itself. Jitter only shortens, so the configured times stay upper bounds.
pub(crate) fn open_duration_ms(
    open_ms: u64,
    multiplier: f64,
    max_open_ms: u64,
    jitter: f64,
    trips: u32,
    unit: f64,
) -> u64 {
    let exponent = i32::try_from(trips.saturating_sub(1)).unwrap_or(i32::MAX);
    let nominal = (open_ms as f64 * multiplier.powi(exponent)).min(max_open_ms as f64);
    let jittered = nominal * (1.0 - jitter * unit.clamp(0.0, 1.0));
    // `as` saturates for floats; the result is within [0, max_open_ms] anyway.
    (jittered as u64).clamp(1, max_open_ms.max(1))
}

/// Milliseconds to wait before retry number `retry` (1 for the first retry), "full jitter": a
/// uniform pick in `[0, min(cap, base × 2^(retry−1))]`, which spreads retries of many clients best.
pub(crate) fn retry_delay_ms(base_ms: u64, cap_ms: u64, retry: u32, unit: f64) -> u64 {
    let exponent = retry.saturating_sub(1).min(62);
    let ceiling = base_ms.saturating_mul(1u64 << exponent).min(cap_ms);
    (ceiling as f64 * unit.clamp(0.0, 1.0)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_time_grows_then_caps() {
        let d = |trips| open_duration_ms(60_000, 2.0, 300_000, 0.0, trips, 0.5);
        assert_eq!(d(1), 60_000);
        assert_eq!(d(2), 120_000);
        assert_eq!(d(3), 240_000);
        assert_eq!(d(4), 300_000);
        assert_eq!(d(40), 300_000);
        assert_eq!(d(u32::MAX), 300_000);
    }

    #[test]
    fn jitter_only_shortens_within_its_fraction() {
        for step in 0..=100 {
            let unit = f64::from(step) / 100.0;
            let d = open_duration_ms(60_000, 2.0, 300_000, 0.2, 1, unit);
            assert!((48_000..=60_000).contains(&d), "{d}");
        }
        assert_eq!(open_duration_ms(60_000, 2.0, 300_000, 0.2, 1, 0.0), 60_000);
        assert_eq!(open_duration_ms(60_000, 2.0, 300_000, 0.2, 1, 1.0), 48_000);
    }

    #[test]
    fn retry_delay_is_full_jitter_under_a_cap() {
        assert_eq!(retry_delay_ms(100, 1_000, 1, 1.0), 100);
        assert_eq!(retry_delay_ms(100, 1_000, 2, 1.0), 200);
        assert_eq!(retry_delay_ms(100, 1_000, 5, 1.0), 1_000);
        assert_eq!(retry_delay_ms(100, 1_000, 100, 1.0), 1_000);
        assert_eq!(retry_delay_ms(100, 1_000, 3, 0.0), 0);
        assert_eq!(retry_delay_ms(100, 1_000, 3, 0.5), 200);
    }
}
