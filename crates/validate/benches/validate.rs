//! Validation cost of the shipped `book_appointment` schema: clean input, HTML-laden input,
//! and input with every field wrong.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmark code"
)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk_validate::{Schema, SchemaDef};
use serde_json::json;

fn book_appointment() -> Schema {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let text = std::fs::read_to_string(dir.join("booking-schemas.yaml")).expect("policy file");
    let file: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    let def: SchemaDef =
        serde_yaml::from_value(file["schemas"]["book_appointment"].clone()).expect("schema");
    Schema::compile("book_appointment", &def, &dir).expect("compiles")
}

fn bench(c: &mut Criterion) {
    let schema = book_appointment();
    let clean = json!({"date": "2026-01-06", "time": "10:00", "duration": 30,
        "service": "cleaning", "name": "Jane Doe", "email": "jane.doe@example.com",
        "phone": "+49 30 1234567", "notes": "First visit."});
    let html = json!({"date": "06.01.2026", "time": "10 Uhr", "duration": "30",
        "name": "<b>Jane</b> &lt;script&gt;alert(1)&lt;/script&gt; Doe",
        "email": "jane.doe@Example.com",
        "notes": "<p>Bitte <a href=\"javascript:alert(1)\">zurückrufen</a></p>".repeat(10)});
    let invalid = json!({"date": "2026-02-30", "time": "25:00", "duration": 5,
        "name": "x".repeat(200), "email": "nope", "phone": "abc"});
    let mut group = c.benchmark_group("validate_book_appointment");
    group.bench_function("clean", |b| b.iter(|| schema.validate(black_box(&clean))));
    group.bench_function("html", |b| b.iter(|| schema.validate(black_box(&html))));
    group.bench_function("invalid", |b| {
        b.iter(|| schema.validate(black_box(&invalid)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
