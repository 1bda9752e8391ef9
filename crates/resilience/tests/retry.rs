//! Retry decisions: idempotency (a POST is never retried unless its route is marked idempotent),
//! retryable outcomes, attempts, total-time and the retry budget.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use frontdesk_clock::ManualClock;
use frontdesk_resilience::{
    Outcome, RetryBudget, RetryBudgetConfig, RetryContext, RetryDecision, RetryPolicy, StopReason,
};
use http::Method;
use support::{T0, ms, secs};

const ALL_OUTCOMES: [Outcome; 6] = [
    Outcome::Success,
    Outcome::ConnectError,
    Outcome::Timeout,
    Outcome::Status(500),
    Outcome::Status(503),
    Outcome::Status(429),
];

/// A budget that never runs out within a test.
fn roomy_budget(clock: &ManualClock) -> RetryBudget {
    let config = RetryBudgetConfig {
        percent: 100,
        min_per_second: 1_000,
        window: secs(10),
    };
    RetryBudget::new(&config, Arc::new(clock.clone())).expect("valid")
}

fn context(method: &Method, route_idempotent: bool, outcome: Outcome) -> RetryContext<'_> {
    RetryContext {
        method,
        route_idempotent,
        attempts_made: 1,
        outcome,
        time_left: secs(10),
    }
}

#[test]
fn a_post_is_never_retried_unless_its_route_is_idempotent() {
    let clock = ManualClock::new(T0);
    let budget = roomy_budget(&clock);
    for idempotent_only in [true, false] {
        let policy = RetryPolicy {
            idempotent_only,
            max_attempts: 5,
            ..Default::default()
        };
        for outcome in ALL_OUTCOMES {
            let decision = policy.decide(&context(&Method::POST, false, outcome), &budget);
            assert!(
                matches!(decision, RetryDecision::Stop(_)),
                "POST retried after {outcome:?} (idempotent_only {idempotent_only})"
            );
            assert!(!policy.is_safe_to_repeat(&Method::POST, false, outcome));
        }
    }
}

#[test]
fn a_post_on_an_idempotent_route_is_retried() {
    let clock = ManualClock::new(T0);
    let policy = RetryPolicy::default();
    let decision = policy.decide(
        &context(&Method::POST, true, Outcome::Status(503)),
        &roomy_budget(&clock),
    );
    assert!(
        matches!(decision, RetryDecision::Retry { .. }),
        "{decision:?}"
    );
}

#[test]
fn idempotent_methods_are_retried_on_retryable_outcomes_only() {
    let clock = ManualClock::new(T0);
    let budget = roomy_budget(&clock);
    let policy = RetryPolicy::default();
    for method in [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ] {
        for outcome in [
            Outcome::ConnectError,
            Outcome::Timeout,
            Outcome::Status(502),
        ] {
            let decision = policy.decide(&context(&method, false, outcome), &budget);
            assert!(
                matches!(decision, RetryDecision::Retry { .. }),
                "{method} {outcome:?}"
            );
        }
        for outcome in [Outcome::Success, Outcome::Status(404), Outcome::Status(429)] {
            let decision = policy.decide(&context(&method, false, outcome), &budget);
            assert_eq!(
                decision,
                RetryDecision::Stop(StopReason::NotRetryable),
                "{method} {outcome:?}"
            );
        }
    }
}

#[test]
fn other_methods_follow_idempotent_only() {
    let clock = ManualClock::new(T0);
    let budget = roomy_budget(&clock);
    let strict = RetryPolicy::default();
    let decision = strict.decide(
        &context(&Method::PATCH, false, Outcome::ConnectError),
        &budget,
    );
    assert_eq!(decision, RetryDecision::Stop(StopReason::NotIdempotent));

    let lenient = RetryPolicy {
        idempotent_only: false,
        ..Default::default()
    };
    let decision = lenient.decide(
        &context(&Method::PATCH, false, Outcome::ConnectError),
        &budget,
    );
    assert!(
        matches!(decision, RetryDecision::Retry { .. }),
        "nothing was sent: safe"
    );
    let decision = lenient.decide(&context(&Method::PATCH, false, Outcome::Timeout), &budget);
    assert_eq!(
        decision,
        RetryDecision::Stop(StopReason::NotIdempotent),
        "may have been applied"
    );
}

#[test]
fn attempts_are_bounded() {
    let clock = ManualClock::new(T0);
    let budget = roomy_budget(&clock);
    let policy = RetryPolicy {
        max_attempts: 3,
        ..Default::default()
    };
    let mut ctx = context(&Method::GET, false, Outcome::Timeout);
    ctx.attempts_made = 2;
    assert!(matches!(
        policy.decide(&ctx, &budget),
        RetryDecision::Retry { .. }
    ));
    ctx.attempts_made = 3;
    assert_eq!(
        policy.decide(&ctx, &budget),
        RetryDecision::Stop(StopReason::AttemptsExhausted)
    );
    let off = RetryPolicy {
        max_attempts: 1,
        ..Default::default()
    };
    ctx.attempts_made = 1;
    assert_eq!(
        off.decide(&ctx, &budget),
        RetryDecision::Stop(StopReason::AttemptsExhausted)
    );
}

