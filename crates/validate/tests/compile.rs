//! `Schema::compile` refuses every kind of broken definition, naming the path of the mistake,
//! and the shipped policy file compiles.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::path::Path;

use frontdesk_validate::{Schema, SchemaDef, SchemaErrorKind};

fn compile_errors(yaml: &str) -> Vec<(String, SchemaErrorKind)> {
    let def: SchemaDef = serde_yaml::from_str(yaml).expect("parses");
    match Schema::compile("s", &def, Path::new(".")) {
        Ok(_) => panic!("expected compile errors for {yaml}"),
        Err(errors) => errors.into_iter().map(|e| (e.path, e.kind)).collect(),
    }
}

#[test]
fn shipped_schema_file_compiles_with_the_booking_functions() {
    let schemas = common::shipped_schemas();
    let mut names: Vec<&str> = schemas.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "book_appointment",
            "cancel_appointment",
            "check_availability",
            "reschedule_appointment"
        ]
    );
}

/// Recognises the expected error kind.
type KindCheck = fn(&SchemaErrorKind) -> bool;

#[test]
fn broken_definitions_are_refused_with_their_path() {
    let cases: Vec<(&str, &str, KindCheck)> = vec![
        (
            "fields: { a: { type: string, pattern: '(' } }",
            "fields.a.pattern",
            |k| matches!(k, SchemaErrorKind::InvalidPattern(_)),
        ),
        (
            "fields: { a: { type: integer, min: 10, max: 5 } }",
            "fields.a.min",
            |k| matches!(k, SchemaErrorKind::InvertedBounds { lower: "min", .. }),
        ),
        (
            "fields: { a: { type: string, min_length: 10, max_length: 5 } }",
            "fields.a.min_length",
            |k| {
                matches!(
                    k,
                    SchemaErrorKind::InvertedBounds {
                        lower: "min_length",
                        ..
                    }
                )
            },
        ),
        (
            "fields: { a: { type: integer, max: .nan } }",
            "fields.a.max",
            |k| matches!(k, SchemaErrorKind::NonFiniteBound("max")),
        ),
        (
            "fields: { a: { type: integer, default: 'soon' } }",
            "fields.a.default",
            |k| matches!(k, SchemaErrorKind::InvalidDefault(_)),
        ),
        (
            "fields: { a: { type: integer, min: 15, default: 5 } }",
            "fields.a.default",
            |k| {
                matches!(
                    k,
                    SchemaErrorKind::InvalidDefault(frontdesk_validate::ErrorCode::TooSmall)
                )
            },
        ),
        (
            "fields: { a: { type: date, default: '2026-02-30' } }",
            "fields.a.default",
            |k| {
                matches!(
                    k,
                    SchemaErrorKind::InvalidDefault(frontdesk_validate::ErrorCode::InvalidDate)
                )
            },
        ),
        (
            "fields: { a: { type: string, required: true, default: x } }",
            "fields.a.default",
            |k| matches!(k, SchemaErrorKind::DefaultOnRequired),
        ),
        (
            "fields: { a: { type: integer, max_length: 3 } }",
            "fields.a.max_length",
            |k| {
                matches!(
                    k,
                    SchemaErrorKind::RuleNotApplicable {
                        rule: "max_length",
                        field_type: "integer"
                    }
                )
            },
        ),
        (
            "fields: { a: { type: string, min: 3 } }",
            "fields.a.min",
            |k| matches!(k, SchemaErrorKind::RuleNotApplicable { rule: "min", .. }),
        ),
        (
            "fields: { a: { type: email, pattern: x } }",
            "fields.a.pattern",
            |k| {
                matches!(
                    k,
                    SchemaErrorKind::RuleNotApplicable {
                        rule: "pattern",
                        ..
                    }
                )
            },
        ),
        ("fields: { a: { type: enum } }", "fields.a.values", |k| {
            matches!(k, SchemaErrorKind::MissingEnumValues)
        }),
        (
            "fields: { a: { type: enum, values: [] } }",
            "fields.a.values",
            |k| matches!(k, SchemaErrorKind::MissingEnumValues),
        ),
        ("fields: { a: { type: object } }", "fields.a", |k| {
            matches!(k, SchemaErrorKind::MissingObjectFields)
        }),
        (
            "fields: { a: { type: string, fields: { b: { type: string } } } }",
            "fields.a.fields",
            |k| matches!(k, SchemaErrorKind::RuleNotApplicable { rule: "fields", .. }),
        ),
        ("fields: { 'a.b': { type: string } }", "fields.a.b", |k| {
            matches!(k, SchemaErrorKind::InvalidFieldName)
        }),
        (
            "fields: { a: { type: date, required_unless: [nope] } }",
            "fields.a.required_unless",
            |k| matches!(k, SchemaErrorKind::InvalidRequiredUnless),
        ),
        (
            "fields: { o: { type: object, fields: { n: { type: string, pattern: '[' } } } }",
            "fields.o.fields.n.pattern",
            |k| matches!(k, SchemaErrorKind::InvalidPattern(_)),
        ),
        ("unknown_fields: reject", "", |k| {
            matches!(k, SchemaErrorKind::AmbiguousForm)
        }),
        (
            "{ fields: { a: { type: string } }, json_schema: x.json }",
            "",
            |k| matches!(k, SchemaErrorKind::AmbiguousForm),
        ),
        ("json_schema: does-not-exist.json", "json_schema", |k| {
            matches!(k, SchemaErrorKind::UnreadableJsonSchema { .. })
        }),
    ];
    for (yaml, path, is_expected) in cases {
        let errors = compile_errors(yaml);
        assert!(
            errors
                .iter()
                .any(|(p, kind)| p == path && is_expected(kind)),
            "{yaml}: got {errors:?}"
        );
    }
}

