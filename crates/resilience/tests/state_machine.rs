//! The breaker state machine, driven by a manual clock: every transition and rule.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod support;

use std::collections::BTreeSet;

use frontdesk_resilience::{
    BreakerConfig, BreakerState, FailureRateConfig, Mode, Outcome, OutcomeClass, RejectReason,
};
use support::{T0, breaker, call, call_taking, ms, secs};

#[test]
fn trips_after_n_consecutive_failures() {
    let (b, _clock) = breaker(BreakerConfig::default());
    for _ in 0..4 {
        call(&b, Outcome::ConnectError);
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().consecutive_failures, 4);
    call(&b, Outcome::Timeout);
    assert_eq!(b.state(), BreakerState::Open);
    let rejected = b.try_acquire().expect_err("open breaker rejects");
    assert_eq!(rejected.reason, RejectReason::Open);
    assert_eq!(rejected.retry_after, secs(60));
    assert_eq!(rejected.retry_after_secs(), 60);
}

#[test]
fn a_success_resets_the_consecutive_count() {
    let (b, _clock) = breaker(BreakerConfig::default());
    for _ in 0..4 {
        call(&b, Outcome::Status(503));
    }
    call(&b, Outcome::Success);
    assert_eq!(b.snapshot().consecutive_failures, 0);
    for _ in 0..4 {
        call(&b, Outcome::Status(503));
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn client_errors_are_not_failures() {
    let (b, _clock) = breaker(BreakerConfig::default());
    for _ in 0..20 {
        call(&b, Outcome::Status(404));
        call(&b, Outcome::Status(400));
    }
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(b.snapshot().consecutive_failures, 0);
}

fn rate_config() -> BreakerConfig {
    BreakerConfig {
        consecutive_failures: 0,
        failure_rate: Some(FailureRateConfig {
            window: secs(10),
            minimum_calls: 10,
            threshold_percent: 50,
        }),
        ..Default::default()
    }
}

#[test]
fn trips_on_failure_rate_once_minimum_calls_are_reached() {
    let (b, _clock) = breaker(rate_config());
    // F S F S F S F S F: 5 of 9 fail, but fewer than 10 calls.
    for i in 0..9 {
        let outcome = if i % 2 == 0 {
            Outcome::ConnectError
        } else {
            Outcome::Success
        };
        call(&b, outcome);
    }
    let snap = b.snapshot();
    assert_eq!((snap.window_calls, snap.window_failures), (9, 5));
    assert_eq!(snap.state, BreakerState::Closed);
    // The 10th call (a success) makes 5 of 10: exactly the threshold.
    call(&b, Outcome::Success);
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn rate_below_threshold_does_not_trip() {
    let (b, _clock) = breaker(rate_config());
    for i in 0..30 {
        // 1 in 3 fails: 33 % < 50 %.
        let outcome = if i % 3 == 0 {
            Outcome::Timeout
        } else {
            Outcome::Success
        };
        call(&b, outcome);
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn rate_window_forgets_old_failures() {
    let (b, clock) = breaker(rate_config());
    for _ in 0..9 {
        call(&b, Outcome::ConnectError);
    }
    clock.advance(secs(20));
    assert_eq!(b.snapshot().window_calls, 0);
    for _ in 0..9 {
        call(&b, Outcome::Success);
    }
    call(&b, Outcome::ConnectError);
    assert_eq!(
        b.state(),
        BreakerState::Closed,
        "1 failure of 10 in the window"
    );
}

#[test]
fn slow_calls_count_as_failures() {
    let config = BreakerConfig {
        slow_call: Some(secs(2)),
        ..Default::default()
    };
    let (b, _clock) = breaker(config);
    for _ in 0..10 {
        call_taking(&b, Outcome::Success, ms(1_999));
    }
    assert_eq!(b.state(), BreakerState::Closed);
    for _ in 0..5 {
        call_taking(&b, Outcome::Success, secs(2));
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn open_rejects_until_the_open_time_has_elapsed_then_admits_a_probe() {
    let (b, clock) = breaker(BreakerConfig::default());
    for _ in 0..5 {
        call(&b, Outcome::ConnectError);
    }
    assert_eq!(b.snapshot().open_until_ms, Some(T0 + 60_000));
    clock.advance(ms(59_999));
    let rejected = b.try_acquire().expect_err("still open");
    assert_eq!(rejected.retry_after, ms(1));
    clock.advance(ms(1));
    let probe = b.try_acquire().expect("probe admitted");
    assert!(probe.is_probe());
    assert_eq!(b.state(), BreakerState::HalfOpen);
    drop(probe);
}

fn trip(b: &frontdesk_resilience::Breaker) {
    while b.state() == BreakerState::Closed {
        call(b, Outcome::ConnectError);
    }
}

#[test]
fn half_open_admits_only_k_probes_at_once() {
    let config = BreakerConfig {
        half_open_max_probes: 2,
        half_open_successes: 3,
        ..Default::default()
    };
    let (b, clock) = breaker(config);
    trip(&b);
    clock.advance(secs(60));
    let first = b.try_acquire().expect("probe 1");
    let second = b.try_acquire().expect("probe 2");
    let busy = b
        .try_acquire()
        .expect_err("no third probe while two are in flight");
    assert_eq!(busy.reason, RejectReason::ProbesBusy);
    first.record(Outcome::Success, ms(5));
    let third = b.try_acquire().expect("a finished probe frees its slot");
    assert!(b.try_acquire().is_err());
    second.record(Outcome::Success, ms(5));
    assert_eq!(b.state(), BreakerState::HalfOpen, "2 of 3 successes");
    third.record(Outcome::Success, ms(5));
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn m_successes_close_the_breaker() {
    let (b, clock) = breaker(BreakerConfig::default());
    trip(&b);
    clock.advance(secs(60));
    call(&b, Outcome::Success);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    call(&b, Outcome::Success);
    assert_eq!(b.state(), BreakerState::Closed);
    let snap = b.snapshot();
    assert_eq!(snap.open_until_ms, None);
    assert_eq!(snap.last_transition_ms, T0 + 60_000);
    // Closed again: it takes a full 5 failures to trip.
    for _ in 0..4 {
        call(&b, Outcome::ConnectError);
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn a_failed_probe_reopens_for_longer_up_to_the_cap() {
    let config = BreakerConfig {
        open_time: secs(60),
        open_time_multiplier: 2.0,
        max_open_time: secs(200),
        ..Default::default()
    };
    let (b, clock) = breaker(config);
    trip(&b);
    let mut open_times = Vec::new();
    for _ in 0..4 {
        let rejected = b.try_acquire().expect_err("open");
        open_times.push(rejected.retry_after);
        clock.advance(rejected.retry_after);
        call(&b, Outcome::Status(502)); // the probe fails
        assert_eq!(b.state(), BreakerState::Open);
    }
    assert_eq!(open_times, vec![secs(60), secs(120), secs(200), secs(200)]);
    assert_eq!(b.snapshot().trips, 5);
}

#[test]
fn a_trip_soon_after_healing_is_the_same_incident() {
    let (b, clock) = breaker(BreakerConfig::default()); // 60 s, ×2, cap 5 min
    trip(&b);
    clock.advance(secs(60));
    call(&b, Outcome::Success);
    call(&b, Outcome::Success);
    assert_eq!(b.state(), BreakerState::Closed);
    clock.advance(secs(10));
    trip(&b);
    assert_eq!(b.try_acquire().expect_err("open").retry_after, secs(120));

    // Heal, then stay healthy longer than max_open_time: the next trip starts over.
    clock.advance(secs(120));
    call(&b, Outcome::Success);
    call(&b, Outcome::Success);
    clock.advance(secs(301));
    trip(&b);
    assert_eq!(b.try_acquire().expect_err("open").retry_after, secs(60));
    assert_eq!(b.snapshot().trips, 1);
}

#[test]
fn jitter_shortens_the_open_time_within_bounds() {
    let config = BreakerConfig {
        jitter: 0.5,
        open_time_multiplier: 1.0,
        max_open_time: secs(60),
        ..Default::default()
    };
    let (b, clock) = breaker(config);
    let mut seen = BTreeSet::new();
    for _ in 0..50 {
        trip(&b);
        let open = b.try_acquire().expect_err("open").retry_after;
        assert!(
            open >= secs(30) && open <= secs(60),
            "{open:?} outside [30 s, 60 s]"
        );
        seen.insert(open);
        clock.advance(open);
        call(&b, Outcome::Success);
        call(&b, Outcome::Success);
        assert_eq!(b.state(), BreakerState::Closed);
    }
    assert!(
        seen.len() > 1,
        "jitter produced one value 50 times: {seen:?}"
    );
}

#[test]
fn forced_open_rejects_everything_until_auto() {
    let (b, _clock) = breaker(BreakerConfig::default());
    b.set_mode(Mode::ForcedOpen);
    let rejected = b.try_acquire().expect_err("forced open");
    assert_eq!(rejected.reason, RejectReason::ForcedOpen);
    assert_eq!(rejected.retry_after, secs(60));
    let snap = b.snapshot();
    assert_eq!(
        (snap.state, snap.mode),
        (BreakerState::ForcedOpen, Mode::ForcedOpen)
    );
    b.set_mode(Mode::Auto);
    assert_eq!(b.state(), BreakerState::Closed);
    call(&b, Outcome::Success);
}

#[test]
fn disabled_admits_everything_and_counts_nothing() {
    let (b, _clock) = breaker(BreakerConfig::default());
    call(&b, Outcome::ConnectError);
    b.set_mode(Mode::Disabled);
    for _ in 0..50 {
        call(&b, Outcome::ConnectError);
    }
    assert_eq!(b.state(), BreakerState::Disabled);
    b.set_mode(Mode::Auto);
    let snap = b.snapshot();
    assert_eq!(
        (snap.state, snap.consecutive_failures),
        (BreakerState::Closed, 0)
    );
}

#[test]
fn forcing_open_an_open_breaker_and_back_starts_closed() {
    let (b, _clock) = breaker(BreakerConfig::default());
    trip(&b);
    b.set_mode(Mode::ForcedOpen);
    assert_eq!(b.snapshot().open_until_ms, None);
    b.set_mode(Mode::Auto);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn status_429_is_not_a_failure_by_default() {
    let (b, _clock) = breaker(BreakerConfig::default());
    for _ in 0..20 {
        call(&b, Outcome::Status(429));
    }
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn status_429_is_a_failure_when_configured() {
    let config = BreakerConfig {
        failure_on: vec![OutcomeClass::Status429],
        ..Default::default()
    };
    let (b, _clock) = breaker(config);
    // Only 429 is listed now: 5xx no longer counts.
    for _ in 0..10 {
        call(&b, Outcome::Status(500));
    }
    assert_eq!(b.state(), BreakerState::Closed);
    for _ in 0..5 {
        call(&b, Outcome::Status(429));
    }
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn results_from_before_a_transition_are_ignored() {
    let (b, clock) = breaker(BreakerConfig::default());
    let early = b.try_acquire().expect("closed");
    trip(&b);
    clock.advance(secs(60));
    assert_eq!(b.state(), BreakerState::HalfOpen);
    // A success issued while closed is not a probe success.
    early.record(Outcome::Success, ms(5));
    let probe = b.try_acquire().expect("the probe slot is still free");
    probe.record(Outcome::Success, ms(5));
    assert_eq!(
        b.state(),
        BreakerState::HalfOpen,
        "one probe success of two"
    );
}

#[test]
fn an_abandoned_probe_frees_its_slot() {
    let (b, clock) = breaker(BreakerConfig::default());
    trip(&b);
    clock.advance(secs(60));
    let probe = b.try_acquire().expect("probe");
    assert!(b.try_acquire().is_err());
    drop(probe);
    assert_eq!(
        b.state(),
        BreakerState::HalfOpen,
        "abandoning is not a failure"
    );
    assert!(b.try_acquire().expect("slot freed").is_probe());
}

#[test]
fn an_abandoned_call_counts_only_when_already_slow() {
    let config = BreakerConfig {
        slow_call: Some(secs(1)),
        ..Default::default()
    };
    let (b, clock) = breaker(config);
    for _ in 0..3 {
        call(&b, Outcome::ConnectError);
    }
    drop(b.try_acquire().expect("closed"));
    assert_eq!(
        b.snapshot().consecutive_failures,
        3,
        "a quick abandon is neither"
    );
    let slow = b.try_acquire().expect("closed");
    clock.advance(secs(2));
    drop(slow);
    assert_eq!(
        b.snapshot().consecutive_failures,
        4,
        "a slow abandon is a failure"
    );
}

#[test]
fn reconfigure_keeps_the_state() {
    let (b, _clock) = breaker(BreakerConfig::default());
    trip(&b);
    let config = BreakerConfig {
        half_open_successes: 1,
        ..Default::default()
    };
    b.reconfigure(&config).expect("valid");
    assert_eq!(b.state(), BreakerState::Open);
    let invalid = BreakerConfig {
        jitter: 2.0,
        ..Default::default()
    };
    assert!(b.reconfigure(&invalid).is_err());
}

#[test]
fn transitions_show_in_metrics() {
    let (b, clock) = breaker(BreakerConfig::default());
    let target = b.target().to_owned();
    assert_eq!(gauge(&target), Some(0.0));
    trip(&b);
    assert_eq!(gauge(&target), Some(2.0));
    clock.advance(secs(60));
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(gauge(&target), Some(1.0));
    b.set_mode(Mode::ForcedOpen);
    assert_eq!(gauge(&target), Some(2.0));
    assert_eq!(transitions(&target, "open"), 1.0);
    assert_eq!(transitions(&target, "half_open"), 1.0);
    assert_eq!(transitions(&target, "forced_open"), 1.0);
    assert_eq!(transitions(&target, "closed"), 0.0);
}

fn find<'a>(
    families: &'a [prometheus::proto::MetricFamily],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a prometheus::proto::Metric> {
    families
        .iter()
        .find(|f| f.name() == name)?
        .get_metric()
        .iter()
        .find(|m| {
            labels.iter().all(|(k, v)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == *k && l.value() == *v)
            })
        })
}

fn gauge(target: &str) -> Option<f64> {
    let families = prometheus::gather();
    find(&families, "frontdesk_breaker_state", &[("target", target)]).map(|m| m.get_gauge().value())
}

fn transitions(target: &str, to: &str) -> f64 {
    let families = prometheus::gather();
    find(
        &families,
        "frontdesk_breaker_transitions_total",
        &[("target", target), ("to", to)],
    )
    .map_or(0.0, |m| m.get_counter().value())
}
