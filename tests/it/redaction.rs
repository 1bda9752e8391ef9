//! PII redaction of forwarded bodies, and validation answers on non-Retell routes.

use serde_json::{Value, json};

use crate::harness::{FIXTURE_MS, RETELL_KEY, Setup};
use crate::http;
use crate::upstream::Upstream;

/// The shape of a JSON document: same keys, same array lengths, same value types.
fn same_structure(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_structure(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_structure(v, w))
        }
        (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => true,
        (Value::Number(_), Value::Number(_)) => true,
        _ => false,
    }
}

#[test]
fn forwarded_call_events_lose_their_pii_and_keep_their_shape() {
    let upstream = Upstream::start();
    let server = Setup::shipped(Some(upstream.addr)).start();
    let mut event: Value =
        serde_json::from_slice(&crate::harness::fixture("retell_call_ended.json")).unwrap();
    let transcript = "Agent: Wie kann ich helfen?\nUser: Ich bin Erika, erreichbar unter 0171 2345678 oder erika.muster@example.de, IBAN DE89 3704 0044 0532 0130 00.\n";
    event["call"]["transcript"] = json!(transcript);
    event["call"]["transcript_object"][1]["content"] = json!("Meine Nummer ist +49 (0)30 1234567.");
    let body = serde_json::to_vec(&event).unwrap();
    let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let r = http::post(
        &server.base,
        "/retell/webhook",
        &[("x-retell-signature", &sig)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());

    let forwarded = &upstream.received()[0];
    assert_eq!(
        forwarded.header("content-length"),
        Some(forwarded.body.len().to_string().as_str())
    );
    let got: Value = serde_json::from_slice(&forwarded.body).expect("still valid JSON");
    assert!(same_structure(&event, &got), "structure changed");
    assert_eq!(got["call"]["from_number"], "[PHONE_REDACTED]");
    let text = got["call"]["transcript"].as_str().unwrap();
    for secret in ["2345678", "erika.muster@example.de", "DE89", "0532"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(
        text.contains("[PHONE_REDACTED]")
            && text.contains("[EMAIL_REDACTED]")
            && text.contains("[IBAN_REDACTED]"),
        "{text}"
    );
    assert!(text.contains("Wie kann ich helfen?"), "ordinary words stay");
    assert_eq!(
        got["call"]["transcript_object"][1]["content"],
        "Meine Nummer ist [PHONE_REDACTED]."
    );
    // Look-alikes stay: ids and epoch-millisecond timestamps.
    assert_eq!(got["call"]["call_id"], event["call"]["call_id"]);
    assert_eq!(
        got["call"]["start_timestamp"],
        event["call"]["start_timestamp"]
    );
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    assert!(
        metrics.contains("frontdesk_redactions_total{kind=\"phone\"}"),
        "{metrics}"
    );
}

#[test]
fn invalid_bodies_on_other_routes_get_problem_details() {
    let upstream = Upstream::start();
    let setup = Setup::shipped(Some(upstream.addr));
    setup.write(
        "policies/zz-intake.yaml",
        "schemas:\n  intake:\n    fields:\n      name: { type: string, required: true, max_length: 10 }\n      age: { type: integer, min: 0, max: 150 }\nroutes:\n  - name: intake\n    match: { method: POST, path: /intake }\n    json: true\n    validate: { schema: intake }\n    upstream: app\n",
    );
    let server = setup.start();
    let r = http::post(
        &server.base,
        "/intake",
        &[("content-type", "application/json")],
        br#"{"age": 200}"#,
    )
    .unwrap();
    assert_eq!(r.status, 422);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let problem = r.json();
    assert_eq!(problem["status"], 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields.len(), 2, "all errors, not only the first: {problem}");
    assert!(fields.contains(&"name") && fields.contains(&"age"));
    assert_eq!(upstream.count(), 0);

    let ok = http::post(
        &server.base,
        "/intake",
        &[],
        br#"{"name": "  Eva ", "age": 30}"#,
    )
    .unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(
        upstream.received()[0].body,
        br#"{"name": "  Eva ", "age": 30}"#,
        "forwarded byte-identical"
    );
}

/// What a caller to a practice says, with every kind of personal data the transcript
/// detectors know, and the same line as it must arrive: tokens in place, every other byte kept.
const SPOKEN: &str = "Agent: Praxis Sonnenschein, guten Tag, was kann ich für Sie tun?\nUser: Hallo, mein Name ist Finn Richter, geboren am 12.03.1980. Meine Versichertennummer ist K943247614, die Steuer-ID 86095742719 und die Rentenversicherungsnummer 15 070649 C 103. Der Termin ist für meine Tochter Özlem, Rückruf bitte unter 0171 2345678.\nAgent: Danke, Herr Richter, ich trage die Zahnreinigung am Montag ein. request_id=e7a4e7a6-885a-2210-9039-91ff46d42fff\n";
const SPOKEN_REDACTED: &str = "Agent: Praxis Sonnenschein, guten Tag, was kann ich für Sie tun?\nUser: Hallo, mein Name ist [NAME_REDACTED], geboren am [BIRTH_DATE_REDACTED]. Meine Versichertennummer ist [KVNR_REDACTED], die Steuer-ID [TAX_ID_REDACTED] und die Rentenversicherungsnummer [RVNR_REDACTED]. Der Termin ist für meine Tochter [NAME_REDACTED], Rückruf bitte unter [PHONE_REDACTED].\nAgent: Danke, Herr [NAME_REDACTED], ich trage die Zahnreinigung am Montag ein. request_id=e7a4e7a6-885a-2210-9039-91ff46d42fff\n";

/// A route that forwards signed Retell function calls to the practice backend with the
/// shipped Retell redaction profile.
const FORWARD_FUNCTIONS: &str = "routes:\n  - name: practice_function\n    match: { method: POST, path: /practice/function }\n    json: true\n    auth: retell\n    redact: retell_events\n    upstream: app\n";

fn function_call_with(transcript: &str) -> Vec<u8> {
    let mut call: Value = serde_json::from_slice(&crate::harness::fixture(
        "retell_fn_check_availability.json",
    ))
    .unwrap();
    call["call"]["transcript"] = json!(transcript);
    serde_json::to_vec(&call).unwrap()
}

#[test]
fn transcripts_of_function_calls_lose_names_birth_dates_and_german_ids() {
    let upstream = Upstream::start();
    let setup = Setup::shipped(Some(upstream.addr));
    setup.write("policies/zz-practice.yaml", FORWARD_FUNCTIONS);
    let server = setup.start();
    let body = function_call_with(SPOKEN);
    let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let r = http::post(
        &server.base,
        "/practice/function",
        &[("x-retell-signature", &sig)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let forwarded: Value = serde_json::from_slice(&upstream.received()[0].body).unwrap();
    assert_eq!(forwarded["call"]["transcript"], SPOKEN_REDACTED);
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    for kind in ["name", "birth_date", "kvnr", "tax_id", "rvnr"] {
        assert!(
            metrics.contains(&format!("frontdesk_redactions_total{{kind=\"{kind}\"}}")),
            "{kind}: {metrics}"
        );
    }
}

#[test]
fn the_same_line_through_frontdesk_redact() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdesk"))
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SPOKEN.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), SPOKEN_REDACTED);
}

#[test]
fn a_practice_with_raw_transcript_gets_the_transcript_as_spoken_and_nothing_else_raw() {
    let upstream = Upstream::start();
    let setup = Setup::shipped(Some(upstream.addr));
    setup.write(
        "policies/zz-practice.yaml",
        &FORWARD_FUNCTIONS.replace(
            "    redact: retell_events\n",
            "    tenant: { agent_id: \"{body.call.agent_id}\", required: false }\n    redact: retell_events\n",
        ),
    );
    // Its own Retell workspace, as a practice sharing no key with others.
    const RAW_KEY: &str = "key_raw_transcript_practice_0123456789";
    setup.write("secrets/raw-retell", RAW_KEY);
    setup.add_tenants(
        "  - id: raw\n    company_id: raw\n    branch_id: main\n    agent_ids: [agent_raw]\n    retell_keys: [{ file: SECRETS_DIR/raw-retell }]\n    raw_transcript: true\n    calendar: { provider: local, resources: [room-1] }\n",
    );
    let server = setup.start();
    for (agent, key, want) in [
        ("agent_raw", RAW_KEY, SPOKEN),
        ("agent_unknown", RETELL_KEY, SPOKEN_REDACTED),
    ] {
        let mut call: Value = serde_json::from_slice(&function_call_with(SPOKEN)).unwrap();
        call["call"]["agent_id"] = json!(agent);
        let body = serde_json::to_vec(&call).unwrap();
        let sig = frontdesk::signature::sign_retell(key, &body, FIXTURE_MS);
        let r = http::post(
            &server.base,
            "/practice/function",
            &[("x-retell-signature", &sig)],
            &body,
        )
        .unwrap();
        assert_eq!(r.status, 200, "{agent}: {}", r.text());
        let got = upstream.received();
        let forwarded: Value = serde_json::from_slice(&got.last().unwrap().body).unwrap();
        assert_eq!(forwarded["call"]["transcript"], want, "{agent}");
        // Field rules still apply: the caller's number never passes raw.
        assert_eq!(
            forwarded["call"]["from_number"], "[PHONE_REDACTED]",
            "{agent}"
        );
    }
}
