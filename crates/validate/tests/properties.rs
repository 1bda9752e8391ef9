//! Property tests: validation never panics on arbitrary JSON, normalisation is idempotent, and
//! a value that passed validation passes again unchanged.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use frontdesk_validate::{NormalizeStep, normalize};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        markup_text().prop_map(Value::String),
        "[0-9 .:+/()-]{0,20}( Uhr)?".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Names the shipped schemas declare, plus arbitrary ones.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "date",
            "time",
            "start",
            "duration",
            "service",
            "name",
            "email",
            "phone",
            "notes",
            "booking_id",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

/// Text built from HTML-ish fragments, which random strings almost never produce.
fn markup_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "<",
            ">",
            "</",
            "<script>",
            "</script>",
            "<b>",
            "<!--",
            "-->",
            "&lt;",
            "&gt;",
            "&amp;",
            "&#60;",
            "&#x3c;",
            ";",
            "&",
            "lt",
            "javascript:",
            "java",
            "script:",
            "\u{37e}",
            "\"",
            "'",
            "=",
            "onerror",
            " ",
            "\t",
            "\u{0}",
            "e\u{301}",
            "\u{212b}",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9 ]{0,4}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn arb_steps() -> impl Strategy<Value = Vec<NormalizeStep>> {
    prop::collection::vec(
        prop::sample::select(vec![
            NormalizeStep::Trim,
            NormalizeStep::StripHtml,
            NormalizeStep::CollapseWhitespace,
            NormalizeStep::Nfc,
        ]),
        0..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn validate_never_panics_and_is_stable(input in arb_json()) {
        for schema in common::shipped_schemas().values() {
            if let Ok(clean) = schema.validate(&input) {
                // Normalised output is a fixed point: validating it again changes nothing.
                prop_assert_eq!(schema.validate(&clean), Ok(clean.clone()));
            }
        }
    }

    #[test]
    fn normalisation_is_idempotent(text in prop_oneof![any::<String>(), markup_text()], steps in arb_steps()) {
        let once = normalize(&text, &steps);
        prop_assert_eq!(normalize(&once, &steps), once.clone());
    }

    #[test]
    fn strip_html_output_is_inert(text in prop_oneof![any::<String>(), markup_text()]) {
        let out = normalize(&text, &[NormalizeStep::StripHtml]);
        prop_assert!(!out.contains('<') && !out.contains('>'), "{:?} -> {:?}", text, out);
        let squeezed: String = out.to_lowercase().chars().filter(|c| !c.is_ascii_whitespace()).collect();
        prop_assert!(!squeezed.contains("javascript:"), "{:?} -> {:?}", text, out);
    }
}
