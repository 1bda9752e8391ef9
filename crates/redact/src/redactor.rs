//! The compiled, immutable [`Redactor`]: text, byte and JSON-body redaction with one config.

use std::borrow::Cow;

use crate::config::{DetectorToggles, RedactionConfig};
use crate::error::{BodyError, ConfigError};
use crate::fields::FieldRules;
use crate::json::{Syntax, TextRedactor};
use crate::kind::Kind;
use crate::metrics::RedactionCounts;
use crate::pseudonym::Pseudonymizer;
use crate::scan::{Finding, Scanner};

/// Extra scans after the first replacement pass (in practice one suffices; the cap bounds work
/// on adversarial input).
const MAX_EXTRA_PASSES: usize = 4;

/// Redacts personal data from log lines and bodies. Built once from a [`RedactionConfig`];
/// `Send + Sync` and immutable, so share it in an `Arc`.
#[derive(Debug, Clone)]
pub struct Redactor {
    scanner: Scanner,
    pseudonyms: Option<Pseudonymizer>,
    fields: FieldRules,
    scan_all_strings: bool,
    /// Values under `kind: text` rules are kept as they are (a tenant's raw transcript).
    keep_text_fields: bool,
}

/// The result of [`Redactor::redact_body`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRedaction<'a> {
    /// The redacted body (borrowed when nothing changed).
    pub body: Cow<'a, [u8]>,
    /// Whether the body was treated as JSON (else as text).
    pub as_json: bool,
    /// What was redacted.
    pub counts: RedactionCounts,
}

impl Default for Redactor {
    /// Built-in defaults: every detector on, fixed tokens, no field rules.
    fn default() -> Self {
        Self::from_parts(DetectorToggles::default(), None, FieldRules::none(), true)
    }
}

impl Redactor {
    /// Compiles `config`, reading the pseudonym key from the environment variable it names.
    pub fn new(config: &RedactionConfig) -> Result<Self, ConfigError> {
        let key = match &config.pseudonym_key_env {
            None => None,
            Some(var) => Some(
                std::env::var(var)
                    .map_err(|_| ConfigError::MissingPseudonymKey { var: var.clone() })?,
            ),
        };
        Self::with_pseudonym_key(config, key.as_deref().map(str::as_bytes))
    }

    /// Compiles `config` with an explicit pseudonym key (`None`: fixed tokens). The key is used
    /// only if the config names a key variable, so a config without one never pseudonymises.
    pub fn with_pseudonym_key(
        config: &RedactionConfig,
        key: Option<&[u8]>,
    ) -> Result<Self, ConfigError> {
        let fields = FieldRules::compile(&config.fields)?;
        let pseudonyms = match (&config.pseudonym_key_env, key) {
            (Some(var), Some(key)) => Some(
                Pseudonymizer::new(key)
                    .ok_or_else(|| ConfigError::WeakPseudonymKey { var: var.clone() })?,
            ),
            (Some(var), None) => {
                return Err(ConfigError::MissingPseudonymKey { var: var.clone() });
            }
            (None, _) => None,
        };
        Ok(Self::from_parts(
            config.detectors,
            pseudonyms,
            fields,
            config.scan_all_strings,
        ))
    }

    fn from_parts(
        toggles: DetectorToggles,
        pseudonyms: Option<Pseudonymizer>,
        fields: FieldRules,
        scan_all_strings: bool,
    ) -> Self {
        Self {
            scanner: Scanner::new(toggles),
            pseudonyms,
            fields,
            scan_all_strings,
            keep_text_fields: false,
        }
    }

    /// This redactor, except that JSON values under `kind: text` rules (transcripts) pass
    /// unredacted; field rules that replace whole values and every other string stay as they
    /// are. For a practice that needs the raw transcript.
    pub fn keeping_text_fields(&self) -> Self {
        Self {
            keep_text_fields: true,
            ..self.clone()
        }
    }

    /// The field rules compiled from the config (pass them to [`Self::redact_json_bytes`], or
    /// pass a route's own rules).
    pub fn field_rules(&self) -> &FieldRules {
        &self.fields
    }

    /// Findings in `text`, sorted and non-overlapping (nothing is replaced or counted).
    pub fn find(&self, text: &str) -> Vec<Finding> {
        self.scanner.scan(text.as_bytes())
    }

