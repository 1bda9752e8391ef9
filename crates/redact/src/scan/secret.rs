//! Secrets: `Bearer` tokens, `Authorization` values, Retell (`key_…`) and Cal.com
//! (`cal_live_…`, `cal_test_…`, `cal_…`) API keys, and JWTs. One aho-corasick automaton finds
//! the keywords; each hit is then checked by hand.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{Finding, boundary_after, boundary_before, is_escape_letter};
use crate::kind::Kind;

/// Keywords and what each one triggers. Spelled out per case instead of an ASCII
/// case-insensitive automaton: few case-sensitive literals keep aho-corasick on its SIMD
/// prefilter, which is what makes clean text nearly free.
#[derive(Debug, Clone, Copy)]
enum Trigger {
    Bearer,
    Authorization,
    RetellKey,
    CalKey,
    Jwt,
}

const KEYWORDS: [(&str, Trigger); 9] = [
    ("Bearer", Trigger::Bearer),
    ("bearer", Trigger::Bearer),
    ("BEARER", Trigger::Bearer),
    ("Authorization", Trigger::Authorization),
    ("authorization", Trigger::Authorization),
    ("AUTHORIZATION", Trigger::Authorization),
    ("key_", Trigger::RetellKey),
    ("cal_", Trigger::CalKey),
    ("eyJ", Trigger::Jwt),
];

/// Shortest API-key body after its prefix; real keys are far longer, short ones are identifiers
/// such as `key_id`.
const MIN_KEY_BODY: usize = 16;
/// Shortest bearer credential considered a secret (`Bearer of bad news` is prose).
const MIN_BEARER: usize = 8;
/// Shortest JWT header and payload segments (`{"alg":…}` encodes to far more).
const MIN_JWT_SEGMENT: usize = 10;

#[derive(Debug, Clone)]
pub(super) struct SecretScanner {
    keywords: AhoCorasick,
}

impl SecretScanner {
    /// `None` only if the automaton cannot be built, which the unit tests rule out.
    pub(super) fn new() -> Option<Self> {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(KEYWORDS.iter().map(|(k, _)| k))
            .ok()
            .map(|keywords| Self { keywords })
    }

