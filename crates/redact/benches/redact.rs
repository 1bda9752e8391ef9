//! Single-thread throughput of `redact_text` on a PII-free log corpus and on PII-dense text,
//! against a naive baseline (one regex per detector, run in sequence) in the same bench; and of
//! JSON body redaction as the gateway calls it (after its own parse) on a ~200 KiB Retell
//! `call_ended` event with the shipped field rules, against merely parsing and re-serialising
//! it with serde_json.
//!
//! `cargo bench -p frontdesk-redact --bench redact -- --warm-up-time 1 --measurement-time 3`
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "benchmark code"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frontdesk_redact::{
    DetectorToggles, FieldKind, FieldRuleConfig, FieldRules, RedactionConfig, Redactor,
};
use regex::Regex;

/// Corpus size per benchmark input.
const TARGET_BYTES: usize = 1 << 20;

/// Log lines as the gateway writes them: timestamps, routes, ids, durations, dates, prices.
fn clean_corpus() -> String {
    let lines = [
        r#"2026-01-06T17:00:00.123Z INFO request{route="/retell/function" status=200 call_id="Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6" agent_id="oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD"} completed in 3ms bytes=1432"#,
        r#"2026-01-06T17:00:00.456Z INFO booking{tenant="praxis-sonnenschein" branch="mitte"} check_availability date=2026-01-06 time=09:00 duration=30 slots=4 cache=hit"#,
        r#"2026-01-06T17:00:01.002Z WARN upstream{target="calcom"} retry attempt=2 after 500ms status=429 breaker=closed failures=1"#,
        r#"2026-01-06T17:00:01.337Z INFO webhook{source="calcom" triggerEvent="BOOKING_CREATED" uid="q4Xo2mZkq8Wb7n1Yv3c9Ta" bookingId=987654 iCalSequence=0} forwarded in 41ms"#,
        r#"2026-01-06T17:00:02.500Z INFO call_ended start_timestamp=1767355180000 end_timestamp=1767355400000 duration_ms=220000 price=49,90 EUR plz=10115"#,
    ];
    repeat_lines(&lines)
}

/// German transcript and log lines where nearly every line carries personal data.
fn dense_corpus() -> String {
    let lines = [
        "User: Meine Nummer ist 0171 3920012, oder im Büro unter +49 (0)30 23125678.",
        "User: Schreiben Sie mir an juergen.mueller@example.de, danke.",
        "payment iban=DE89 3704 0044 0532 0130 00 card=4111 1111 1111 1111 from 192.0.2.44",
        "authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Agent: Ich habe Sie für den 06.01.2026 um 09:30 eingetragen, Rückruf an 089 12345-678.",
    ];
    repeat_lines(&lines)
}

