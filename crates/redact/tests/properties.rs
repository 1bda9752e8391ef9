//! Property tests: redaction is idempotent and never panics on any text; JSON bodies stay valid
//! JSON with the same structure.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use frontdesk_redact::{FieldKind, FieldRuleConfig, FieldRules, RedactionConfig, Redactor};
use proptest::prelude::*;
use serde_json::Value;

/// Fragments that make detectors fire, half-fire, and overlap when glued together.
const FRAGMENTS: &[&str] = &[
    "+49 30 23125678",
    "0171 3920012",
    "(030) 2312",
    "089 12345-678",
    "0049",
    "+",
    "(",
    ")",
    "-",
    "/",
    ".",
    " ",
    "\\n",
    "\\",
    "\"",
    "@",
    "jane@example.de",
    "x@y",
    ".de",
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
    "4111 1111 1111 1111",
    "4111",
    "192.0.2.44",
    "2001:db8::1",
    ":",
    "Bearer abcdef123456",
    "Authorization: ",
    "key_0123456789abcdef0123",
    "cal_live_0123456789abcdefXYZ",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
    "[PHONE_REDACTED]",
    "[EMAIL:3f2a9c]",
    "2026-01-06",
    "06.01.2026",
    "1767355180000",
    "Jürgen",
    "ß",
    "x",
    "7",
    "00",
    "0",
    "12",
    "Mein Name ist ",
    "Frau ",
    "Dr. ",
    "Finn Richter",
    "Karl-Heinz",
    "Özlem Yılmaz",
    " mein Name",
    "geboren am ",
    "Jahrgang ",
    "12. März 1980",
    "K943247614",
    "K 943 247 614",
    "86095742719",
    "15070649C103",
    "e7a4e7a6-885a-2210-9039-91ff46d42fff",
    "[NAME_REDACTED]",
];

fn fragment_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..24).prop_map(|v| v.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![fragment_text(), any::<String>(), "[0-9 +()./-]{0,40}"]
}

fn redactors() -> Vec<Redactor> {
    let pseudo = RedactionConfig {
        pseudonym_key_env: Some("K".into()),
        ..RedactionConfig::default()
    };
    vec![
        Redactor::default(),
        Redactor::with_pseudonym_key(&pseudo, Some(b"property-test-key-0123456789")).unwrap(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        any_text().prop_map(Value::String),
    ];
    let keys = prop::sample::select(vec![
        "name",
        "email",
        "content",
        "call",
        "from_number",
        "attendees",
        "transcript",
        "x",
        "ü",
    ]);
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// Objects with their keys, arrays with their lengths; every scalar is just "a leaf" (a number
/// under a whole-value rule becomes a token string).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        _ => Value::Null,
    }
}

fn rules() -> FieldRules {
    let rule = |path: &str, kind| FieldRuleConfig {
        path: path.into(),
        kind,
    };
    FieldRules::compile(&[
        rule("**.name", FieldKind::Name),
        rule("call.from_number", FieldKind::Phone),
        rule("**.attendees[*]", FieldKind::Email),
        rule("transcript", FieldKind::Text),
    ])
    .unwrap()
}

fn uuid() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}",
        "[0-9]{8}-[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{12}",
    ]
}

fn iso_timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        "20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-][01][0-9]:[0-5][0-9])",
        "20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]) ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]",
    ]
}

/// Retell call and agent ids, Cal.com uids.
fn call_id() -> impl Strategy<Value = String> {
    prop_oneof!["call_[0-9a-f]{32}", "[A-Za-z0-9]{32}", "[A-Za-z0-9]{22}"]
}

/// Log context around the identifiers, with and without personal data.
const CONTEXTS: &[&str] = &[
    "",
    "INFO request completed",
    "WARN upstream retry attempt=2",
    "Mein Name ist Finn Richter, Tel +49 30 23125678",
    "geboren am 12.03.1980 K943247614",
    "Frau Müller 86095742719",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// UUIDs, ISO timestamps and call ids in log lines come out byte for byte, whatever
    /// surrounds them; a line of nothing else is unchanged.
    #[test]
    fn ids_and_timestamps_are_byte_identical(
        ts in iso_timestamp(),
        uuid in uuid(),
        call in call_id(),
        agent in call_id(),
        before in prop::sample::select(CONTEXTS),
        after in prop::sample::select(CONTEXTS),
    ) {
        let r = Redactor::default();
        let bare = format!("{ts} request_id={uuid} call_id={call} agent_id={agent}");
        prop_assert_eq!(r.redact_text(&bare), bare.as_str());
        let line = format!("{ts} {before} request_id={uuid} {after} call_id={call} agent_id={agent} at {ts}");
        let out = r.redact_text(&line);
        for id in [&ts, &uuid, &call, &agent] {
            prop_assert!(out.contains(id.as_str()), "{} lost in {}", id, out);
        }
        if before.is_empty() && after.is_empty() {
            prop_assert_eq!(out, line.as_str());
        }
    }

    #[test]
    fn redacting_twice_equals_redacting_once(text in any_text()) {
        for r in redactors() {
            let once = r.redact_text(&text).into_owned();
            let twice = r.redact_text(&once).into_owned();
            prop_assert_eq!(&once, &twice);
            // Bytes API agrees with the text API.
            prop_assert_eq!(r.redact_bytes(text.as_bytes()).into_owned(), once.into_bytes());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let r = Redactor::default();
        let _ = r.redact_bytes(&bytes);
        let _ = r.redact_json_bytes(&bytes, &rules());
        let _ = r.redact_body(&bytes, &rules());
    }

    #[test]
    fn json_stays_valid_with_the_same_structure(value in json_value(), pretty in any::<bool>()) {
        let body = if pretty { serde_json::to_vec_pretty(&value) } else { serde_json::to_vec(&value) }.unwrap();
        for r in redactors() {
            let (out, _) = r.redact_json_bytes(&body, &rules()).unwrap();
            let parsed: Value = serde_json::from_slice(&out).unwrap();
            prop_assert_eq!(shape(&parsed), shape(&value));
            let (again, counts) = r.redact_json_bytes(&out, &rules()).unwrap();
            prop_assert_eq!(counts.total(), 0);
            prop_assert_eq!(again, out);
        }
    }
}