#[test]
fn all_compile_errors_are_reported_at_once() {
    let errors = compile_errors(
        "fields: { a: { type: string, pattern: '(' }, b: { type: integer, min: 3, max: 1 } }",
    );
    let paths: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["fields.a.pattern", "fields.b.min"]);
}

#[test]
fn unknown_types_and_keys_are_refused_when_parsing() {
    for (yaml, culprit) in [
        ("fields: { a: { type: str } }", "`str`"),
        (
            "fields: { a: { type: string, maxlength: 3 } }",
            "`maxlength`",
        ),
        (
            "fields: { a: { type: string, normalize: [lowercase] } }",
            "`lowercase`",
        ),
        ("fieldz: {}", "`fieldz`"),
        ("fields: {}\nunknown_fields: drop", "`drop`"),
    ] {
        let parsed: Result<SchemaDef, _> = serde_yaml::from_str(yaml);
        let error = parsed.expect_err(yaml).to_string();
        assert!(error.contains(culprit), "{yaml}: {error}");
    }
}

#[test]
fn error_display_names_schema_and_path() {
    let def: SchemaDef =
        serde_yaml::from_str("fields: { a: { type: integer, min: 2, max: 1 } }").expect("parses");
    let errors = Schema::compile("book", &def, Path::new(".")).expect_err("refused");
    assert_eq!(
        errors[0].to_string(),
        "schema `book`, fields.a.min: `min` (2) is greater than `max` (1)"
    );
}

#[test]
fn config_json_schema_describes_schema_defs() {
    let schema = schemars::schema_for!(SchemaDef);
    let text = serde_json::to_string(&schema).expect("serialises");
    for word in [
        "json_schema",
        "unknown_fields",
        "strip_html",
        "required_unless",
        "datetime",
    ] {
        assert!(text.contains(word), "{word} missing from the config schema");
    }
}

#[test]
fn a_compiled_schema_is_shared_across_threads() {
    let schemas = std::sync::Arc::new(common::shipped_schemas());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let schemas = std::sync::Arc::clone(&schemas);
            std::thread::spawn(move || {
                schemas["check_availability"]
                    .validate(&serde_json::json!({"date": format!("0{}.01.2026", i + 1)}))
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        let clean = handle.join().expect("thread").expect("valid");
        assert_eq!(clean["date"], format!("2026-01-0{}", i + 1));
    }
}
