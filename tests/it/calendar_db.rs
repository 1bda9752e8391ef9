//! The embedded calendar's database through real servers: a retry after `kill -9` on both
//! backends, three replica processes on one PostgreSQL, a replica killed mid-burst, and a
//! PostgreSQL outage (answers within the deadline, breaker, recovery without restart).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use frontdesk_testdb::TestDatabase;
use jiff::ToSpan;
use serde_json::{Value, json};

use crate::harness::{FIXTURE_MS, RETELL_KEY, Setup, free_port, post_signed, wait_until};
use crate::http;

/// The tenant of the signed fixtures (shared Retell key, one chair).
pub const AGENT: &str = "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD";

/// A tenant with ten rooms open every day, so a burst of bookings has slots to fill.
const ROOMS_TENANT: &str = r#"
  - id: rooms
    company_id: rooms
    branch_id: main
    agent_ids: [agent_rooms]
    retell_keys: [{ file: SECRETS_DIR/rooms-retell }]
    calendar: { provider: local, resources: [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9] }
    default_duration: 30m
    time_zone: Europe/Berlin
    business_hours:
      monday:    { open: "08:00", close: "18:00" }
      tuesday:   { open: "08:00", close: "18:00" }
      wednesday: { open: "08:00", close: "18:00" }
      thursday:  { open: "08:00", close: "18:00" }
      friday:    { open: "08:00", close: "18:00" }
      saturday:  { open: "08:00", close: "18:00" }
      sunday:    { open: "08:00", close: "18:00" }
"#;

/// Puts the setup's calendar on its own PostgreSQL database (URL from a file, like a mounted
/// secret); `extra` adds lines to the `calendar_store` section.
pub fn on_postgres(setup: &mut Setup, url: &str, extra: &str) {
    setup.write("secrets/database-url", url);
    setup.config_extra.push_str(&format!(
        "calendar_store:\n  backend: postgres\n  url: {{ file: {} }}\n{extra}",
        setup.path("secrets/database-url").display()
    ));
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The rooms tenant's own Retell key.
const ROOMS_KEY: &str = "rooms-retell-key";

/// A signed function call, timestamped `at_ms` (a child process checks it against its clock),
/// for the fixture tenant (`AGENT`, the shared key) or the rooms tenant (its own key).
pub fn function(
    base: &str,
    at_ms: u64,
    agent: &str,
    call_id: &str,
    name: &str,
    args: Value,
) -> io::Result<Value> {
    let body = serde_json::to_vec(&json!({
        "name": name,
        "args": args,
        "call": { "call_id": call_id, "agent_id": agent, "from_number": "+4915112345678" },
    }))
    .unwrap();
    let key = if agent == AGENT {
        RETELL_KEY
    } else {
        ROOMS_KEY
    };
    let r = post_signed(base, "/retell/function", key, at_ms, &body)?;
    if r.status != 200 {
        return Err(io::Error::other(format!("{} {}", r.status, r.text())));
    }
    Ok(r.json())
}

/// A weekday at least a week ahead of the real clock (child processes use it), as `YYYY-MM-DD`.
pub fn a_weekday_ahead() -> String {
    let today = jiff::tz::Offset::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    let mut day = today.checked_add(8.days()).unwrap();
    while matches!(
        day.weekday(),
        jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
    ) || (day.month() == 12 && day.day() >= 24)
        || (day.month() == 1 && day.day() == 1)
    {
        day = day.checked_add(1.day()).unwrap();
    }
    day.to_string()
}

/// `frontdesk run` as a child process on fresh ports.
pub struct Replica {
    child: Child,
    pub base: String,
    pub admin: String,
}

impl Replica {
    pub fn start(setup: &Setup) -> Self {
        let (listen, admin) = (free_port(), free_port());
        let config = setup.config_file(listen, admin);
        // Each replica gets a config file of its own (same policies, tenants and database).
        let own = setup.path(&format!("config/replica-{listen}.yaml"));
        std::fs::rename(&config, &own).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .args(["run", "-c"])
            .arg(&own)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(own.with_extension("log")).unwrap())
            .spawn()
            .unwrap();
        let admin = format!("http://127.0.0.1:{admin}");
        let replica = Self {
            child,
            base: format!("http://127.0.0.1:{listen}"),
            admin: admin.clone(),
        };
        assert!(
            wait_until(Duration::from_secs(30), || {
                http::get(&admin, "/health")
                    .is_ok_and(|r| r.header("x-frontdesk-version").is_some())
                    && http::get(&replica.base, "/__probe").is_ok_and(|r| r.status == 404)
            }),
            "replica did not become ready: {}",
            std::fs::read_to_string(own.with_extension("log")).unwrap_or_default()
        );
        replica
    }

    /// SIGKILL: no drain, no flush, like a crashed node.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn book_body(date: &str, time: &str, name: &str) -> Value {
    json!({ "date": date, "time": time, "name": name, "email": "erika@example.de" })
}

