//! The trust model through the real server: every decision rests on what was signed
//! (docs/security.md). Each test is one finding of the trust review, reproduced as an attacker
//! would try it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    CALCOM_SECRET, DEMO_RETELL_KEY, FIXTURE_MS, RETELL_KEY, Setup, TestServer, wait_until,
};
use crate::http;
use crate::upstream::Upstream;
use frontdesk::signature::{sign_calcom, sign_retell};

/// The fixture tenant: verified with the policy's (shared) key.
const FIXTURE_AGENT: &str = "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD";
const OWNER: &str = "+4915112345678";
const STRANGER: &str = "+4917000000000";

fn full_body(call_id: &str, agent: &str, from: &str, name: &str, args: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "name": name,
        "args": args,
        "call": { "call_id": call_id, "agent_id": agent, "from_number": from },
    }))
    .unwrap()
}

fn post_signed(
    server: &TestServer,
    path: &str,
    key: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> http::Response {
    let signature = sign_retell(key, body, FIXTURE_MS);
    let mut all = vec![("x-retell-signature", signature.as_str())];
    all.extend_from_slice(headers);
    http::post(&server.base, path, &all, body).unwrap()
}

fn fixture_call(server: &TestServer, call_id: &str, from: &str, name: &str, args: Value) -> Value {
    let body = full_body(call_id, FIXTURE_AGENT, from, name, args);
    let r = post_signed(server, "/retell/function", RETELL_KEY, &body, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn book_args() -> Value {
    json!({ "date": "2026-01-06", "time": "10:00", "name": "Erika Mustermann" })
}

fn metric(server: &TestServer, line_start: &str) -> String {
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    metrics
        .lines()
        .find(|l| l.starts_with(line_start))
        .unwrap_or_else(|| panic!("no `{line_start}` in\n{metrics}"))
        .to_owned()
}

#[test]
fn an_unsigned_tenant_header_never_overrides_the_signed_body() {
    let server = Setup::shipped(None).start();
    let body = full_body(
        "c-hdr",
        FIXTURE_AGENT,
        OWNER,
        "book_appointment",
        book_args(),
    );
    for header in ["demo", "no-such-tenant"] {
        let r = post_signed(
            &server,
            "/retell/function",
            RETELL_KEY,
            &body,
            &[("x-frontdesk-tenant", header)],
        );
        assert_eq!(r.status, 403, "{header}: {}", r.text());
        assert_eq!(r.json()["error"], "tenant_mismatch", "{header}");
    }
    assert!(
        metric(
            &server,
            "frontdesk_tenant_refusals_total{reason=\"mismatch\",route=\"retell_function\"}"
        )
        .ends_with(" 2")
    );
    // Nothing was booked anywhere: the fixture tenant's slot is still free (and now held for
    // the call that books it below).
    let free = fixture_call(
        &server,
        "c-hdr",
        OWNER,
        "check_availability",
        json!({ "date": "2026-01-06", "time": "10:00" }),
    );
    assert_eq!(free["available"], true, "{free}");
    // A header that agrees with the body is fine.
    let r = post_signed(
        &server,
        "/retell/function",
        RETELL_KEY,
        &body,
        &[("x-frontdesk-tenant", "fixture")],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["success"], true);
    assert!(!logs_contain_phone());
}

fn logs_contain_phone() -> bool {
    crate::harness::logs::text().contains("15112345678")
}

#[test]
fn a_tenant_with_its_own_key_accepts_only_that_key() {
    let server = Setup::shipped(None).start();
    let body = full_body(
        "c-demo",
        "agent_demo",
        OWNER,
        "check_availability",
        json!({ "date": "2026-01-06" }),
    );
    let shared = post_signed(&server, "/retell/function", RETELL_KEY, &body, &[]);
    assert_eq!(shared.status, 401, "{}", shared.text());
    let own = post_signed(&server, "/retell/function", DEMO_RETELL_KEY, &body, &[]);
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(own.json()["success"], true);
}

#[test]
fn a_captured_args_only_request_cannot_be_replayed_into_another_tenant() {
    let server = Setup::shipped(None).start();
    let args = serde_json::to_vec(&json!({ "date": "2026-01-06", "time": "11:00", "name": "Erika Mustermann", "phone": OWNER })).unwrap();
    let path = "/retell/function/book_appointment";
    let headers = |tenant| {
        [
            ("x-frontdesk-tenant", tenant),
            ("x-retell-call-id", "c-args"),
        ]
    };
    // Signed with the shared key for the only tenant on it: accepted.
    let ok = post_signed(&server, path, RETELL_KEY, &args, &headers("fixture"));
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["success"], true, "{}", ok.text());
    // The same bytes with the header pointed at the tenant with its own key: refused.
    let replay = post_signed(&server, path, RETELL_KEY, &args, &headers("demo"));
    assert_eq!(replay.status, 401, "{}", replay.text());
    // And the other way round: demo's own signature does not open the shared tenant.
    let other = post_signed(&server, path, DEMO_RETELL_KEY, &args, &headers("fixture"));
    assert_eq!(other.status, 401, "{}", other.text());
    let own = post_signed(&server, path, DEMO_RETELL_KEY, &args, &headers("demo"));
    assert_eq!(own.status, 200, "{}", own.text());
    assert_eq!(own.json()["success"], true, "{}", own.text());
}

#[test]
fn check_refuses_a_header_only_tenant_route_while_tenants_share_a_key() {
    let two_tenants = |keys: &str| {
        format!(
            "tenants:\n  - {{ id: a, company_id: a, branch_id: main, agent_ids: [agent_a], {keys_a} calendar: {{ provider: local, resources: [r] }} }}\n  - {{ id: b, company_id: b, branch_id: main, agent_ids: [agent_b], {keys_b} calendar: {{ provider: local, resources: [r] }} }}\n",
            keys_a = keys.replace("NAME", "a"),
            keys_b = keys.replace("NAME", "b"),
        )
    };
    let run_check = |tenants: &str| {
        let setup = Setup::shipped(None);
        setup.write("secrets/key-a", "key-of-a");
        setup.write("secrets/key-b", "key-of-b");
        setup.write_tenants(tenants);
        let config = setup.config_file(1, 2);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_frontdesk"))
            .args(["check", "-c"])
            .arg(&config)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, text) = run_check(&two_tenants(""));
    assert!(!ok, "{text}");
    assert!(
        text.contains("retell_function_args")
            && text.contains("shared by 2 tenants")
            && text.contains("retell_keys"),
        "{text}"
    );
    let (ok, text) = run_check(&two_tenants(
        "retell_keys: [{ file: SECRETS_DIR/key-NAME }],",
    ));
    assert!(ok, "{text}");
    // A tenant's "own" key that another tenant also holds is no key of its own.
    let same = two_tenants("retell_keys: [{ file: SECRETS_DIR/key-a }],");
    let (ok, text) = run_check(&same);
    assert!(!ok && text.contains("must be its alone"), "{text}");
}

#[test]
fn failed_signatures_never_refuse_a_valid_one_from_the_same_address() {
    let server = Setup::shipped(None).start();
    let statuses: Vec<u16> = (0..11)
        .map(|i| {
            let body = format!("{{\"triggerEvent\":\"BOOKING_CREATED\",\"n\":{i}}}");
            http::post(
                &server.base,
                "/calcom/webhook",
                &[("x-cal-signature-256", &"0".repeat(64))],
                body.as_bytes(),
            )
            .unwrap()
            .status
        })
        .collect();
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(statuses[10], 429);
    // Another scheme's budget is untouched, and a valid signature passes whatever the budget.
    let answer = fixture_call(
        &server,
        "c-budget",
        OWNER,
        "check_availability",
        json!({ "date": "2026-01-06" }),
    );
    assert_eq!(answer["success"], true, "{answer}");
    let body = br#"{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"u-budget"}}"#;
    let signed = sign_calcom(CALCOM_SECRET, body);
    let r = http::post(
        &server.base,
        "/calcom/webhook",
        &[("x-cal-signature-256", &signed)],
        body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        metric(
            &server,
            "frontdesk_auth_failure_budget_trips_total{auth=\"calcom\"}"
        )
        .ends_with(" 1")
    );
}

#[test]
fn a_caller_cannot_cancel_or_move_someone_elses_booking() {
    let server = Setup::shipped(None).start();
    let booked = fixture_call(&server, "c-owner", OWNER, "book_appointment", book_args());
    assert_eq!(booked["success"], true, "{booked}");
    let reference = booked["booking"]["id"].as_str().unwrap().to_owned();
    assert_eq!(reference, booked["booking"]["uid"].as_str().unwrap());
    assert!(
        reference.len() >= 24 && reference.bytes().all(|b| b.is_ascii_hexdigit()),
        "an unguessable reference, not a row number: {reference}"
    );
    for guess in [reference.as_str(), "1", "2"] {
        let cancel = fixture_call(
            &server,
            "c-stranger",
            STRANGER,
            "cancel_appointment",
            json!({ "booking_id": guess }),
        );
        assert_eq!(cancel["success"], false, "{cancel}");
        assert_eq!(cancel["reason"], "not_found", "{cancel}");
    }
    let moved = fixture_call(
        &server,
        "c-stranger",
        STRANGER,
        "reschedule_appointment",
        json!({ "booking_id": reference, "date": "2026-01-07", "time": "11:00" }),
    );
    assert_eq!(moved["reason"], "not_found", "{moved}");
    // By date and a phone number the stranger names: still not theirs.
    let by_contact = fixture_call(
        &server,
        "c-stranger",
        STRANGER,
        "cancel_appointment",
        json!({ "date": "2026-01-06", "phone": OWNER }),
    );
    assert_eq!(by_contact["reason"], "not_found", "{by_contact}");
    let still = fixture_call(
        &server,
        "c-look",
        STRANGER,
        "check_availability",
        json!({ "date": "2026-01-06", "time": "10:00" }),
    );
    assert_eq!(
        still["available"], false,
        "the booking is untouched: {still}"
    );
    // The owner, calling again from their number, may.
    let cancel = fixture_call(
        &server,
        "c-owner-again",
        OWNER,
        "cancel_appointment",
        json!({ "booking_id": reference }),
    );
    assert_eq!(cancel["success"], true, "{cancel}");
}

#[test]
fn dedupe_keys_never_merge_different_events() {
    let upstream = Upstream::start();
    let server = Setup::shipped(Some(upstream.addr)).start();
    let retell = |body: &[u8]| {
        let sig = sign_retell(RETELL_KEY, body, FIXTURE_MS);
        http::post(
            &server.base,
            "/retell/webhook",
            &[("x-retell-signature", &sig)],
            body,
        )
        .unwrap()
        .status
    };
    // Colons inside values cannot make two keys equal.
    assert_eq!(
        retell(br#"{"event":"call_ended:x","call":{"call_id":"y"}}"#),
        200
    );
    assert_eq!(
        retell(br#"{"event":"call_ended","call":{"call_id":"x:y"}}"#),
        200
    );
    // Without a call id there is no key: each delivery is processed.
    assert_eq!(retell(br#"{"event":"call_ended","call":{"n":1}}"#), 200);
    assert_eq!(retell(br#"{"event":"call_ended","call":{"n":2}}"#), 200);
    assert_eq!(upstream.count(), 4);
    // Two Cal.com events without a uid are two events.
    for title in ["a", "b"] {
        let body =
            format!(r#"{{"triggerEvent":"BOOKING_CREATED","payload":{{"title":"{title}"}}}}"#);
        let sig = sign_calcom(CALCOM_SECRET, body.as_bytes());
        let r = http::post(
            &server.base,
            "/calcom/webhook",
            &[("x-cal-signature-256", &sig)],
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }
    assert_eq!(upstream.count(), 6);
    assert!(
        metric(
            &server,
            "frontdesk_webhook_dedupe_total{result=\"unkeyed\",source=\"calcom\"}"
        )
        .ends_with(" 2")
    );
}

#[test]
fn a_retry_during_a_failing_first_delivery_is_not_lost() {
    let upstream = Upstream::start();
    let server = Setup::shipped(Some(upstream.addr)).start();
    let body = crate::harness::fixture("retell_call_ended.json");
    upstream.hold();
    let first = {
        let (base, body) = (server.base.clone(), body.clone());
        std::thread::spawn(move || {
            crate::harness::post_retell(&base, "/retell/webhook", &body).unwrap()
        })
    };
    assert!(wait_until(Duration::from_secs(10), || upstream.held() == 1));
    // The retry arrives while the first is still being forwarded: not acknowledged.
    let retry = crate::harness::post_retell(&server.base, "/retell/webhook", &body).unwrap();
    assert_eq!(retry.status, 409, "{}", retry.text());
    assert!(retry.header("retry-after").is_some());
    // The first then fails...
    upstream.set_status(503);
    upstream.release();
    assert_eq!(first.join().unwrap().status, 503);
    // ...and the sender's next retry is processed, not dropped as a duplicate.
    upstream.set_status(200);
    let again = crate::harness::post_retell(&server.base, "/retell/webhook", &body).unwrap();
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(upstream.count(), 2);
}

#[test]
fn calls_without_a_call_id_do_not_share_one_bucket() {
    let mut setup = Setup::shipped(None);
    setup.server_extra = "  trusted_proxies: [127.0.0.1/32]\n".into();
    let server = setup.start();
    let args = br#"{"date":"2026-01-06"}"#;
    let path = "/retell/function/check_availability";
    let from = |ip: &str, call_id: Option<&str>| {
        let mut headers = vec![("x-frontdesk-tenant", "fixture"), ("x-forwarded-for", ip)];
        if let Some(id) = call_id {
            headers.push(("x-retell-call-id", id));
        }
        post_signed(&server, path, RETELL_KEY, args, &headers).status
    };
    // Thirteen different callers without a call id, from thirteen addresses: all answered.
    let statuses: Vec<u16> = (1..=13)
        .map(|i| from(&format!("10.0.0.{i}"), None))
        .collect();
    assert_eq!(statuses, vec![200; 13]);
    // One address spends its own bucket of id-less calls...
    let statuses: Vec<u16> = (0..11).map(|_| from("10.0.1.1", None)).collect();
    assert_eq!(&statuses[..10], &[200; 10]);
    assert_eq!(statuses[10], 429);
    // ...which a call whose id is literally the fallback's label does not share.
    assert_eq!(from("10.0.1.1", Some("no-call-id")), 200);
}

#[test]
fn tokenless_admin_changes_need_a_local_host_and_no_foreign_origin() {
    let server = Setup::shipped(None).start();
    let post = |host: &str, origin: Option<&str>| {
        let mut raw = format!(
            "POST /admin/breakers/calcom?mode=forced_open HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: 0\r\n"
        );
        if let Some(origin) = origin {
            raw.push_str(&format!("origin: {origin}\r\n"));
        }
        raw.push_str("\r\n");
        http::send_raw(&server.admin, raw.as_bytes())
            .unwrap()
            .status
    };
    let admin_host = server.admin.trim_start_matches("http://").to_owned();
    assert_eq!(post("evil.example", Some("http://evil.example")), 403);
    assert_eq!(post("evil.example", None), 403);
    assert_eq!(post(&admin_host, Some("http://evil.example")), 403);
    let breakers = http::get(&server.admin, "/admin/breakers").unwrap().text();
    assert!(!breakers.contains("forced_open"), "{breakers}");
    assert_eq!(post(&admin_host, Some(&server.admin)), 200);
    assert_eq!(post(&admin_host, None), 200);
}

#[test]
fn signatures_are_checked_over_the_bytes_sent() {
    let server = Setup::shipped(None).start();
    let body = full_body(
        "c-sig",
        FIXTURE_AGENT,
        OWNER,
        "check_availability",
        json!({ "date": "2026-01-06" }),
    );
    let signed = sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let digest = signed.split_once(",d=").unwrap().1;
    // The digest over the normalised number, sent with a zero-padded timestamp.
    let padded = format!("v=000{FIXTURE_MS},d={digest}");
    let r = http::post(
        &server.base,
        "/retell/function",
        &[("x-retell-signature", &padded)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 401, "{}", r.text());
    let upper = format!("v={FIXTURE_MS},d={}", digest.to_uppercase());
    let r = http::post(
        &server.base,
        "/retell/function",
        &[("x-retell-signature", &upper)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 401, "{}", r.text());
    // Cal.com: one hex rule for both schemes.
    let webhook = br#"{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"u-sig"}}"#;
    let upper = sign_calcom(CALCOM_SECRET, webhook).to_uppercase();
    let r = http::post(
        &server.base,
        "/calcom/webhook",
        &[("x-cal-signature-256", &upper)],
        webhook,
    )
    .unwrap();
    assert_eq!(r.status, 401, "{}", r.text());
}
