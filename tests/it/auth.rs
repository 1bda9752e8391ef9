//! Signatures, replay window and exactly-once webhook processing through the whole server.

use std::time::Duration;

use crate::harness::{
    CALCOM_SECRET, FIXTURE_MS, RETELL_KEY, Setup, TestServer, fixture, logs, post_retell,
};
use crate::http;
use crate::upstream::Upstream;
use frontdesk::signature::{sign_calcom, sign_retell};

fn signatures() -> serde_json::Value {
    serde_json::from_slice(&fixture("SIGNATURES.json")).unwrap()
}

fn server() -> (TestServer, Upstream) {
    let upstream = Upstream::start();
    (Setup::shipped(Some(upstream.addr)).start(), upstream)
}

#[test]
fn every_signed_fixture_is_accepted() {
    let (server, upstream) = server();
    let sigs = signatures();
    for (name, path, expected) in [
        ("retell_call_started.json", "/retell/webhook", 200),
        ("retell_call_ended.json", "/retell/webhook", 200),
        ("retell_call_analyzed.json", "/retell/webhook", 200),
        ("retell_fn_check_availability.json", "/retell/function", 200),
        ("retell_fn_book_appointment.json", "/retell/function", 200),
    ] {
        let header = sigs[name]["x-retell-signature"].as_str().unwrap();
        let r = http::post(
            &server.base,
            path,
            &[("x-retell-signature", header)],
            &fixture(name),
        )
        .unwrap();
        assert_eq!(r.status, expected, "{name}: {}", r.text());
    }
    let header = sigs["retell_fn_book_appointment_args_only.json"]["x-retell-signature"]
        .as_str()
        .unwrap();
    let r = http::post(
        &server.base,
        "/retell/function/book_appointment",
        &[
            ("x-retell-signature", header),
            ("x-frontdesk-tenant", "fixture"),
            ("x-retell-call-id", "call_args_only"),
        ],
        &fixture("retell_fn_book_appointment_args_only.json"),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    for name in [
        "calcom_wh_booking_created.json",
        "calcom_wh_booking_cancelled.json",
        "calcom_wh_booking_rescheduled.json",
    ] {
        let header = sigs[name]["x-cal-signature-256"].as_str().unwrap();
        let r = http::post(
            &server.base,
            "/calcom/webhook",
            &[("x-cal-signature-256", header)],
            &fixture(name),
        )
        .unwrap();
        assert_eq!(r.status, 200, "{name}: {}", r.text());
    }
    // Webhooks were forwarded byte-identical (no redaction rule matched a fixture value? then equal).
    assert_eq!(upstream.count(), 6);
}

#[test]
fn tampered_stale_and_malformed_requests_are_refused() {
    let (server, upstream) = server();
    let body = fixture("retell_call_ended.json");
    let good = sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let digest = good.split_once(",d=").unwrap().1.to_string();
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let cases: Vec<(Vec<u8>, Option<String>)> = vec![
        (tampered, Some(good.clone())),
        (
            body.clone(),
            Some(sign_retell("wrong-key", &body, FIXTURE_MS)),
        ),
        (
            body.clone(),
            Some(sign_retell(RETELL_KEY, &body, FIXTURE_MS - 301_000)),
        ),
        (
            body.clone(),
            Some(sign_retell(RETELL_KEY, &body, FIXTURE_MS + 301_000)),
        ),
        (body.clone(), None),
        (body.clone(), Some(format!("d={digest},v={FIXTURE_MS}"))),
        (body.clone(), Some(format!("v={FIXTURE_MS}"))),
        (
            body.clone(),
            Some(format!("v={FIXTURE_MS},d={}", &digest[..62])),
        ),
        (body.clone(), Some(format!("v=-{FIXTURE_MS},d={digest}"))),
        (
            body.clone(),
            Some(format!("v={FIXTURE_MS},d={digest},extra=value")),
        ),
        (body.clone(), Some(format!("v={FIXTURE_MS},d=not-hex"))),
    ];
    assert_eq!(cases.len(), 11);
    for (i, (body, signature)) in cases.into_iter().enumerate() {
        let headers: Vec<(&str, &str)> = signature
            .iter()
            .map(|s| ("x-retell-signature", s.as_str()))
            .collect();
        let r = http::post(&server.base, "/retell/webhook", &headers, &body).unwrap();
        if i < 10 {
            assert_eq!(r.status, 401, "case {i}");
            // The body does not say which part failed.
            assert_eq!(
                r.json(),
                serde_json::json!({"error": "unauthorized", "message": "the request is not authenticated"})
            );
        } else {
            // The address spent its failure budget (10/min): 429 from now on.
            assert_eq!(r.status, 429, "case {i}");
        }
    }
    assert_eq!(upstream.count(), 0);

    let (server2, upstream2) = self::server();
    let calcom = fixture("calcom_wh_booking_created.json");
    let good = sign_calcom(CALCOM_SECRET, &calcom);
    let mut tampered = calcom.clone();
    tampered[5] ^= 1;
    for (header, body) in [
        ("no-secret-provided", &calcom),
        (sign_calcom("other", &calcom).as_str(), &calcom),
        (good.as_str(), &tampered),
    ] {
        let r = http::post(
            &server2.base,
            "/calcom/webhook",
            &[("x-cal-signature-256", header)],
            body,
        )
        .unwrap();
        assert_eq!(r.status, 401);
    }
    assert_eq!(
        http::post(&server2.base, "/calcom/webhook", &[], &calcom)
            .unwrap()
            .status,
        401
    );
    assert_eq!(upstream2.count(), 0);
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    for reason in ["mismatch", "stale", "missing_header", "malformed"] {
        assert!(
            metrics.contains(&format!(
                "frontdesk_auth_failures_total{{reason=\"{reason}\",route=\"retell_webhook\"}}"
            )),
            "{reason}"
        );
    }
}

#[test]
fn unsigned_floods_spend_the_address_budget_then_get_429() {
    let (server, _upstream) = server();
    let statuses: Vec<u16> = (0..12)
        .map(|_| {
            http::post(
                &server.base,
                "/retell/webhook",
                &[("x-retell-signature", "v=1,d=00")],
                b"{}",
            )
            .unwrap()
            .status
        })
        .collect();
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    // A correctly signed request from the same address still passes: the budget counts
    // failures only, and Retell sends every practice's calls from a few shared addresses.
    let body = fixture("retell_call_started.json");
    let r = post_retell(&server.base, "/retell/webhook", &body).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    // The next failure is still refused cheaply.
    let again = http::post(
        &server.base,
        "/retell/webhook",
        &[("x-retell-signature", "v=1,d=00")],
        b"{}",
    )
    .unwrap();
    assert_eq!(again.status, 429);
    assert!(again.header("retry-after").is_some());
}

#[test]
fn a_valid_request_replayed_after_the_window_is_refused() {
    let (server, upstream) = server();
    let body = fixture("retell_call_started.json");
    assert_eq!(
        post_retell(&server.base, "/retell/webhook", &body)
            .unwrap()
            .status,
        200
    );
    server.setup().clock.advance(Duration::from_secs(301));
    assert_eq!(
        post_retell(&server.base, "/retell/webhook", &body)
            .unwrap()
            .status,
        401
    );
    assert_eq!(upstream.count(), 1);
}

#[test]
fn concurrent_duplicate_deliveries_reach_the_upstream_once() {
    let (server, upstream) = server();
    let body = fixture("retell_call_ended.json");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let (base, body, barrier) = (server.base.clone(), body.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                post_retell(&base, "/retell/webhook", &body).unwrap().status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // A delivery still being forwarded is answered 409 (senders retry), a finished one 200.
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(upstream.count(), 1);
    let in_progress = statuses.iter().filter(|s| **s == 409).count();
    // Every delivery that was told to retry, retried until acknowledged, is a duplicate.
    for _ in 0..in_progress {
        let acknowledged = crate::harness::wait_until(Duration::from_secs(10), || {
            post_retell(&server.base, "/retell/webhook", &body).is_ok_and(|r| r.status == 200)
        });
        assert!(acknowledged);
    }
    assert_eq!(upstream.count(), 1);
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    assert!(
        metrics.contains("frontdesk_webhook_duplicates_total{source=\"retell\"} 19"),
        "{metrics}"
    );
}

#[test]
fn a_failed_forward_lets_the_retry_through() {
    let (server, upstream) = server();
    let body = fixture("retell_call_analyzed.json");
    upstream.set_status(503);
    assert_eq!(
        post_retell(&server.base, "/retell/webhook", &body)
            .unwrap()
            .status,
        503
    );
    upstream.set_status(200);
    assert_eq!(
        post_retell(&server.base, "/retell/webhook", &body)
            .unwrap()
            .status,
        200
    );
    assert_eq!(upstream.count(), 2);
    assert_eq!(
        post_retell(&server.base, "/retell/webhook", &body)
            .unwrap()
            .status,
        200
    );
    assert_eq!(upstream.count(), 2, "the third delivery is a duplicate");
}

#[test]
fn logs_carry_no_key_signature_or_body_text() {
    let (server, _upstream) = server();
    let body = fixture("retell_call_ended.json");
    let sig = sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    post_retell(&server.base, "/retell/webhook", &body).unwrap();
    http::post(
        &server.base,
        "/retell/webhook",
        &[("x-retell-signature", "v=1,d=zz")],
        &body,
    )
    .unwrap();
    let calcom = fixture("calcom_wh_booking_created.json");
    http::post(
        &server.base,
        "/calcom/webhook",
        &[("x-cal-signature-256", &sign_calcom(CALCOM_SECRET, &calcom))],
        &calcom,
    )
    .unwrap();
    drop(server);
    let logs = logs::text();
    assert!(
        logs.contains("\"route\":\"retell_webhook\""),
        "access log missing: {logs}"
    );
    let digest = sig.split_once(",d=").unwrap().1;
    let call: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let transcript = call["call"]["transcript"]
        .as_str()
        .expect("the fixture has a transcript");
    let words: Vec<&str> = transcript
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.len() >= 6)
        .take(5)
        .collect();
    assert_eq!(words.len(), 5, "the transcript has long words to look for");
    let mut needles = vec![
        RETELL_KEY,
        CALCOM_SECRET,
        digest,
        "+14155550123",
        "4155550123",
    ];
    needles.extend(&words);
    let found = |logs: &str| -> Vec<&str> {
        needles
            .iter()
            .copied()
            .filter(|n| logs.contains(n))
            .collect()
    };
    assert_eq!(found(&logs), Vec::<&str>::new(), "the log holds these");

    // Negative control: a body written to the same log pipeline is found, so the check above
    // would see a leak if the server ever logged one.
    tracing::info!(body = %String::from_utf8_lossy(&body), "control: a leaked body");
    let leaked = found(&logs::text());
    assert!(
        words.iter().all(|w| leaked.contains(w)),
        "the control body was not found in the log: {leaked:?}"
    );
}
