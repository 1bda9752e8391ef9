//! Digit clusters: runs of digit groups joined by phone-style separators (`+49 (0)30 123-45`,
//! `4111 1111 1111 1111`, `192.0.2.1`). One pass finds them; each cluster is then split into
//! the longest candidates that a detector confirms (IPv4, card, phone), after carving out the
//! look-alikes that must stay readable (ISO and German dates, year lists). IBANs are detected
//! here too, because their trigger is the same: the first digit of a word.

use super::cluster::{Cluster, MAX_GROUPS, digit_run_end, is_gap_byte, parse_cluster};
use super::{
    Finding, boundary_before, card, german_ids, iban, identifier, ip, is_word_byte, phone,
};
use crate::config::DetectorToggles;
use crate::kind::Kind;

/// The most digits any numeric detector accepts (cards: 19).
const MAX_DIGITS: usize = 19;

pub(super) fn scan(text: &[u8], toggles: &DetectorToggles, out: &mut Vec<Finding>) {
    let mut i = 0;
    let n = text.len();
    while i < n {
        match next_digit(text, i) {
            Some(at) => i = at,
            None => return,
        }
        // First, as `B-863-031-597` would otherwise pass for a dashed hex id.
        if let Some(finding) = german_id_at(text, i, toggles) {
            i = finding.end;
            out.push(finding);
            continue;
        }
        // `…-885a-2210-9039-91ff…`: digits of a UUID or other dashed hex id are never a number.
        if let Some(end) = identifier::dashed_hex_end(text, i) {
            i = end;
            continue;
        }
        if !boundary_before(text, i) {
            // `K943247614`: a KVNR's letter is glued to its digits.
            if toggles.kvnr
                && let Some(end) = german_ids::kvnr_at(text, i - 1)
            {
                out.push(Finding {
                    start: i - 1,
                    end,
                    kind: Kind::Kvnr,
                });
                i = end;
                continue;
            }
            if toggles.iban
                && i >= 2
                && iban::looks_like_start(text, i - 2)
                && let Some(end) = iban::at(text, i - 2)
            {
                out.push(Finding {
                    start: i - 2,
                    end,
                    kind: Kind::Iban,
                });
                i = end;
                continue;
            }
            // Digits inside a word (ids like `Jabr9TXY…`): skip the whole word.
            while i < n && is_word_byte(text[i]) {
                i += 1;
            }
            continue;
        }
        // Every log line opens with a timestamp, and Cal.com payloads are full of them: skipped
        // whole instead of split into a date cluster and a seconds cluster, both kept anyway.
        if let Some(end) = iso_timestamp_end(text, i) {
            i = end;
            continue;
        }
        // Most digit runs in logs are short (`200`, `3ms`, `17:00`): rule them out without
        // building a cluster.
        let (extent, digits, dots) = quick_extent(text, i);
        if digits < MIN_DIGITS || (digits < MIN_PHONE_DIGITS && dots < 3) {
            i = extent.max(i + 1);
            continue;
        }
        let cluster = parse_cluster(text, i);
        let end = cluster.end;
        classify(&cluster, toggles, out);
        i = end.max(i + 1);
    }
}

/// A KVNR spoken with a pause after its letter (`K 943 247 614`) or a
/// Rentenversicherungsnummer (`15 070649 C 103`) whose first digit is at `i`.
fn german_id_at(text: &[u8], i: usize, toggles: &DetectorToggles) -> Option<Finding> {
    if toggles.kvnr
        && i >= 2
        && matches!(text[i - 1], b' ' | b'-')
        && let Some(end) = german_ids::kvnr_at(text, i - 2)
    {
        return Some(Finding {
            start: i - 2,
            end,
            kind: Kind::Kvnr,
        });
    }
    if toggles.rvnr
        && let Some(end) = german_ids::rvnr_at(text, i)
    {
        return Some(Finding {
            start: i,
            end,
            kind: Kind::Rvnr,
        });
    }
    None
}

