//! JSON-aware body redaction on the real Retell and Cal.com wire shapes: field rules, detectors
//! over all strings, unchanged structure, untouched bytes elsewhere, and non-JSON fallback.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use frontdesk_redact::{
    BodyError, FieldKind, FieldRuleConfig, FieldRules, Kind, RedactionConfig, Redactor,
};
use serde_json::Value;

const CALL_ENDED: &str = r#"{"event":"call_ended","call":{"call_type":"phone_call","from_number":"+14155550123","to_number":"+14155550199","call_id":"Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6","agent_id":"oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD","start_timestamp":1767355180000,"duration_ms":220000,"transcript":"Agent: Praxis Sonnenschein, guten Tag.\nUser: Hier ist Jürgen Müller, meine Nummer ist 0171 3920012 und meine Mail juergen.mueller@example.de.\n","transcript_object":[{"role":"user","content":"Meine IBAN ist DE89 3704 0044 0532 0130 00.","words":[{"word":"Meine","start":0.40,"end":0.7}]}]}}"#;

const BOOKING_CREATED: &str = r#"{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-01-02T12:03:41.512Z","payload":{"title":"Cleaning between Dr. Alex Kim and Jane Doe","startTime":"2026-01-06T17:00:00Z","eventTypeId":1234567,"attendees":[{"email":"jane.doe@example.com","name":"Jane Doe","timeZone":"America/Los_Angeles","phoneNumber":"+14155550123"}],"responses":{"name":{"label":"your_name","value":"Jane Doe"},"email":{"label":"email_address","value":"jane.doe@example.com"}},"iCalUID":"q4Xo2mZkq8Wb7n1Yv3c9Ta@Cal.com","uid":"q4Xo2mZkq8Wb7n1Yv3c9Ta","price":0,"length":30,"bookingId":987654}}"#;

fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => Value::String(String::new()),
        other => other.clone(),
    }
}

#[test]
fn retell_call_ended_by_field_and_detector() {
    let redactor = Redactor::default();
    let rules = FieldRules::retell_calcom_defaults();
    let (out, counts) = redactor
        .redact_json_bytes(CALL_ENDED.as_bytes(), &rules)
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["call"]["from_number"], "[PHONE_REDACTED]");
    // to_number is the practice's own line, and no detector looks at it... except the phone
    // detector over all strings, which also hides it: numbers never leak.
    assert_eq!(v["call"]["to_number"], "[PHONE_REDACTED]");
    let transcript = v["call"]["transcript"].as_str().unwrap();
    assert!(
        transcript.contains("meine Nummer ist [PHONE_REDACTED] und meine Mail [EMAIL_REDACTED]."),
        "{transcript}"
    );
    assert_eq!(
        v["call"]["transcript_object"][0]["content"],
        "Meine IBAN ist [IBAN_REDACTED]."
    );
    // Ids, timestamps and durations are untouched, byte for byte (`0.40` keeps its spelling).
    for keep in [
        "\"call_id\":\"Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6\"",
        "\"start_timestamp\":1767355180000",
        "\"duration_ms\":220000",
        "\"start\":0.40",
    ] {
        assert!(out.contains(keep), "{keep} in {out}");
    }
    assert_eq!(shape(&v), shape(&serde_json::from_str(CALL_ENDED).unwrap()));
    assert_eq!(
        (
            counts.get(Kind::Phone),
            counts.get(Kind::Email),
            counts.get(Kind::Iban)
        ),
        (3, 1, 1)
    );
}

#[test]
fn calcom_booking_by_field() {
    let redactor = Redactor::default();
    let rules = FieldRules::retell_calcom_defaults();
    let (out, counts) = redactor
        .redact_json_bytes(BOOKING_CREATED.as_bytes(), &rules)
        .unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    let attendee = &v["payload"]["attendees"][0];
    assert_eq!(attendee["name"], "[NAME_REDACTED]");
    assert_eq!(attendee["email"], "[EMAIL_REDACTED]");
    assert_eq!(attendee["phoneNumber"], "[PHONE_REDACTED]");
    assert_eq!(
        v["payload"]["responses"]["name"]["value"],
        "[NAME_REDACTED]"
    );
    // Booking ids stay readable.
    assert_eq!(v["payload"]["iCalUID"], "q4Xo2mZkq8Wb7n1Yv3c9Ta@Cal.com");
    assert_eq!(v["payload"]["uid"], "q4Xo2mZkq8Wb7n1Yv3c9Ta");
    assert_eq!(v["payload"]["bookingId"], 987654);
    assert_eq!(v["payload"]["startTime"], "2026-01-06T17:00:00Z");
    // The two name fields, and the names in the free-text title.
    assert_eq!(
        v["payload"]["title"],
        "Cleaning between Dr. [NAME_REDACTED] and [NAME_REDACTED]"
    );
    assert_eq!(counts.get(Kind::Name), 4);
    assert_eq!(
        shape(&v),
        shape(&serde_json::from_str(BOOKING_CREATED).unwrap())
    );
}

