//! Property: over any sequence of calls, outcomes, abandons and clock moves, an open breaker never
//! admits a call before its open time has elapsed, and always says exactly how long is left.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod support;

use std::time::Duration;

use frontdesk_resilience::{
    BreakerConfig, BreakerState, FailureRateConfig, Outcome, OutcomeClass, Permit, RejectReason,
};
use proptest::prelude::*;
use support::breaker;

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Acquire,
    Record {
        index: usize,
        outcome: Outcome,
        elapsed_ms: u64,
    },
    Abandon {
        index: usize,
    },
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        3 => Just(Outcome::Success),
        2 => Just(Outcome::ConnectError),
        1 => Just(Outcome::Timeout),
        1 => (400u16..600).prop_map(Outcome::Status),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u64..90_000).prop_map(Op::Advance),
        4 => Just(Op::Acquire),
        4 => (any::<usize>(), outcome(), 0u64..5_000)
            .prop_map(|(index, outcome, elapsed_ms)| Op::Record { index, outcome, elapsed_ms }),
        1 => any::<usize>().prop_map(|index| Op::Abandon { index }),
    ]
}

fn config() -> impl Strategy<Value = BreakerConfig> {
    (
        1u32..6,
        any::<bool>(),
        any::<bool>(),
        1u32..4,
        1u32..4,
        0.0f64..0.9,
    )
        .prop_map(
            |(consecutive, rate, slow, probes, successes, jitter)| BreakerConfig {
                consecutive_failures: consecutive,
                failure_rate: rate.then(|| FailureRateConfig {
                    window: Duration::from_secs(30),
                    minimum_calls: 4,
                    threshold_percent: 50,
                }),
                slow_call: slow.then(|| Duration::from_secs(2)),
                half_open_max_probes: probes,
                half_open_successes: successes,
                jitter,
                failure_on: vec![
                    OutcomeClass::ConnectError,
                    OutcomeClass::Timeout,
                    OutcomeClass::Status5xx,
                ],
                ..Default::default()
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_admits_while_open(config in config(), ops in prop::collection::vec(op(), 1..200)) {
        let (b, clock) = breaker(config);
        let mut held: Vec<Permit> = Vec::new();
        let mut now = support::T0;
        for op in ops {
            let before = b.snapshot();
            match op {
                Op::Advance(by) => {
                    clock.advance(Duration::from_millis(by));
                    now += by;
                }
                Op::Acquire => {
                    let result = b.try_acquire();
                    if let Some(until) = before.open_until_ms.filter(|until| *until > now) {
                        let rejected = result.as_ref().err().copied();
                        prop_assert!(rejected.is_some(), "admitted {} ms before open time ended", until - now);
                        let rejected = rejected.expect("checked");
                        prop_assert_eq!(rejected.reason, RejectReason::Open);
                        prop_assert_eq!(rejected.retry_after, Duration::from_millis(until - now));
                    }
                    if let Ok(permit) = result {
                        held.push(permit);
                    }
                }
                Op::Record { index, outcome, elapsed_ms } if !held.is_empty() => {
                    let permit = held.swap_remove(index % held.len());
                    permit.record(outcome, Duration::from_millis(elapsed_ms));
                }
                Op::Abandon { index } if !held.is_empty() => {
                    drop(held.swap_remove(index % held.len()));
                }
                Op::Record { .. } | Op::Abandon { .. } => {}
            }
            let after = b.snapshot();
            if after.state == BreakerState::Open {
                let until = after.open_until_ms.expect("an open breaker has an open-until");
                prop_assert!(until > now, "reported open past its open time");
            }
        }
    }
}
