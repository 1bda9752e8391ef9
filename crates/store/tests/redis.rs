//! The Redis backend against a real Redis: exact limits, limits shared by replicas, key-value ops.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{redis_url, unique_prefix};
use frontdesk_store::{Rate, RedisSettings, RedisStore, Store};

fn store(prefix: &str) -> RedisStore {
    RedisStore::new(&RedisSettings {
        url: redis_url(),
        prefix: prefix.to_owned(),
        // Generous: these tests check correctness on a busy machine, not latency.
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })
    .unwrap()
}

/// One per hour: nothing refills while a test runs, so the counts below cannot flake.
fn hourly(burst: u32) -> Rate {
    Rate {
        count: 1,
        period: Duration::from_secs(3_600),
        burst,
    }
}

#[tokio::test]
async fn exactly_burst_pass_and_the_next_is_denied() {
    let store = store(&unique_prefix("redis_exact"));
    for i in 0..5 {
        let d = store.gcra("call:a", hourly(5), 1).await.unwrap();
        assert!(d.allowed, "request {i} of the burst");
        assert_eq!((d.limit, d.remaining), (5, 4 - i));
        assert_eq!(d.retry_after, Duration::ZERO);
    }
    let denied = store.gcra("call:a", hourly(5), 1).await.unwrap();
    assert!(!denied.allowed);
    assert_eq!(denied.remaining, 0);
    // The next slot opens one interval after the first request: within the hour, not after it.
    assert!(
        denied.retry_after > Duration::from_secs(3_500),
        "{denied:?}"
    );
    assert!(
        denied.retry_after <= Duration::from_secs(3_600),
        "{denied:?}"
    );
    assert!(
        denied.reset_after > Duration::from_secs(5 * 3_600 - 100),
        "{denied:?}"
    );

    let other = store.gcra("call:b", hourly(5), 1).await.unwrap();
    assert!(other.allowed, "other keys are unaffected");
    assert_eq!(other.remaining, 4);
}

#[tokio::test]
async fn cost_counts_and_oversized_cost_is_denied() {
    let store = store(&unique_prefix("redis_cost"));
    assert!(!store.gcra("k", hourly(3), 4).await.unwrap().allowed);
    let d = store.gcra("k", hourly(3), 2).await.unwrap();
    assert!(d.allowed);
    assert_eq!(d.remaining, 1);
    assert!(!store.gcra("k", hourly(3), 2).await.unwrap().allowed);
    assert!(store.gcra("k", hourly(3), 1).await.unwrap().allowed);
}

#[tokio::test]
async fn two_replicas_enforce_one_limit() {
    let prefix = unique_prefix("redis_replicas");
    let (a, b) = (store(&prefix), store(&prefix));
    let mut passed = 0;
    for i in 0..20 {
        let replica = if i % 2 == 0 { &a } else { &b };
        if replica
            .gcra("tenant:t1", hourly(7), 1)
            .await
            .unwrap()
            .allowed
        {
            passed += 1;
        }
    }
    assert_eq!(passed, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_enforce_one_limit_under_concurrency() {
    let prefix = unique_prefix("redis_concurrent");
    let replicas = [Arc::new(store(&prefix)), Arc::new(store(&prefix))];
    let mut tasks = Vec::new();
    for i in 0..200 {
        let replica = replicas[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            replica
                .gcra("call:hot", hourly(25), 1)
                .await
                .unwrap()
                .allowed
        }));
    }
    let mut passed = 0;
    for task in tasks {
        if task.await.unwrap() {
            passed += 1;
        }
    }
    assert_eq!(passed, 25, "the sum over both replicas equals the burst");
}

