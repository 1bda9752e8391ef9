//! Routing, bounded bodies, byte-identical forwarding, error statuses, admin endpoints.

use crate::harness::{Setup, TestServer};
use crate::http;
use crate::upstream::Upstream;

const PASS_THROUGH: &str = r#"
routes:
  - name: echo
    match: { path: "/echo/*" }
    body_limit: 1MiB
    upstream: app
"#;

fn server_with_upstream() -> (TestServer, Upstream) {
    let upstream = Upstream::start();
    let setup = Setup::shipped(Some(upstream.addr));
    setup.write("policies/zz-test.yaml", PASS_THROUGH);
    (setup.start(), upstream)
}

/// Deterministic bytes that are not all the same (catches reordering and truncation).
fn payload(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn forwards_bodies_byte_identical_at_every_size() {
    let (server, upstream) = server_with_upstream();
    for (i, len) in [0usize, 1024, 64 * 1024 + 1, 200 * 1024, 1024 * 1024]
        .into_iter()
        .enumerate()
    {
        let body = payload(len);
        let response = http::post(
            &server.base,
            &format!("/echo/{i}"),
            &[("content-type", "application/octet-stream")],
            &body,
        )
        .unwrap();
        assert_eq!(response.status, 200, "size {len}: {}", response.text());
        assert_eq!(response.header("x-upstream"), Some("test"));
        let got = &upstream.received()[i];
        assert_eq!(got.path, format!("/echo/{i}"));
        assert_eq!(got.body.len(), len, "size {len}");
        assert!(got.body == body, "size {len}: body differs");
        assert_eq!(got.header("content-length"), Some(len.to_string().as_str()));
        assert!(got.header("x-forwarded-for").is_some());
    }
}

#[test]
fn body_over_the_limit_is_refused_with_413() {
    let (server, upstream) = server_with_upstream();
    let body = payload(1024 * 1024 + 1);
    let response = http::post(&server.base, "/echo/big", &[], &body).unwrap();
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["error"], "body_too_large");

    // Without Content-Length, the streamed body is cut off when it crosses the limit.
    let mut raw =
        b"POST /echo/chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for chunk in body.chunks(64 * 1024) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let response = http::send_raw(&server.base, &raw).unwrap();
    assert_eq!(response.status, 413);
    assert_eq!(
        upstream.count(),
        0,
        "nothing over the limit reaches the upstream"
    );
}

#[test]
fn chunked_request_bodies_are_forwarded_with_a_length() {
    let (server, upstream) = server_with_upstream();
    let body = payload(200 * 1024);
    let mut raw = b"POST /echo/chunked HTTP/1.1\r\nhost: x\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for chunk in body.chunks(7000) {
        raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.extend_from_slice(chunk);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"0\r\n\r\n");
    let response = http::send_raw(&server.base, &raw).unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    let got = &upstream.received()[0];
    assert!(got.body == body);
    assert_eq!(got.header("content-length"), Some("204800"));
    assert_eq!(got.header("transfer-encoding"), None);
}

#[test]
fn content_length_with_transfer_encoding_is_refused() {
    let (server, upstream) = server_with_upstream();
    let raw = b"POST /echo/x HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let response = http::send_raw(&server.base, raw).unwrap();
    assert_eq!(response.status, 400);
    assert_eq!(upstream.count(), 0);
}

#[test]
fn unknown_routes_are_404_and_malformed_json_is_400() {
    let (server, _upstream) = server_with_upstream();
    let response = http::get(&server.base, "/nowhere").unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(response.json()["error"], "no_route");

    // A signed but malformed body on a JSON route.
    let body = br#"{"event": "call_ended", "#;
    let signature = frontdesk::signature::sign_retell(
        crate::harness::RETELL_KEY,
        body,
        crate::harness::FIXTURE_MS,
    );
    let response = http::post(
        &server.base,
        "/retell/webhook",
        &[("x-retell-signature", &signature)],
        body,
    )
    .unwrap();
    assert_eq!(response.status, 400);
    assert_eq!(response.json()["error"], "malformed_json");
}

#[test]
fn upstream_statuses_pass_through() {
    let (server, upstream) = server_with_upstream();
    upstream.set_status(418);
    let response = http::post(&server.base, "/echo/tea", &[], b"x").unwrap();
    assert_eq!(response.status, 418);
    assert_eq!(response.text(), "{\"received_bytes\":1}");
}

