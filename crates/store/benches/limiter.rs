//! Decision cost of the limiters.
//!
//! `local_decision`: ns per check of [`LocalLimiter`] against a `governor` keyed limiter, same
//! keys, same quota, same access pattern (goal: within 1.5x of governor).
//! `redis_decision`: checks per second of the Redis GCRA script against a bare `PING` and `GET`
//! round trip on the same connection kind (goal: within 1.2x of the round trip). Needs a Redis at
//! `REDIS_URL` (default `redis://127.0.0.1:6379`); the group is skipped when none answers.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmark code"
)]

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frontdesk_clock::{FastClock, SystemClock};
use frontdesk_store::{LocalLimiter, Rate, RedisSettings, RedisStore, Store};
use governor::{Quota, RateLimiter};

const KEYS: usize = 4_096;

fn keys() -> Vec<String> {
    (0..KEYS).map(|i| format!("call:{i:08x}")).collect()
}

fn local_decision(c: &mut Criterion) {
    let keys = keys();
    // 30/min with bursts of 10, the shipped per-call limit.
    let rate = Rate {
        count: 30,
        period: Duration::from_secs(60),
        burst: 10,
    };
    let quota = Quota::per_minute(NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN));

    let mut group = c.benchmark_group("local_decision");
    group.throughput(Throughput::Elements(1));

    let ours = LocalLimiter::new(Arc::new(SystemClock));
    let mut i = 0usize;
    group.bench_function("frontdesk_local_limiter", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(ours.check(black_box(&keys[i]), rate, 1))
        })
    });

    // The same limiter on the timestamp-counter clock, as governor uses by default.
    let fast = LocalLimiter::new(Arc::new(FastClock::new()));
    let mut i = 0usize;
    group.bench_function("frontdesk_local_limiter_fast_clock", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(fast.check(black_box(&keys[i]), rate, 1))
        })
    });

    let theirs = RateLimiter::keyed(quota);
    let mut i = 0usize;
    group.bench_function("governor_keyed", |b| {
        b.iter(|| {
            i = (i + 1) % KEYS;
            black_box(theirs.check_key(black_box(&keys[i])).is_ok())
        })
    });
    group.finish();
}

fn redis_decision(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let settings = RedisSettings {
        url: url.clone(),
        prefix: format!("bench:{nanos}:"),
        timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
    };
    let Some((store, mut bare)) = runtime.block_on(async {
        let store = RedisStore::new(&settings).ok()?;
        store.ping().await.ok()?;
        let client = redis::Client::open(url.as_str()).ok()?;
        let bare = client.get_connection_manager().await.ok()?;
        Some((store, bare))
    }) else {
        eprintln!("redis_decision skipped: no Redis answers");
        return;
    };
    let keys = keys();
    // A short period keeps the benchmark's keys from outliving it by more than a second.
    let rate = Rate {
        count: 1_000,
        period: Duration::from_secs(1),
        burst: 1_000,
    };

    let mut group = c.benchmark_group("redis_decision");
    group.throughput(Throughput::Elements(1));
    group.bench_function("gcra_script", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for n in 0..iters {
                    let key = &keys[n as usize % KEYS];
                    black_box(store.gcra(key, rate, 1).await.ok());
                }
                started.elapsed()
            })
        })
    });
    group.bench_function("bare_ping", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    let pong: Result<String, _> = redis::cmd("PING").query_async(&mut bare).await;
                    black_box(pong.ok());
                }
                started.elapsed()
            })
        })
    });
    group.bench_function("bare_get", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for n in 0..iters {
                    let key = &keys[n as usize % KEYS];
                    let value: Result<Option<Vec<u8>>, _> =
                        redis::cmd("GET").arg(key).query_async(&mut bare).await;
                    black_box(value.ok());
                }
                started.elapsed()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, local_decision, redis_decision);
criterion_main!(benches);
