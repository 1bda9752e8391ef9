//! Fuzzes the validator with arbitrary bytes: as JSON arguments against the booking schema, and
//! as text through the HTML-stripping normaliser. Beyond "no panic" it checks the properties the
//! gateway relies on: normalised output validates to itself, stripped text holds no markup and
//! normalisation is idempotent.

use std::path::Path;
use std::sync::LazyLock;

use frontdesk_validate::{NormalizeStep, Schema, SchemaDef, normalize};
use serde_json::{Value, json};

const TEXT_STEPS: [NormalizeStep; 4] = [
    NormalizeStep::StripHtml,
    NormalizeStep::CollapseWhitespace,
    NormalizeStep::Trim,
    NormalizeStep::Nfc,
];

/// Same rules as `book_appointment` in policies/booking-schemas.yaml, plus a nested object and
/// `unknown_fields: reject` so those paths are exercised too.
static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let def: SchemaDef = serde_json::from_value(json!({
        "unknown_fields": "reject",
        "fields": {
            "date": {"type": "date", "required_unless": ["start"]},
            "time": {"type": "time", "required_unless": ["start"]},
            "start": {"type": "datetime"},
            "duration": {"type": "integer", "min": 15, "max": 480},
            "service": {"type": "enum", "values": ["cleaning", "checkup"]},
            "name": {"type": "string", "required": true, "max_length": 150,
                     "normalize": ["strip_html", "collapse_whitespace", "trim", "nfc"]},
            "email": {"type": "email", "max_length": 255},
            "phone": {"type": "phone"},
            "notes": {"type": "string", "max_length": 1000, "pattern": "^[^|]*$",
                      "normalize": ["strip_html", "trim", "nfc"]},
            "paid": {"type": "boolean"},
            "ratio": {"type": "number", "min": 0, "max": 1},
            "attendee": {"type": "object", "fields": {"name": {"type": "string", "required": true}}}
        }
    }))
    .expect("fuzz schema definition");
    Schema::compile("fuzz", &def, Path::new(".")).expect("fuzz schema compiles")
});

pub fn run(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let clean = normalize(text, &TEXT_STEPS);
        assert!(
            !clean.contains('<') && !clean.contains('>'),
            "markup survived"
        );
        assert_eq!(normalize(&clean, &TEXT_STEPS), clean, "not idempotent");
    }
    if let Ok(input) = serde_json::from_slice::<Value>(data)
        && let Ok(clean) = SCHEMA.validate(&input)
    {
        assert_eq!(
            SCHEMA.validate(&clean),
            Ok(clean.clone()),
            "output not a fixed point"
        );
    }
}