#[tokio::test]
async fn key_value_operations() {
    let store = store(&unique_prefix("redis_kv"));
    let ttl = Duration::from_secs(60);
    assert_eq!(store.get("k").await.unwrap(), None);
    assert!(store.set_if_absent("k", b"first", ttl).await.unwrap());
    assert!(!store.set_if_absent("k", b"second", ttl).await.unwrap());
    assert_eq!(
        store.get("k").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    store.set("k", &[0, 255, 10], ttl).await.unwrap();
    assert_eq!(
        store.get("k").await.unwrap().as_deref(),
        Some(&[0, 255, 10][..])
    );
    store.delete("k").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn values_and_limits_live_in_separate_namespaces() {
    let store = store(&unique_prefix("redis_ns"));
    store
        .set("x", b"value", Duration::from_secs(60))
        .await
        .unwrap();
    assert!(store.gcra("x", hourly(1), 1).await.unwrap().allowed);
    assert_eq!(
        store.get("x").await.unwrap().as_deref(),
        Some(&b"value"[..])
    );
}

#[tokio::test]
async fn generations_are_shared_counters() {
    let prefix = unique_prefix("redis_gen");
    let (a, b) = (store(&prefix), store(&prefix));
    assert_eq!(a.generation("slots:t1").await.unwrap(), 0);
    assert_eq!(a.bump_generation("slots:t1").await.unwrap(), 1);
    assert_eq!(b.generation("slots:t1").await.unwrap(), 1);
    assert_eq!(b.bump_generation("slots:t1").await.unwrap(), 2);
    assert_eq!(a.generation("slots:t2").await.unwrap(), 0);
}

#[tokio::test]
async fn ping_measures_a_round_trip() {
    let store = store(&unique_prefix("redis_ping"));
    assert!(store.ping().await.unwrap() > Duration::ZERO);
}

#[tokio::test]
async fn debug_output_hides_the_password() {
    let store = RedisStore::new(&RedisSettings {
        url: "redis://:hunter2@127.0.0.1:1/0".to_owned(),
        prefix: "p:".to_owned(),
        timeout: Duration::from_millis(50),
        connect_timeout: Duration::from_millis(50),
    })
    .unwrap();
    let shown = format!("{store:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:1"), "{shown}");
}

/// A route's limits in one round trip: charged in order until the first stopping denial, the
/// same decisions the memory store makes checking them one by one.
#[tokio::test]
async fn several_limits_in_one_call_stop_at_the_first_enforced_denial() {
    use frontdesk_clock::ManualClock;
    use frontdesk_store::{GcraCheck, MemoryStore};

    let redis = store(&unique_prefix("redis_all"));
    let memory = MemoryStore::new(Arc::new(ManualClock::new(1_700_000_000_000)));
    let check = |key, burst, stops| GcraCheck {
        key,
        rate: hourly(burst),
        cost: 1,
        stops,
    };
    // `tight` allows 2; `shadow` allows 1 but does not stop; `after` comes last.
    let checks = [
        check("ip", 100, true),
        check("shadow", 1, false),
        check("tight", 2, true),
        check("after", 100, true),
    ];
    for backend in [&redis as &dyn Store, &memory] {
        let mut seen = Vec::new();
        for _ in 0..4 {
            let decisions = backend.gcra_all(&checks).await.unwrap();
            seen.push(decisions.iter().map(|d| d.allowed).collect::<Vec<_>>());
        }
        assert_eq!(
            seen,
            [
                vec![true, true, true, true],
                vec![true, false, true, true],
                vec![true, false, false],
                vec![true, false, false],
            ],
            "{}",
            backend.backend()
        );
        // `after` was charged only while `tight` allowed: twice.
        let after = backend.gcra("after", hourly(100), 0).await.unwrap();
        assert_eq!(after.remaining, 98, "{}", backend.backend());
        let ip = backend.gcra("ip", hourly(100), 0).await.unwrap();
        assert_eq!(ip.remaining, 96, "{}", backend.backend());
    }
}

/// A peek (cost 0) answers "would one more request pass?" and records nothing, in both backends.
#[tokio::test]
async fn a_peek_is_denied_exactly_when_the_next_request_would_be() {
    use frontdesk_clock::ManualClock;
    use frontdesk_store::MemoryStore;

    let redis = store(&unique_prefix("redis_peek"));
    let memory = MemoryStore::new(Arc::new(ManualClock::new(1_700_000_000_000)));
    for backend in [&redis as &dyn Store, &memory] {
        let name = backend.backend();
        for _ in 0..3 {
            let peek = backend.gcra("k", hourly(2), 0).await.unwrap();
            assert!(peek.allowed && peek.remaining == 2, "{name}: {peek:?}");
        }
        assert!(backend.gcra("k", hourly(2), 1).await.unwrap().allowed);
        assert!(
            backend.gcra("k", hourly(2), 0).await.unwrap().allowed,
            "{name}"
        );
        assert!(backend.gcra("k", hourly(2), 1).await.unwrap().allowed);
        let peek = backend.gcra("k", hourly(2), 0).await.unwrap();
        assert!(!peek.allowed && peek.remaining == 0, "{name}: {peek:?}");
        assert!(
            peek.retry_after > Duration::from_secs(3_500),
            "{name}: {peek:?}"
        );
        assert!(
            !backend.gcra("k", hourly(2), 1).await.unwrap().allowed,
            "{name}"
        );
    }
}

/// A thread's connection is driven to its end in the background from the moment it is made: a
/// Redis whose first answer takes longer than the operation timeout is still reached, without
/// operations having to keep waiting on it.
#[tokio::test]
async fn a_slow_first_connection_completes_in_the_background() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // In front of Redis: client bytes pass at once (and are recorded), Redis's first answer on
    // each connection is held back for longer than the operation timeout.
    let redis: std::net::SocketAddr = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .expect("REDIS_URL is redis://host:port");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let (sent_tx, mut sent) = tokio::sync::watch::channel(Vec::<u8>::new());
    let sent_tx = Arc::new(sent_tx);
    tokio::spawn(async move {
        loop {
            let (client, _) = listener.accept().await.unwrap();
            let server = tokio::net::TcpStream::connect(redis).await.unwrap();
            let (mut client_rx, mut client_tx) = client.into_split();
            let (mut server_rx, mut server_tx) = server.into_split();
            let sent_tx = sent_tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; 4096];
                while let Ok(n @ 1..) = client_rx.read(&mut buf).await {
                    sent_tx.send_modify(|all| all.extend_from_slice(&buf[..n]));
                    if server_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0; 4096];
                let mut first = true;
                while let Ok(n @ 1..) = server_rx.read(&mut buf).await {
                    if std::mem::take(&mut first) {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                    if client_tx.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });

    let store = RedisStore::new(&RedisSettings {
        url: format!("redis://{proxy}"),
        prefix: unique_prefix("slow_connect"),
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_secs(10),
    })
    .unwrap();
    assert!(
        matches!(
            store.get("k").await,
            Err(frontdesk_store::StoreError::Timeout(_))
        ),
        "the first answer is held back past the timeout"
    );
    // Nothing asks the store anything now; the connection's own PING still gets through.
    let pinged = sent.wait_for(|all| all.windows(4).any(|w| w.eq_ignore_ascii_case(b"ping")));
    tokio::time::timeout(Duration::from_secs(30), pinged)
        .await
        .expect("the connection finished in the background")
        .unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
}
