//! JSON-aware body redaction. The document is validated with serde_json, then walked over its
//! bytes: only string (and, under a field rule, number) values that need redaction are
//! rewritten; every other byte — key order, whitespace, number spelling — is copied as is, so
//! the output is valid JSON with the same structure and as close to byte-identical as possible.

use std::borrow::Cow;

use crate::config::FieldKind;
use crate::error::BodyError;
use crate::fields::{FieldRules, Step};
use crate::kind::{Kind, is_redaction_token};
use crate::metrics::RedactionCounts;

/// What the walker needs of a redactor: the replacement of a whole value, the redaction of
/// free text, and how the two apply to strings without a field rule.
pub(crate) trait TextRedactor {
    fn replacement(&self, kind: Kind, value: &str) -> String;
    fn redact_counted<'t>(&self, text: &'t str, counts: &mut RedactionCounts) -> Cow<'t, str>;
    /// `kind: text` fields pass unredacted (a tenant's raw transcripts).
    fn keeps_text_fields(&self) -> bool;
    /// Strings without a field rule are scanned by the detectors.
    fn scans_all_strings(&self) -> bool;
}

/// Whether a body's JSON syntax still has to be checked before it is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    Check,
    /// The caller already parsed it as JSON: the walk alone suffices.
    KnownValid,
}

/// Returns the redacted document (after checking its syntax unless it is known to be valid).
pub(crate) fn redact<R: TextRedactor>(
    redactor: &R,
    body: &[u8],
    rules: &FieldRules,
    counts: &mut RedactionCounts,
    syntax: Syntax,
) -> Result<Vec<u8>, BodyError> {
    let text = std::str::from_utf8(body).map_err(|e| BodyError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    if syntax == Syntax::Check {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
            BodyError::InvalidJson {
                line: e.line(),
                column: e.column(),
            }
        })?;
    }
    let mut walker = Walker {
        redactor,
        rules,
        text,
        bytes: body,
        pos: 0,
        copied: 0,
        out: Vec::new(),
        path: Vec::new(),
        counts,
    };
    walker.value(None, !rules.is_empty());
    let mut out = walker.out;
    out.extend_from_slice(&body[walker.copied..]);
    Ok(out)
}

struct Walker<'a, 'c, R> {
    redactor: &'a R,
    rules: &'a FieldRules,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Everything before this offset has been written to `out`.
    copied: usize,
    out: Vec<u8>,
    path: Vec<Step<'a>>,
    counts: &'c mut RedactionCounts,
}

impl<'a, R: TextRedactor> Walker<'a, '_, R> {
    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// Replaces `start..end` of the input by `replacement`.
    fn splice(&mut self, start: usize, end: usize, replacement: &[u8]) {
        if self.out.capacity() == 0 {
            self.out.reserve(self.bytes.len());
        }
        self.out.extend_from_slice(&self.bytes[self.copied..start]);
        self.out.extend_from_slice(replacement);
        self.copied = end;
    }

    /// Walks one value; `inherited` is the rule of an enclosing container, `reached` whether
    /// a rule can match here or below (else no lookups are made).
    fn value(&mut self, inherited: Option<FieldKind>, reached: bool) {
        self.skip_ws();
        let own = if reached {
            self.rules.lookup(&self.path)
        } else {
            None
        };
        let rule = own.or(inherited);
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(rule, reached),
            Some(b'[') => self.array(rule, reached),
            Some(b'"') => {
                let (start, end, raw) = self.string();
                self.string_value(start, end, raw, rule);
            }
            Some(_) => {
                let start = self.pos;
                while self.pos < self.bytes.len()
                    && !matches!(self.bytes[self.pos], b',' | b'}' | b']')
                    && !self.bytes[self.pos].is_ascii_whitespace()
                {
                    self.pos += 1;
                }
                let is_number = matches!(self.bytes[start], b'-' | b'0'..=b'9');
                // A number under a whole-value rule (a phone stored as a number) becomes the
                // token string; booleans and null carry nothing personal.
                if let Some(kind) = rule.and_then(FieldKind::replacement_kind)
                    && is_number
                {
                    let token = self.redactor.replacement(kind, &self.text[start..self.pos]);
                    self.counts.add(kind);
                    let quoted = quote(&token);
                    self.splice(start, self.pos, quoted.as_bytes());
                }
            }
            None => {}
        }
    }

    fn object(&mut self, rule: Option<FieldKind>, reached: bool) {
        self.pos += 1;
        loop {
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b'}') | None => {
                    self.pos += 1;
                    return;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let (_, _, raw) = self.string();
            self.skip_ws();
            self.pos += 1; // the `:`
            // Keys are matched as written: rule paths cannot express escapes anyway.
            self.path.push(Step::Key(raw));
            self.child(rule, reached);
            self.path.pop();
        }
    }

    fn array(&mut self, rule: Option<FieldKind>, reached: bool) {
        self.pos += 1;
        let mut index = 0;
        loop {
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b']') | None => {
                    self.pos += 1;
                    return;
                }
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            self.path.push(Step::Index(index));
            self.child(rule, reached);
            self.path.pop();
            index += 1;
        }
    }

    /// Walks the value at the position just pushed onto `path`.
    fn child(&mut self, rule: Option<FieldKind>, parent_reached: bool) {
        let reached = parent_reached && self.rules.reaches(&self.path);
        self.value(rule, reached);
    }

    /// Reads a string literal at `pos`: its byte span (quotes included) and its raw contents.
    fn string(&mut self) -> (usize, usize, &'a str) {
        let start = self.pos;
        let mut i = start + 1;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        let end = (i + 1).min(self.bytes.len());
        self.pos = end;
        let raw = self.text.get(start + 1..i).unwrap_or("");
        (start, end, raw)
    }

    fn string_value(&mut self, start: usize, end: usize, raw: &'a str, rule: Option<FieldKind>) {
        let decoded = decode(raw);
        let value: &str = &decoded;
        let replacement = match rule.map(FieldKind::replacement_kind) {
            Some(Some(kind)) => {
                if value.is_empty() || is_redaction_token(value) {
                    return;
                }
                self.counts.add(kind);
                Cow::Owned(self.redactor.replacement(kind, value))
            }
            Some(None) if self.redactor.keeps_text_fields() => return,
            Some(None) => self.redactor.redact_counted(value, self.counts),
            None if self.redactor.scans_all_strings() => {
                self.redactor.redact_counted(value, self.counts)
            }
            None => return,
        };
        if let Cow::Owned(new) = replacement {
            let quoted = quote(&new);
            self.splice(start, end, quoted.as_bytes());
        }
    }
}

/// The contents of a string literal, unescaped only when it has escapes (the common case
/// borrows).
fn decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut literal = String::with_capacity(raw.len() + 2);
    literal.push('"');
    literal.push_str(raw);
    literal.push('"');
    // The document was validated, so this cannot fail; fall back to the raw text regardless.
    serde_json::from_str::<String>(&literal).map_or(Cow::Borrowed(raw), Cow::Owned)
}

fn quote(s: &str) -> String {
    // Serialising a `&str` cannot fail.
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}
