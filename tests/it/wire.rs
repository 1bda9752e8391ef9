//! The wire: connections bounded in time and number, one answer per request, pipelining,
//! forwarding headers. Each test reproduces an attack or a failure seen against the binary.

use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::harness::{Setup, TestServer, free_port, logs, wait_until};
use crate::http;
use crate::upstream::Upstream;

const PASS_THROUGH: &str = r#"
routes:
  - name: echo
    match: { path: "/echo/*" }
    body_limit: 1MiB
    upstream: app
"#;

fn server(server_extra: &str, upstream: Option<SocketAddr>) -> TestServer {
    let mut setup = Setup::shipped(upstream);
    setup.server_extra = server_extra.to_string();
    if upstream.is_some() {
        setup.write("policies/zz-test.yaml", PASS_THROUGH);
    }
    setup.start()
}

fn addr(base: &str) -> &str {
    base.trim_start_matches("http://")
}

fn connect(base: &str) -> TcpStream {
    let stream = TcpStream::connect(addr(base)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// A connection from another loopback address, so per-client caps see a client of its own.
fn connect_from(source: [u8; 4], base: &str) -> TcpStream {
    let target: SocketAddr = addr(base).parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((source, 0))).unwrap();
        socket.connect(target).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; `false` if it stays open past the read timeout.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            // A reset is a close too.
            Err(_) => return true,
        }
    }
}

