//! TLS on the traffic listener, with certificates made at run time: a signed function call over
//! HTTP/1.1 and HTTP/2 (by ALPN), a certificate replaced on disk reaching new connections while
//! a request on an old one completes (and a broken replacement leaving it in service), stalled
//! handshakes freeing their connection slot, and `frontdesk check` judging the pair.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::harness::{FIXTURE_MS, RETELL_KEY, Setup, TestServer, fixture, wait_until};
use crate::upstream::Upstream;

const PASS_THROUGH: &str = r#"
routes:
  - name: echo
    match: { path: "/echo/*" }
    body_limit: 1MiB
    upstream: app
"#;

/// A test CA that signs leaf certificates for `localhost` and 127.0.0.1.
struct Pki {
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// The UTC date `days` from today.
fn day(days: i64) -> (i32, u8, u8) {
    let later =
        jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + days * 86_400).unwrap();
    let date = jiff::tz::TimeZone::UTC.to_datetime(later).date();
    (
        i32::from(date.year()),
        u8::try_from(date.month()).unwrap(),
        u8::try_from(date.day()).unwrap(),
    )
}

impl Pki {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "frontdesk test CA");
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Self {
            ca_pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf valid from `from` to `until` days from today: (certificate PEM, key PEM).
    fn leaf(&self, name: &str, from: i64, until: i64) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.distinguished_name.push(DnType::CommonName, name);
        let ((y0, m0, d0), (y1, m1, d1)) = (day(from), day(until));
        params.not_before = rcgen::date_time_ymd(y0, m0, d0);
        params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn client_config(&self, alpn: &[&[u8]]) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).unwrap())
            .unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        config
    }
}

/// Writes the pair where `server.tls` names it (relative to the config file).
fn install(setup: &Setup, (cert, key): &(String, String)) {
    std::fs::create_dir_all(setup.path("config/tls")).unwrap();
    // Replaced the way renewal tools do: written aside, then renamed over the old files.
    for (name, text) in [("key.pem", key), ("cert.pem", cert)] {
        let aside = setup.path(&format!("config/tls/.{name}.new"));
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(&aside, setup.path(&format!("config/tls/{name}"))).unwrap();
    }
}

const TLS_SECTION: &str = "  tls:\n    cert: tls/cert.pem\n    key: tls/key.pem\n";

fn tls_server(pki: &Pki, upstream: &Upstream) -> TestServer {
    let mut setup = Setup::shipped(Some(upstream.addr));
    setup.write("policies/zz-test.yaml", PASS_THROUGH);
    install(&setup, &pki.leaf("first", -1, 30));
    setup.server_extra = TLS_SECTION.to_string();
    setup.start()
}

#[test]
fn a_signed_function_call_is_served_over_http1_and_http2_by_alpn() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let server = tls_server(&pki, &upstream);
    let body = fixture("retell_fn_check_availability.json");
    let signature = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (alpn, version) in [
        (&[b"http/1.1".as_slice()][..], reqwest::Version::HTTP_11),
        (
            &[b"h2".as_slice(), b"http/1.1".as_slice()][..],
            reqwest::Version::HTTP_2,
        ),
    ] {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(pki.client_config(alpn))
            .build()
            .unwrap();
        runtime.block_on(async {
            let response = client
                .post(format!("{}/retell/function", server.base))
                .header("x-retell-signature", &signature)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.version(), version);
            let status = response.status();
            let text = response.text().await.unwrap();
            assert_eq!(status, 200, "{version:?}: {text}");
            // An unsigned call is refused the same way over either protocol.
            let unsigned = client
                .post(format!("{}/retell/function", server.base))
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(unsigned.status(), 401, "{version:?}");
            let echoed = client
                .post(format!("{}/echo/proto", server.base))
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(echoed.status(), 200, "{version:?}");
        });
    }
    let received: Vec<_> = upstream
        .received()
        .into_iter()
        .filter(|r| r.path == "/echo/proto")
        .collect();
    assert_eq!(received.len(), 2);
    for got in &received {
        assert_eq!(got.header("x-forwarded-proto"), Some("https"));
    }
}

