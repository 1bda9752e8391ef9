//! The German transcript corpus (`tests/corpora/de-transcripts`): what callers and agents say
//! in appointment calls. Recall per kind on the marked values of the positives, and the share of
//! hard negatives (capitalised nouns, surnames that are words, look-alike numbers, ids,
//! timestamps) that come out byte for byte unchanged.

use std::collections::BTreeMap;

use frontdesk_redact::{Finding, Kind, Redactor};

const POSITIVES: &str = include_str!("corpora/de-transcripts/positives.txt");
const NEGATIVES: &str = include_str!("corpora/de-transcripts/negatives.txt");

/// One marked value: `⟦kind|value⟧` in the corpus.
struct Span {
    label: String,
    start: usize,
    end: usize,
}

/// The line without its markers, and the marked spans in it.
fn parse(line: &str) -> (String, Vec<Span>) {
    let mut text = String::new();
    let mut spans = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('⟦') {
        text.push_str(&rest[..open]);
        let inner = &rest[open + '⟦'.len_utf8()..];
        let close = inner.find('⟧').expect("closed marker");
        let (label, value) = inner[..close].split_once('|').expect("kind|value");
        let start = text.len();
        text.push_str(value);
        spans.push(Span {
            label: label.to_owned(),
            start,
            end: text.len(),
        });
        rest = &inner[close + '⟧'.len_utf8()..];
    }
    text.push_str(rest);
    (text, spans)
}

fn kind_of(label: &str) -> Kind {
    match label {
        "name_cued" | "name_uncued" => Kind::Name,
        "kvnr" => Kind::Kvnr,
        "tax_id" => Kind::TaxId,
        "rvnr" => Kind::Rvnr,
        "birth_date" => Kind::BirthDate,
        other => panic!("unknown label {other}"),
    }
}

fn covered(text: &str, span: &Span, findings: &[Finding], kind: Kind) -> bool {
    (span.start..span.end).all(|i| {
        text.as_bytes()[i].is_ascii_whitespace()
            || findings
                .iter()
                .any(|f| f.kind == kind && f.start <= i && i < f.end)
    })
}

#[test]
fn transcript_recall_per_kind() {
    let redactor = Redactor::default();
    let mut tally: BTreeMap<String, (usize, usize, Vec<String>)> = BTreeMap::new();
    let (mut lines, mut exact, mut extra) = (0usize, 0usize, Vec::new());
    for line in POSITIVES.lines().filter(|l| !l.trim().is_empty()) {
        let (text, spans) = parse(line);
        let findings = redactor.find(&text);
        for span in &spans {
            let t = tally.entry(span.label.clone()).or_default();
            t.0 += 1;
            if covered(&text, span, &findings, kind_of(&span.label)) {
                t.1 += 1;
            } else {
                t.2.push(text[span.start..span.end].to_owned());
            }
        }
        // The rest of the utterance stays: no finding outside the marked values.
        lines += 1;
        let outside: Vec<&str> = findings
            .iter()
            .filter(|f| !spans.iter().any(|s| f.start < s.end && s.start < f.end))
            .map(|f| &text[f.start..f.end])
            .collect();
        if outside.is_empty() {
            exact += 1;
        } else {
            extra.push(format!("{outside:?} in {text}"));
        }
        // What is redacted is really gone.
        let out = redactor.redact_text(&text);
        for span in &spans {
            let value = &text[span.start..span.end];
            if covered(&text, span, &findings, kind_of(&span.label)) {
                assert!(!out.contains(value), "{value} still in {out}");
            }
        }
    }
    for (label, (total, hit, missed)) in &tally {
        println!(
            "{label:12} {hit:3}/{total:3} = {:5.1} %  missed {missed:?}",
            100.0 * *hit as f64 / *total as f64
        );
    }
    println!(
        "lines without a finding outside the marked values: {exact}/{lines}; others: {extra:#?}"
    );
    let recall = |label: &str| {
        let (total, hit, _) = &tally[label];
        *hit as f64 / *total as f64
    };
    for label in ["name_cued", "kvnr", "tax_id", "rvnr", "birth_date"] {
        assert!(tally[label].0 >= 60, "{label}: too few samples");
        assert!(
            recall(label) >= 0.97,
            "{label}: recall {:.3}",
            recall(label)
        );
    }
    assert!(
        recall("name_uncued") >= 0.85,
        "uncued names: {:.3}",
        recall("name_uncued")
    );
    assert!(
        exact as f64 / lines as f64 >= 0.97,
        "{} lines with findings outside the marked values",
        lines - exact
    );
}

#[test]
fn hard_negatives_stay_byte_for_byte() {
    let redactor = Redactor::default();
    let lines: Vec<&str> = NEGATIVES.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 300);
    let changed: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            let out = redactor.redact_text(l);
            (out != *l).then(|| format!("{l}\n  -> {out}"))
        })
        .collect();
    let kept = 1.0 - changed.len() as f64 / lines.len() as f64;
    println!(
        "hard negatives unchanged: {}/{} = {:.2} %; changed: {changed:#?}",
        lines.len() - changed.len(),
        lines.len(),
        100.0 * kept
    );
    assert!(kept >= 0.99, "{} hard negatives changed", changed.len());
}
