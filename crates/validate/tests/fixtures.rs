//! The recorded Retell function calls (tests/fixtures/, copied from the shared signed fixtures)
//! pass the shipped schemas, chosen by function `name` as the gateway does.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

#[test]
fn full_body_fixtures_pass_their_functions_schema() {
    let schemas = common::shipped_schemas();
    for file in [
        "retell_fn_check_availability.json",
        "retell_fn_book_appointment.json",
    ] {
        let body = fixture(file);
        let name = body["name"].as_str().expect("function name");
        let schema = &schemas[name];
        let clean = schema
            .validate(&body["args"])
            .unwrap_or_else(|errors| panic!("{file}: {errors:?}"));
        assert!(clean.is_object(), "{file}");
    }
}

#[test]
fn check_availability_fixture_normalises() {
    let schemas = common::shipped_schemas();
    let body = fixture("retell_fn_check_availability.json");
    let clean = schemas["check_availability"]
        .validate(&body["args"])
        .expect("valid");
    // `time_of_day` is not declared: ignored and left out.
    assert_eq!(clean, json!({"date": "2026-01-06"}));
}

#[test]
fn args_only_fixture_passes_book_appointment() {
    let schemas = common::shipped_schemas();
    let clean = schemas["book_appointment"]
        .validate(&fixture("retell_fn_book_appointment_args_only.json"))
        .expect("valid");
    assert_eq!(
        clean,
        json!({"start": "2026-01-06T17:00:00Z", "name": "Jane Doe",
               "email": "jane.doe@example.com", "phone": "+14155550123"})
    );
}

#[test]
fn spec_shaped_booking_calls_pass_and_bad_ones_fail_per_spec_limits() {
    let schemas = common::shipped_schemas();
    let book = &schemas["book_appointment"];
    let ok = book
        .validate(
            &json!({"date": "06.01.2026", "time": "10 Uhr", "duration": "45",
            "name": "  <b>Jane</b>   Doe ", "email": "Jane@Example.com",
            "notes": "<script>alert(1)</script>Bitte zurückrufen"}),
        )
        .expect("valid");
    assert_eq!(
        ok,
        json!({"date": "2026-01-06", "time": "10:00", "duration": 45, "name": "Jane Doe",
               "email": "Jane@example.com", "notes": "Bitte zurückrufen"})
    );
    let long_email = format!("{}@{}.de", "a".repeat(64), "b".repeat(190));
    let errors = common::error_pairs(book.validate(&json!({"date": "2026-01-06", "time": "10:00",
        "duration": 10, "name": "x".repeat(151), "email": long_email,
        "notes": "y".repeat(1001)})));
    assert_eq!(
        errors,
        [
            ("duration".to_owned(), "too_small".to_owned()),
            ("name".to_owned(), "too_long".to_owned()),
            ("email".to_owned(), "invalid_email".to_owned()),
            ("notes".to_owned(), "too_long".to_owned()),
        ]
    );
    let errors = common::error_pairs(book.validate(&json!({"name": "Jane", "duration": 481})));
    assert_eq!(
        errors,
        [
            ("date".to_owned(), "required".to_owned()),
            ("time".to_owned(), "required".to_owned()),
            ("duration".to_owned(), "too_large".to_owned()),
        ]
    );
}

#[test]
fn cancel_and_reschedule_shapes() {
    let schemas = common::shipped_schemas();
    assert!(
        schemas["cancel_appointment"]
            .validate(&json!({"booking_id": "b1"}))
            .is_ok()
    );
    assert!(
        schemas["cancel_appointment"]
            .validate(&json!({"date": "2026-01-06", "phone": "0171 2345678"}))
            .is_ok()
    );
    assert_eq!(
        common::error_pairs(
            schemas["reschedule_appointment"].validate(&json!({"date": "2026-01-06"}))
        ),
        [
            ("booking_id".to_owned(), "required".to_owned()),
            ("time".to_owned(), "required".to_owned()),
        ]
    );
}