fn retry_after_kill_9_returns_the_same_booking(setup: Setup) {
    let date = a_weekday_ahead();
    // The same request, as Retell repeats a function it got no answer for.
    let book = |replica: &Replica| {
        function(
            &replica.base,
            now_ms(),
            AGENT,
            "c-crash",
            "book_appointment",
            book_body(&date, "11:00", "Erika Mustermann"),
        )
        .unwrap()
    };
    let mut first_process = Replica::start(&setup);
    let first = book(&first_process);
    assert_eq!(first["success"], true, "{first}");
    first_process.kill9();

    let retry = book(&Replica::start(&setup));
    assert_eq!(retry["success"], true, "the caller's own booking: {retry}");
    assert_eq!(retry["booking"]["uid"], first["booking"]["uid"]);
}

#[test]
fn a_retry_after_kill_9_returns_the_same_booking_on_sqlite() {
    retry_after_kill_9_returns_the_same_booking(Setup::shipped(None));
}

#[test]
fn a_retry_after_kill_9_returns_the_same_booking_on_postgres() {
    let db = TestDatabase::create();
    let mut setup = Setup::shipped(None);
    on_postgres(&mut setup, &db.url, "");
    retry_after_kill_9_returns_the_same_booking(setup);
}

/// Sends `count` calls from one thread each, replica `i % 3`, and returns the answers.
fn fan_out(
    replicas: &[Replica],
    count: usize,
    call: impl Fn(usize) -> (String, Value) + Send + Sync + 'static,
) -> Vec<Value> {
    let call = Arc::new(call);
    let barrier = Arc::new(std::sync::Barrier::new(count));
    let threads: Vec<_> = (0..count)
        .map(|i| {
            let (base, call, barrier) = (
                replicas[i % replicas.len()].base.clone(),
                call.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let (call_id, args) = call(i);
                barrier.wait();
                function(&base, now_ms(), AGENT, &call_id, "book_appointment", args).unwrap()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn three_replicas_on_one_postgres_book_a_slot_once() {
    let db = TestDatabase::create();
    let mut setup = Setup::shipped(None);
    on_postgres(&mut setup, &db.url, "");
    let replicas: Vec<Replica> = (0..3).map(|_| Replica::start(&setup)).collect();
    let date = a_weekday_ahead();

    // 30 callers want one slot.
    let d = date.clone();
    let answers = fan_out(&replicas, 30, move |i| {
        (
            format!("caller-{i}"),
            book_body(&d, "10:00", &format!("Caller {i}")),
        )
    });
    let booked = answers.iter().filter(|a| a["success"] == true).count();
    assert_eq!(booked, 1, "{answers:?}");
    for a in answers.iter().filter(|a| a["success"] != true) {
        assert_eq!(a["reason"], "slot_unavailable", "{a}");
        assert!(!a["alternatives"].as_array().unwrap().is_empty(), "{a}");
    }

    // The same 30 as retries of one call: one booking, one answer.
    let d = date.clone();
    let answers = fan_out(&replicas, 30, move |_| {
        (
            "one-call".to_string(),
            book_body(&d, "14:00", "Erika Mustermann"),
        )
    });
    let distinct: BTreeSet<String> = answers.iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), 1, "{distinct:?}");
    assert_eq!(answers[0]["success"], true, "{}", answers[0]);
    let rows = db.query("SELECT count(*) FROM bookings WHERE status = 'accepted'");
    assert_eq!(rows[0].get::<_, i64>(0), 2, "one booking per slot");
}

#[test]
fn a_replica_killed_mid_burst_loses_and_duplicates_nothing() {
    let db = TestDatabase::create();
    let mut setup = Setup::shipped(None);
    setup.write("secrets/rooms-retell", ROOMS_KEY);
    setup.add_tenants(ROOMS_TENANT);
    on_postgres(&mut setup, &db.url, "");
    let replicas: Arc<Mutex<Vec<Replica>>> =
        Arc::new(Mutex::new((0..3).map(|_| Replica::start(&setup)).collect()));
    let bases: Vec<String> = replicas
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.base.clone())
        .collect();
    let date = a_weekday_ahead();
    let answered = Arc::new(AtomicUsize::new(0));
    let wire_failures = Arc::new(AtomicUsize::new(0));

    // 100 bookings (ten times of day × ten rooms), ten client threads. A request that fails on
    // the wire is retried on the next replica, as Retell retries a function without an answer.
    let clients: Vec<_> = (0..10)
        .map(|client| {
            let (bases, date, answered, wire_failures) = (
                bases.clone(),
                date.clone(),
                answered.clone(),
                wire_failures.clone(),
            );
            std::thread::spawn(move || {
                let mut acknowledged = BTreeMap::new();
                for n in 0..10 {
                    let i = client * 10 + n;
                    let call_id = format!("burst-{i}");
                    let time = format!("{:02}:00", 8 + n);
                    let args = book_body(&date, &time, &format!("Caller {i}"));
                    let mut attempt = i;
                    let reply = loop {
                        let base = &bases[attempt % bases.len()];
                        match function(
                            base,
                            now_ms(),
                            "agent_rooms",
                            &call_id,
                            "book_appointment",
                            args.clone(),
                        ) {
                            Ok(reply) => break reply,
                            Err(_) => {
                                wire_failures.fetch_add(1, Ordering::SeqCst);
                                attempt += 1
                            }
                        }
                    };
                    answered.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(reply["success"], true, "{reply}");
                    acknowledged.insert(
                        call_id,
                        reply["booking"]["uid"].as_str().unwrap().to_owned(),
                    );
                }
                acknowledged
            })
        })
        .collect();
    assert!(wait_until(Duration::from_secs(60), || answered
        .load(Ordering::SeqCst)
        >= 30));
    replicas.lock().unwrap()[0].kill9();
    let answered_before_kill = answered.load(Ordering::SeqCst);
    let mut acknowledged = BTreeMap::new();
    for c in clients {
        acknowledged.extend(c.join().unwrap());
    }
    assert_eq!(acknowledged.len(), 100);
    assert!(
        answered_before_kill < 100 && wire_failures.load(Ordering::SeqCst) > 0,
        "the replica died mid-burst ({answered_before_kill} answered before)"
    );

    let rows = db.query(
        "SELECT call_id, uid FROM bookings WHERE company_id = 'rooms' AND status = 'accepted'",
    );
    let stored: BTreeMap<String, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(rows.len(), 100, "no booking twice");
    assert_eq!(
        stored, acknowledged,
        "every acknowledged booking is stored, and only those"
    );
}

/// A TCP relay to PostgreSQL that can be cut (every connection closed, new ones held without
/// an answer: a database that hangs) and restored.
struct Relay {
    addr: SocketAddr,
    up: Arc<Mutex<bool>>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn to(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(Mutex::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                open2.lock().unwrap().push(client.try_clone().unwrap());
                if !*up2.lock().unwrap() {
                    continue; // held open, never answered
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                open2.lock().unwrap().push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let _ = io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Self { addr, up, open }
    }

    fn cut(&self) {
        *self.up.lock().unwrap() = false;
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        *self.up.lock().unwrap() = true;
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// `postgres://…@host:port/db` with host:port replaced by `addr`.
fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = authority
        .rsplit_once('@')
        .map(|(u, _)| format!("{u}@"))
        .unwrap_or_default();
    format!("{scheme}://{user}{addr}/{path}")
}

fn database_addr(url: &str) -> SocketAddr {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split('/').next().unwrap();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    std::net::ToSocketAddrs::to_socket_addrs(&host_port)
        .unwrap()
        .next()
        .unwrap()
}

#[test]
fn a_postgres_outage_answers_in_time_then_fails_fast_then_recovers() {
    let db = TestDatabase::create();
    let relay = Relay::to(database_addr(&db.url));
    let mut setup = Setup::shipped(None);
    on_postgres(
        &mut setup,
        &via(&db.url, relay.addr),
        "  operation_timeout: 500ms\n  breaker: { consecutive_failures: 3, open_time: 1s, max_open_time: 1s, half_open_successes: 1 }\n",
    );
    let server = setup.start();
    let book = |call_id: &str, time: &str| {
        function(
            &server.base,
            FIXTURE_MS,
            AGENT,
            call_id,
            "book_appointment",
            book_body("2026-01-06", time, "Erika Mustermann"),
        )
        .unwrap()
    };
    assert_eq!(book("before", "10:00")["success"], true);

    relay.cut();
    for i in 0..3 {
        let started = Instant::now();
        let reply = book(&format!("during-{i}"), "11:00");
        assert_eq!(reply["reason"], "calendar_unavailable", "{reply}");
        assert!(!reply["message"].as_str().unwrap().is_empty());
        // Bounded by operation_timeout (0.5 s), not by TCP or the caller giving up.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
    let health = http::get(&server.admin, "/health/detailed").unwrap().json();
    let local = &health["calendar"][0];
    assert_eq!(local["backend"], "postgres", "{health}");
    assert_eq!(local["breaker"]["target"], "calendar", "{health}");
    assert_eq!(local["breaker"]["state"], "open", "{health}");
    let open = book("while-open", "11:00");
    assert_eq!(open["reason"], "calendar_unavailable", "{open}");

    relay.restore();
    // The breaker's open time passes on the server's (manual) clock.
    server.setup().clock.advance(Duration::from_secs(2));
    let mut reply = Value::Null;
    assert!(
        wait_until(Duration::from_secs(20), || {
            reply = book("after", "11:00");
            reply["success"] == true
        }),
        "bookings resume without a restart: {reply}"
    );
    let rows = db.query("SELECT count(*) FROM bookings WHERE status = 'accepted'");
    assert_eq!(rows[0].get::<_, i64>(0), 2);
}

#[test]
fn migrate_applies_the_schema_and_says_when_it_cannot() {
    let db = TestDatabase::create();
    let mut setup = Setup::shipped(None);
    on_postgres(&mut setup, &db.url, "");
    let config = setup.config_file(free_port(), free_port());
    let migrate = |config: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .args(["migrate", "-c"])
            .arg(config)
            .output()
            .unwrap()
    };
    let out = migrate(&config);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let versions = db.query("SELECT version FROM frontdesk_schema_migrations");
    assert_eq!(
        versions.len(),
        4,
        "bookings, their start index, the booking-event outbox, holds"
    );
    // Applying again changes nothing.
    assert!(migrate(&config).status.success());

    // A database nobody answers for: a clear error, and the URL's password is not in it.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    setup.write(
        "secrets/database-url",
        &format!("postgres://frontdesk:s3cret-pw@{closed}/frontdesk"),
    );
    let out = migrate(&config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot reach the database"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
}

#[test]
fn the_calendar_database_over_tls_verifies_the_server() {
    let db = TestDatabase::create();
    let setting = |name: &str| db.query(&format!("SHOW {name}"))[0].get::<_, String>(0);
    assert_eq!(setting("ssl"), "on", "the test server must offer TLS");
    let cert = std::path::Path::new(&setting("data_directory")).join(setting("ssl_cert_file"));
    // The server's certificate names `localhost`.
    let addr = database_addr(&db.url);
    let url = via(&db.url, addr).replacen(&addr.ip().to_string(), "localhost", 1);
    let migrate = |extra: &str| {
        let mut setup = Setup::shipped(None);
        on_postgres(&mut setup, &url, extra);
        let config = setup.config_file(free_port(), free_port());
        let out = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .args(["migrate", "-c"])
            .arg(&config)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stderr) = migrate(&format!("  tls: true\n  ca_file: {}\n", cert.display()));
    assert!(ok, "{stderr}");
    // Another CA does not vouch for this server: refused, never downgraded to plain TCP.
    let dir = tempfile::tempdir().unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .unwrap();
    assert!(made.status.success());
    let (ok, stderr) = migrate(&format!("  tls: true\n  ca_file: {}\n", other_ca.display()));
    assert!(!ok);
    assert!(
        stderr.contains("TLS") || stderr.contains("certificate"),
        "{stderr}"
    );
}

#[test]
fn the_database_itself_refuses_overlapping_bookings_and_a_request_booked_twice() {
    let db = TestDatabase::create();
    let mut setup = Setup::shipped(None);
    on_postgres(&mut setup, &db.url, "");
    let config = setup.config_file(free_port(), free_port());
    let migrated = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["migrate", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(migrated.status.success());
    // Written past frontdesk (no tenant queue, no busy check): only the schema stands in the way.
    let row = |uid: &str, start: &str, end: &str, key: &str, status: &str| {
        db.execute(&format!(
            "INSERT INTO bookings (uid, company_id, branch_id, resource, starts_at, ends_at,
                status, name, request_key, created_at, updated_at)
             VALUES ('{uid}', 'acme', 'sf', 'chair-1', '{start}', '{end}', '{status}', 'X',
                '{key}', now(), now())"
        ))
    };
    row(
        "a",
        "2027-02-04T10:00Z",
        "2027-02-04T10:30Z",
        "k1",
        "accepted",
    )
    .unwrap();
    assert_eq!(
        row(
            "b",
            "2027-02-04T10:15Z",
            "2027-02-04T10:45Z",
            "k2",
            "accepted"
        ),
        Err("23P01".into()),
        "overlap on one resource"
    );
    assert_eq!(
        row(
            "c",
            "2027-02-04T11:00Z",
            "2027-02-04T11:30Z",
            "k1",
            "accepted"
        ),
        Err("23505".into()),
        "one request, one accepted booking"
    );
    // Cancelled bookings hold nothing.
    row(
        "d",
        "2027-02-04T10:15Z",
        "2027-02-04T10:45Z",
        "k1",
        "cancelled",
    )
    .unwrap();
}

#[test]
fn text_the_database_would_refuse_never_counts_against_the_calendar_breaker() {
    let db = TestDatabase::create();
    let mut setup = Setup::shipped(None);
    on_postgres(&mut setup, &db.url, "");
    let server = setup.start();
    let book = |name: &str, time: &str| {
        function(
            &server.base,
            FIXTURE_MS,
            AGENT,
            "c-nul",
            "book_appointment",
            book_body("2026-01-06", time, name),
        )
        .unwrap()
    };
    // Whatever the gateway lets through, a NUL never reaches the database as its failure.
    for (function_name, args) in [
        (
            "book_appointment",
            book_body("2026-01-06", "11:00", "A\u{0}B"),
        ),
        ("cancel_appointment", json!({ "booking_id": "x\u{0}y" })),
        (
            "reschedule_appointment",
            json!({ "booking_id": "x\u{0}y", "date": "2026-01-06", "time": "12:00" }),
        ),
    ] {
        for _ in 0..3 {
            let reply = function(
                &server.base,
                FIXTURE_MS,
                AGENT,
                "c-nul",
                function_name,
                args.clone(),
            );
            if let Ok(reply) = reply {
                assert_ne!(
                    reply["reason"], "calendar_unavailable",
                    "{function_name}: {reply}"
                );
            }
        }
    }
    let health = http::get(&server.admin, "/health/detailed").unwrap().json();
    assert_eq!(
        health["calendar"][0]["breaker"]["state"], "closed",
        "{health}"
    );
    assert_eq!(book("Erika Mustermann", "10:00")["success"], true);
}
