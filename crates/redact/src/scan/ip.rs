//! IP addresses. IPv4 is recognised inside digit clusters (see `numeric`); IPv6 is found from
//! each `:` and confirmed by the standard library parser. Loopback and unspecified addresses
//! (`127.0.0.1`, `0.0.0.0`, `::1`, `::`) identify no one and stay readable in logs.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Finding, boundary_after, boundary_before};
use crate::kind::Kind;

/// Longest textual IPv6 address (with an embedded IPv4 tail).
const MAX_V6: usize = 45;

/// Whether four octets form an address worth hiding.
pub(super) fn v4_is_personal(octets: [u8; 4]) -> bool {
    let ip = Ipv4Addr::from(octets);
    !(ip.is_loopback() || ip.is_unspecified())
}

fn is_v6_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

pub(super) fn scan_v6(text: &[u8], out: &mut Vec<Finding>) {
    let mut resume = 0;
    for colon in memchr::memchr_iter(b':', text) {
        if colon < resume {
            continue;
        }
        let mut start = colon;
        while start > 0 && colon - start < MAX_V6 && is_v6_byte(text[start - 1]) {
            start -= 1;
        }
        let mut end = colon + 1;
        while end < text.len() && end - start < MAX_V6 && is_v6_byte(text[end]) {
            end += 1;
        }
        resume = end;
        // Cheap rejections first: JSON `"a":"b"` and clock times never get to the parser.
        if end - start < 3 || memchr::memchr_iter(b':', &text[start..end]).count() < 2 {
            continue;
        }
        // A trailing dot ends a sentence, not the address.
        let trimmed_end = if text[end - 1] == b'.' { end - 1 } else { end };
        if !boundary_before(text, start) || !boundary_after(text, trimmed_end) {
            continue;
        }
        let Ok(s) = std::str::from_utf8(&text[start..trimmed_end]) else {
            continue;
        };
        if let Ok(ip) = s.parse::<Ipv6Addr>()
            && !ip.is_loopback()
            && !ip.is_unspecified()
        {
            out.push(Finding {
                start,
                end: trimmed_end,
                kind: Kind::Ip,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        scan_v6(s.as_bytes(), &mut out);
        out.iter().map(|f| &s[f.start..f.end]).collect()
    }

    #[test]
    fn finds_v6() {
        assert_eq!(
            found("from 2001:db8::8a2e:370:7334."),
            ["2001:db8::8a2e:370:7334"]
        );
        assert_eq!(
            found("[6e40:4041:c617:e898:c11:40d2:c669:2eb4]:443"),
            ["6e40:4041:c617:e898:c11:40d2:c669:2eb4"]
        );
        assert_eq!(found("::ffff:192.0.2.1"), ["::ffff:192.0.2.1"]);
    }

    #[test]
    fn ignores_times_json_and_loopback() {
        assert!(
            found(r#"{"a":"b","t":"17:00:00","x":12} ::1 :: std::vec de:ad:be:ef:00:01"#)
                .is_empty()
        );
        assert!(v4_is_personal([192, 0, 2, 1]));
        assert!(!v4_is_personal([127, 0, 0, 1]) && !v4_is_personal([0, 0, 0, 0]));
    }
}
