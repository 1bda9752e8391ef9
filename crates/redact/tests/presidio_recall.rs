//! Recall per entity type on the public Presidio synthetic corpus (MIT, copied with its licence
//! under `tests/corpora/presidio-synth-v2/`). A labelled span counts as redacted when findings
//! cover every non-space character of it; it counts as correctly typed when those findings are
//! of the matching kind. Thresholds sit just below the measured values (see docs/redaction.md).
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use frontdesk_redact::{Kind, Redactor};
use serde::Deserialize;

#[derive(Deserialize)]
struct Sample {
    full_text: String,
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Span {
    entity_type: String,
    entity_value: String,
    start_position: usize,
    end_position: usize,
}

#[derive(Default)]
struct Tally {
    total: usize,
    covered: usize,
    typed: usize,
    missed: Vec<String>,
}

fn char_to_byte(text: &str, char_pos: usize) -> usize {
    text.char_indices()
        .nth(char_pos)
        .map_or(text.len(), |(b, _)| b)
}

#[test]
fn presidio_recall_per_entity_type() {
    let raw = include_str!("corpora/presidio-synth-v2/synth_dataset_v2.json");
    let samples: Vec<Sample> = serde_json::from_str(raw).unwrap();
    assert_eq!(samples.len(), 1500);
    let redactor = Redactor::default();
    let types = [
        ("EMAIL_ADDRESS", Kind::Email, 1.0),
        ("CREDIT_CARD", Kind::Card, 1.0),
        ("IBAN_CODE", Kind::Iban, 1.0),
        ("IP_ADDRESS", Kind::Ip, 1.0),
        ("PHONE_NUMBER", Kind::Phone, 0.98),
    ];
    let mut tallies: Vec<Tally> = types.iter().map(|_| Tally::default()).collect();
    let (mut findings_total, mut unlabelled) = (0usize, Vec::new());
    for sample in &samples {
        let text = &sample.full_text;
        let findings = redactor.find(text);
        // Findings overlapping no labelled span of any type (addresses, dates, … included).
        for f in &findings {
            findings_total += 1;
            let labelled = sample.spans.iter().any(|s| {
                let (a, b) = (
                    char_to_byte(text, s.start_position),
                    char_to_byte(text, s.end_position),
                );
                f.start < b && a < f.end
            });
            if !labelled {
                unlabelled.push(format!("{:?} {}", f.kind, &text[f.start..f.end]));
            }
        }
        for span in &sample.spans {
            let Some(t) = types
                .iter()
                .position(|(name, ..)| *name == span.entity_type)
            else {
                continue;
            };
            let start = char_to_byte(text, span.start_position);
            let end = char_to_byte(text, span.end_position);
            assert_eq!(&text[start..end], span.entity_value, "corpus offsets");
            let covering = |want: Option<Kind>| {
                (start..end).all(|i| {
                    text.as_bytes()[i].is_ascii_whitespace()
                        || findings
                            .iter()
                            .any(|f| f.start <= i && i < f.end && want.is_none_or(|k| f.kind == k))
                })
            };
            let tally = &mut tallies[t];
            tally.total += 1;
            if covering(None) {
                tally.covered += 1;
            } else {
                tally.missed.push(span.entity_value.clone());
            }
            if covering(Some(types[t].1)) {
                tally.typed += 1;
            }
        }
    }
    for ((name, _, _), tally) in types.iter().zip(&tallies) {
        println!(
            "{name:14} spans {:3}  redacted {:3} ({:5.1} %)  correct kind {:3} ({:5.1} %)  missed {:?}",
            tally.total,
            tally.covered,
            100.0 * tally.covered as f64 / tally.total as f64,
            tally.typed,
            100.0 * tally.typed as f64 / tally.total as f64,
            tally.missed
        );
    }
    println!(
        "findings {findings_total}, outside every labelled span {}: {unlabelled:?}",
        unlabelled.len()
    );
    for ((name, _, min), tally) in types.iter().zip(&tallies) {
        let recall = tally.covered as f64 / tally.total as f64;
        assert!(recall >= *min, "{name}: recall {recall:.3} below {min}");
    }
    // Correct kind: one 12-digit Maestro number (`0604…`) is also a valid German phone number
    // and is redacted as PHONE.
    let typed = |t: usize| tallies[t].typed as f64 / tallies[t].total as f64;
    assert!(typed(1) >= 0.99, "card kind {}", typed(1));
    assert!(typed(4) >= 0.98, "phone kind {}", typed(4));
    assert!(
        unlabelled.len() * 100 <= findings_total,
        "more than 1 % unlabelled findings"
    );
}