#[test]
fn configured_rules_numbers_containers_and_escapes() {
    let config: RedactionConfig = serde_json::from_value(serde_json::json!({
        "scan_all_strings": false,
        "fields": [
            {"path": "patient", "kind": "name"},
            {"path": "phone", "kind": "phone"},
            {"path": "notes", "kind": "text"},
        ]
    }))
    .unwrap();
    let redactor = Redactor::new(&config).unwrap();
    let body =
        br#"{ "patient": {"first": "J\u00fcrgen", "last": "M\u00fcller", "age": 42, "vip": true},
        "phone": 4917139200120, "notes": "R\u00fcckruf an max@example.de\n",
        "other": "unscanned max@example.de" }"#;
    let (out, counts) = redactor
        .redact_json_bytes(body, redactor.field_rules())
        .unwrap();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["patient"]["first"], "[NAME_REDACTED]");
    assert_eq!(v["patient"]["last"], "[NAME_REDACTED]");
    assert_eq!(v["patient"]["age"], "[NAME_REDACTED]");
    assert_eq!(v["patient"]["vip"], true);
    assert_eq!(v["phone"], "[PHONE_REDACTED]");
    assert_eq!(v["notes"], "Rückruf an [EMAIL_REDACTED]\n");
    assert_eq!(v["other"], "unscanned max@example.de");
    assert_eq!(counts.total(), 5);
    // Whitespace and layout outside redacted values are preserved.
    assert!(
        String::from_utf8(out)
            .unwrap()
            .starts_with("{ \"patient\": {\"first\": ")
    );
}

#[test]
fn invalid_json_is_an_error_and_redact_body_falls_back_to_text() {
    let redactor = Redactor::default();
    let rules = FieldRules::none();
    let err = redactor
        .redact_json_bytes(b"{\"a\": 0171 3920012", &rules)
        .unwrap_err();
    assert!(
        matches!(err, BodyError::InvalidJson { line: 1, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("0171"));
    assert!(matches!(
        redactor.redact_json_bytes(b"\"\xff\"", &rules),
        Err(BodyError::InvalidUtf8 { offset: 1 })
    ));

    let r = redactor.redact_body(b"name=Max&tel=0171 3920012&mail=max@example.de", &rules);
    assert!(!r.as_json);
    assert_eq!(
        &*r.body,
        b"name=Max&tel=[PHONE_REDACTED]&mail=[EMAIL_REDACTED]"
    );
    let r = redactor.redact_body(b"{\"ok\":true}", &rules);
    assert!(r.as_json && matches!(r.body, std::borrow::Cow::Borrowed(_)));
    let r = redactor.redact_body(b"\xff\xfe binary 0171 3920012", &rules);
    assert_eq!(&*r.body, b"\xff\xfe binary [PHONE_REDACTED]");
}

#[test]
fn pseudonyms_in_bodies_are_stable_and_idempotent() {
    let config = RedactionConfig {
        pseudonym_key_env: Some("UNUSED_IN_THIS_TEST".into()),
        fields: vec![FieldRuleConfig {
            path: "attendee.name".into(),
            kind: FieldKind::Name,
        }],
        ..RedactionConfig::default()
    };
    let redactor =
        Redactor::with_pseudonym_key(&config, Some(b"a-test-key-of-32-bytes-length!!!")).unwrap();
    let body =
        br#"{"attendee":{"name":"Jane Doe","phone":"+49 171 3920012"},"from":"+49-171-3920012"}"#;
    let (once, _) = redactor
        .redact_json_bytes(body, redactor.field_rules())
        .unwrap();
    let v: Value = serde_json::from_slice(&once).unwrap();
    let name = v["attendee"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("[NAME:") && name.len() == "[NAME:".len() + 6 + 1,
        "{name}"
    );
    // The same number in two spellings gets the same pseudonym.
    assert_eq!(v["attendee"]["phone"], v["from"]);
    let (twice, counts) = redactor
        .redact_json_bytes(&once, redactor.field_rules())
        .unwrap();
    assert_eq!(once, twice);
    assert_eq!(counts.total(), 0);
}

/// A body the caller already parsed skips the syntax check and gets the same redaction.
#[test]
fn an_already_parsed_body_is_redacted_the_same_way() {
    let redactor = Redactor::default();
    let rules = FieldRules::retell_calcom_defaults();
    for body in [CALL_ENDED, BOOKING_CREATED] {
        let checked = redactor.redact_body(body.as_bytes(), &rules);
        let parsed = redactor.redact_parsed_json_body(body.as_bytes(), &rules);
        assert!(checked.as_json && parsed.as_json);
        assert_ne!(
            checked.body.as_ref(),
            body.as_bytes(),
            "something was redacted"
        );
        assert_eq!(checked, parsed);
    }
}
