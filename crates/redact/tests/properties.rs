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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

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
