//! Circuit breaking and retries toward an upstream that fails on command.

use std::time::Duration;

use crate::harness::{Setup, TestServer, free_port, wait_until};
use crate::http;
use crate::upstream::Upstream;

const ECHO: &str = "routes:\n  - name: echo\n    match: { path: \"/echo/*\" }\n    upstream: app\n  - name: echo_idempotent\n    match: { path: \"/idem/*\" }\n    upstream: app\n    idempotent: true\n";

fn start(upstream: &Upstream, store: &str, shared: bool) -> TestServer {
    let mut setup = Setup::empty();
    setup.write("policies/echo.yaml", ECHO);
    setup.config_extra = format!(
        "{store}upstreams:\n  app:\n    address: {}\n    timeouts: {{ connect: 1s, read: 2s, write: 2s, total: 5s }}\n    breaker: {{ shared: {shared} }}\n    retry: {{ max_attempts: 3, backoff_base: 1ms, backoff_cap: 2ms }}\n",
        upstream.addr
    );
    setup.start()
}

fn post(server: &TestServer, path: &str) -> http::Response {
    http::post(&server.base, path, &[], b"{}").unwrap()
}

/// The outcome is recorded as the answer finishes, so the client may see it a moment earlier.
fn await_state(server: &TestServer, state: &str) {
    assert!(
        wait_until(Duration::from_secs(5), || breaker_state(server) == state),
        "breaker never became {state}: {}",
        breaker_state(server)
    );
}

fn breaker_state(server: &TestServer) -> String {
    let breakers = http::get(&server.admin, "/admin/breakers").unwrap().json();
    breakers["breakers"][0]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// How long the breaker stays open from now.
fn open_for(server: &TestServer) -> Duration {
    let snapshot = http::get(&server.admin, "/admin/breakers").unwrap().json();
    let until = snapshot["breakers"][0]["open_until_ms"]
        .as_u64()
        .expect("open");
    Duration::from_millis(until - frontdesk_clock::Clock::now_ms(&server.setup().clock))
}

#[test]
fn five_failures_open_the_breaker_and_two_successes_close_it() {
    let upstream = Upstream::start();
    let server = start(&upstream, "", false);
    upstream.set_status(500);
    for _ in 0..5 {
        assert_eq!(post(&server, "/echo/a").status, 500);
    }
    await_state(&server, "open");
    assert_eq!(upstream.count(), 5, "a POST is never retried");
    let rejected = post(&server, "/echo/a");
    assert_eq!(rejected.status, 503);
    assert_eq!(rejected.header("retry-after"), Some("60"));
    assert_eq!(open_for(&server), Duration::from_secs(60));
    assert_eq!(
        upstream.count(),
        5,
        "an open breaker does not touch the upstream"
    );

    upstream.set_status(200);
    server.setup().clock.advance(Duration::from_secs(60));
    assert_eq!(post(&server, "/echo/probe1").status, 200);
    await_state(&server, "half_open");
    assert_eq!(post(&server, "/echo/probe2").status, 200);
    await_state(&server, "closed");

    // Each further trip of the same incident stays open longer.
    upstream.set_status(502);
    for _ in 0..5 {
        post(&server, "/echo/b");
    }
    await_state(&server, "open");
    let second = open_for(&server);
    assert!(second > Duration::from_secs(60), "{second:?}");
    server.setup().clock.advance(second);
    assert_eq!(
        post(&server, "/echo/probe").status,
        502,
        "the probe goes through and fails"
    );
    await_state(&server, "open");
    let third = open_for(&server);
    assert!(third > second, "{third:?} after {second:?}");
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    assert!(
        metrics.contains("frontdesk_breaker_state{target=\"app\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("frontdesk_upstream_requests_total{outcome=\"rejected\",target=\"app\"}")
    );
}

#[test]
fn a_hanging_upstream_times_out_and_counts_as_a_failure() {
    let upstream = Upstream::start();
    let server = start(&upstream, "", false);
    upstream.hold();
    let r = post(&server, "/echo/slow");
    upstream.release();
    assert_eq!(r.status, 504, "{}", r.text());
    let snapshot = http::get(&server.admin, "/admin/breakers").unwrap().json();
    assert_eq!(snapshot["breakers"][0]["consecutive_failures"], 1);
}

#[test]
fn only_routes_marked_idempotent_retry_their_posts() {
    let upstream = Upstream::start();
    let server = start(&upstream, "", false);
    upstream.set_status(503);
    assert_eq!(post(&server, "/echo/x").status, 503);
    assert_eq!(upstream.count(), 1);
    assert_eq!(post(&server, "/idem/x").status, 503);
    assert_eq!(
        upstream.count(),
        4,
        "three attempts on the idempotent route"
    );
    upstream.set_status(200);
    let r = http::request(&server.base, "PUT", "/echo/put", &[], b"{}").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(upstream.received().last().unwrap().method, "PUT");
}

#[test]
fn admin_can_force_a_breaker_open_with_the_token() {
    let upstream = Upstream::start();
    let mut setup = Setup::empty();
    setup.write("policies/echo.yaml", ECHO);
    setup.write("secrets/admin", "s3cret-admin-token");
    setup.config_extra = format!("upstreams:\n  app:\n    address: {}\n", upstream.addr);
    let server = setup.start();
    let force = |auth: Option<&str>, mode: &str| {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        http::post(
            &server.admin,
            &format!("/admin/breakers/app?mode={mode}"),
            &headers,
            b"",
        )
        .unwrap()
        .status
    };
    assert_eq!(force(None, "forced_open"), 401);
    assert_eq!(force(Some("Bearer wrong"), "forced_open"), 401);
    assert_eq!(force(Some("Bearer s3cret-admin-token"), "forced_open"), 200);
    assert_eq!(post(&server, "/echo/x").status, 503);
    assert_eq!(upstream.count(), 0);
    assert_eq!(force(Some("Bearer s3cret-admin-token"), "auto"), 200);
    assert_eq!(post(&server, "/echo/x").status, 200);
    assert_eq!(force(Some("Bearer s3cret-admin-token"), "sideways"), 400);
    let r = http::post(
        &server.admin,
        "/admin/breakers/nope?mode=auto",
        &[("authorization", "Bearer s3cret-admin-token")],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 404);
    assert!(
        !http::get(&server.admin, "/health/detailed")
            .unwrap()
            .text()
            .contains("s3cret")
    );
}

#[test]
fn a_trip_on_one_replica_is_honoured_by_the_other() {
    let upstream = Upstream::start();
    let url = crate::harness::redis_url();
    let store = format!(
        "store:\n  backend: redis\n  redis: {{ url: \"{url}\", prefix: \"fdtest:{}:{}:\" }}\n",
        std::process::id(),
        free_port()
    );
    let a = start(&upstream, &store, true);
    let b = start(&upstream, &store, true);
    upstream.set_status(500);
    let statuses: Vec<u16> = (0..5).map(|_| post(&a, "/echo/a").status).collect();
    assert_eq!(statuses, [500; 5]);
    await_state(&a, "open");
    await_state(&b, "open");
    let before = upstream.count();
    assert_eq!(post(&b, "/echo/b").status, 503);
    assert_eq!(upstream.count(), before);
}
