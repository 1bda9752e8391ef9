//! Rate limits through the server: exact bursts, independent keys, shadow mode, limits shared
//! by two replicas through Redis, and Redis going away and coming back.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{Setup, TestServer, free_port, redis_url, wait_until};
use crate::http;

const POLICY: &str = r#"
limits:
  per_key: { key: "{header.x-key}", rate: 5/h, burst: 5, fallback: anonymous }
  shadowed: { key: "{header.x-key}", rate: 2/h, burst: 2, mode: shadow }
routes:
  - name: limited
    match: { path: /limited }
    limits: [per_key]
  - name: shadowed
    match: { path: /shadowed }
    limits: [shadowed]
"#;

fn unique_prefix() -> String {
    format!("fdtest:{}:{}:", std::process::id(), free_port())
}

fn setup(store: &str) -> Setup {
    let mut setup = Setup::empty();
    setup.write("policies/limits.yaml", POLICY);
    setup.config_extra = store.to_string();
    setup
}

fn redis_store(url: &str, prefix: &str) -> String {
    format!(
        "store:\n  backend: redis\n  redis: {{ url: \"{url}\", prefix: \"{prefix}\", timeout: 200ms, probe_interval: 100ms }}\n"
    )
}

fn hit(server: &TestServer, path: &str, key: &str) -> http::Response {
    http::request(&server.base, "GET", path, &[("x-key", key)], b"").unwrap()
}

#[test]
fn exactly_the_burst_passes_and_other_keys_are_unaffected() {
    let server = setup("").start();
    for i in 0..5 {
        assert_eq!(hit(&server, "/limited", "a").status, 204, "request {i}");
    }
    let denied = hit(&server, "/limited", "a");
    assert_eq!(denied.status, 429);
    assert_eq!(denied.header("ratelimit-limit"), Some("5"));
    assert_eq!(denied.header("ratelimit-remaining"), Some("0"));
    // One request per 12 minutes comes back.
    assert_eq!(denied.header("retry-after"), Some("720"));
    assert!(denied.header("ratelimit-reset").is_some());
    assert_eq!(denied.json()["error"], "rate_limited");
    assert_eq!(hit(&server, "/limited", "b").status, 204);

    server.setup().clock.advance(Duration::from_secs(720));
    assert_eq!(hit(&server, "/limited", "a").status, 204);
    assert_eq!(hit(&server, "/limited", "a").status, 429);

    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    assert!(
        metrics.contains(
            "frontdesk_ratelimit_decisions_total{decision=\"denied\",limit=\"per_key\"} 2"
        ),
        "{metrics}"
    );
}

#[test]
fn a_missing_key_part_uses_the_fallback() {
    let server = setup("").start();
    let statuses: Vec<u16> = (0..6)
        .map(|_| http::get(&server.base, "/limited").unwrap().status)
        .collect();
    assert_eq!(statuses, [204, 204, 204, 204, 204, 429]);
}

#[test]
fn shadow_limits_let_everything_pass_and_count_would_be_denials() {
    let server = setup("").start();
    for _ in 0..5 {
        assert_eq!(hit(&server, "/shadowed", "a").status, 204);
    }
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    assert!(
        metrics.contains(
            "frontdesk_ratelimit_decisions_total{decision=\"shadow_denied\",limit=\"shadowed\"} 3"
        ),
        "{metrics}"
    );
}

#[test]
fn two_replicas_sharing_redis_enforce_one_limit() {
    let prefix = unique_prefix();
    let a = setup(&redis_store(&redis_url(), &prefix)).start();
    let b = setup(&redis_store(&redis_url(), &prefix)).start();
    let handles: Vec<_> = (0..30)
        .map(|i| {
            let base = if i % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            };
            std::thread::spawn(move || {
                http::request(&base, "GET", "/limited", &[("x-key", "shared")], b"")
                    .unwrap()
                    .status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25);
}

struct RedisChild {
    port: u16,
    child: Child,
}

impl RedisChild {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (make test installs it)");
        assert!(wait_until(Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }));
        Self { port, child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn degraded(server: &TestServer) -> bool {
    http::get(&server.admin, "/health/detailed").unwrap().json()["store"]["degraded"] == true
}

#[test]
fn redis_going_away_never_fails_a_request_and_sharing_resumes_when_it_is_back() {
    let port = free_port();
    let redis = RedisChild::start(port);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let prefix = unique_prefix();
    let a = setup(&redis_store(&url, &prefix)).start();
    let b = setup(&redis_store(&url, &prefix)).start();
    assert_eq!(hit(&a, "/limited", "k1").status, 204);
    assert!(!degraded(&a));

    redis.stop();
    // Every request is still answered: the local fallback limits per replica.
    let statuses: Vec<u16> = (0..6).map(|_| hit(&a, "/limited", "k2").status).collect();
    assert_eq!(statuses, [204, 204, 204, 204, 204, 429]);
    assert!(wait_until(Duration::from_secs(5), || degraded(&a)));
    let detail = http::get(&a.admin, "/health/detailed").unwrap().json();
    assert_eq!(detail["status"], "degraded");
    assert!(
        !detail.to_string().contains(&url),
        "the Redis URL is not reported"
    );
    let metrics = http::get(&a.admin, "/metrics").unwrap().text();
    assert!(
        metrics.contains("frontdesk_store_errors_total{backend=\"redis\"}"),
        "{metrics}"
    );

    let _redis = RedisChild::start(port);
    assert!(wait_until(Duration::from_secs(10), || {
        hit(&a, "/limited", "probe");
        hit(&b, "/limited", "probe");
        !degraded(&a) && !degraded(&b)
    }));
    // Shared again: what one replica spends, the other sees.
    for _ in 0..5 {
        assert_eq!(hit(&a, "/limited", "k3").status, 204);
    }
    assert_eq!(hit(&b, "/limited", "k3").status, 429);
}