/// Position of the first ASCII digit at or after `from`. The hot loop over clean text: no
/// crate searches for a byte class, so it reads eight bytes at a time (SWAR): `b ^ b'0'` is
/// below 10 exactly for digits, and the classic "has byte less than" trick flags such bytes.
/// Borrows only run towards higher bytes, so the lowest flag is always exact.
#[inline]
fn next_digit(text: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = ONES * 0x80;
    let mut i = from;
    while let Some(block) = text.get(i..i + 8) {
        let word = u64::from_le_bytes(block.try_into().unwrap_or_default());
        let t = word ^ (ONES * u64::from(b'0'));
        let flags = t.wrapping_sub(ONES * 10) & !t & HIGH;
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    text[i..]
        .iter()
        .position(u8::is_ascii_digit)
        .map(|off| i + off)
}

/// End of an ISO 8601 `YYYY-MM-DDTHH:MM:SS` starting at `i`, with its fraction when that has
/// at most six digits: seven could be a phone number, so a longer fraction is left to the
/// detectors. `None` when a digit follows: glued digits are scanned as before.
fn iso_timestamp_end(text: &[u8], i: usize) -> Option<usize> {
    const SHAPE: &[u8] = b"0000-00-00T00:00:00";
    let head = text.get(i..i + SHAPE.len())?;
    let shaped = head.iter().zip(SHAPE).all(|(&b, &want)| match want {
        b'0' => b.is_ascii_digit(),
        _ => b == want,
    });
    if !shaped {
        return None;
    }
    let mut end = i + SHAPE.len();
    if text.get(end) == Some(&b'.') {
        let fraction_end = digit_run_end(text, end + 1);
        if (1..=6).contains(&(fraction_end - end - 1)) {
            end = fraction_end;
        }
    }
    (!text.get(end).is_some_and(u8::is_ascii_digit)).then_some(end)
}

/// Fewest digits any numeric detector accepts (IPv4 `1.2.3.4`).
const MIN_DIGITS: usize = 4;
/// Fewest digits of a phone number; below it only an IPv4 address (three dots) is possible.
const MIN_PHONE_DIGITS: usize = 7;

/// End, digit count and dot count of the digit/separator run starting at `i` — an upper bound
/// of what `parse_cluster` would read, computed without allocating.
fn quick_extent(text: &[u8], mut i: usize) -> (usize, usize, usize) {
    let (mut digits, mut dots) = (0, 0);
    while i < text.len() {
        match text[i] {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            b'x' if text.get(i + 1).is_some_and(u8::is_ascii_digit) => {}
            b if is_gap_byte(b) => {}
            _ => break,
        }
        i += 1;
    }
    (i, digits, dots)
}

/// How a candidate range of groups was judged.
enum Verdict {
    Found(Kind, usize),
    /// Looks like something that must stay (an IPv4 with IP redaction off, a date): skip it.
    Keep,
    No,
}

fn classify(cluster: &Cluster<'_>, toggles: &DetectorToggles, out: &mut Vec<Finding>) {
    let k = cluster.groups().len();
    let blocked = blocked_groups(cluster);
    let mut a = 0;
    while a < k {
        if blocked[a] {
            a += 1;
            continue;
        }
        let mut b_max = a;
        while b_max < k && !blocked[b_max] {
            b_max += 1;
        }
        let mut next = a + 1;
        for b in (a + 1..=b_max).rev() {
            if b == k && cluster.tainted_end && cluster.ext_end.is_none() {
                continue;
            }
            if cluster.digits(a..b) > MAX_DIGITS + 4 {
                continue;
            }
            match judge(cluster, a, b, toggles) {
                Verdict::Found(kind, end) => {
                    let start = span_start(cluster, a);
                    out.push(Finding { start, end, kind });
                    next = b;
                    break;
                }
                Verdict::Keep => {
                    next = b;
                    break;
                }
                Verdict::No => {}
            }
        }
        a = next;
    }
}

/// Where a candidate beginning with group `a` starts: including a leading `+`/`(`.
fn span_start(cluster: &Cluster<'_>, a: usize) -> usize {
    let g = cluster.groups()[a];
    if a == 0 {
        return cluster.lead.unwrap_or(g.start);
    }
    if cluster.text[g.start - 1] == b'(' {
        g.start - 1
    } else {
        g.start
    }
}

fn judge(cluster: &Cluster<'_>, a: usize, b: usize, toggles: &DetectorToggles) -> Verdict {
    let groups = cluster.groups();
    let last_end = groups[b - 1].end;
    // IPv4: exactly four groups of 1-3 digits joined by single dots.
    if b - a == 4
        && (a..b - 1).all(|g| cluster.gap(g) == b".")
        && let Some(octets) = ipv4_octets(cluster, a)
    {
        return if toggles.ip && ip::v4_is_personal(octets) {
            Verdict::Found(Kind::Ip, last_end)
        } else {
            Verdict::Keep
        };
    }
    let mut buf = [0u8; 32];
    let digits = cluster.collect(a..b, &mut buf);
    if toggles.card
        && cluster.lead.is_none_or(|_| a > 0)
        && (a..b - 1).all(|g| matches!(cluster.gap(g), b" " | b"-"))
        && card::is_card(digits)
    {
        return Verdict::Found(Kind::Card, last_end);
    }
    // Before phones: eleven digits with a valid check digit are far likelier a Steuer-ID.
    if toggles.tax_id
        && (cluster.lead.is_none() || a > 0)
        && (a..b - 1).all(|g| matches!(cluster.gap(g), b" " | b"/" | b"-"))
        && german_ids::is_tax_id(digits)
    {
        return Verdict::Found(Kind::TaxId, last_end);
    }
    if toggles.phone && phone::is_phone(cluster, a, b, digits) {
        let end = if b == groups.len() {
            cluster.ext_end.unwrap_or(last_end)
        } else {
            last_end
        };
        let end = close_paren(cluster.text, span_start(cluster, a), end);
        return Verdict::Found(Kind::Phone, end);
    }
    Verdict::No
}

/// Extends `end` over a `)` that closes a `(` inside the span.
fn close_paren(text: &[u8], start: usize, end: usize) -> usize {
    let span = &text[start..end];
    let open = span.iter().filter(|&&b| b == b'(').count();
    let close = span.iter().filter(|&&b| b == b')').count();
    if open > close && text.get(end) == Some(&b')') {
        end + 1
    } else {
        end
    }
}

fn ipv4_octets(cluster: &Cluster<'_>, a: usize) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    for (o, g) in octets.iter_mut().zip(&cluster.groups()[a..a + 4]) {
        let s = std::str::from_utf8(&cluster.text[g.start..g.end]).ok()?;
        if g.len() > 3 {
            return None;
        }
        *o = s.parse().ok()?;
    }
    Some(octets)
}

