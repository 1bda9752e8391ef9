//! The breaker under concurrent use: probe slots are never over-issued and failures from many
//! threads trip it exactly once. Threads are synchronised with a barrier, never with sleeps.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod support;

use std::sync::Barrier;

use frontdesk_resilience::{BreakerConfig, BreakerState, Outcome};
use support::{breaker, call, ms, secs};

#[test]
fn concurrent_callers_get_at_most_k_probes() {
    let config = BreakerConfig {
        half_open_max_probes: 3,
        half_open_successes: 10,
        ..Default::default()
    };
    let (b, clock) = breaker(config);
    while b.state() == BreakerState::Closed {
        call(&b, Outcome::ConnectError);
    }
    clock.advance(secs(60));
    let barrier = Barrier::new(8);
    let admitted: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    b.try_acquire().ok()
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(admitted.len(), 3);
    assert!(admitted.iter().all(|p| p.is_probe()));
}

#[test]
fn concurrent_failures_trip_once() {
    let (b, _clock) = breaker(BreakerConfig::default());
    let barrier = Barrier::new(4);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                barrier.wait();
                for _ in 0..100 {
                    if let Ok(permit) = b.try_acquire() {
                        permit.record(Outcome::Timeout, ms(5));
                    }
                }
            });
        }
    });
    let snap = b.snapshot();
    assert_eq!(snap.state, BreakerState::Open);
    assert_eq!(
        snap.trips, 1,
        "late results from racing permits must not re-trip"
    );
}
