//! Text detectors over raw bytes. Each detector is triggered by a cheap prefilter (memchr for
//! `@`, aho-corasick for secret keywords, a byte loop for digit clusters and `:`), so text
//! without candidates costs one pass per trigger and nothing else. Findings always start and end
//! on ASCII bytes, so cutting UTF-8 text at them is safe.

mod card;
mod cluster;
mod email;
mod german_ids;
mod iban;
mod identifier;
mod ip;
mod numbering;
mod numeric;
mod phone;
mod secret;
mod speech;

use crate::config::DetectorToggles;
use crate::kind::Kind;

/// One detected span, `start..end` in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// First byte of the finding.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// What was found.
    pub kind: Kind,
}

/// The compiled set of enabled detectors.
#[derive(Debug, Clone)]
pub(crate) struct Scanner {
    toggles: DetectorToggles,
    secrets: Option<secret::SecretScanner>,
    names: Option<&'static speech::Names>,
    dates: Option<&'static speech::BirthDates>,
}

/// Compiled once per process: every redactor (one per policy profile, the log redactor) shares
/// them, and the date patterns take a moment to compile.
static NAMES: std::sync::LazyLock<Option<speech::Names>> =
    std::sync::LazyLock::new(speech::Names::new);
static BIRTH_DATES: std::sync::LazyLock<Option<speech::BirthDates>> =
    std::sync::LazyLock::new(speech::BirthDates::new);

impl Scanner {
    pub(crate) fn new(toggles: DetectorToggles) -> Self {
        if toggles.phone {
            // Compiles the numbering plans now, not while the first phone number waits.
            numbering::warm_up();
        }
        let secrets = if toggles.token {
            secret::SecretScanner::new()
        } else {
            None
        };
        let names = toggles.name.then(|| NAMES.as_ref()).flatten();
        let dates = toggles.birth_date.then(|| BIRTH_DATES.as_ref()).flatten();
        Self {
            toggles,
            secrets,
            names,
            dates,
        }
    }

    /// All findings in `text`, sorted by start and never overlapping.
    pub(crate) fn scan(&self, text: &[u8]) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.toggles.email {
            email::scan(text, &mut out);
        }
        if let Some(secrets) = &self.secrets {
            secrets.scan(text, &mut out);
        }
        let t = &self.toggles;
        if t.phone || t.card || t.iban || t.ip || t.kvnr || t.tax_id || t.rvnr {
            numeric::scan(text, &self.toggles, &mut out);
        }
        if self.toggles.ip {
            ip::scan_v6(text, &mut out);
        }
        if self.names.is_some() || self.dates.is_some() {
            speech::scan(text, self.names, self.dates, &mut out);
        }
        resolve_overlaps(&mut out);
        out
    }
}

/// Keeps, among overlapping findings, the one starting first (longest on ties); detectors run
/// independently, so e.g. digits inside a JWT may also look like a phone number.
fn resolve_overlaps(findings: &mut Vec<Finding>) {
    if findings.len() < 2 {
        return;
    }
    findings.sort_unstable_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept_end = 0;
    findings.retain(|f| {
        if f.start < kept_end {
            return false;
        }
        kept_end = f.end;
        true
    });
}

/// Bytes that continue a word: a finding may not start right after or end right before one.
/// Non-ASCII bytes count as word bytes (`Straße12345` is not a number).
#[inline]
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Whether a finding may start at `i`: the previous byte is no word byte, or it is the letter of
/// a backslash escape such as `\n` (log lines often carry JSON-escaped text).
#[inline]
pub(crate) fn boundary_before(text: &[u8], i: usize) -> bool {
    match i.checked_sub(1).map(|p| text[p]) {
        None => true,
        Some(prev) if !is_word_byte(prev) => true,
        Some(prev) => is_escape_letter(text, i - 1, prev),
    }
}

/// Whether the byte at `p` (= `b`) is the letter of a JSON/C escape (`\n`, `\t`, `\r`, `\b`,
/// `\f`) — then it must not become part of a finding, or the escape would be torn apart.
#[inline]
pub(crate) fn is_escape_letter(text: &[u8], p: usize, b: u8) -> bool {
    matches!(b, b'n' | b't' | b'r' | b'b' | b'f')
        && p.checked_sub(1).is_some_and(|q| text[q] == b'\\')
        && !(p >= 2 && text[p - 2] == b'\\')
}

/// Whether a finding may end at `end` (exclusive).
#[inline]
pub(crate) fn boundary_after(text: &[u8], end: usize) -> bool {
    text.get(end).is_none_or(|&b| !is_word_byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_keep_the_earliest_longest() {
        let f = |start, end, kind| Finding { start, end, kind };
        let mut v = vec![
            f(5, 9, Kind::Phone),
            f(0, 10, Kind::Token),
            f(10, 12, Kind::Ip),
            f(11, 20, Kind::Email),
        ];
        resolve_overlaps(&mut v);
        assert_eq!(v, vec![f(0, 10, Kind::Token), f(10, 12, Kind::Ip)]);
    }

    #[test]
    fn escapes_are_boundaries_but_letters_are_not() {
        assert!(boundary_before(b"\\n0301234567", 2));
        assert!(!boundary_before(b"x0301234567", 1));
        assert!(!boundary_before(b"\\\\n0301234567", 3));
        assert!(boundary_before(b" 0301234567", 1));
        assert!(!boundary_before("ß0301".as_bytes(), 2));
    }
}