/// Groups that are part of a date (`2026-01-06`, `06.01.2026`, `06/01/2026`) or a list of
/// years: no candidate may use them.
fn blocked_groups(cluster: &Cluster<'_>) -> [bool; MAX_GROUPS] {
    let mut blocked = [false; MAX_GROUPS];
    let groups = cluster.groups();
    let k = groups.len();
    let len = |g: usize| groups[g].len();
    let value = |g: usize| {
        cluster.text[groups[g].start..groups[g].end]
            .iter()
            .fold(0u32, |v, &d| {
                v.saturating_mul(10).saturating_add(u32::from(d - b'0'))
            })
    };
    let is_day = |g: usize| (1..=2).contains(&len(g)) && (1..=31).contains(&value(g));
    let is_month = |g: usize| (1..=2).contains(&len(g)) && (1..=12).contains(&value(g));
    for g in 0..k {
        if g + 2 < k {
            let (g1, g2) = (cluster.gap(g), cluster.gap(g + 1));
            // `2026-01-06`, `2026.01.06`, `2026/01/06`.
            let ymd = len(g) == 4
                && len(g + 1) == 2
                && len(g + 2) == 2
                && is_month(g + 1)
                && is_day(g + 2)
                && g1 == g2
                && matches!(g1, b"-" | b"." | b"/");
            let dmy = is_day(g)
                && is_month(g + 1)
                && (len(g + 2) == 4 || len(g + 2) == 2)
                && g1 == g2
                && (g1 == b"." || g1 == b"/")
                // `03.12.92.16.85` is a French phone number, not a date followed by digits.
                && (g == 0 || cluster.gap(g - 1) != g1)
                && (g + 3 >= k || cluster.gap(g + 2) != g1);
            if ymd || dmy {
                blocked[g..g + 3].fill(true);
            }
        }
        // Year lists (`2024 2025`) and year-prefixed numbers (`2026-0042`, `2026-01`).
        let year_at = |h: usize| h < k && is_year(cluster, h);
        if is_year(cluster, g)
            && ((g > 0 && year_at(g - 1))
                || year_at(g + 1)
                || (g + 1 < k && cluster.gap(g) == b"-"))
        {
            blocked[g] = true;
        }
    }
    blocked
}

