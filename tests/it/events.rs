//! Booking events through the real server to a real receiving server: signed per Standard
//! Webhooks (verified by the reference implementation), in order per booking, retried with
//! backoff on an injected clock, dead-lettered and re-queued, and delivered after `kill -9`
//! and once by two replicas on PostgreSQL.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use frontdesk_clock::Clock;
use serde_json::{Value, json};

use crate::calendar_db::{
    AGENT, Replica, a_weekday_ahead, book_body, function, now_ms, on_postgres,
};
use crate::harness::{FIXTURE_MS, RETELL_KEY, Setup, TestServer, wait_until};
use crate::http;
use crate::upstream::{Received, Upstream};

/// A Standard Webhooks secret: `whsec_` and 32 bytes in base64.
pub fn notify_secret() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    )
}

/// The fixture tenant (the last in the tenants file) sends its events to `receiver`.
pub fn notify_fixture(setup: &Setup, receiver: &Upstream, fields: &str) {
    setup.write("secrets/notify", &notify_secret());
    let current = std::fs::read_to_string(setup.path("config/tenants.yaml")).unwrap();
    let block = format!(
        "    notify:\n      url: http://{}/hooks/frontdesk\n      secret: {{ file: {} }}\n{fields}",
        receiver.addr,
        setup.path("secrets/notify").display()
    );
    setup.write(
        "config/tenants.yaml",
        &format!("{}\n{block}", current.trim_end()),
    );
}