#[test]
fn a_dead_upstream_is_502() {
    let dead: std::net::SocketAddr = format!("127.0.0.1:{}", crate::harness::free_port())
        .parse()
        .unwrap();
    let setup = Setup::shipped(Some(dead));
    setup.write("policies/zz-test.yaml", PASS_THROUGH);
    let server = setup.start();
    let response = http::post(&server.base, "/echo/x", &[], b"x").unwrap();
    assert_eq!(response.status, 502, "{}", response.text());
    assert_eq!(response.json()["error"], "upstream_failed");
}

#[test]
fn admin_endpoints_report_health_and_metrics() {
    let (server, _upstream) = server_with_upstream();
    http::get(&server.base, "/nowhere").unwrap();
    let health = http::get(&server.admin, "/health").unwrap();
    assert_eq!(health.status, 200);
    assert!(health.header("x-frontdesk-version").is_some());
    assert_eq!(
        http::get(&server.admin, "/health/ready").unwrap().status,
        200
    );
    let detail = http::get(&server.admin, "/health/detailed").unwrap().json();
    assert_eq!(detail["healthy"], true);
    assert_eq!(detail["store"]["backend"], "memory");
    assert_eq!(detail["policy"]["hash"].as_str().unwrap().len(), 16);
    assert!(
        detail["policy"]["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "echo")
    );
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    assert!(
        metrics.contains("frontdesk_requests_total{route=\"none\",status=\"404\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("frontdesk_request_duration_seconds_bucket"));
}

#[test]
fn draining_flips_readiness_and_lets_in_flight_requests_finish() {
    let (server, upstream) = server_with_upstream();
    upstream.hold();
    let base = server.base.clone();
    let clients: Vec<_> = (0..3)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || {
                http::post(&base, &format!("/echo/slow{i}"), &[], b"slow").map(|r| r.status)
            })
        })
        .collect();
    assert!(crate::harness::wait_until(
        std::time::Duration::from_secs(10),
        || upstream.held() == 3
    ));
    let app = server.app.clone();
    let admin = server.admin.clone();
    let drain = std::thread::spawn(move || server.drain());
    assert!(crate::harness::wait_until(
        std::time::Duration::from_secs(5),
        || app.lifecycle.is_draining()
    ));
    assert_eq!(http::get(&admin, "/health/ready").unwrap().status, 503);
    upstream.release();
    for c in clients {
        assert_eq!(c.join().unwrap().unwrap(), 200);
    }
    drain.join().unwrap();
}

#[test]
fn upstream_connections_are_pooled() {
    let (server, upstream) = server_with_upstream();
    for i in 0..5 {
        assert_eq!(
            http::post(&server.base, &format!("/echo/{i}"), &[], b"x")
                .unwrap()
                .status,
            200
        );
    }
    assert_eq!(upstream.count(), 5);
    // Two worker threads may each open one; never one per request.
    assert!(
        upstream.connections() <= 2,
        "{} connections for 5 requests",
        upstream.connections()
    );
}

/// Hop-by-hop headers stay on their hop; Host, Content-Length and X-Forwarded-* are frontdesk's;
/// every other header reaches the upstream as the client sent it.
#[test]
fn forwards_end_to_end_headers_and_drops_hop_by_hop_ones() {
    let (server, upstream) = server_with_upstream();
    let headers = [
        ("X-Custom", "kept"),
        ("accept", "application/json"),
        ("te", "trailers"),
        ("keep-alive", "timeout=5"),
        ("proxy-authorization", "Basic c2VjcmV0"),
        ("upgrade", "websocket"),
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-proto", "https"),
    ];
    let response = http::post(&server.base, "/echo/headers", &headers, b"{}").unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    let got = &upstream.received()[0];
    assert_eq!(got.header("x-custom"), Some("kept"));
    assert_eq!(got.header("accept"), Some("application/json"));
    for hop in [
        "te",
        "keep-alive",
        "proxy-authorization",
        "upgrade",
        "connection",
    ] {
        assert_eq!(got.header(hop), None, "{hop} was forwarded");
    }
    assert_eq!(
        got.header("x-forwarded-for"),
        Some("203.0.113.9, 127.0.0.1")
    );
    assert_eq!(got.header("x-forwarded-proto"), Some("http"));
    assert_eq!(got.header("content-length"), Some("2"));
    assert_eq!(got.header("host"), Some(upstream.addr.to_string().as_str()));
    let sent_once = |name: &str| got.headers.iter().filter(|(k, _)| k == name).count();
    assert_eq!(sent_once("host"), 1);
    assert_eq!(sent_once("x-forwarded-for"), 1);
}