/// A TLS connection to the server (plain rustls, to see the certificate it presents).
fn connect(pki: &Pki, base: &str) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let addr = base.strip_prefix("https://").unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(pki.client_config(&[b"http/1.1"])), name).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).unwrap();
    }
    stream
}

fn presented(stream: &rustls::StreamOwned<rustls::ClientConnection, TcpStream>) -> Vec<u8> {
    stream.conn.peer_certificates().unwrap()[0].to_vec()
}

fn leaf_der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[test]
fn a_renewed_certificate_reaches_new_connections_while_an_old_one_finishes_its_request() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let server = tls_server(&pki, &upstream);
    let first = std::fs::read_to_string(server.setup().path("config/tls/cert.pem")).unwrap();

    let mut old = connect(&pki, &server.base);
    assert_eq!(presented(&old), leaf_der(&first));
    upstream.hold();
    old.write_all(b"POST /echo/held HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\n\r\n{}")
        .unwrap();
    old.flush().unwrap();
    assert!(wait_until(Duration::from_secs(10), || upstream.held() == 1));

    let renewed = pki.leaf("renewed", -1, 90);
    install(server.setup(), &renewed);
    let new = connect(&pki, &server.base);
    assert_eq!(presented(&new), leaf_der(&renewed.0));

    upstream.release();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("\r\n\r\n") {
        let n = old.read(&mut chunk).unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // A replacement whose key does not match is not served: the renewed pair stays.
    let (broken_cert, _) = pki.leaf("broken", -1, 10);
    let (_, wrong_key) = pki.leaf("other", -1, 10);
    install(server.setup(), &(broken_cert, wrong_key));
    assert_eq!(
        presented(&connect(&pki, &server.base)),
        leaf_der(&renewed.0)
    );

    let detailed = crate::http::get(&server.admin, "/health/detailed").unwrap();
    let detail: serde_json::Value = serde_json::from_slice(&detailed.body).unwrap();
    let days_left = detail["tls"]["days_left"].as_i64().unwrap();
    assert!((88..=90).contains(&days_left), "{detail}");
    let metrics = crate::http::get(&server.admin, "/metrics").unwrap().text();
    let expiry = detail["tls"]["not_after_unix"].as_i64().unwrap();
    assert!(
        metrics.contains(&format!(
            "frontdesk_tls_certificate_expiry_seconds {expiry}"
        )),
        "{metrics}"
    );
}

/// `frontdesk check` on a config whose `server.tls` names the given pair.
fn check(cert: &str, key: &str) -> std::process::Output {
    let mut setup = Setup::shipped(None);
    std::fs::create_dir_all(setup.path("config/tls")).unwrap();
    setup.write("config/tls/cert.pem", cert);
    setup.write("config/tls/key.pem", key);
    setup.server_extra = TLS_SECTION.to_string();
    let config = setup.config_file(8443, 9443);
    std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["check", "-c"])
        .arg(&config)
        .output()
        .unwrap()
}

#[test]
fn check_refuses_an_expired_or_mismatched_pair_and_warns_before_expiry() {
    let pki = Pki::new();
    let (cert, key) = pki.leaf("good", -1, 60);
    let out = check(&cert, &key);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("expires in"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("TLS certificate valid until"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let (expired, expired_key) = pki.leaf("expired", -30, -2);
    let out = check(&expired, &expired_key);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("server.tls") && stderr.contains("expired at"),
        "{stderr}"
    );

    let (_, other_key) = pki.leaf("other", -1, 60);
    let out = check(&cert, &other_key);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("the private key does not belong to the certificate"),
        "{stderr}"
    );

    let (soon, soon_key) = pki.leaf("soon", -60, 5);
    let out = check(&soon, &soon_key);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("warning: the TLS certificate"), "{stderr}");
    assert!(
        stderr.contains("expires in 4 days") || stderr.contains("expires in 5 days"),
        "{stderr}"
    );
}

