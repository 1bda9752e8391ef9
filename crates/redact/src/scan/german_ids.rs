//! German personal identifiers, each confirmed by its check digit so that order numbers,
//! prices and timestamps of the same shape stay: Krankenversichertennummer (KVNR),
//! Steuer-Identifikationsnummer and Rentenversicherungsnummer. Hand-written: no maintained
//! crate validates them, and each rule is a few lines of arithmetic.

use super::{boundary_after, boundary_before};

/// Separators a caller's groups arrive with (`K 943 247 614`, `65 170839 J 00 5`).
fn is_sep(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/')
}

/// Reads `want` digits starting at `i`, single separators allowed between digits (never
/// before the first). Returns the digits and the end.
fn digits_at(text: &[u8], mut i: usize, want: usize, buf: &mut [u8; 16]) -> Option<usize> {
    let mut n = 0;
    while n < want {
        match text.get(i)? {
            b if b.is_ascii_digit() => {
                buf[n] = b - b'0';
                n += 1;
                i += 1;
            }
            &b if n > 0 && is_sep(b) && text.get(i + 1).is_some_and(u8::is_ascii_digit) => i += 1,
            _ => return None,
        }
    }
    Some(i)
}

/// Cross sum of a product of two digits (at most 9 × 9).
fn cross_sum(v: u32) -> u32 {
    v / 10 + v % 10
}

/// A KVNR starting with its letter at `start` (`K943247614`, `K 943 247 614`): the end.
/// The check digit: the letter as two digits (A = 01 … Z = 26) and the next eight digits,
/// weighted 1-2-1-2…, cross sums added, modulo 10.
pub(super) fn kvnr_at(text: &[u8], start: usize) -> Option<usize> {
    let letter = *text.get(start)?;
    if !letter.is_ascii_uppercase() || !boundary_before(text, start) {
        return None;
    }
    let mut i = start + 1;
    if text.get(i).is_some_and(|&b| is_sep(b)) {
        i += 1;
    }
    let mut buf = [0u8; 16];
    let end = digits_at(text, i, 9, &mut buf)?;
    if !boundary_after(text, end)
        || text
            .get(end)
            .is_some_and(|&b| is_sep(b) && next_is_digit(text, end))
    {
        return None;
    }
    let pos = u32::from(letter - b'A' + 1);
    let mut all = [0u32; 10];
    all[0] = pos / 10;
    all[1] = pos % 10;
    for (slot, &d) in all[2..].iter_mut().zip(&buf[..8]) {
        *slot = u32::from(d);
    }
    let sum: u32 = all
        .iter()
        .enumerate()
        .map(|(k, &d)| cross_sum(d * if k % 2 == 0 { 1 } else { 2 }))
        .sum();
    (sum % 10 == u32::from(buf[8])).then_some(end)
}

fn next_is_digit(text: &[u8], i: usize) -> bool {
    text.get(i + 1).is_some_and(u8::is_ascii_digit)
}

/// Whether eleven digits are a Steuer-ID: no leading zero; among the first ten, exactly one
/// digit occurs twice or three times, every other at most once (the 2016 rule also forbids a
/// digit three times in a row); and the ISO 7064 MOD 11,10 check digit.
pub(super) fn is_tax_id(d: &[u8]) -> bool {
    if d.len() != 11 || d[0] == b'0' || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut seen = [0u8; 10];
    for &b in &d[..10] {
        seen[usize::from(b - b'0')] += 1;
    }
    let repeated: Vec<u8> = seen.iter().copied().filter(|&c| c > 1).collect();
    if repeated.len() != 1 || repeated[0] > 3 {
        return false;
    }
    if d[..10].windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return false;
    }
    let mut product = 10u32;
    for &b in &d[..10] {
        let mut sum = (u32::from(b - b'0') + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = match 11 - product {
        10 => 0,
        c => c,
    };
    check == u32::from(d[10] - b'0')
}

/// A Rentenversicherungsnummer starting at `start` (`15070649C103`, `15 070649 C 103`): area
/// (2 digits), birth date (DDMMYY), the birth name's initial, serial (2 digits), check digit.
/// The check digit: the letter as two digits, weights 2-1-2-5-7-1-2-1-2-1-2-1 over the twelve
/// digits, cross sums added, modulo 10.
pub(super) fn rvnr_at(text: &[u8], start: usize) -> Option<usize> {
    if !boundary_before(text, start) {
        return None;
    }
    let mut buf = [0u8; 16];
    let mut i = digits_at(text, start, 8, &mut buf)?;
    let (day, month) = (buf[2] * 10 + buf[3], buf[4] * 10 + buf[5]);
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
        return None;
    }
    if text.get(i) == Some(&b' ') {
        i += 1;
    }
    let letter = *text.get(i)?;
    if !letter.is_ascii_uppercase() {
        return None;
    }
    i += 1;
    if text.get(i) == Some(&b' ') {
        i += 1;
    }
    let mut rest = [0u8; 16];
    let end = digits_at(text, i, 3, &mut rest)?;
    if !boundary_after(text, end) {
        return None;
    }
    let pos = letter - b'A' + 1;
    let mut all = [0u8; 12];
    all[..8].copy_from_slice(&buf[..8]);
    all[8] = pos / 10;
    all[9] = pos % 10;
    all[10] = rest[0];
    all[11] = rest[1];
    const WEIGHTS: [u32; 12] = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = all
        .iter()
        .zip(WEIGHTS)
        .map(|(&d, w)| cross_sum(u32::from(d) * w))
        .sum();
    (sum % 10 == u32::from(rest[2])).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kvnr_check_digit() {
        assert_eq!(kvnr_at(b"K943247614", 0), Some(10));
        assert_eq!(kvnr_at(b"K 943 247 614.", 0), Some(13));
        assert_eq!(kvnr_at(b"K943247615", 0), None, "wrong check digit");
        assert_eq!(kvnr_at(b"K9432476140", 0), None, "too long");
        assert_eq!(kvnr_at(b"xK943247614", 1), None, "inside a word");
    }

    #[test]
    fn tax_id_rules() {
        // Valid by every rule (the first is the format's usual documentation example).
        assert!(is_tax_id(b"86095742719"));
        assert!(is_tax_id(b"47036892816"));
        assert!(!is_tax_id(b"86095742718"), "check digit");
        assert!(!is_tax_id(b"06095742719"), "leading zero");
        assert!(!is_tax_id(b"12345678903"), "no repeated digit");
        assert!(!is_tax_id(b"11112345678"), "digit four times");
    }

    #[test]
    fn rvnr_check_digit() {
        assert_eq!(rvnr_at(b"15070649C103", 0), Some(12));
        assert_eq!(rvnr_at(b"15 070649 C 103", 0), Some(15));
        assert_eq!(rvnr_at(b"15070649C104", 0), None);
        assert_eq!(rvnr_at(b"15073249C103", 0), None, "no such date");
    }
}