fn repeat_lines(lines: &[&str]) -> String {
    let mut out = String::with_capacity(TARGET_BYTES + 256);
    while out.len() < TARGET_BYTES {
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The baseline: one regex per detector, each run over the whole text in sequence, with no
/// prefilter and no checksum or metadata confirmation.
struct Naive {
    rules: Vec<(Regex, &'static str)>,
}

impl Naive {
    fn new() -> Self {
        let rules = [
            (
                r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                "[EMAIL_REDACTED]",
            ),
            (r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}", "[TOKEN_REDACTED]"),
            (
                r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*",
                "[TOKEN_REDACTED]",
            ),
            (
                r"\b(?:key_|cal_live_|cal_test_)[A-Za-z0-9]{16,}",
                "[TOKEN_REDACTED]",
            ),
            (
                r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
                "[IBAN_REDACTED]",
            ),
            (r"\b(?:\d[ -]?){12,18}\d\b", "[CARD_REDACTED]"),
            (
                r"(?:\+|00)\d{1,3}[ ./-]?(?:\(0\)[ ]?)?(?:\d[ ./-]?){6,13}\d|\(?0\d{2,5}\)?[ /-]*\d{3,9}(?:-\d{1,5})?",
                "[PHONE_REDACTED]",
            ),
            (r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "[IP_REDACTED]"),
            (
                r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b",
                "[IP_REDACTED]",
            ),
        ];
        Self {
            rules: rules
                .into_iter()
                .map(|(re, token)| (Regex::new(re).expect("baseline regex"), token))
                .collect(),
        }
    }

    fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (re, token) in &self.rules {
            out = re.replace_all(&out, *token).into_owned();
        }
        out
    }
}

/// Each detector alone, to see where the time goes.
fn single_detectors() -> Vec<(&'static str, DetectorToggles)> {
    let off = DetectorToggles::NONE;
    vec![
        ("only_email", DetectorToggles { email: true, ..off }),
        ("only_token", DetectorToggles { token: true, ..off }),
        ("only_phone", DetectorToggles { phone: true, ..off }),
        ("only_ip", DetectorToggles { ip: true, ..off }),
        ("only_name", DetectorToggles { name: true, ..off }),
        (
            "only_birth_date",
            DetectorToggles {
                birth_date: true,
                ..off
            },
        ),
        (
            "only_german_ids",
            DetectorToggles {
                kvnr: true,
                tax_id: true,
                rvnr: true,
                ..off
            },
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let redactor = Redactor::default();
    let naive = Naive::new();
    for (name, corpus) in [("clean_log", clean_corpus()), ("pii_dense", dense_corpus())] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(corpus.len() as u64));
        group.bench_function("frontdesk", |b| {
            b.iter(|| redactor.redact_text(black_box(&corpus)).len())
        });
        for (label, toggles) in single_detectors() {
            let config = RedactionConfig {
                detectors: toggles,
                ..RedactionConfig::default()
            };
            let only = Redactor::new(&config).expect("bench config");
            group.bench_function(label, |b| {
                b.iter(|| only.redact_text(black_box(&corpus)).len())
            });
        }
        group.bench_function("naive_regex", |b| {
            b.iter(|| naive.redact(black_box(&corpus)).len())
        });
        group.finish();
    }
}

/// A `call_ended` event whose transcript (text, turn objects with word timings, and the same
/// turns with tool calls) makes it about 200 KiB.
fn call_ended_body() -> Vec<u8> {
    let turns = [
        "Agent: Praxis Sonnenschein, guten Tag. Wie kann ich helfen?",
        "User: Hier ist Jürgen Müller, meine Nummer ist 0171 3920012, ich brauche einen Termin.",
        "Agent: Gern. Dienstag um zehn oder Mittwoch um elf Uhr dreißig?",
        "User: Dienstag passt. Die Bestätigung bitte an juergen.mueller@example.de schicken.",
    ];
    let (mut text, mut objects) = (String::new(), Vec::new());
    while text.len() * 4 < 200 * 1024 {
        for (i, turn) in turns.iter().enumerate() {
            text.push_str(turn);
            text.push('\n');
            let words: Vec<_> = turn
                .split(' ')
                .take(6)
                .enumerate()
                .map(|(k, w)| serde_json::json!({"word": w, "start": i as f64 + k as f64 * 0.3, "end": i as f64 + k as f64 * 0.3 + 0.25}))
                .collect();
            objects.push(serde_json::json!({"role": if i % 2 == 0 { "agent" } else { "user" }, "content": turn, "words": words}));
        }
    }
    serde_json::to_vec(&serde_json::json!({
        "event": "call_ended",
        "call": {
            "call_id": "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6",
            "agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
            "from_number": "+4930123456",
            "to_number": "+4930999999",
            "start_timestamp": 1767355180000u64,
            "end_timestamp": 1767355400000u64,
            "transcript": text,
            "transcript_object": objects,
            "transcript_with_tool_calls": objects,
        }
    }))
    .expect("serialisable")
}

fn bench_json(c: &mut Criterion) {
    let body = call_ended_body();
    let rules = FieldRules::compile(
        &[
            ("call.from_number", FieldKind::Phone),
            ("call.to_number", FieldKind::Phone),
            ("call.transcript", FieldKind::Text),
            ("call.transcript_object[*].content", FieldKind::Text),
            (
                "call.transcript_with_tool_calls[*].content",
                FieldKind::Text,
            ),
        ]
        .map(|(path, kind)| FieldRuleConfig {
            path: path.to_owned(),
            kind,
        }),
    )
    .expect("bench rules");
    // As a route's profile by default: field rules plus the detectors on every other string.
    let redactor = Redactor::default();
    let mut group = c.benchmark_group("call_ended_json");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("frontdesk", |b| {
        b.iter(|| {
            redactor
                .redact_parsed_json_body(black_box(&body), &rules)
                .body
                .len()
        })
    });
    group.bench_function("serde_json_round_trip", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_slice(black_box(&body)).expect("json");
            serde_json::to_vec(&value).expect("json").len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_json);
criterion_main!(benches);
