//! HTML-to-plain-text reduction for untrusted text: the `strip_html` normalisation step.
//!
//! Goal: whatever comes out is inert wherever it is later shown (calendar UI, confirmation
//! e-mail, admin page): no `<` or `>`, no decodable entity, no `javascript:`/`vbscript:` scheme,
//! no control characters. Rather than parse HTML faithfully, the text is reduced by one
//! decode-then-strip round after another until a round changes nothing, so encoded tags
//! (`&lt;script&gt;`), double encoding (`&amp;lt;`) and tags split by other tags
//! (`<scr<b>ipt>`) cannot survive. Anything ambiguous is removed rather than kept.

/// Rounds after which the input is treated as adversarial and reduced by the blunt fallback.
/// Real text is stable after two rounds; each round is linear in the input.
const MAX_ROUNDS: usize = 16;

/// Elements whose *contents* are code or markup, not text, and are removed with the element.
const CONTENT_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "object", "applet", "xmp", "noembed",
    "noframes",
];

/// URL schemes that execute code when text is ever turned back into a link.
const SCRIPT_SCHEMES: &[&str] = &["javascript:", "vbscript:"];

/// Reduces `input` to inert plain text (see the module docs). Idempotent.
pub fn strip_html(input: &str) -> String {
    let mut current = input.to_owned();
    for _ in 0..MAX_ROUNDS {
        let decoded = html_escape::decode_html_entities(&current);
        let next = remove_script_schemes(&strip_tags(&decoded));
        if next == current {
            return current;
        }
        current = next;
    }
    blunt_fallback(&current)
}

/// Last resort for input that keeps changing: drop every character that could start markup or
/// an entity. The result has no `&`, `<` or `>`, so decoding and tag stripping are no-ops on it.
pub(crate) fn blunt_fallback(text: &str) -> String {
    let without_markup: String = text
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '&') && !is_dropped_control(*c))
        .collect();
    remove_script_schemes(&without_markup)
}

/// Control characters other than tab, line feed and carriage return: invisible, and browsers
/// ignore them inside URL schemes (`java\0script:`).
fn is_dropped_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// One pass of tag removal over already-decoded text.
fn strip_tags(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    // Everything in `text[copied_from..pos]` is plain text still to be copied.
    let mut copied_from = 0;
    while pos < bytes.len() {
        match bytes[pos] {
            b'<' => {
                push_text(&mut out, &text[copied_from..pos]);
                pos = skip_markup(bytes, pos);
                copied_from = pos;
            }
            b'>' => {
                push_text(&mut out, &text[copied_from..pos]);
                pos += 1;
                copied_from = pos;
            }
            _ => pos += 1,
        }
    }
    push_text(&mut out, &text[copied_from..]);
    out
}

/// Copies plain text, dropping control characters.
fn push_text(out: &mut String, text: &str) {
    out.extend(text.chars().filter(|c| !is_dropped_control(*c)));
}

/// Given `bytes[start] == b'<'`, returns the index just past the markup that starts there.
/// A `<` that cannot start markup (e.g. `3 < 5`) is dropped alone. Unterminated markup runs to
/// the end of the input: a broken tag is removed, never half-kept.
fn skip_markup(bytes: &[u8], start: usize) -> usize {
    let rest = &bytes[start..];
    if rest.starts_with(b"<!--") {
        return find(bytes, start + 4, b"-->").map_or(bytes.len(), |end| end + 3);
    }
    match rest.get(1) {
        Some(b'!' | b'?') => find(bytes, start + 2, b">").map_or(bytes.len(), |end| end + 1),
        Some(b'/') => skip_tag(bytes, start + 2),
        Some(c) if c.is_ascii_alphabetic() => {
            let name_end = tag_name_end(bytes, start + 1);
            let after_tag = skip_tag(bytes, name_end);
            let name = &bytes[start + 1..name_end];
            match CONTENT_ELEMENTS
                .iter()
                .find(|element| name.eq_ignore_ascii_case(element.as_bytes()))
            {
                Some(element) => skip_element_content(bytes, after_tag, element.as_bytes()),
                None => after_tag,
            }
        }
        _ => start + 1,
    }
}