/// Reads until the server closes the connection; `false` if it stays open past the read timeout.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

const PROBE: &[u8] = b"GET /__probe HTTP/1.1\r\nhost: localhost\r\n\r\n";

fn probe(stream: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>) -> u16 {
    stream.write_all(PROBE).unwrap();
    stream.flush().unwrap();
    let response = crate::http::read_response(&mut std::io::BufReader::new(stream)).unwrap();
    response.status
}

#[test]
fn stalled_or_failed_handshakes_free_their_slot_and_an_idle_tls_connection_waits_for_keepalive() {
    let pki = Pki::new();
    let mut setup = Setup::shipped(None);
    install(&setup, &pki.leaf("first", -1, 30));
    setup.server_extra = format!(
        "{TLS_SECTION}  header_timeout: 1s\n  keepalive_timeout: 5s\n  max_connections_per_client: 2\n"
    );
    let server = setup.start();
    let addr = server.base.strip_prefix("https://").unwrap().to_string();

    let metric = |series: &str| -> f64 {
        let metrics = crate::http::get(&server.admin, "/metrics").unwrap().text();
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    };
    // The harness's readiness probe connection is gone.
    assert!(wait_until(Duration::from_secs(5), || metric(
        "frontdesk_connections_open"
    ) == 0.0));

    // Two clients that never start their handshake hold both slots until the head deadline.
    let started = std::time::Instant::now();
    let mut stalled: Vec<TcpStream> = (0..2)
        .map(|_| {
            let s = TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s
        })
        .collect();
    for s in &mut stalled {
        assert!(closed_by_server(s), "a stalled handshake was kept open");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "closed after {:?}, header_timeout 1s",
        started.elapsed()
    );
    // A client speaking plain HTTP to the TLS port fails its handshake and is closed.
    let mut plain = TcpStream::connect(&addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain.write_all(PROBE).unwrap();
    assert!(closed_by_server(&mut plain));

    // Every slot came back: two TLS connections at once are served.
    let mut a = connect(&pki, &server.base);
    let mut b = connect(&pki, &server.base);
    assert_eq!(probe(&mut a), 404);
    assert_eq!(probe(&mut b), 404);

    // Counted once each, when their connection task ends.
    assert!(wait_until(Duration::from_secs(5), || metric(
        "frontdesk_connection_timeouts_total{phase=\"header\"}"
    ) == 2.0));

    // Idle for longer than header_timeout but within keepalive_timeout: still served (a TLS
    // stream cannot peek; the wait for the next request must not be cut by the head deadline).
    // A silent connection opened now is closed by the server after header_timeout: once it is,
    // `a` has been idle at least that long.
    let mut canary = TcpStream::connect(&addr).unwrap();
    canary
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert!(closed_by_server(&mut canary));
    assert_eq!(probe(&mut a), 404);
}

#[test]
fn http2_header_lists_are_capped_at_max_header_bytes() {
    let pki = Pki::new();
    let upstream = Upstream::start();
    let server = tls_server(&pki, &upstream);
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(pki.client_config(&[b"h2"]))
        .build()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let send = |size: usize| {
            client
                .post(format!("{}/echo/headers", server.base))
                .header("x-padding", "a".repeat(size))
                .body("{}")
                .send()
        };
        let small = send(1024).await.unwrap();
        assert_eq!(small.version(), reqwest::Version::HTTP_2);
        assert_eq!(small.status(), 200);
        // Over server.max_header_bytes (32KiB) but under Pingora's own HTTP/2 default (64KiB).
        let large = send(40 * 1024).await;
        assert_eq!(large.map(|r| r.status().as_u16()).unwrap_or(0), 431);
    });
    assert_eq!(
        upstream
            .received()
            .iter()
            .filter(|r| r.path == "/echo/headers")
            .count(),
        1
    );
}
