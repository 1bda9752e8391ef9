//! The project's own German corpus: recall on every phone form of the issue, DE/AT/CH IBANs,
//! umlaut names in fields; false-positive rate on the look-alikes that fill this traffic.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

use frontdesk_redact::{FieldRules, Kind, Redactor};

const POSITIVES: &str = include_str!("corpora/de/positives.tsv");
const NEGATIVES: &str = include_str!("corpora/de/negatives.txt");
const NAMES: &str = include_str!("corpora/de/names.txt");

/// Contexts a value appears in: bare, German prose, a key=value log line, a JSON-escaped
/// transcript in a log line.
const TEMPLATES: [&str; 5] = [
    "{}",
    "Bitte rufen Sie mich unter {} zurück.",
    "Kontakt: {}; danke",
    "caller={} status=ok",
    "transcript=\"Agent: Hallo\\nUser: {}\\n\"",
];

fn kind_of(label: &str) -> Kind {
    match label {
        "phone" => Kind::Phone,
        "iban" => Kind::Iban,
        "card" => Kind::Card,
        "email" => Kind::Email,
        "token" => Kind::Token,
        "ip" => Kind::Ip,
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn german_positive_recall() {
    let redactor = Redactor::default();
    let (mut total, mut hit) = (0usize, 0usize);
    let mut per_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut missed = Vec::new();
    for line in POSITIVES.lines().filter(|l| !l.trim().is_empty()) {
        let (label, value) = line.split_once('\t').unwrap();
        let kind = kind_of(label);
        for template in TEMPLATES {
            let (pre, post) = template.split_once("{}").unwrap();
            let text = format!("{pre}{value}{post}");
            let (start, end) = (pre.len(), pre.len() + value.len());
            let findings = redactor.find(&text);
            // Every non-space byte of the value is inside a finding of the right kind, and no
            // finding eats into the surrounding context.
            let covered = (start..end).all(|i| {
                text.as_bytes()[i] == b' '
                    || findings
                        .iter()
                        .any(|f| f.start <= i && i < f.end && f.kind == kind)
            });
            let contained = findings.iter().all(|f| f.start >= start && f.end <= end);
            let entry = per_kind.entry(label).or_default();
            entry.0 += 1;
            total += 1;
            if covered && contained {
                hit += 1;
                entry.1 += 1;
            } else {
                missed.push(text.clone());
            }
            // And the redacted text no longer contains the value.
            assert!(!redactor.redact_text(&text).contains(value), "{text}");
        }
    }
    for (label, (n, h)) in &per_kind {
        println!(
            "german {label:6} {h}/{n} ({:.1} %)",
            100.0 * *h as f64 / *n as f64
        );
    }
    println!("german total {hit}/{total}, missed {missed:?}");
    assert_eq!(hit, total, "missed: {missed:#?}");
}

/// A small deterministic generator, so the negative corpus is large but reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generated_negatives() -> Vec<String> {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = Lcg(0x5eed);
    let mut out = Vec::new();
    let id = |rng: &mut Lcg, n: usize| -> String {
        (0..n)
            .map(|_| char::from(ALNUM[rng.below(62) as usize]))
            .collect()
    };
    for _ in 0..400 {
        let ts = 1_600_000_000_000 + rng.below(300_000_000_000);
        out.push(format!(
            "{{\"start_timestamp\":{ts},\"end_timestamp\":{}}}",
            ts + rng.below(900_000)
        ));
        out.push(format!("event at {} (epoch s)", ts / 1000));
    }
    for _ in 0..300 {
        out.push(format!(
            "call_id={} agent_id={}",
            id(&mut rng, 32),
            id(&mut rng, 32)
        ));
        out.push(format!(
            "bookingId {} uid {} iCalUID {}@Cal.com eventTypeId {}",
            100_000 + rng.below(9_900_000),
            id(&mut rng, 22),
            id(&mut rng, 22),
            1_000_000 + rng.below(9_000_000)
        ));
    }
    for day in 0..365u64 {
        let (m, d) = (1 + day / 31 % 12, 1 + day % 28);
        let (h, min) = (8 + day % 11, [0, 15, 30, 45][(day % 4) as usize]);
        out.push(format!(
            "Termin 2026-{m:02}-{d:02} {h:02}:{min:02} bis {:02}:{min:02}",
            h + 1
        ));
        out.push(format!(
            "Termin am {d:02}.{m:02}.2026 um {h}:{min:02} Uhr, {d}.{m}.26"
        ));
        out.push(format!("start 2026-{m:02}-{d:02}T{h:02}:{min:02}:00.000Z end 2026-{m:02}-{d:02}T{h:02}:{min:02}:00+01:00"));
        out.push(format!(
            "Zeitraum {d:02}/{m:02}/2026 - {:02}/{m:02}/2026",
            d + 1
        ));
    }
    for _ in 0..300 {
        let (euros, cents) = (rng.below(1_000_000), rng.below(100));
        let thousands = if euros >= 1000 {
            format!("{}.{:03}", euros / 1000, euros % 1000)
        } else {
            euros.to_string()
        };
        out.push(format!(
            "Preis {thousands},{cents:02} € (netto {euros}.{cents:02} EUR)"
        ));
        out.push(format!(
            "Dauer {} min, Timeout {}ms, Wartezeit {} s",
            15 + rng.below(466),
            rng.below(10_000),
            rng.below(600)
        ));
    }
    for _ in 0..300 {
        let plz = 1_000 + rng.below(99_000);
        out.push(format!(
            "Praxis im PLZ-Gebiet {plz:05}, Filiale {:05} und {:05}",
            1_000 + rng.below(99_000),
            1_000 + rng.below(99_000)
        ));
    }
    out
}

#[test]
fn negative_corpus_false_positive_rate() {
    let redactor = Redactor::default();
    let mut lines: Vec<String> = NEGATIVES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    lines.extend(generated_negatives());
    let flagged: Vec<String> = lines
        .iter()
        .filter_map(|line| {
            let findings = redactor.find(line);
            (!findings.is_empty()).then(|| {
                let parts: Vec<String> = findings
                    .iter()
                    .map(|f| format!("{:?} `{}`", f.kind, &line[f.start..f.end]))
                    .collect();
                format!("{line} -> {parts:?}")
            })
        })
        .collect();
    let rate = flagged.len() as f64 / lines.len() as f64;
    println!(
        "negative corpus: {} lines, {} with a finding ({:.2} %): {flagged:#?}",
        lines.len(),
        flagged.len(),
        100.0 * rate
    );
    assert!(lines.len() > 3000);
    assert!(rate <= 0.01, "false-positive rate {rate:.4}");
}

#[test]
fn umlaut_names_in_fields_are_redacted() {
    let redactor = Redactor::default();
    let rules = FieldRules::retell_calcom_defaults();
    let names: Vec<&str> = NAMES.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(names.len() >= 10);
    for name in names {
        let body = serde_json::json!({
            "name": "book_appointment",
            "args": {"name": name, "date": "2026-01-06", "time": "09:00"},
            "attendee": {"name": name, "timeZone": "Europe/Berlin"},
            "payload": {"attendees": [{"name": name, "firstName": name, "lastName": name}]},
        });
        let bytes = serde_json::to_vec(&body).unwrap();
        let (out, counts) = redactor.redact_json_bytes(&bytes, &rules).unwrap();
        let out = String::from_utf8(out).unwrap();
        for part in name.split_whitespace() {
            assert!(!out.contains(part), "{name}: {out}");
        }
        assert_eq!(counts.get(Kind::Name), 5, "{out}");
        assert!(out.contains("\"date\":\"2026-01-06\""), "{out}");
    }
}