#[test]
fn backoff_grows_with_full_jitter_under_the_cap() {
    let clock = ManualClock::new(T0);
    let budget = roomy_budget(&clock);
    let policy = RetryPolicy {
        max_attempts: 10,
        backoff_base: ms(100),
        backoff_cap: ms(500),
        ..Default::default()
    };
    let mut seen_above_base = false;
    for attempts_made in 1..=6u32 {
        let ceiling = ms(100 * (1u64 << (attempts_made - 1))).min(ms(500));
        for _ in 0..50 {
            let mut ctx = context(&Method::GET, false, Outcome::ConnectError);
            ctx.attempts_made = attempts_made;
            let RetryDecision::Retry { after } = policy.decide(&ctx, &budget) else {
                panic!("retry expected");
            };
            assert!(after <= ceiling, "{after:?} above {ceiling:?}");
            seen_above_base |= after > ms(100);
        }
    }
    assert!(seen_above_base, "the backoff never grew past the base");
}

#[test]
fn no_retry_when_the_backoff_does_not_fit_the_total_timeout() {
    let clock = ManualClock::new(T0);
    let budget = roomy_budget(&clock);
    let mut ctx = context(&Method::GET, false, Outcome::Timeout);
    ctx.time_left = Duration::ZERO;
    let decision = RetryPolicy::default().decide(&ctx, &budget);
    assert_eq!(decision, RetryDecision::Stop(StopReason::NoTimeLeft));
}

#[test]
fn an_exhausted_budget_stops_retries_until_requests_refill_it() {
    let clock = ManualClock::new(T0);
    let config = RetryBudgetConfig {
        percent: 20,
        min_per_second: 0,
        window: secs(10),
    };
    let budget = RetryBudget::new(&config, Arc::new(clock.clone())).expect("valid");
    let policy = RetryPolicy {
        max_attempts: 5,
        budget: config,
        ..Default::default()
    };
    let ctx = context(&Method::GET, false, Outcome::Status(503));

    assert_eq!(
        policy.decide(&ctx, &budget),
        RetryDecision::Stop(StopReason::BudgetExhausted)
    );
    for _ in 0..10 {
        budget.record_request();
    }
    // 20 % of 10 requests: two retries.
    assert!(matches!(
        policy.decide(&ctx, &budget),
        RetryDecision::Retry { .. }
    ));
    assert!(matches!(
        policy.decide(&ctx, &budget),
        RetryDecision::Retry { .. }
    ));
    assert_eq!(
        policy.decide(&ctx, &budget),
        RetryDecision::Stop(StopReason::BudgetExhausted)
    );

    // A decision that stops for another reason takes nothing from the budget.
    clock.advance(secs(11));
    for _ in 0..5 {
        budget.record_request();
    }
    let not_retryable = context(&Method::GET, false, Outcome::Status(404));
    assert_eq!(
        policy.decide(&not_retryable, &budget),
        RetryDecision::Stop(StopReason::NotRetryable)
    );
    assert!(
        matches!(policy.decide(&ctx, &budget), RetryDecision::Retry { .. }),
        "1 of 5 allowed"
    );
    assert_eq!(
        policy.decide(&ctx, &budget),
        RetryDecision::Stop(StopReason::BudgetExhausted)
    );
}

#[test]
fn the_reserve_allows_retries_at_low_traffic() {
    let clock = ManualClock::new(T0);
    let config = RetryBudgetConfig {
        percent: 0,
        min_per_second: 1,
        window: secs(10),
    };
    let budget = RetryBudget::new(&config, Arc::new(clock.clone())).expect("valid");
    for _ in 0..10 {
        assert!(budget.try_withdraw());
    }
    assert!(!budget.try_withdraw());
    clock.advance(secs(11));
    assert!(budget.try_withdraw(), "spent retries leave the window");
}

#[test]
fn invalid_policies_are_rejected() {
    let cases = [
        (
            RetryPolicy {
                max_attempts: 0,
                ..Default::default()
            },
            "retry.max_attempts",
        ),
        (
            RetryPolicy {
                backoff_base: secs(2),
                backoff_cap: secs(1),
                ..Default::default()
            },
            "retry.backoff_cap",
        ),
        (
            RetryPolicy {
                budget: RetryBudgetConfig {
                    percent: 101,
                    ..Default::default()
                },
                ..Default::default()
            },
            "retry.budget.percent",
        ),
        (
            RetryPolicy {
                budget: RetryBudgetConfig {
                    window: ms(10),
                    ..Default::default()
                },
                ..Default::default()
            },
            "retry.budget.window",
        ),
    ];
    for (policy, field) in cases {
        assert_eq!(policy.validate().map_err(|e| e.field), Err(field));
    }
    assert!(RetryPolicy::default().validate().is_ok());
}
