//! Properties of the local GCRA limiter over arbitrary request timings.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use std::sync::Arc;
use std::time::Duration;

use frontdesk_clock::ManualClock;
use frontdesk_store::{LocalLimiter, Rate};
use proptest::prelude::*;

fn rates() -> impl Strategy<Value = Rate> {
    (1u32..50, 1u64..20_000, 1u32..20).prop_map(|(count, period_ms, burst)| Rate {
        count,
        period: Duration::from_millis(period_ms),
        burst,
    })
}

proptest! {
    /// In every window [t_i, t_j] of allowed requests, the allowed cost is at most
    /// burst + (t_j - t_i) * count / period.
    #[test]
    fn never_more_than_burst_plus_elapsed_times_rate(
        rate in rates(),
        steps in prop::collection::vec((0u64..3_000, 1u32..4), 1..150),
    ) {
        let clock = ManualClock::new(1_700_000_000_000);
        let limiter = LocalLimiter::new(Arc::new(clock.clone()));
        let mut now = 0u64;
        let mut allowed: Vec<(u64, u64)> = Vec::new();
        for (advance_ms, cost) in steps {
            clock.advance(Duration::from_millis(advance_ms));
            now += advance_ms;
            let decision = limiter.check("key", rate, cost);
            prop_assert!(decision.remaining <= rate.burst);
            if decision.allowed {
                allowed.push((now, u64::from(cost)));
            } else {
                prop_assert!(decision.retry_after > Duration::ZERO);
            }
        }
        let period_ms = rate.period.as_millis() as u64;
        for i in 0..allowed.len() {
            let mut cost = 0;
            for &(t, c) in &allowed[i..] {
                cost += c;
                let elapsed = t - allowed[i].0;
                let bound = u64::from(rate.burst) + elapsed * u64::from(rate.count) / period_ms;
                prop_assert!(cost <= bound, "cost {cost} in {elapsed} ms exceeds {bound}");
            }
        }
    }

    /// At one instant a fresh key passes exactly `burst` unit requests.
    #[test]
    fn a_fresh_key_passes_exactly_its_burst(rate in rates()) {
        let limiter = LocalLimiter::new(Arc::new(ManualClock::new(0)));
        let passed = (0..rate.burst + 5).filter(|_| limiter.check("k", rate, 1).allowed).count();
        prop_assert_eq!(passed, rate.burst as usize);
    }

    /// A denied request becomes allowed exactly at its `retry_after`, not a millisecond before.
    #[test]
    fn retry_after_is_exact(rate in rates(), cost in 1u32..4) {
        prop_assume!(cost <= rate.burst);
        let clock = ManualClock::new(0);
        let limiter = LocalLimiter::new(Arc::new(clock.clone()));
        while limiter.check("k", rate, cost).allowed {}
        let denied = limiter.check("k", rate, cost);
        prop_assert!(!denied.allowed);
        // Manual clock resolution is 1 ms: round the wait up to it.
        let wait_ms = denied.retry_after.as_nanos().div_ceil(1_000_000) as u64;
        clock.advance(Duration::from_millis(wait_ms - 1));
        prop_assert!(!limiter.check("k", rate, cost).allowed);
        clock.advance(Duration::from_millis(1));
        prop_assert!(limiter.check("k", rate, cost).allowed);
    }
}