    /// Redacts `text`; borrowed when nothing was found. Counts go to
    /// `frontdesk_redactions_total`.
    pub fn redact_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut counts = RedactionCounts::default();
        let out = self.redact_counted(text, &mut counts);
        counts.record();
        out
    }

    /// Like [`Self::redact_text`], also adding what was redacted to `counts` (not recorded in
    /// the metric: the caller decides).
    pub fn redact_counted<'a>(&self, text: &'a str, counts: &mut RedactionCounts) -> Cow<'a, str> {
        match self.redact_bytes_counted(text.as_bytes(), counts) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Findings start and end on ASCII bytes and tokens are ASCII, so the bytes stay
            // UTF-8; the lossy conversion never replaces anything.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// Redacts arbitrary bytes (non-UTF-8 bodies included); borrowed when nothing was found.
    pub fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut counts = RedactionCounts::default();
        let out = self.redact_bytes_counted(bytes, &mut counts);
        counts.record();
        out
    }

    fn redact_bytes_counted<'a>(
        &self,
        bytes: &'a [u8],
        counts: &mut RedactionCounts,
    ) -> Cow<'a, [u8]> {
        let findings = self.scanner.scan(bytes);
        if findings.is_empty() {
            return Cow::Borrowed(bytes);
        }
        let mut out = self.replace(bytes, &findings, counts);
        // A replacement can turn its neighbourhood into a boundary (`00+49 …` → `…]+49 …`) and
        // so complete a finding that was not one before. Re-scanning until nothing is found
        // makes redaction idempotent; tokens are never matched, so this converges quickly.
        for _ in 0..MAX_EXTRA_PASSES {
            let more = self.scanner.scan(&out);
            if more.is_empty() {
                break;
            }
            out = self.replace(&out, &more, counts);
        }
        Cow::Owned(out)
    }

    fn replace(&self, bytes: &[u8], findings: &[Finding], counts: &mut RedactionCounts) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut copied = 0;
        let mut token = String::new();
        for f in findings {
            out.extend_from_slice(&bytes[copied..f.start]);
            token.clear();
            self.write_replacement(f.kind, &bytes[f.start..f.end], &mut token);
            out.extend_from_slice(token.as_bytes());
            copied = f.end;
            counts.add(f.kind);
        }
        out.extend_from_slice(&bytes[copied..]);
        out
    }

    /// Redacts a JSON body: fields by `rules`, then (if configured) every other string value
    /// by detector. Output is valid JSON with the same structure; counts are recorded.
    pub fn redact_json_bytes(
        &self,
        body: &[u8],
        rules: &FieldRules,
    ) -> Result<(Vec<u8>, RedactionCounts), BodyError> {
        let mut counts = RedactionCounts::default();
        let out = crate::json::redact(self, body, rules, &mut counts, Syntax::Check)?;
        counts.record();
        Ok((out, counts))
    }

    /// Redacts a forwarded body: as JSON when it parses as JSON, else as text. Borrowed when
    /// nothing changed.
    pub fn redact_body<'a>(&self, body: &'a [u8], rules: &FieldRules) -> BodyRedaction<'a> {
        let looks_json = matches!(body.trim_ascii_start().first(), Some(b'{' | b'['));
        self.body(body, rules, looks_json.then_some(Syntax::Check))
    }

    /// Like [`Self::redact_body`] for a body the caller has already parsed as JSON (a route
    /// with `json: true`): its syntax is not checked a second time.
    pub fn redact_parsed_json_body<'a>(
        &self,
        body: &'a [u8],
        rules: &FieldRules,
    ) -> BodyRedaction<'a> {
        self.body(body, rules, Some(Syntax::KnownValid))
    }

    /// As JSON when `json` says so and the body is accepted as such, else as text.
    fn body<'a>(
        &self,
        body: &'a [u8],
        rules: &FieldRules,
        json: Option<Syntax>,
    ) -> BodyRedaction<'a> {
        let mut counts = RedactionCounts::default();
        if let Some(syntax) = json
            && let Ok(out) = crate::json::redact(self, body, rules, &mut counts, syntax)
        {
            counts.record();
            let body = if counts.total() == 0 {
                Cow::Borrowed(body)
            } else {
                Cow::Owned(out)
            };
            return BodyRedaction {
                body,
                as_json: true,
                counts,
            };
        }
        let mut counts = RedactionCounts::default();
        let body = self.redact_bytes_counted(body, &mut counts);
        counts.record();
        BodyRedaction {
            body,
            as_json: false,
            counts,
        }
    }

    fn write_replacement(&self, kind: Kind, value: &[u8], out: &mut String) {
        match &self.pseudonyms {
            Some(p) => p.write_token(kind, &String::from_utf8_lossy(value), out),
            None => out.push_str(kind.token()),
        }
    }
}

impl TextRedactor for Redactor {
    /// Token (or pseudonym) for a whole value of `kind`.
    fn replacement(&self, kind: Kind, value: &str) -> String {
        let mut out = String::new();
        self.write_replacement(kind, value.as_bytes(), &mut out);
        out
    }

    fn redact_counted<'t>(&self, text: &'t str, counts: &mut RedactionCounts) -> Cow<'t, str> {
        Redactor::redact_counted(self, text, counts)
    }

    fn keeps_text_fields(&self) -> bool {
        self.keep_text_fields
    }

    fn scans_all_strings(&self) -> bool {
        self.scan_all_strings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn redactor_is_shareable() {
        assert_send_sync::<Redactor>();
    }

    #[test]
    fn clean_text_is_borrowed() {
        let r = Redactor::default();
        assert!(matches!(
            r.redact_text("GET /health 200 in 3ms"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            r.redact_text("mail jane@example.com, tel +49 30 1234567"),
            "mail [EMAIL_REDACTED], tel [PHONE_REDACTED]"
        );
    }
}
