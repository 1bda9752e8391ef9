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
