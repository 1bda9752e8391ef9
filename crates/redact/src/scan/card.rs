//! Payment card numbers: 12-19 digits (12 only for Maestro ranges), an issuer prefix that exists,
//! and the Luhn check.

/// Whether `digits` (ASCII digits only) is a plausible card number.
pub(super) fn is_card(digits: &[u8]) -> bool {
    let n = digits.len();
    if !(12..=19).contains(&n) || !known_issuer(digits) {
        return false;
    }
    // Maestro is the only scheme issuing 12-digit numbers.
    if n == 12 && !matches!(two(digits), 50 | 56..=69) {
        return false;
    }
    // `4444 4444 4444 4448`-style fillers pass Luhn but are not worth hiding; all-equal runs
    // are test patterns.
    if digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    luhn(digits)
}

fn two(digits: &[u8]) -> u8 {
    (digits[0] - b'0') * 10 + (digits[1] - b'0')
}

/// Issuer ranges: 2 (Mastercard 2-series, JCB 2131), 3 (Amex, Diners, JCB), 4 (Visa),
/// 5 (Mastercard, Maestro), 6 (Discover, Maestro, UnionPay), and JCB's 1800. Everything else —
/// notably 13-digit epoch-millisecond timestamps starting with 1 — is not a card.
fn known_issuer(digits: &[u8]) -> bool {
    matches!(digits[0], b'2'..=b'6') || digits.starts_with(b"1800")
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards() {
        for ok in [
            "4111111111111111",
            "5500005555555559",
            "340000000000009",
            "180016070420458",
            "501864667909",
            "6011000990139424",
            "4222222222222",
        ] {
            assert!(is_card(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "4111111111111112",
            "1767355180000",
            "1767355180009",
            "123456789012",
            "0000000000000",
            "41111111111",
        ] {
            assert!(!is_card(bad.as_bytes()), "{bad}");
        }
    }
}
