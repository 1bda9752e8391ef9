//! The YAML/JSON configuration model of redaction. It is plain data: [`crate::Redactor::new`]
//! validates and compiles it once into an immutable redactor.

use serde::Deserialize;

/// Redaction settings, as written in the server config or a route policy.
///
/// ```yaml
/// detectors: { email: true, phone: true, iban: true, card: true, token: true, ip: false }
/// pseudonym_key_env: FRONTDESK_PSEUDONYM_KEY   # optional: [PHONE:3f2a9c] instead of [PHONE_REDACTED]
/// scan_all_strings: true                       # JSON bodies: run detectors on every string value
/// fields:
///   - { path: call.from_number, kind: phone }
///   - { path: "transcript_object[*].content", kind: text }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactionConfig {
    /// Which text detectors run. Every detector is on unless switched off.
    #[serde(default)]
    pub detectors: DetectorToggles,
    /// Name of the environment variable holding the pseudonym key (at least 16 bytes). When
    /// set, findings become keyed pseudonyms such as `[PHONE:3f2a9c]`.
    #[serde(default)]
    pub pseudonym_key_env: Option<String>,
    /// JSON bodies: also run the detectors over every string value no field rule covers.
    #[serde(default = "default_true")]
    pub scan_all_strings: bool,
    /// JSON bodies: fields redacted by path, whatever their content.
    #[serde(default)]
    pub fields: Vec<FieldRuleConfig>,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        Self {
            detectors: DetectorToggles::default(),
            pseudonym_key_env: None,
            scan_all_strings: true,
            fields: Vec::new(),
        }
    }
}

/// On/off switch per text detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorToggles {
    /// E-mail addresses.
    #[serde(default = "default_true")]
    pub email: bool,
    /// Telephone numbers.
    #[serde(default = "default_true")]
    pub phone: bool,
    /// IBANs (mod-97 checked).
    #[serde(default = "default_true")]
    pub iban: bool,
    /// Payment cards (Luhn checked).
    #[serde(default = "default_true")]
    pub card: bool,
    /// Bearer tokens, `Authorization` values, API keys, JWTs.
    #[serde(default = "default_true")]
    pub token: bool,
    /// IPv4 and IPv6 addresses (loopback and unspecified addresses are kept).
    #[serde(default = "default_true")]
    pub ip: bool,
    /// Personal names in running text: after a cue, or a first name of the gazetteer.
    #[serde(default = "default_true")]
    pub name: bool,
    /// Krankenversichertennummern (check digit).
    #[serde(default = "default_true")]
    pub kvnr: bool,
    /// Steuer-Identifikationsnummern (check digit and digit-count rule).
    #[serde(default = "default_true")]
    pub tax_id: bool,
    /// Rentenversicherungsnummern (check digit).
    #[serde(default = "default_true")]
    pub rvnr: bool,
    /// Dates of birth after their cue words.
    #[serde(default = "default_true")]
    pub birth_date: bool,
}

impl Default for DetectorToggles {
    fn default() -> Self {
        Self {
            email: true,
            phone: true,
            iban: true,
            card: true,
            token: true,
            ip: true,
            name: true,
            kvnr: true,
            tax_id: true,
            rvnr: true,
            birth_date: true,
        }
    }
}

impl DetectorToggles {
    /// Every detector off (field rules only); switch single ones on with struct update syntax.
    pub const NONE: Self = Self {
        email: false,
        phone: false,
        iban: false,
        card: false,
        token: false,
        ip: false,
        name: false,
        kvnr: false,
        tax_id: false,
        rvnr: false,
        birth_date: false,
    };
}

/// One field rule: the value at `path` is replaced according to `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldRuleConfig {
    /// Path into the JSON body, e.g. `payload.attendees[*].email` (syntax in docs/redaction.md).
    pub path: String,
    /// What the field holds.
    pub kind: FieldKind,
}

/// What a field rule does with the value it addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Replace the whole value by `[NAME_REDACTED]`.
    Name,
    /// Replace the whole value by `[EMAIL_REDACTED]`.
    Email,
    /// Replace the whole value by `[PHONE_REDACTED]`.
    Phone,
    /// Replace the whole value by `[IBAN_REDACTED]`.
    Iban,
    /// Replace the whole value by `[CARD_REDACTED]`.
    Card,
    /// Replace the whole value by `[TOKEN_REDACTED]`.
    Token,
    /// Replace the whole value by `[IP_REDACTED]`.
    Ip,
    /// Free text (a transcript): keep it, but run every enabled detector over it.
    Text,
}

impl FieldKind {
    /// The kind a whole-value replacement counts as; `None` for [`FieldKind::Text`].
    pub fn replacement_kind(self) -> Option<crate::Kind> {
        use crate::Kind;
        match self {
            FieldKind::Name => Some(Kind::Name),
            FieldKind::Email => Some(Kind::Email),
            FieldKind::Phone => Some(Kind::Phone),
            FieldKind::Iban => Some(Kind::Iban),
            FieldKind::Card => Some(Kind::Card),
            FieldKind::Token => Some(Kind::Token),
            FieldKind::Ip => Some(Kind::Ip),
            FieldKind::Text => None,
        }
    }
}

fn default_true() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_switch_everything_on() {
        let cfg: RedactionConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(cfg, RedactionConfig::default());
        assert!(cfg.detectors.ip && cfg.scan_all_strings);
        let cfg: RedactionConfig = serde_json::from_str(r#"{"detectors":{"ip":false}}"#).unwrap();
        assert!(!cfg.detectors.ip && cfg.detectors.phone);
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_name() {
        let err = serde_json::from_str::<RedactionConfig>(r#"{"detectors":{"fax":true}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fax"), "{err}");
        let err = serde_json::from_str::<RedactionConfig>(
            r#"{"fields":[{"path":"a","kind":"passport"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("passport"), "{err}");
    }

    #[test]
    fn schema_names_the_fields() {
        let schema = serde_json::to_string(&schemars::schema_for!(RedactionConfig)).unwrap();
        for word in [
            "detectors",
            "pseudonym_key_env",
            "fields",
            "scan_all_strings",
            "text",
        ] {
            assert!(schema.contains(word), "{word} missing from schema");
        }
    }
}