fn call(base: &str, call_id: &str, name: &str, args: Value) -> Value {
    let body = serde_json::to_vec(&json!({
        "name": name,
        "args": args,
        "call": { "call_id": call_id, "agent_id": AGENT, "from_number": "+4915112345678", "to_number": "+14155550199" },
    }))
    .unwrap();
    let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let r = http::post(
        base,
        "/retell/function",
        &[("x-retell-signature", &sig)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Books, moves and cancels one appointment through `/retell/function`; returns its uid.
fn book_move_cancel(server: &TestServer) -> String {
    let booked = call(
        &server.base,
        "c1",
        "book_appointment",
        json!({ "date": "2026-01-06", "time": "10:00", "name": "Erika Mustermann", "email": "erika@example.de" }),
    );
    assert_eq!(booked["success"], true, "{booked}");
    let uid = booked["booking"]["uid"].as_str().unwrap().to_owned();
    let moved = call(
        &server.base,
        "c1",
        "reschedule_appointment",
        json!({ "booking_id": uid, "date": "2026-01-07", "time": "11:30" }),
    );
    assert_eq!(moved["success"], true, "{moved}");
    let cancelled = call(
        &server.base,
        "c1",
        "cancel_appointment",
        json!({ "booking_id": uid }),
    );
    assert_eq!(cancelled["success"], true, "{cancelled}");
    uid
}

/// Verifies one delivery with the Standard Webhooks reference library; returns its JSON.
pub fn verified(received: &Received) -> Value {
    let mut headers = ::http::HeaderMap::new();
    for (name, value) in &received.headers {
        headers.insert(
            ::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            ::http::HeaderValue::from_str(value).unwrap(),
        );
    }
    let webhook = standardwebhooks::Webhook::new(&notify_secret()).unwrap();
    webhook
        .verify(&received.body, &headers)
        .unwrap_or_else(|e| panic!("signature refused: {e:?}"));
    serde_json::from_slice(&received.body).unwrap()
}

fn events_config(extra: &str) -> String {
    format!("booking_events:\n  poll: 20ms\n  timeout: 2s\n{extra}")
}

fn outbox(server: &TestServer) -> Value {
    let detail = http::get(&server.admin, "/health/detailed").unwrap().json();
    detail["booking_events"]["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "fixture")
        .cloned()
        .unwrap_or(Value::Null)
}

/// The value of the series `name` whose labels include every one of `labels` (`k="v"`).
pub fn metric(admin: &str, name: &str, labels: &[&str]) -> f64 {
    let text = http::get(admin, "/metrics").unwrap().text();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
        .unwrap_or(0.0)
}

#[test]
fn a_booking_its_move_and_its_cancellation_arrive_signed_and_in_order() {
    let receiver = Upstream::start();
    let mut setup = Setup::shipped(None);
    setup.config_extra = events_config("");
    notify_fixture(&setup, &receiver, "");
    let server = setup.start();
    let uid = book_move_cancel(&server);
    assert!(wait_until(Duration::from_secs(10), || receiver.count() >= 3));
    let received = receiver.received();
    assert_eq!(received.len(), 3, "each event once");
    let events: Vec<Value> = received.iter().map(verified).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "booking.created",
            "booking.rescheduled",
            "booking.cancelled"
        ]
    );
    for (i, event) in events.iter().enumerate() {
        let booking = &event["data"]["booking"];
        assert_eq!(event["data"]["sequence"], i as u64 + 1);
        assert_eq!(booking["uid"], uid.as_str());
        assert_eq!(booking["attendee"]["name"], "Erika Mustermann");
        assert!(
            booking["attendee"]["phone"]
                .as_str()
                .is_some_and(|p| p.starts_with("+49")),
            "the caller's number: {event}"
        );
        assert!(
            booking["attendee"].get("email").is_none(),
            "e-mail is not among the default fields: {event}"
        );
        assert_eq!(received[i].path, "/hooks/frontdesk");
        assert_eq!(
            received[i].header("webhook-id").unwrap(),
            format!("msg_{uid}_{}", i + 1)
        );
    }
    assert_eq!(
        events[0]["data"]["booking"]["start"],
        "2026-01-06T10:00:00+01:00"
    );
    assert_eq!(events[0]["data"]["booking"]["status"], "accepted");
    assert_eq!(
        events[1]["data"]["booking"]["start"],
        "2026-01-07T11:30:00+01:00"
    );
    assert_eq!(
        events[1]["data"]["booking"]["end"],
        "2026-01-07T12:00:00+01:00"
    );
    assert_eq!(events[2]["data"]["booking"]["status"], "cancelled");
    assert!(wait_until(
        Duration::from_secs(5),
        || outbox(&server)["pending"] == 0
    ));
}

/// Waits until the outbox records `attempts` failed attempts, and returns when it tries next.
fn next_attempt_after(server: &TestServer, attempts: u64) -> u64 {
    let mut next = 0;
    assert!(
        wait_until(Duration::from_secs(10), || {
            let state = outbox(server);
            next = state["next_attempt_ms"].as_u64().unwrap_or(0);
            state["attempts"] == attempts && next > server.setup().clock.now_ms()
        }),
        "attempt {attempts} not recorded: {}",
        outbox(server)
    );
    next
}

#[test]
fn a_receiver_failing_five_times_then_recovering_gets_every_event_once_in_order_after_backoff() {
    let receiver = Upstream::start();
    receiver.set_status(500);
    let mut setup = Setup::shipped(None);
    setup.config_extra = events_config("  backoff_base: 10s\n  backoff_max: 10m\n");
    notify_fixture(&setup, &receiver, "");
    let server = setup.start();
    let clock = server.setup().clock.clone();
    let uid = book_move_cancel(&server);

    let mut last = clock.now_ms();
    for failures in 1..=5u64 {
        let next = next_attempt_after(&server, failures);
        // Equal jitter: between half and all of 10 s × 2^(n−1).
        let nominal = 10_000 * (1 << (failures - 1));
        let wait = next - last;
        assert!(
            (nominal / 2..=nominal).contains(&wait),
            "failure {failures}: waited {wait} ms, nominal {nominal} ms"
        );
        assert_eq!(
            receiver.count() as u64,
            failures,
            "nothing is sent before it is due"
        );
        if failures == 5 {
            receiver.set_status(200);
        }
        clock.set_ms(next);
        last = next;
    }
    assert!(wait_until(Duration::from_secs(10), || receiver.count() >= 8));
    let received = receiver.received();
    assert_eq!(
        received.len(),
        8,
        "six attempts of the first, one of each later"
    );
    let ids: Vec<&str> = received
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    let first = format!("msg_{uid}_1");
    assert!(ids[..6].iter().all(|id| *id == first), "{ids:?}");
    assert_eq!(ids[6], format!("msg_{uid}_2"));
    assert_eq!(ids[7], format!("msg_{uid}_3"));
    for r in &received {
        verified(r);
    }
    assert!(wait_until(
        Duration::from_secs(5),
        || outbox(&server)["pending"] == 0
    ));
    assert!(
        metric(
            &server.admin,
            "frontdesk_booking_events_total",
            &["result=\"failed\""]
        ) >= 5.0
    );
    assert!(
        metric(
            &server.admin,
            "frontdesk_booking_events_total",
            &["result=\"delivered\""]
        ) >= 3.0
    );
}

#[test]
fn a_receiver_down_for_the_whole_window_leaves_dead_letters_that_the_admin_api_requeues() {
    let receiver = Upstream::start();
    receiver.set_status(503);
    let mut setup = Setup::shipped(None);
    setup.config_extra =
        events_config("  backoff_base: 10s\n  backoff_max: 20s\n  retry_for: 1m\n");
    notify_fixture(&setup, &receiver, "");
    let server = setup.start();
    let clock = server.setup().clock.clone();
    let uid = book_move_cancel(&server);

    // Each failed attempt schedules the next, until the window is spent.
    let mut failures = 1;
    loop {
        let mut state = Value::Null;
        assert!(wait_until(Duration::from_secs(10), || {
            state = outbox(&server);
            state["dead"] == 3
                || (state["attempts"] == failures
                    && state["next_attempt_ms"].as_u64() > Some(clock.now_ms()))
        }));
        if state["dead"] == 3 {
            break;
        }
        assert!(failures < 20, "never dead-lettered: {state}");
        clock.set_ms(state["next_attempt_ms"].as_u64().unwrap());
        failures += 1;
    }
    assert!(failures >= 5, "retried with backoff, not given up at once");
    assert!(
        clock.now_ms() - FIXTURE_MS >= 60_000,
        "retried for the whole window"
    );
    assert_eq!(outbox(&server)["pending"], 0);
    assert!(
        metric(
            &server.admin,
            "frontdesk_booking_events_total",
            &["result=\"dead\""]
        ) >= 1.0
    );
    assert!(wait_until(Duration::from_secs(5), || metric(
        &server.admin,
        "frontdesk_booking_events_queued",
        &["state=\"dead\"", "tenant=\"fixture\""]
    ) == 3.0));
    let attempts_before = receiver.count();

    receiver.set_status(200);
    assert_eq!(
        http::post(
            &server.admin,
            "/admin/tenants/nobody/events/retry",
            &[],
            b""
        )
        .unwrap()
        .status,
        404
    );
    let retry = http::post(
        &server.admin,
        "/admin/tenants/fixture/events/retry",
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert_eq!(retry.json()["requeued"], 3);
    // The endpoint's breaker may still be open from the outage: the events then wait their
    // backoff, which the clock is moved through.
    for _ in 0..20 {
        let mut state = Value::Null;
        assert!(wait_until(Duration::from_secs(10), || {
            state = outbox(&server);
            receiver.count() >= attempts_before + 3
                || state["next_attempt_ms"].as_u64() > Some(clock.now_ms())
        }));
        if receiver.count() >= attempts_before + 3 {
            break;
        }
        clock.set_ms(state["next_attempt_ms"].as_u64().unwrap());
    }
    let delivered: Vec<String> = receiver.received()[attempts_before..]
        .iter()
        .filter(|r| r.header("webhook-id").is_some())
        .map(|r| r.header("webhook-id").unwrap().to_owned())
        .collect();
    assert_eq!(
        delivered,
        (1..=3)
            .map(|n| format!("msg_{uid}_{n}"))
            .collect::<Vec<_>>()
    );
    assert!(wait_until(Duration::from_secs(5), || {
        let state = outbox(&server);
        state["dead"] == 0 && state["pending"] == 0
    }));
    assert!(
        metric(
            &server.admin,
            "frontdesk_booking_events_total",
            &["result=\"requeued\""]
        ) >= 3.0
    );
}

/// Deliveries per message id, each verified.
pub fn deliveries(receiver: &Upstream) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in receiver.received() {
        let event = verified(&r);
        out.entry(r.header("webhook-id").unwrap().to_owned())
            .or_default()
            .push(event);
    }
    out
}

/// Undelivered events a replica's health reports for the fixture tenant.
fn pending_on(admin: &str) -> Option<u64> {
    let detail = http::get(admin, "/health/detailed").ok()?.json();
    detail["booking_events"]["tenants"]
        .as_array()?
        .iter()
        .find(|t| t["tenant"] == "fixture")
        .map(|t| t["pending"].as_u64().unwrap_or(0) + t["dead"].as_u64().unwrap_or(0))
}

/// Books at `time` on `date` through `replica` (real clock, signed now); returns the uid.
fn book_on(replica: &Replica, call_id: &str, date: &str, time: &str) -> String {
    let booked = function(
        &replica.base,
        now_ms(),
        AGENT,
        call_id,
        "book_appointment",
        book_body(date, time, "Erika Mustermann"),
    )
    .unwrap();
    assert_eq!(booked["success"], true, "{booked}");
    booked["booking"]["uid"].as_str().unwrap().to_owned()
}

#[test]
fn events_undelivered_at_kill_9_are_all_delivered_in_order_after_the_restart() {
    let receiver = Upstream::start();
    receiver.set_status(503);
    let mut setup = Setup::shipped(None);
    setup.config_extra =
        "booking_events:\n  poll: 50ms\n  timeout: 1s\n  backoff_base: 200ms\n  backoff_max: 1s\n"
            .into();
    notify_fixture(&setup, &receiver, "");
    let date = a_weekday_ahead();
    let mut first = Replica::start(&setup);
    let a = book_on(&first, "k1", &date, "09:00");
    let b = book_on(&first, "k2", &date, "10:00");
    let cancelled = function(
        &first.base,
        now_ms(),
        AGENT,
        "k1",
        "cancel_appointment",
        json!({ "booking_id": a }),
    )
    .unwrap();
    assert_eq!(cancelled["success"], true, "{cancelled}");
    assert!(
        wait_until(Duration::from_secs(10), || receiver.count() >= 2),
        "the receiver was tried while it failed"
    );
    first.kill9();

    let failed_before = receiver.count();
    receiver.set_status(200);
    let second = Replica::start(&setup);
    assert!(
        wait_until(Duration::from_secs(30), || pending_on(&second.admin)
            == Some(0)),
        "not all delivered: {:?}",
        pending_on(&second.admin)
    );
    let delivered: Vec<String> = receiver.received()[failed_before..]
        .iter()
        .map(|r| {
            verified(r);
            r.header("webhook-id").unwrap().to_owned()
        })
        .collect();
    for id in [
        format!("msg_{a}_1"),
        format!("msg_{a}_2"),
        format!("msg_{b}_1"),
    ] {
        assert!(delivered.contains(&id), "{id} missing from {delivered:?}");
    }
    let position = |id: String| delivered.iter().position(|d| *d == id).unwrap();
    assert!(
        position(format!("msg_{a}_1")) < position(format!("msg_{a}_2")),
        "in order per booking: {delivered:?}"
    );
}

#[test]
fn two_replicas_on_postgres_deliver_each_event_once() {
    let db = frontdesk_testdb::TestDatabase::create();
    let receiver = Upstream::start();
    let mut setup = Setup::shipped(None);
    on_postgres(&mut setup, &db.url, "");
    setup
        .config_extra
        .push_str("booking_events:\n  poll: 10ms\n  timeout: 2s\n");
    notify_fixture(&setup, &receiver, "");
    let date = a_weekday_ahead();
    let replicas = [Replica::start(&setup), Replica::start(&setup)];
    let times = [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30",
    ];
    let mut uids = Vec::new();
    for (i, time) in times.iter().enumerate() {
        uids.push(book_on(&replicas[i % 2], &format!("r{i}"), &date, time));
    }
    // Half are cancelled, through the other replica: a second event for those bookings.
    for (i, uid) in uids.iter().enumerate().step_by(2) {
        let cancelled = function(
            &replicas[(i + 1) % 2].base,
            now_ms(),
            AGENT,
            &format!("r{i}"),
            "cancel_appointment",
            json!({ "booking_id": uid }),
        )
        .unwrap();
        assert_eq!(cancelled["success"], true, "{cancelled}");
    }
    let expected = times.len() + times.len() / 2;
    assert!(
        wait_until(Duration::from_secs(30), || {
            receiver.count() >= expected && replicas.iter().all(|r| pending_on(&r.admin) == Some(0))
        }),
        "delivered {} of {expected}",
        receiver.count()
    );
    let by_id = deliveries(&receiver);
    assert_eq!(by_id.len(), expected, "{:?}", by_id.keys());
    assert!(
        by_id.values().all(|d| d.len() == 1),
        "an event was sent twice: {:?}",
        by_id
            .iter()
            .filter(|(_, d)| d.len() > 1)
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    );
    assert_eq!(receiver.count(), expected);
}

#[test]
fn check_names_a_bad_notify_url_a_missing_or_malformed_secret_and_a_short_feed_token() {
    let setup = Setup::shipped(None);
    setup.write("secrets/not-whsec", "plain-secret-without-prefix");
    setup.write("secrets/short-token", "short");
    let current = std::fs::read_to_string(setup.path("config/tenants.yaml")).unwrap();
    setup.write(
        "config/tenants.yaml",
        &format!(
            "{}\n    notify:\n      url: http://practice.example/hooks\n      secret:\n        - {{ env: FRONTDESK_TEST_UNSET_NOTIFY_SECRET }}\n        - {{ file: {} }}\n    calendar_feed:\n      token: {{ file: {} }}\n",
            current.trim_end(),
            setup.path("secrets/not-whsec").display(),
            setup.path("secrets/short-token").display(),
        ),
    );
    let config = setup.config_file(crate::harness::free_port(), crate::harness::free_port());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["check", "-c"])
        .arg(&config)
        .env_remove("FRONTDESK_TEST_UNSET_NOTIFY_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Each with the file, line and column of the field.
    let tenants = setup.path("config/tenants.yaml").display().to_string();
    for expected in [
        "must be https://",
        "FRONTDESK_TEST_UNSET_NOTIFY_SECRET is not set",
        "must start with `whsec_`",
        "at least 32 characters",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("{tenants}:")) && l.contains(expected)),
            "{expected} not in: {stderr}"
        );
    }
    assert!(
        !stderr.contains("plain-secret-without-prefix"),
        "a secret's value is never printed: {stderr}"
    );

    // The same tenant with a loopback URL and a proper secret passes.
    setup.write("secrets/notify", &notify_secret());
    setup.write("secrets/long-token", "0123456789abcdef0123456789abcdef");
    setup.write(
        "config/tenants.yaml",
        &format!(
            "{}\n    notify:\n      url: http://127.0.0.1:9/hooks\n      secret: {{ file: {} }}\n      fields: [name, email]\n    calendar_feed:\n      token: {{ file: {} }}\n",
            current.trim_end(),
            setup.path("secrets/notify").display(),
            setup.path("secrets/long-token").display(),
        ),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .args(["check", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
