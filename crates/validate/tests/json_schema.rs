//! The `json_schema:` form: a draft 2020-12 file relative to the policy directory, with its
//! errors mapped onto field paths and codes.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::path::Path;

use common::error_pairs;
use frontdesk_validate::{Schema, SchemaDef, SchemaErrorKind};
use serde_json::json;

fn compile_file(contents: &str) -> Result<Schema, Vec<frontdesk_validate::SchemaError>> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("schemas")).expect("mkdir");
    std::fs::write(dir.path().join("schemas/s.json"), contents).expect("write");
    let def: SchemaDef = serde_yaml::from_str("json_schema: schemas/s.json").expect("parses");
    Schema::compile("s", &def, dir.path())
}

const BOOKING: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["name", "date"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string", "minLength": 2, "maxLength": 5},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "start": {"type": "string", "format": "date-time"},
    "email": {"type": "string", "format": "email"},
    "code": {"type": "string", "pattern": "^[A-Z]+$"},
    "duration": {"type": "integer", "minimum": 15, "maximum": 480},
    "kind": {"enum": ["a", "b"]},
    "tags": {"type": "array", "maxItems": 1},
    "attendee": {"type": "object", "properties": {"phone": {"type": "string", "minLength": 5}}}
  }
}"#;

#[test]
fn valid_input_is_returned_unchanged() {
    let schema = compile_file(BOOKING).expect("compiles");
    let input = json!({"name": " Jo ", "date": "2026-01-06"});
    assert_eq!(schema.validate(&input).expect("valid"), input);
}

#[test]
fn errors_map_to_codes_and_paths() {
    let schema = compile_file(BOOKING).expect("compiles");
    let cases = [
        (json!({"date": "2026-01-06"}), ("name", "required")),
        (
            json!({"name": "J", "date": "2026-01-06"}),
            ("name", "too_short"),
        ),
        (
            json!({"name": "Johanna", "date": "2026-01-06"}),
            ("name", "too_long"),
        ),
        (
            json!({"name": 5, "date": "2026-01-06"}),
            ("name", "invalid_type"),
        ),
        (
            json!({"name": "Jo", "date": "2026-02-30"}),
            ("date", "invalid_date"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "time": "25:00:00Z"}),
            ("time", "invalid_time"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "start": "soon"}),
            ("start", "invalid_datetime"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "email": "nope"}),
            ("email", "invalid_email"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "code": "abc"}),
            ("code", "pattern_mismatch"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "duration": 5}),
            ("duration", "too_small"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "duration": 500}),
            ("duration", "too_large"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "kind": "c"}),
            ("kind", "not_allowed"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "tags": [1, 2]}),
            ("tags", "schema_violation"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "x": 1}),
            ("x", "unknown_field"),
        ),
        (
            json!({"name": "Jo", "date": "2026-01-06", "attendee": {"phone": "1"}}),
            ("attendee.phone", "too_short"),
        ),
    ];
    for (input, (field, code)) in cases {
        let got = error_pairs(schema.validate(&input));
        assert_eq!(got, [(field.to_owned(), code.to_owned())], "{input}");
    }
}

#[test]
fn every_error_is_collected() {
    let schema = compile_file(BOOKING).expect("compiles");
    let got = error_pairs(schema.validate(&json!({"duration": 1, "x": 1})));
    assert_eq!(got.len(), 4, "{got:?}");
}

#[test]
fn metric_labels_come_from_the_schema_not_the_input() {
    let schema = compile_file(BOOKING).expect("compiles");
    let errors = schema
        .validate(&json!({"name": "Jo", "date": "2026-01-06", "caller@example.com": 1}))
        .expect_err("unknown key");
    assert_eq!(errors[0].metric_label(), "_unknown");
    let errors = schema.validate(&json!({"date": "x"})).expect_err("invalid");
    let mut labels: Vec<&str> = errors.iter().map(|e| e.metric_label()).collect();
    labels.sort_unstable();
    assert_eq!(labels, ["date", "name"]);
}

#[test]
fn broken_files_are_refused_at_compile_time() {
    for contents in [
        "not json",
        r#"{"type": "no-such-type"}"#,
        r#"{"type": "string", "pattern": "("}"#,
        r#"{"$ref": "https://example.com/other.json"}"#,
    ] {
        let errors = compile_file(contents).expect_err(contents);
        assert!(
            matches!(errors[0].kind, SchemaErrorKind::InvalidJsonSchema { .. }),
            "{contents}: {errors:?}"
        );
        assert_eq!(errors[0].path, "json_schema");
    }
}

#[test]
fn path_is_relative_to_the_policy_directory() {
    let def: SchemaDef = serde_yaml::from_str("json_schema: s.json").expect("parses");
    let errors =
        Schema::compile("s", &def, Path::new("/nonexistent-policy-dir")).expect_err("missing");
    assert!(matches!(
        errors[0].kind,
        SchemaErrorKind::UnreadableJsonSchema { .. }
    ));
}
