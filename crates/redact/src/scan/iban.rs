//! IBANs: a known country code, the registry length for that country, and the ISO 7064
//! mod-97-10 check. Printed groups of four (`DE89 3704 0044 …`) and plain forms are both found.

use super::{boundary_after, boundary_before};

/// IBAN lengths per country (SWIFT IBAN registry).
const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// Longest IBAN in the registry.
const MAX_LEN: usize = 34;

/// Whether an IBAN may start at `start` (two letters followed by a digit).
pub(super) fn looks_like_start(text: &[u8], start: usize) -> bool {
    text.len() >= start + 4
        && text[start].is_ascii_alphabetic()
        && text[start + 1].is_ascii_alphabetic()
        && text[start + 2].is_ascii_digit()
        && text[start + 3].is_ascii_digit()
        && boundary_before(text, start)
}

/// End of the IBAN starting at `start`, if one does.
pub(super) fn at(text: &[u8], start: usize) -> Option<usize> {
    let country = [
        text[start].to_ascii_uppercase(),
        text.get(start + 1)?.to_ascii_uppercase(),
    ];
    let len = LENGTHS.iter().find(|(c, _)| **c == country)?.1;
    let mut chars = [0u8; MAX_LEN];
    let mut n = 0;
    let mut i = start;
    while n < len {
        let b = *text.get(i)?;
        if b.is_ascii_alphanumeric() {
            chars[n] = b.to_ascii_uppercase();
            n += 1;
            i += 1;
        } else if b == b' ' && n % 4 == 0 && text.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
        {
            // Printed form: one space between groups of four.
            i += 1;
        } else {
            return None;
        }
    }
    (boundary_after(text, i) && mod97(&chars[..len]) == 1).then_some(i)
}

/// ISO 7064 mod-97-10 over the rearranged IBAN (first four characters moved to the end).
fn mod97(iban: &[u8]) -> u32 {
    let (head, tail) = iban.split_at(4);
    tail.iter().chain(head).fold(0u32, |r, &c| match c {
        b'0'..=b'9' => (r * 10 + u32::from(c - b'0')) % 97,
        _ => (r * 100 + u32::from(c - b'A') + 10) % 97,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iban(s: &str) -> Option<&str> {
        at(s.as_bytes(), 0).map(|end| &s[..end])
    }

    #[test]
    fn accepts_valid_ibans_grouped_or_not() {
        for ok in [
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "AT611904300234573201",
            "AT61 1904 3002 3457 3201",
            "CH9300762011623852957",
            "CH93 0076 2011 6238 5295 7",
            "GB82WEST12345698765432",
            "gb82west12345698765432",
        ] {
            assert_eq!(iban(ok), Some(ok), "{ok}");
        }
        assert_eq!(
            iban("DE89370400440532013000, danke"),
            Some("DE89370400440532013000")
        );
    }

    #[test]
    fn rejects_bad_checksums_lengths_and_countries() {
        for bad in [
            "DE89370400440532013001",
            "DE8937040044053201300",
            "DE893704004405320130000",
            "XX89370400440532013000",
            "DE89  3704 0044 0532 0130 00",
        ] {
            assert_eq!(iban(bad), None, "{bad}");
        }
    }
}
