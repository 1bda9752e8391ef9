//! UUIDs and other dashed hex identifiers (`e7a4e7a6-885a-2210-9039-91ff46d42fff`,
//! `a1b2-c3d4-0301234567`): their digit groups look like phone numbers and Steuer-IDs, but an
//! identifier is never partly redacted.

/// Longest run looked at; longer hex runs are not identifiers anyone logs.
const MAX_RUN: usize = 128;

fn is_hex_or_dash(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b'-'
}

/// If the digit at `i` lies in a dashed hex identifier, the identifier's end. An identifier:
/// hex groups joined by single dashes, at least three of them, with a hex letter somewhere or
/// the UUID shape 8-4-4-4-12 (all-digit UUIDs exist). Dashed digit groups without a letter
/// (`0171-123-4567`) are left to the other detectors.
#[inline]
pub(super) fn dashed_hex_end(text: &[u8], i: usize) -> Option<usize> {
    // Cheap exit for the common case: no dash next to this hex run.
    let mut end = i;
    while end < text.len() && end - i < MAX_RUN && is_hex_or_dash(text[end]) {
        end += 1;
    }
    let before_dash = i > 0 && text[i - 1] == b'-';
    if !before_dash && !text[i..end].contains(&b'-') {
        return None;
    }
    let mut start = i;
    while start > 0 && i - start < MAX_RUN && is_hex_or_dash(text[start - 1]) {
        start -= 1;
    }
    // Dashes around the run are punctuation (`--`, `id-`), not part of the identifier.
    while start < i && text[start] == b'-' {
        start += 1;
    }
    let mut run_end = end;
    while run_end > i && text[run_end - 1] == b'-' {
        run_end -= 1;
    }
    let run = &text[start..run_end];
    // The identifier must end the word: `abc-def-12x` is something else.
    if text.get(run_end).is_some_and(|&b| super::is_word_byte(b)) {
        return None;
    }
    let mut parts = 0;
    let mut lens = [0usize; 5];
    for part in run.split(|&b| b == b'-') {
        if part.is_empty() {
            return None;
        }
        if parts < lens.len() {
            lens[parts] = part.len();
        }
        parts += 1;
    }
    let lettered = run.iter().any(u8::is_ascii_alphabetic);
    let uuid = parts == 5 && lens == [8, 4, 4, 4, 12];
    (parts >= 3 && (lettered || uuid)).then_some(run_end.max(i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(s: &str) -> Option<usize> {
        let i = s.bytes().position(|b| b.is_ascii_digit()).unwrap();
        dashed_hex_end(s.as_bytes(), i)
    }

    #[test]
    fn uuids_and_hex_ids_are_whole() {
        let uuid = "request_id=e7a4e7a6-885a-2210-9039-91ff46d42fff rest";
        assert_eq!(dashed_hex_end(uuid.as_bytes(), 26), Some(47));
        assert_eq!(end("12345678-1234-1234-1234-123456789012"), Some(36));
        assert_eq!(end("id 4f3a-0301234567-aa"), Some(21));
        assert_eq!(end("Tel 0171-123-4567"), None, "no letter");
        assert_eq!(end("Tel 0171 1234567"), None);
        assert_eq!(end("ab-12"), None, "two parts");
    }
}
