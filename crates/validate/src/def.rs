//! The policy-file model of a schema ([`SchemaDef`]): what operators write in YAML, before any
//! checking. [`crate::Schema::compile`] turns it into something that can validate.

use std::path::PathBuf;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// One named schema. Exactly one of the two forms is used:
/// - `fields` (compact field rules, with normalisation), or
/// - `json_schema` (a draft 2020-12 file, relative to the policy directory; validates only).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaDef {
    /// Field rules by field name, in the order errors are reported.
    #[serde(default)]
    pub fields: Option<IndexMap<String, FieldDef>>,
    /// What to do with fields that `fields` does not declare (compact form only).
    #[serde(default)]
    pub unknown_fields: UnknownFields,
    /// Path of a draft 2020-12 JSON Schema file, relative to the policy directory.
    #[serde(default)]
    pub json_schema: Option<PathBuf>,
}

/// Treatment of undeclared fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnknownFields {
    /// Not an error; they are left out of the normalised value the handler receives.
    #[default]
    Ignore,
    /// Each one is reported as `unknown_field`.
    Reject,
}

/// Rules for one field.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The field's type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Missing, `null` or empty values are an error (`required`).
    #[serde(default)]
    pub required: bool,
    /// Required unless one of these sibling fields is present (e.g. `date` unless `start`).
    /// Not combined with `required`.
    #[serde(default)]
    pub required_unless: Option<Vec<String>>,
    /// Value used when the field is missing, `null` or empty; must pass the field's own rules.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Minimum length in characters, after normalisation (string, email, phone, enum).
    #[serde(default)]
    pub min_length: Option<usize>,
    /// Maximum length in characters, after normalisation (string, email, phone, enum).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Minimum value, inclusive (integer, number).
    #[serde(default)]
    pub min: Option<f64>,
    /// Maximum value, inclusive (integer, number).
    #[serde(default)]
    pub max: Option<f64>,
    /// Regular expression (Rust `regex` syntax, unanchored: use `^...$` for a full match)
    /// the normalised string must match (string only).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Allowed values (enum only). Matching ignores case; the declared spelling is returned.
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// Text normalisation applied before any check (string and enum). Default: `[trim, nfc]`.
    /// Steps always run in the fixed order strip_html, nfc, collapse_whitespace, trim, whatever
    /// the order written, which keeps normalisation idempotent.
    #[serde(default)]
    pub normalize: Option<Vec<NormalizeStep>>,
    /// Nested field rules (object only).
    #[serde(default)]
    pub fields: Option<IndexMap<String, FieldDef>>,
}

/// Field types of the compact form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text.
    String,
    /// Whole number; accepts JSON integers, integral numbers (`30.0`) and numeric strings (`"30"`).
    Integer,
    /// Finite number; accepts JSON numbers and numeric strings.
    Number,
    /// `true`/`false`, also as strings.
    Boolean,
    /// `YYYY-MM-DD` or `DD.MM.YYYY`, normalised to `YYYY-MM-DD`.
    Date,
    /// `HH:MM`, `H:MM`, `HH:MM Uhr`, `14 Uhr`, `14.30`, normalised to `HH:MM`.
    Time,
    /// RFC 3339 date-time with offset, normalised to `YYYY-MM-DDTHH:MM:SS` plus `Z` or `±HH:MM`.
    Datetime,
    /// E-mail address (practical RFC 5321/5322 subset); the domain is lower-cased.
    Email,
    /// Phone number of digits, spaces, `/`, `-`, `()` and a leading `+`; normalised to digits
    /// (with a leading `+` when international).
    Phone,
    /// One of `values`.
    Enum,
    /// Nested object with its own `fields`.
    Object,
}

impl FieldType {
    /// The YAML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Time => "time",
            Self::Datetime => "datetime",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Enum => "enum",
            Self::Object => "object",
        }
    }
}

/// A text normalisation step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NormalizeStep {
    /// Remove leading and trailing whitespace.
    Trim,
    /// Remove HTML tags (and the contents of script-like elements), decode entities, drop
    /// `javascript:`-style schemes and control characters; repeated until stable.
    StripHtml,
    /// Replace every run of whitespace with one space.
    CollapseWhitespace,
    /// Unicode Normalization Form C.
    Nfc,
}