fn is_year(cluster: &Cluster<'_>, g: usize) -> bool {
    let grp = cluster.groups()[g];
    let t = &cluster.text[grp.start..grp.end];
    grp.len() == 4 && (t.starts_with(b"19") || t.starts_with(b"20"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<(Kind, &str)> {
        let mut out = Vec::new();
        scan(s.as_bytes(), &DetectorToggles::default(), &mut out);
        out.iter().map(|f| (f.kind, &s[f.start..f.end])).collect()
    }

    #[test]
    fn clusters_split_into_candidates() {
        assert_eq!(
            found("Tel 030 1234567 oder 0171 7654321."),
            [(Kind::Phone, "030 1234567"), (Kind::Phone, "0171 7654321")]
        );
        assert_eq!(found("IP 192.0.2.44:8080"), [(Kind::Ip, "192.0.2.44")]);
        assert_eq!(
            found("Karte 4111 1111 1111 1111"),
            [(Kind::Card, "4111 1111 1111 1111")]
        );
        assert_eq!(
            found("IBAN DE89 3704 0044 0532 0130 00"),
            [(Kind::Iban, "DE89 3704 0044 0532 0130 00")]
        );
        assert_eq!(found("(030) 12345678"), [(Kind::Phone, "(030) 12345678")]);
        assert_eq!(
            found("ruf +49 (0)171 1234567 an"),
            [(Kind::Phone, "+49 (0)171 1234567")]
        );
    }

    #[test]
    fn next_digit_finds_the_first_digit_in_any_position() {
        let text: Vec<u8> = (0..40).map(|k| b'a' + (k % 26) as u8).collect();
        assert_eq!(next_digit(&text, 0), None);
        for at in 0..text.len() {
            for other in [b'/', b':', b'@', 0x80, 0xB9, 0xFF] {
                let mut t = text.clone();
                t[at] = other;
                assert_eq!(next_digit(&t, 0), None);
            }
            for digit in b'0'..=b'9' {
                let mut t = text.clone();
                t[at] = digit;
                let second = (at + 3 < t.len()).then_some(at + 3);
                if let Some(p) = second {
                    t[p] = b'5';
                }
                assert_eq!(next_digit(&t, 0), Some(at));
                assert_eq!(next_digit(&t, at + 1), second);
            }
        }
    }

    #[test]
    fn timestamps_are_skipped_whole_but_numbers_next_to_them_are_not() {
        let t = |s: &str| iso_timestamp_end(s.as_bytes(), 0);
        assert_eq!(t("2026-11-26T09:12:33.123456Z"), Some(26));
        assert_eq!(t("2026-11-26T09:12:33Z"), Some(19));
        assert_eq!(
            t("2026-11-26T09:12:33.1234567Z"),
            Some(19),
            "long fraction left"
        );
        assert_eq!(t("2026-11-26T09:12:330301234567"), None, "glued digits");
        assert_eq!(t("2026-11-26 09:12:33"), None);
        assert_eq!(t("2026-11-26T09:12"), None);
        assert!(found(r#"{"timestamp":"2026-11-26T09:12:33.123456Z","status":200}"#).is_empty());
        for text in [
            "2026-11-26T09:12:33.123456Z +49 30 1234567",
            "2026-11-26T09:12:33.03012345678",
        ] {
            assert_eq!(found(text).len(), 1, "{text}: {:?}", found(text));
            assert_eq!(found(text)[0].0, Kind::Phone, "{text}");
        }
    }

    #[test]
    fn dates_ids_and_loopback_stay() {
        assert!(
            found("2026-01-06T17:00:00Z 06.01.2026 10:30 1767355180000 127.0.0.1 2024 2025 2026")
                .is_empty()
        );
        assert!(found("call Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6 took 220000 ms, 30min").is_empty());
    }
}
