//! E-mail addresses, found from each `@` (memchr) by walking out to the local part and domain.

use super::{Finding, is_escape_letter};
use crate::kind::Kind;

/// Longest local part RFC 5321 allows; bounds the backward walk.
const MAX_LOCAL: usize = 64;
/// Longest domain RFC 5321 allows; bounds the forward walk.
const MAX_DOMAIN: usize = 255;

pub(super) fn scan(text: &[u8], out: &mut Vec<Finding>) {
    let mut resume = 0;
    for at in memchr::memchr_iter(b'@', text) {
        if at < resume {
            continue;
        }
        if let Some((start, end)) = address_at(text, at) {
            out.push(Finding {
                start,
                end,
                kind: Kind::Email,
            });
            resume = end;
        }
    }
}

/// Non-ASCII bytes are allowed so internationalised addresses (`jürgen@müller.de`) are found.
fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b == b'-'
}

/// UTF-8 continuation bytes never start a character.
fn is_continuation(b: u8) -> bool {
    (0x80..0xC0).contains(&b)
}

/// The address around the `@` at `at`, if it is one.
fn address_at(text: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut start = at;
    while start > 0 && at - start < MAX_LOCAL && is_local_byte(text[start - 1]) {
        // `\njane@…` in an escaped log line: the `n` belongs to the escape, not the address.
        if is_escape_letter(text, start - 1, text[start - 1]) {
            break;
        }
        start -= 1;
    }
    // The length cap may stop inside a multi-byte character; dots may not lead the local part
    // (`…sentence.jane@x.de` keeps the full stop).
    while start < at && (text[start] == b'.' || is_continuation(text[start])) {
        start += 1;
    }
    if start == at || text[at - 1] == b'.' {
        return None;
    }
    let end = domain_end(text, at + 1)?;
    if is_calendar_uid(&text[start..at], &text[at + 1..end]) {
        return None;
    }
    Some((start, end))
}

/// End of a domain of at least two labels with an alphabetic TLD of two or more letters.
fn domain_end(text: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    let mut last_dot = None;
    let mut label_len = 0;
    while i < text.len() && i - from < MAX_DOMAIN {
        let b = text[i];
        if is_label_byte(b) {
            label_len += 1;
        } else if b == b'.' && label_len > 0 {
            // Only a dot followed by a label character continues the domain (`x@y.de.` ends).
            if !text.get(i + 1).is_some_and(|&n| is_label_byte(n)) {
                break;
            }
            last_dot = Some(i);
            label_len = 0;
        } else {
            break;
        }
        i += 1;
    }
    if i < text.len() && is_label_byte(text[i]) {
        // Longer than any real domain: not an address.
        return None;
    }
    let tld = &text[last_dot? + 1..i];
    (tld.len() >= 2 && tld.iter().all(|&b| b.is_ascii_alphabetic() || b >= 0x80)).then_some(i)
}

/// Cal.com iCal UIDs (`q4Xo2mZkq8Wb7n1Yv3c9Ta@Cal.com`) look like addresses but are booking ids,
/// which must stay readable.
fn is_calendar_uid(local: &[u8], domain: &[u8]) -> bool {
    domain.eq_ignore_ascii_case(b"cal.com")
        && local.len() >= 16
        && local.iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        scan(s.as_bytes(), &mut out);
        out.iter().map(|f| &s[f.start..f.end]).collect()
    }

    #[test]
    fn finds_addresses() {
        assert_eq!(
            found("mail jane.doe+x@example.co.uk."),
            ["jane.doe+x@example.co.uk"]
        );
        assert_eq!(
            found("<Jürgen.Müller@praxis-müller.de>"),
            ["Jürgen.Müller@praxis-müller.de"]
        );
        assert_eq!(
            found("\"a@b.de\",\"c_d@e-f.org\""),
            ["a@b.de", "c_d@e-f.org"]
        );
        assert_eq!(found("text\\njane@x.de"), ["jane@x.de"]);
    }

    #[test]
    fn ignores_non_addresses() {
        assert!(found("@handle and a@b and a@b.c and a@.de and @@").is_empty());
        assert!(found("q4Xo2mZkq8Wb7n1Yv3c9Ta@Cal.com").is_empty());
        assert_eq!(found("support@cal.com"), ["support@cal.com"]);
    }
}