fn tag_name_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b':'))
        .map_or(bytes.len(), |offset| from + offset)
}

/// Skips the rest of a tag up to and including its `>`, treating quoted attribute values as
/// opaque so `<a title=">" onclick=...>` is removed whole.
fn skip_tag(bytes: &[u8], from: usize) -> usize {
    let mut quote: Option<u8> = None;
    for (offset, &b) in bytes[from..].iter().enumerate() {
        match (quote, b) {
            (None, b'>') => return from + offset + 1,
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            _ => {}
        }
    }
    bytes.len()
}

/// Skips the contents of a code-bearing element and its closing tag.
fn skip_element_content(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut search = from;
    while let Some(open) = find(bytes, search, b"</") {
        let name_start = open + 2;
        let name_end = tag_name_end(bytes, name_start);
        if bytes[name_start..name_end].eq_ignore_ascii_case(name) {
            return skip_tag(bytes, name_end);
        }
        search = name_start;
    }
    bytes.len()
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| from + offset)
}

/// Removes script URL schemes, also when split by ASCII whitespace (`java\tscript:`) or
/// nested (`javajavascript:script:`). Works on the output buffer: after each `:` it checks
/// whether the buffer now ends in a scheme and cuts it off, so a removal that joins the
/// surrounding text into a new scheme is caught in the same pass.
fn remove_script_schemes(text: &str) -> String {
    if !text.contains(':') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        out.push(c);
        if c == ':'
            && let Some(cut) = SCRIPT_SCHEMES
                .iter()
                .find_map(|scheme| scheme_suffix_start(&out, scheme))
        {
            out.truncate(cut);
        }
    }
    out
}

/// If `buffer` ends with `scheme` (ASCII case-insensitive, ASCII whitespace allowed between its
/// characters), returns the byte index where that occurrence starts.
fn scheme_suffix_start(buffer: &str, scheme: &str) -> Option<usize> {
    let bytes = buffer.as_bytes();
    let mut end = bytes.len();
    for (i, expected) in scheme.bytes().rev().enumerate() {
        if i > 0 {
            while end > 0 && bytes[end - 1].is_ascii_whitespace() {
                end -= 1;
            }
        }
        if end == 0 || !bytes[end - 1].eq_ignore_ascii_case(&expected) {
            return None;
        }
        end -= 1;
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        assert_eq!(strip_html("Jane Doe, AT&T"), "Jane Doe, AT&T");
    }

    #[test]
    fn tags_and_content_elements_go() {
        assert_eq!(strip_html("<b>Jane</b> Doe"), "Jane Doe");
        assert_eq!(strip_html("a<script>alert(1)</script>b"), "ab");
        assert_eq!(strip_html("a<STYLE>x{}</style >b"), "ab");
        assert_eq!(strip_html("a<!-- hidden -->b"), "ab");
    }

    #[test]
    fn entities_decode_and_encoded_tags_go() {
        assert_eq!(strip_html("M&uuml;ller"), "Müller");
        assert_eq!(strip_html("&lt;script&gt;alert(1)&lt;/script&gt;x"), "x");
        assert_eq!(strip_html("&amp;lt;b&amp;gt;x"), "x");
    }

    #[test]
    fn stray_angle_brackets_and_controls_go() {
        assert_eq!(strip_html("3 < 5 > 2"), "3  5  2");
        assert_eq!(strip_html("a\u{0}b\u{7}c"), "abc");
    }

    #[test]
    fn nested_script_schemes_go() {
        assert_eq!(strip_html("javajavascript:script:alert(1)"), "alert(1)");
        assert_eq!(strip_html("JaVa\tScRiPt:x"), "x");
        assert_eq!(strip_html("vbscript:x"), "x");
        assert_eq!(strip_html("Termin: 10 Uhr"), "Termin: 10 Uhr");
    }
}
