//! Words of running text: letters, joined inside a word by `-` or an apostrophe
//! (`Karl-Heinz`, `O'Brien`). A run that also holds digits or `_` is an identifier, no word.

/// One word, `start..end` in bytes of the text it was read from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Word<'t> {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: &'t str,
}

fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '\'' | '’')
}

/// The word starting at byte `start` (a letter at a word start), or `None` when the run at
/// `start` is no word. Returns the end of the run either way, to resume there.
pub(super) fn word_at(text: &str, start: usize) -> (Option<Word<'_>>, usize) {
    match text[start..].chars().next() {
        Some(c) if c.is_alphabetic() => {}
        Some(c) => return (None, start + c.len_utf8()),
        None => return (None, start),
    }
    let mut end = start;
    let mut clean = true;
    let mut prev_joiner = false;
    for (off, c) in text[start..].char_indices() {
        if c.is_alphabetic() {
            prev_joiner = false;
            end = start + off + c.len_utf8();
        } else if c.is_ascii_digit() || c == '_' {
            clean = false;
            end = start + off + 1;
        } else if is_joiner(c) && !prev_joiner && off > 0 {
            prev_joiner = true;
        } else {
            break;
        }
    }
    let end = end.max(start + 1);
    let end = (start + 1..=end)
        .rev()
        .find(|&e| text.is_char_boundary(e))
        .unwrap_or(end);
    let word = clean.then(|| Word {
        start,
        end,
        text: &text[start..end],
    });
    (word, end)
}

/// Whether a word may start at `i`: the character before is no letter, digit or `_`, or it is
/// the letter of a backslash escape (`\nAnna` in a JSON-escaped log line).
pub(super) fn starts_word(text: &str, i: usize) -> bool {
    let bytes = text.as_bytes();
    match text[..i].chars().next_back() {
        None => true,
        Some(c) if c.is_alphanumeric() || c == '_' => {
            c.is_ascii() && super::super::is_escape_letter(bytes, i - 1, bytes[i - 1])
        }
        Some(_) => true,
    }
}

/// Whether `word` looks like a name: a capital letter, then lower-case letters (an inner
/// capital after `Mc`, `O'` or a hyphen is fine), at least two letters. `KVNR` and `INFO` are
/// not names, nor is `nUser`.
pub(super) fn is_capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_uppercase() {
        return false;
    }
    let mut prev = first;
    let mut lower = 0;
    for c in chars {
        if c.is_lowercase() {
            lower += 1;
        } else if c.is_uppercase() && !(is_joiner(prev) || prev == 'c') {
            return false;
        }
        prev = c;
    }
    lower > 0
}