    pub(super) fn scan(&self, text: &[u8], out: &mut Vec<Finding>) {
        let mut resume = 0;
        for m in self.keywords.find_iter(text) {
            if m.start() < resume || !boundary_before(text, m.start()) {
                continue;
            }
            let Some((_, trigger)) = KEYWORDS.get(m.pattern().as_usize()) else {
                continue;
            };
            let span = match trigger {
                Trigger::Bearer => bearer(text, m.end()),
                Trigger::Authorization => authorization(text, m.end()),
                Trigger::RetellKey => api_key(text, m.start(), m.end()),
                Trigger::CalKey => cal_key(text, m.start(), m.end()),
                Trigger::Jwt => jwt(text, m.start()),
            };
            if let Some((start, end)) = span {
                out.push(Finding {
                    start,
                    end,
                    kind: Kind::Token,
                });
                resume = end;
            }
        }
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

fn skip(text: &[u8], mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
    while i < text.len() && pred(text[i]) {
        i += 1;
    }
    i
}

/// `Bearer <token>`: the credential only, so the scheme stays readable.
fn bearer(text: &[u8], after: usize) -> Option<(usize, usize)> {
    let start = skip(text, after, |b| b == b' ');
    if start == after {
        return None;
    }
    let end = token_end(text, start);
    let cred = &text[start..end];
    let looks_secret = cred.len() >= 20
        || cred
            .iter()
            .any(|b| b.is_ascii_digit() || !b.is_ascii_alphabetic());
    (cred.len() >= MIN_BEARER && looks_secret).then_some((start, end))
}

/// End of a credential starting at `start`. A backslash is not a token byte, so a JSON escape
/// such as `\n` right after the credential is never swallowed.
fn token_end(text: &[u8], start: usize) -> usize {
    skip(text, start, is_token_byte)
}

/// `Authorization: <value>`, `authorization=<value>`, `"authorization":"<value>"`: the whole
/// value, whatever the scheme (Bearer, Basic, a raw key).
fn authorization(text: &[u8], after: usize) -> Option<(usize, usize)> {
    let mut i = skip(text, after, |b| matches!(b, b'"' | b'\'' | b' '));
    if !matches!(text.get(i), Some(b':' | b'=')) {
        return None;
    }
    i = skip(text, i + 1, |b| b == b' ');
    let quote = match text.get(i) {
        Some(&q @ (b'"' | b'\'')) => {
            i += 1;
            Some(q)
        }
        _ => None,
    };
    let start = i;
    // Already redacted (`[TOKEN_REDACTED]`, `[TOKEN:3f2a9c]`): leave it, so redaction is
    // idempotent.
    if text.get(start) == Some(&b'[') {
        return None;
    }
    let end = match quote {
        Some(q) => {
            let mut j = start;
            while j < text.len() && text[j] != q && text[j] != b'\n' && text[j] != b'\\' {
                j += 1;
            }
            j
        }
        None => {
            // An optional scheme word, one space, then the credential.
            let scheme_end = skip(text, start, |b| b.is_ascii_alphabetic());
            let cred_start = if scheme_end > start && text.get(scheme_end) == Some(&b' ') {
                skip(text, scheme_end, |b| b == b' ')
            } else {
                start
            };
            let end = skip(text, cred_start, is_token_byte);
            if end == cred_start { scheme_end } else { end }
        }
    };
    (end > start).then_some((start, end))
}

/// `key_<alnum>{16,}` (Retell API keys).
fn api_key(text: &[u8], start: usize, body: usize) -> Option<(usize, usize)> {
    let end = skip(text, body, |b| b.is_ascii_alphanumeric());
    (end - body >= MIN_KEY_BODY && boundary_after(text, end)).then_some((start, end))
}

/// `cal_live_…`, `cal_test_…`, or `cal_…` followed by a long alphanumeric body.
fn cal_key(text: &[u8], start: usize, after: usize) -> Option<(usize, usize)> {
    let rest = &text[after..];
    let body = if rest.starts_with(b"live_") || rest.starts_with(b"test_") {
        after + 5
    } else {
        after
    };
    api_key(text, start, body)
}

/// `eyJ<header>.<payload>.<signature>` in base64url.
fn jwt(text: &[u8], start: usize) -> Option<(usize, usize)> {
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let header_end = skip(text, start, is_b64);
    if header_end - start < MIN_JWT_SEGMENT || text.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload_end = skip(text, header_end + 1, is_b64);
    if payload_end - header_end - 1 < MIN_JWT_SEGMENT || text.get(payload_end) != Some(&b'.') {
        return None;
    }
    let mut end = skip(text, payload_end + 1, is_b64);
    // A trailing escape letter (`…sig\n`) is not part of the signature.
    if end > payload_end + 1 && is_escape_letter(text, end - 1, text[end - 1]) {
        end -= 1;
    }
    boundary_after(text, end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        SecretScanner::new().unwrap().scan(s.as_bytes(), &mut out);
        out.iter().map(|f| &s[f.start..f.end]).collect()
    }

    const JWT_SAMPLE: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

    #[test]
    fn finds_secrets() {
        assert_eq!(
            found("Authorization: Bearer abc.def-123456"),
            ["Bearer abc.def-123456"]
        );
        assert_eq!(found("bearer sk_abcdefgh12"), ["sk_abcdefgh12"]);
        assert_eq!(
            found(r#"{"authorization":"Basic dXNlcjpwYXNz"}"#),
            ["Basic dXNlcjpwYXNz"]
        );
        assert_eq!(found("authorization=k3y"), ["k3y"]);
        assert_eq!(
            found("x-api-key: key_9f3b2c1d4e5f60718293a4b5"),
            ["key_9f3b2c1d4e5f60718293a4b5"]
        );
        assert_eq!(
            found("?apiKey=cal_live_0123456789abcdef0123 and cal_test_0123456789abcdefAB"),
            [
                "cal_live_0123456789abcdef0123",
                "cal_test_0123456789abcdefAB"
            ]
        );
        assert_eq!(found(&format!("token {JWT_SAMPLE}\\n")), [JWT_SAMPLE]);
    }

    #[test]
    fn ignores_lookalikes() {
        assert!(
            found("the bearer of bad news; key_id; cal_event_type; KEY_abcdefghijklmnopq")
                .is_empty()
        );
        assert!(found("Authorization: [TOKEN_REDACTED]").is_empty());
        assert!(found("monkey_0123456789abcdef0123 eyJ.short").is_empty());
    }
}