fn metric(admin: &str, series: &str) -> f64 {
    let text = http::get(admin, "/metrics").unwrap().text();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

const PROBE: &[u8] = b"GET /__probe HTTP/1.1\r\nhost: x\r\n\r\n";

#[test]
fn an_idle_keepalive_connection_is_closed_after_the_keepalive_timeout() {
    let server = server("  keepalive_timeout: 1s\n", None);
    let mut stream = connect(&server.base);
    stream.write_all(PROBE).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let response = http::read_response(&mut reader).unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(response.header("connection"), Some("keep-alive"));
    let idle_since = Instant::now();
    assert!(closed_by_server(&mut stream), "idle connection kept open");
    assert!(
        idle_since.elapsed() < Duration::from_secs(2),
        "closed after {:?}, timeout 1s",
        idle_since.elapsed()
    );
    assert!(
        metric(
            &server.admin,
            "frontdesk_connection_timeouts_total{phase=\"idle\"}"
        ) >= 1.0
    );
}

#[test]
fn a_head_sent_one_byte_per_second_is_cut_at_the_head_deadline() {
    let server = server("  header_timeout: 2s\n", None);
    let stream = connect(&server.base);
    let started = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    // The slow client: one byte a second, for longer than any deadline.
    std::thread::spawn(move || {
        let head =
            b"GET /__probe HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        for byte in head {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let response = http::read_response(&mut BufReader::new(stream)).unwrap();
    assert_eq!(response.status, 408);
    assert_eq!(response.json()["error"], "request_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut after {:?}, deadline 2s",
        started.elapsed()
    );
}

#[test]
fn heads_over_the_size_or_field_cap_are_431() {
    let server = server("  max_header_bytes: 8KiB\n  max_headers: 20\n", None);
    let big = format!(
        "GET /__probe HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(16 * 1024)
    );
    let response = http::send_raw(&server.base, big.as_bytes()).unwrap();
    assert_eq!(response.status, 431);
    assert_eq!(response.json()["error"], "header_too_large");

    let mut many = String::from("GET /__probe HTTP/1.1\r\nhost: x\r\n");
    for i in 0..25 {
        many.push_str(&format!("x-field-{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let response = http::send_raw(&server.base, many.as_bytes()).unwrap();
    assert_eq!(response.status, 431);

    // Just under both caps: served.
    let fits = format!(
        "GET /__probe HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(6 * 1024)
    );
    let response = http::send_raw(&server.base, fits.as_bytes()).unwrap();
    assert_eq!(response.status, 404);
}

#[test]
fn a_stalled_or_trickled_body_is_cut_with_408() {
    let upstream = Upstream::start();
    let server = server(
        "  body_timeout: 1s\n  body_min_rate: 1KiB\n",
        Some(upstream.addr),
    );
    // Stalled: 10 of 1000 bytes, then nothing.
    let mut stream = connect(&server.base);
    let started = Instant::now();
    stream
        .write_all(
            b"POST /echo/stall HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n0123456789",
        )
        .unwrap();
    let response = http::read_response(&mut BufReader::new(stream)).unwrap();
    assert_eq!(response.status, 408);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Trickled: a byte every 100 ms never pauses for the idle timeout, but is far below 1 KiB/s.
    let stream = connect(&server.base);
    let started = Instant::now();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        let _ = writer
            .write_all(b"POST /echo/trickle HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n");
        for _ in 0..100 {
            if writer.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let response = http::read_response(&mut BufReader::new(stream)).unwrap();
    assert_eq!(response.status, 408);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(upstream.count(), 0);
    assert!(
        metric(
            &server.admin,
            "frontdesk_connection_timeouts_total{phase=\"body\"}"
        ) >= 2.0
    );
}

#[test]
fn a_keepalive_connection_serves_at_most_max_requests() {
    let server = server("  max_requests_per_connection: 2\n", None);
    let mut stream = connect(&server.base);
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    stream.write_all(PROBE).unwrap();
    let first = http::read_response(&mut reader).unwrap();
    assert_eq!(first.header("connection"), Some("keep-alive"));
    stream.write_all(PROBE).unwrap();
    let second = http::read_response(&mut reader).unwrap();
    assert_eq!(second.status, 404);
    assert_eq!(second.header("connection"), Some("close"));
    assert!(closed_by_server(&mut stream));
}

#[test]
fn connections_over_the_per_client_cap_are_refused_while_others_are_served() {
    let server = server("  max_connections_per_client: 4\n", None);
    // A client address of this test's own, so no other test's connections count against it.
    let client = [127, 0, 0, 77];
    let held: Vec<_> = (0..4).map(|_| connect_from(client, &server.base)).collect();
    let mut fifth = connect_from(client, &server.base);
    assert!(
        closed_by_server(&mut fifth),
        "the fifth connection was kept"
    );
    assert!(
        metric(
            &server.admin,
            "frontdesk_connections_refused_total{reason=\"per_client\"}"
        ) >= 1.0
    );

    // Other clients and the admin listener are unaffected; the held connections still work.
    assert_eq!(http::get(&server.base, "/__probe").unwrap().status, 404);
    assert_eq!(http::get(&server.admin, "/health").unwrap().status, 200);
    let mut first = held.into_iter().next().unwrap();
    first.write_all(PROBE).unwrap();
    let answer = http::read_response(&mut BufReader::new(first.try_clone().unwrap())).unwrap();
    assert_eq!(answer.status, 404);

    // A slot freed is a slot again.
    drop(first);
    assert!(wait_until(Duration::from_secs(5), || {
        let mut again = connect_from(client, &server.base);
        again.write_all(PROBE).is_ok()
            && http::read_response(&mut BufReader::new(again)).is_ok_and(|r| r.status == 404)
    }));
}

/// A fake upstream that answers every request with `answer`, then keeps the connection open
/// without another byte.
fn stalling_upstream(answer: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let _ = stream.write_all(answer);
            open.push(stream);
        }
    });
    addr
}

#[test]
fn an_upstream_stall_mid_answer_truncates_it_and_never_appends_a_second() {
    let upstream = stalling_upstream(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nAAAAAAAAAA");
    let mut setup = Setup::shipped(None);
    setup.config_extra = format!(
        "upstreams:\n  app:\n    address: {upstream}\n    timeouts: {{ connect: 1s, read: 5s, write: 5s, total: 1s }}\n"
    );
    setup.write("policies/zz-test.yaml", PASS_THROUGH);
    let server = setup.start();
    let mut stream = connect(&server.base);
    stream
        .write_all(b"GET /echo/stall-mid-answer HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    let ended = stream.read_to_end(&mut received);
    assert!(ended.is_ok() || ended.is_err_and(|e| e.kind() == ErrorKind::ConnectionReset));
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    assert_eq!(
        body, "AAAAAAAAAA",
        "the answer must be cut, not completed or spliced"
    );
    assert!(!text.contains("upstream_timeout"), "{text}");

    assert!(wait_until(Duration::from_secs(5), || logs::text()
        .lines()
        .any(|l| {
            l.contains("\"route\":\"echo\"") && l.contains("\"outcome\":\"aborted\"")
        })));
    assert!(
        metric(
            &server.admin,
            "frontdesk_responses_aborted_total{route=\"echo\"}"
        ) >= 1.0
    );
}

#[test]
fn pipelined_requests_are_all_answered_in_order() {
    let upstream = Upstream::start();
    let server = server("", Some(upstream.addr));
    let mut stream = connect(&server.base);
    stream
        .write_all(
            b"POST /echo/one HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc\
              POST /echo/two HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello\
              GET /__probe HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
    let mut reader = BufReader::new(stream);
    let statuses: Vec<_> = (0..3)
        .map(|_| http::read_response(&mut reader).map(|r| (r.status, r.text())))
        .collect();
    let statuses: Vec<_> = statuses.into_iter().map(Result::unwrap).collect();
    assert_eq!(statuses[0], (200, "{\"received_bytes\":3}".to_string()));
    assert_eq!(statuses[1], (200, "{\"received_bytes\":5}".to_string()));
    assert_eq!(statuses[2].0, 404);
    let paths: Vec<_> = upstream.received().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/echo/one", "/echo/two"]);
}

#[test]
fn forwarding_headers_join_every_hop_and_drop_connection_named_ones() {
    let upstream = Upstream::start();
    let server = server("", Some(upstream.addr));
    let raw = b"POST /echo/fwd HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 203.0.113.1\r\n\
                x-forwarded-for: 198.51.100.2, 192.0.2.3\r\nx-forwarded-proto: https\r\n\
                connection: keep-alive, x-hop-secret\r\nx-hop-secret: s\r\nx-kept: k\r\n\
                content-length: 2\r\n\r\n{}";
    let response = http::send_raw(&server.base, raw).unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    let got = &upstream.received()[0];
    assert_eq!(
        got.header("x-forwarded-for"),
        Some("203.0.113.1, 198.51.100.2, 192.0.2.3, 127.0.0.1")
    );
    // The peer is no trusted proxy: its claim of HTTPS is not passed on.
    assert_eq!(got.header("x-forwarded-proto"), Some("http"));
    assert_eq!(got.header("x-hop-secret"), None);
    assert_eq!(got.header("x-kept"), Some("k"));
}

#[test]
fn connection_named_headers_of_the_upstream_answer_are_dropped() {
    let upstream = stalling_upstream(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: x-hop\r\nx-hop: 1\r\nx-kept: 1\r\n\r\nok",
    );
    let mut setup = Setup::shipped(None);
    setup.config_extra = format!(
        "upstreams:\n  app:\n    address: {upstream}\n    timeouts: {{ connect: 1s, read: 5s, write: 5s, total: 5s }}\n"
    );
    setup.write("policies/zz-test.yaml", PASS_THROUGH);
    let server = setup.start();
    let response = http::get(&server.base, "/echo/answer-hops").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
    assert_eq!(response.header("x-hop"), None);
    assert_eq!(response.header("x-kept"), Some("1"));
}

#[test]
fn http11_without_exactly_one_host_is_400() {
    let server = server("", None);
    let response = http::send_raw(&server.base, b"GET /__probe HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(response.status, 400);
    let response = http::send_raw(
        &server.base,
        b"GET /__probe HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n",
    )
    .unwrap();
    assert_eq!(response.status, 400);
    // HTTP/1.0 has no Host requirement.
    let response = http::send_raw(&server.base, b"GET /__probe HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(response.status, 404);
}

/// With a low descriptor limit (a child process under `ulimit -n`), a flood of idle connections
/// is refused beyond the cap derived from the limit, while a request on an open connection and
/// the admin `/health` are still answered.
#[test]
fn a_connection_flood_under_a_low_fd_limit_leaves_traffic_and_admin_answering() {
    let setup = Setup::shipped(None);
    let (listen, admin) = (free_port(), free_port());
    let config = setup.config_file(listen, admin);
    let log = setup.path("frontdesk.log");
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 320 && exec \"$0\" run -c \"$1\"")
        .arg(env!("CARGO_BIN_EXE_frontdesk"))
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{listen}");
    let admin = format!("http://127.0.0.1:{admin}");
    let up = wait_until(Duration::from_secs(30), || {
        http::get(&admin, "/health").is_ok_and(|r| r.header("x-frontdesk-version").is_some())
            && http::get(&base, "/__probe").is_ok_and(|r| r.status == 404)
    });
    let result = std::panic::catch_unwind(|| {
        assert!(up, "server did not start");
        // (320 - 128 reserved) / 2 traffic connections fit.
        let logged = || std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            wait_until(Duration::from_secs(5), || logged()
                .contains("\"max_connections\":96")),
            "{}",
            logged()
        );

        let mut kept = connect(&base);
        kept.write_all(PROBE).unwrap();
        let mut kept_reader = BufReader::new(kept.try_clone().unwrap());
        assert_eq!(http::read_response(&mut kept_reader).unwrap().status, 404);

        let mut open: Vec<TcpStream> = (0..400).map(|_| connect(&base)).collect();
        for stream in &open {
            stream
                .set_read_timeout(Some(Duration::from_millis(20)))
                .unwrap();
        }
        // Within the head deadline (10 s), so every close seen is a refusal at accept.
        let mut refused = 0;
        let enough = wait_until(Duration::from_secs(6), || {
            let before = open.len();
            open.retain_mut(|s| !closed_by_server(s));
            refused += before - open.len();
            refused >= 400 - 96
        });
        assert!(enough, "refused {refused} of 400");
        assert_eq!(http::get(&admin, "/health").unwrap().status, 200);
        assert!(
            http::get(&admin, "/metrics")
                .unwrap()
                .text()
                .contains("frontdesk_connections_open")
        );
        kept.write_all(PROBE).unwrap();
        assert_eq!(http::read_response(&mut kept_reader).unwrap().status, 404);
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn check_rejects_bounds_that_would_disable_themselves() {
    let mut setup = Setup::shipped(None);
    setup.server_extra = "  header_timeout: 0s\n  max_headers: 0\n  max_header_bytes: 100\n".into();
    let config = setup.config_file(free_port(), free_port());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["check", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for message in [
        "server.header_timeout must be more than 0s",
        "server.max_headers must be at least 1",
        "server.max_header_bytes must be at least 1KiB",
    ] {
        assert!(stderr.contains(message), "{stderr}");
    }
}