/// The answer to HEAD carries the upstream's headers and no body, and the client's connection
/// stays usable for the next request.
#[test]
fn head_requests_are_answered_without_a_body() {
    use std::io::{BufRead, BufReader, Read, Write};
    let (server, upstream) = server_with_upstream();
    let mut client =
        std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(b"HEAD /echo/head HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        assert!(
            reader.read_line(&mut head).unwrap() > 0,
            "closed after {head:?}"
        );
    }
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-upstream: test"),
        "{head}"
    );
    assert_eq!(upstream.received()[0].method, "HEAD");

    // Had a body followed the HEAD answer, it would be read here as the next status line.
    client
        .write_all(b"POST /echo/after HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}")
        .unwrap();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
    assert!(rest.ends_with(r#"{"received_bytes":2}"#), "{rest}");
}

/// An upstream that closes connections right after answering (its keep-alive timeout shorter
/// than frontdesk's) costs new connections, never a failed request.
#[test]
fn connections_the_upstream_closed_are_not_reused() {
    let upstream = ClosingUpstream::start();
    let setup = Setup::shipped(Some(upstream.addr));
    setup.write("policies/zz-test.yaml", PASS_THROUGH);
    let server = setup.start();
    for i in 0..3 {
        let response = http::post(&server.base, &format!("/echo/{i}"), &[], b"{}").unwrap();
        assert_eq!(response.status, 200, "request {i}: {}", response.text());
        // The upstream has closed this request's connection before the next request comes.
        upstream
            .closed
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
    }
}

#[test]
fn idle_upstream_connections_are_closed_after_their_idle_timeout() {
    let upstream = Upstream::start();
    let mut setup = Setup::shipped(Some(upstream.addr));
    setup.write("policies/zz-test.yaml", PASS_THROUGH);
    setup.config_extra = setup
        .config_extra
        .replace("total: 10s }", "total: 10s, idle: 300ms }");
    let server = setup.start();
    let response = http::post(&server.base, "/echo/once", &[], b"{}").unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(upstream.connections(), 1);
    assert!(
        crate::harness::wait_until(std::time::Duration::from_secs(10), || upstream.closed()
            == 1),
        "the idle connection is still open"
    );
}

/// Answers every request with `200 ok` and closes the connection, without saying so in a
/// `Connection: close` header; reports each close.
struct ClosingUpstream {
    addr: std::net::SocketAddr,
    closed: std::sync::mpsc::Receiver<()>,
}

impl ClosingUpstream {
    fn start() -> Self {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, closed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                drop((reader, stream));
                if tx.send(()).is_err() {
                    return;
                }
            }
        });
        Self { addr, closed }
    }
}

/// A forwarded webhook is parsed only as far as its stages read (dedupe key: event and call id;
/// tenant: agent id), not its transcript; the booking handler and the Cal.com event hook read the whole body.
#[test]
fn routes_parse_only_what_their_stages_read() {
    use frontdesk::policy::body_fields::BodyFields;
    use frontdesk::policy::template::parse_body_path;

    let setup = Setup::shipped(Some("127.0.0.1:9".parse().unwrap()));
    let config = frontdesk::config::Config::load(&setup.config_file(1, 2)).expect("config");
    let policy = frontdesk::policy::compile::compile(&config).expect("shipped policy");
    let fields = |name: &str| {
        policy
            .routes
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.body_fields.clone())
            .expect(name)
    };
    let mut webhook = BodyFields::none();
    // The tenant (for its raw-transcript switch) is decided from the signed agent id.
    for path in ["event", "call.call_id", "call.agent_id", "call.to_number"] {
        webhook.add(&parse_body_path(path).unwrap());
    }
    assert_eq!(fields("retell_webhook"), webhook);
    assert_eq!(fields("retell_function"), BodyFields::All);
    assert_eq!(fields("calcom_webhook"), BodyFields::All);
}
