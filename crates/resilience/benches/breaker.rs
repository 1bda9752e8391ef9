//! The cost a breaker adds to each upstream exchange: admission plus recording, on the closed path
//! (every healthy request) and on the open path (every rejected request), single-threaded and
//! contended.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmark code"
)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk_clock::SystemClock;
use frontdesk_resilience::{Breaker, BreakerConfig, FailureRateConfig, Outcome};

fn closed_path(c: &mut Criterion) {
    let breaker = Breaker::new("bench", &BreakerConfig::default(), Arc::new(SystemClock))
        .expect("default config is valid");
    c.bench_function("closed: acquire + record success", |b| {
        b.iter(|| {
            if let Ok(permit) = breaker.try_acquire() {
                permit.record(Outcome::Success, Duration::from_millis(3));
            }
        });
    });

    let with_rate = BreakerConfig {
        failure_rate: Some(FailureRateConfig::default()),
        ..Default::default()
    };
    let breaker =
        Breaker::new("bench-rate", &with_rate, Arc::new(SystemClock)).expect("config is valid");
    c.bench_function("closed with rate window: acquire + record success", |b| {
        b.iter(|| {
            if let Ok(permit) = breaker.try_acquire() {
                permit.record(Outcome::Success, Duration::from_millis(3));
            }
        });
    });
}

fn open_path(c: &mut Criterion) {
    let breaker = Breaker::new(
        "bench-open",
        &BreakerConfig::default(),
        Arc::new(SystemClock),
    )
    .expect("default config is valid");
    for _ in 0..5 {
        if let Ok(permit) = breaker.try_acquire() {
            permit.record(Outcome::ConnectError, Duration::from_millis(1));
        }
    }
    c.bench_function("open: rejected acquire", |b| {
        b.iter(|| breaker.try_acquire().is_err());
    });
}

fn contended(c: &mut Criterion) {
    let breaker = Breaker::new(
        "bench-contended",
        &BreakerConfig::default(),
        Arc::new(SystemClock),
    )
    .expect("default config is valid");
    c.bench_function("closed, 2 threads: 1000 acquire + record each", |b| {
        b.iter(|| {
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        for _ in 0..1000 {
                            if let Ok(permit) = breaker.try_acquire() {
                                permit.record(Outcome::Success, Duration::from_millis(3));
                            }
                        }
                    });
                }
            });
        });
    });
}

criterion_group!(benches, closed_path, open_path, contended);
criterion_main!(benches);
