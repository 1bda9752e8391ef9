//! PII detection and redaction for frontdesk logs and bodies.
//!
//! Build a [`Redactor`] once from a [`RedactionConfig`] and share it (`Arc<Redactor>`):
//! - [`Redactor::redact_text`] for log lines (`Cow::Borrowed` when nothing was found),
//! - [`Redactor::redact_json_bytes`] / [`Redactor::redact_body`] for forwarded bodies,
//!   JSON-aware with [`FieldRules`],
//! - findings are replaced by `[<KIND>_REDACTED]` or keyed pseudonyms (`[PHONE:3f2a9c]`) and
//!   counted in `frontdesk_redactions_total{kind}`.
//!
//! Detectors, the never-redacted look-alikes, and measured recall and speed are described in
//! `docs/redaction.md`.

mod config;
mod error;
mod fields;
mod json;
mod kind;
mod metrics;
mod pseudonym;
mod redactor;
mod scan;

pub use config::{DetectorToggles, FieldKind, FieldRuleConfig, RedactionConfig};
pub use error::{BodyError, ConfigError};
pub use fields::FieldRules;
pub use kind::PSEUDONYM_HEX_LEN;
pub use kind::{Kind, is_redaction_token};
pub use metrics::{RedactionCounts, redactions_total};
pub use pseudonym::MIN_KEY_LEN;
pub use redactor::{BodyRedaction, Redactor};
pub use scan::Finding;
