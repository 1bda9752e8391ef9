//! Table-driven coverage of every field rule and every error code of the compact form.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::collections::BTreeSet;

use common::{compile_yaml, error_pairs};
use frontdesk_validate::{ErrorCode, FieldError};
use serde_json::{Value, json};

const SCHEMA: &str = r#"
unknown_fields: reject
fields:
  text: { type: string, min_length: 2, max_length: 5 }
  code: { type: string, pattern: "^[A-Z]{3}$" }
  clean: { type: string, normalize: [strip_html, collapse_whitespace, trim, nfc] }
  raw: { type: string, normalize: [] }
  count: { type: integer, min: 15, max: 480, default: 30 }
  ratio: { type: number, min: 0.5, max: 2.5 }
  flag: { type: boolean }
  day: { type: date }
  at: { type: time }
  when: { type: datetime }
  mail: { type: email, max_length: 20 }
  tel: { type: phone }
  kind: { type: enum, values: [Cleaning, Checkup] }
  must: { type: string, required: true }
  attendee:
    type: object
    fields:
      name: { type: string, required: true, max_length: 5 }
"#;

/// One row: extra input merged over a valid base, and the expected outcome.
enum Expect {
    /// Validation passes and these output fields have these values.
    Ok(Value),
    /// Validation fails with exactly these `(field, code)` errors.
    Errors(&'static [(&'static str, &'static str)]),
}

fn rows() -> Vec<(&'static str, Value, Expect)> {
    use Expect::{Errors, Ok};
    vec![
        // string length and pattern
        (
            "length ok",
            json!({"text": "abc"}),
            Ok(json!({"text": "abc"})),
        ),
        (
            "too_short",
            json!({"text": "a"}),
            Errors(&[("text", "too_short")]),
        ),
        (
            "too_long",
            json!({"text": "abcdef"}),
            Errors(&[("text", "too_long")]),
        ),
        (
            "length counts chars not bytes",
            json!({"text": "äöüßé"}),
            Ok(json!({"text": "äöüßé"})),
        ),
        (
            "string default trims",
            json!({"text": "  ab  "}),
            Ok(json!({"text": "ab"})),
        ),
        (
            "string wrong type",
            json!({"text": 12}),
            Errors(&[("text", "invalid_type")]),
        ),
        (
            "pattern ok",
            json!({"code": "ABC"}),
            Ok(json!({"code": "ABC"})),
        ),
        (
            "pattern_mismatch",
            json!({"code": "abc"}),
            Errors(&[("code", "pattern_mismatch")]),
        ),
        // normalisation
        (
            "strip_html",
            json!({"clean": " <b>Jane</b>\n\n Doe "}),
            Ok(json!({"clean": "Jane Doe"})),
        ),
        (
            "nfc",
            json!({"clean": "Mu\u{308}ller"}),
            Ok(json!({"clean": "Müller"})),
        ),
        (
            "entities decoded",
            json!({"clean": "M&uuml;ller &amp; S&ouml;hne"}),
            Ok(json!({"clean": "Müller & Söhne"})),
        ),
        (
            "empty normalize keeps raw",
            json!({"raw": "  x  "}),
            Ok(json!({"raw": "  x  "})),
        ),
        // integer
        ("integer", json!({"count": 45}), Ok(json!({"count": 45}))),
        (
            "integer from string",
            json!({"count": "30"}),
            Ok(json!({"count": 30})),
        ),
        (
            "integer from integral float",
            json!({"count": 60.0}),
            Ok(json!({"count": 60})),
        ),
        ("integer default", json!({}), Ok(json!({"count": 30}))),
        (
            "integer null takes default",
            json!({"count": null}),
            Ok(json!({"count": 30})),
        ),
        (
            "integer min bound inclusive",
            json!({"count": 15}),
            Ok(json!({"count": 15})),
        ),
        (
            "integer max bound inclusive",
            json!({"count": 480}),
            Ok(json!({"count": 480})),
        ),
        (
            "too_small",
            json!({"count": 14}),
            Errors(&[("count", "too_small")]),
        ),
        (
            "too_large",
            json!({"count": "481"}),
            Errors(&[("count", "too_large")]),
        ),
        (
            "integer fraction",
            json!({"count": 30.5}),
            Errors(&[("count", "invalid_type")]),
        ),
        (
            "integer words",
            json!({"count": "thirty"}),
            Errors(&[("count", "invalid_type")]),
        ),
        (
            "integer bool",
            json!({"count": true}),
            Errors(&[("count", "invalid_type")]),
        ),
        // number
        ("number", json!({"ratio": 1.5}), Ok(json!({"ratio": 1.5}))),
        (
            "number from string",
            json!({"ratio": "2"}),
            Ok(json!({"ratio": 2.0})),
        ),
        (
            "number too_small",
            json!({"ratio": 0.1}),
            Errors(&[("ratio", "too_small")]),
        ),
        (
            "number too_large",
            json!({"ratio": 3}),
            Errors(&[("ratio", "too_large")]),
        ),
        (
            "number NaN string",
            json!({"ratio": "NaN"}),
            Errors(&[("ratio", "invalid_type")]),
        ),
        // boolean
        (
            "boolean",
            json!({"flag": false}),
            Ok(json!({"flag": false})),
        ),
        (
            "boolean string",
            json!({"flag": "TRUE"}),
            Ok(json!({"flag": true})),
        ),
        (
            "boolean wrong",
            json!({"flag": "maybe"}),
            Errors(&[("flag", "invalid_type")]),
        ),
        // date
        (
            "date iso",
            json!({"day": "2026-01-06"}),
            Ok(json!({"day": "2026-01-06"})),
        ),
        (
            "date german",
            json!({"day": "06.01.2026"}),
            Ok(json!({"day": "2026-01-06"})),
        ),
        (
            "invalid_date calendar",
            json!({"day": "2026-02-29"}),
            Errors(&[("day", "invalid_date")]),
        ),
        (
            "invalid_date format",
            json!({"day": "Tuesday"}),
            Errors(&[("day", "invalid_date")]),
        ),
        (
            "invalid_date type",
            json!({"day": 20260106}),
            Errors(&[("day", "invalid_date")]),
        ),
        // time
        (
            "time HH:MM",
            json!({"at": "14:30"}),
            Ok(json!({"at": "14:30"})),
        ),
        (
            "time H:MM",
            json!({"at": "9:30"}),
            Ok(json!({"at": "09:30"})),
        ),
        (
            "time Uhr",
            json!({"at": "14:30 Uhr"}),
            Ok(json!({"at": "14:30"})),
        ),
        (
            "time hour Uhr",
            json!({"at": "14 Uhr"}),
            Ok(json!({"at": "14:00"})),
        ),
        (
            "time dot",
            json!({"at": "14.30"}),
            Ok(json!({"at": "14:30"})),
        ),
        (
            "invalid_time",
            json!({"at": "25:00"}),
            Errors(&[("at", "invalid_time")]),
        ),
        // datetime
        (
            "datetime",
            json!({"when": "2026-01-06T17:00:00Z"}),
            Ok(json!({"when": "2026-01-06T17:00:00Z"})),
        ),
        (
            "invalid_datetime",
            json!({"when": "2026-01-06 17:00"}),
            Errors(&[("when", "invalid_datetime")]),
        ),
        // email
        (
            "email lowercases domain",
            json!({"mail": "Jane@Example.DE"}),
            Ok(json!({"mail": "Jane@example.de"})),
        ),
        (
            "invalid_email",
            json!({"mail": "jane(at)example.de"}),
            Errors(&[("mail", "invalid_email")]),
        ),
        (
            "email too_long",
            json!({"mail": "jane.doe@example-clinic.de"}),
            Errors(&[("mail", "too_long")]),
        ),
        // phone
        (
            "phone",
            json!({"tel": "+49 (0) 30 / 123 45-67"}),
            Ok(json!({"tel": "+49301234567"})),
        ),
        (
            "phone as number",
            json!({"tel": 301234567}),
            Ok(json!({"tel": "301234567"})),
        ),
        (
            "invalid_phone",
            json!({"tel": "call me"}),
            Errors(&[("tel", "invalid_phone")]),
        ),
        // enum
        (
            "enum canonical spelling",
            json!({"kind": " cleaning "}),
            Ok(json!({"kind": "Cleaning"})),
        ),
        (
            "not_allowed",
            json!({"kind": "surgery"}),
            Errors(&[("kind", "not_allowed")]),
        ),
        // required
        (
            "required missing",
            json!({"must": null}),
            Errors(&[("must", "required")]),
        ),
        (
            "required blank",
            json!({"must": "   "}),
            Errors(&[("must", "required")]),
        ),
        // nested object
        (
            "nested ok",
            json!({"attendee": {"name": " Jo "}}),
            Ok(json!({"attendee": {"name": "Jo"}})),
        ),
        (
            "nested path",
            json!({"attendee": {"name": "Johanna"}}),
            Errors(&[("attendee.name", "too_long")]),
        ),
        (
            "nested required",
            json!({"attendee": {}}),
            Errors(&[("attendee.name", "required")]),
        ),
        (
            "nested type",
            json!({"attendee": "Jo"}),
            Errors(&[("attendee", "invalid_type")]),
        ),
        (
            "nested unknown",
            json!({"attendee": {"name": "Jo", "x": 1}}),
            Errors(&[("attendee.x", "unknown_field")]),
        ),
        // unknown fields
        (
            "unknown_field",
            json!({"extra": 1}),
            Errors(&[("extra", "unknown_field")]),
        ),
        // all errors are collected, in declaration order, unknown keys last
        (
            "collects all",
            json!({"text": "a", "count": 5, "day": "x", "must": "", "extra": true}),
            Errors(&[
                ("text", "too_short"),
                ("count", "too_small"),
                ("day", "invalid_date"),
                ("must", "required"),
                ("extra", "unknown_field"),
            ]),
        ),
    ]
}

#[test]
fn every_rule_behaves_as_tabled() {
    let schema = compile_yaml(SCHEMA);
    for (name, patch, expect) in rows() {
        let mut input = json!({"must": "here"});
        for (key, value) in patch.as_object().expect("patch is an object") {
            input[key] = value.clone();
        }
        let result = schema.validate(&input);
        match expect {
            Expect::Ok(want) => {
                let got = result.unwrap_or_else(|e| panic!("{name}: unexpected errors {e:?}"));
                for (key, value) in want.as_object().expect("object") {
                    assert_eq!(&got[key], value, "{name}: field {key}");
                }
            }
            Expect::Errors(want) => {
                let got = error_pairs(result);
                let want: Vec<(String, String)> = want
                    .iter()
                    .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
                    .collect();
                assert_eq!(got, want, "{name}");
            }
        }
    }
}

#[test]
fn table_covers_every_error_code_but_schema_violation() {
    // `schema_violation` only arises from the JSON Schema form (see json_schema.rs tests).
    let all = [
        ErrorCode::Required,
        ErrorCode::InvalidType,
        ErrorCode::TooShort,
        ErrorCode::TooLong,
        ErrorCode::TooSmall,
        ErrorCode::TooLarge,
        ErrorCode::PatternMismatch,
        ErrorCode::InvalidEmail,
        ErrorCode::InvalidPhone,
        ErrorCode::InvalidDate,
        ErrorCode::InvalidTime,
        ErrorCode::InvalidDatetime,
        ErrorCode::NotAllowed,
        ErrorCode::UnknownField,
    ];
    let covered: BTreeSet<&str> = rows()
        .iter()
        .filter_map(|(_, _, expect)| match expect {
            Expect::Errors(errors) => Some(errors.iter().map(|(_, code)| *code)),
            Expect::Ok(_) => None,
        })
        .flatten()
        .collect();
    for code in all {
        assert!(covered.contains(code.as_str()), "no row for {code}");
    }
}

#[test]
fn output_keeps_only_declared_fields_when_ignoring_unknown() {
    let schema = compile_yaml("fields: { a: { type: string } }");
    let out = schema
        .validate(&json!({"a": "x", "b": "<script>"}))
        .expect("valid");
    assert_eq!(out, json!({"a": "x"}));
}

#[test]
fn root_must_be_an_object() {
    let schema = compile_yaml("fields: { a: { type: string } }");
    for input in [json!(null), json!([1]), json!("a"), json!(3)] {
        assert_eq!(
            error_pairs(schema.validate(&input)),
            [(String::new(), "invalid_type".to_owned())]
        );
    }
}

#[test]
fn required_unless_is_lifted_by_a_sibling() {
    let schema = compile_yaml(
        "fields: { date: { type: date, required_unless: [start] }, start: { type: datetime } }",
    );
    assert!(
        schema
            .validate(&json!({"start": "2026-01-06T17:00:00Z"}))
            .is_ok()
    );
    assert!(schema.validate(&json!({"date": "2026-01-06"})).is_ok());
    assert_eq!(
        error_pairs(schema.validate(&json!({"start": ""}))),
        [("date".to_owned(), "required".to_owned())]
    );
}

#[test]
fn errors_serialise_as_field_and_snake_case_code() {
    let schema = compile_yaml("fields: { email: { type: email, required: true } }");
    let errors: Vec<FieldError> = schema.validate(&json!({})).expect_err("missing");
    assert_eq!(
        serde_json::to_value(&errors).expect("serialises"),
        json!([{"field": "email", "code": "required"}])
    );
}

#[test]
fn error_messages_never_echo_the_value() {
    let schema = compile_yaml("fields: { email: { type: email } }");
    let errors = schema
        .validate(&json!({"email": "secret.person@nowhere"}))
        .expect_err("invalid");
    let text = format!(
        "{errors:?}{}",
        serde_json::to_string(&errors).expect("json")
    );
    assert!(!text.contains("secret.person"), "{text}");
}

#[test]
fn metric_labels_are_bounded() {
    let schema = compile_yaml(
        "unknown_fields: reject\nfields: { a: { type: object, fields: { b: { type: integer } } } }",
    );
    let errors = schema
        .validate(&json!({"a": {"b": "x"}, "jane@example.com": 1}))
        .expect_err("invalid");
    let labels: Vec<&str> = errors.iter().map(FieldError::metric_label).collect();
    assert_eq!(labels, ["a.b", "_unknown"]);
    frontdesk_validate::record_failures("test_route", &errors);
    let families = prometheus::default_registry().gather();
    let family = families
        .iter()
        .find(|f| f.name() == "frontdesk_validation_failures_total")
        .expect("registered");
    let mut seen: Vec<String> = family
        .get_metric()
        .iter()
        .flat_map(|m| {
            m.get_label()
                .iter()
                .map(|l| l.value().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    seen.sort();
    assert!(seen.contains(&"_unknown".to_owned()));
    assert!(seen.iter().all(|value| !value.contains('@')), "{seen:?}");
}
