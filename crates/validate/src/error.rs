//! Error types: what a caller did wrong ([`FieldError`], [`ErrorCode`]) and what a schema
//! author did wrong ([`SchemaError`]).
//!
//! Neither type ever carries the offending *value*: input may hold names, e-mail addresses or
//! phone numbers, and these errors end up in HTTP bodies, logs and metric labels.

use serde::Serialize;

/// Machine-readable reason a field was refused. Serialised in `snake_case`
/// (`"too_long"`, `"invalid_email"`, ...), which is the wire contract toward Retell and 422 bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A required field is missing, `null` or empty after normalisation.
    Required,
    /// The JSON type cannot be read as the declared type (e.g. an object where a string belongs).
    InvalidType,
    /// Shorter than `min_length` characters.
    TooShort,
    /// Longer than `max_length` characters.
    TooLong,
    /// Below `min`.
    TooSmall,
    /// Above `max`.
    TooLarge,
    /// Does not match `pattern`.
    PatternMismatch,
    /// Not a usable e-mail address.
    InvalidEmail,
    /// Not a usable phone number.
    InvalidPhone,
    /// Not a calendar date in an accepted format.
    InvalidDate,
    /// Not a time of day in an accepted format.
    InvalidTime,
    /// Not an RFC 3339 date-time with offset.
    InvalidDatetime,
    /// Not one of the enum's `values`.
    NotAllowed,
    /// A field the schema does not declare, refused because of `unknown_fields: reject`.
    UnknownField,
    /// Any other JSON Schema keyword failed.
    SchemaViolation,
}

impl ErrorCode {
    /// The wire spelling, identical to the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::InvalidType => "invalid_type",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::TooSmall => "too_small",
            Self::TooLarge => "too_large",
            Self::PatternMismatch => "pattern_mismatch",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidPhone => "invalid_phone",
            Self::InvalidDate => "invalid_date",
            Self::InvalidTime => "invalid_time",
            Self::InvalidDatetime => "invalid_datetime",
            Self::NotAllowed => "not_allowed",
            Self::UnknownField => "unknown_field",
            Self::SchemaViolation => "schema_violation",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Metric label used for fields the schema does not declare (bounded label values).
pub const UNKNOWN_FIELD_LABEL: &str = "_unknown";
/// Metric label used when the whole input (not one field) is wrong, e.g. not an object.
pub const ROOT_FIELD_LABEL: &str = "_root";

/// One refused field. `field` is a dotted path (`"email"`, `"attendee.name"`; `""` is the
/// whole input). Serialises as `{"field": ..., "code": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Dotted path of the field in the input.
    pub field: String,
    /// Why it was refused.
    pub code: ErrorCode,
    /// Bounded metric label: the path as declared in the schema, never caller-chosen text.
    #[serde(skip)]
    label: String,
}

impl FieldError {
    /// An error on a field the schema declares: the path doubles as its metric label.
    pub(crate) fn declared(path: &str, code: ErrorCode) -> Self {
        Self {
            field: path.to_owned(),
            code,
            label: if path.is_empty() {
                ROOT_FIELD_LABEL.to_owned()
            } else {
                path.to_owned()
            },
        }
    }

    /// An error whose path the caller chose (an unknown key, an array index): the metric label
    /// is the given bounded `label`.
    pub(crate) fn with_label(field: String, code: ErrorCode, label: String) -> Self {
        Self { field, code, label }
    }

    /// The bounded label this error is counted under in
    /// `frontdesk_validation_failures_total{field}`.
    pub fn metric_label(&self) -> &str {
        &self.label
    }
}

/// A schema definition that cannot be compiled. `path` is relative to the schema definition
/// (`"fields.email.pattern"`), so the policy loader can point at `file:line:col`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("schema `{schema}`, {path}: {kind}")]
pub struct SchemaError {
    /// Name of the schema (the key under `schemas:`).
    pub schema: String,
    /// Dotted path inside the schema definition.
    pub path: String,
    /// What is wrong there.
    pub kind: SchemaErrorKind,
}

/// What is wrong with a schema definition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaErrorKind {
    /// Neither or both of `fields` and `json_schema` were given.
    #[error("exactly one of `fields` or `json_schema` must be set")]
    AmbiguousForm,
    /// `pattern` is not a valid regular expression.
    #[error("invalid regular expression: {0}")]
    InvalidPattern(#[source] regex::Error),
    /// A lower bound exceeds its upper bound.
    #[error("`{lower}` ({lower_value}) is greater than `{upper}` ({upper_value})")]
    InvertedBounds {
        /// Name of the lower-bound key.
        lower: &'static str,
        /// Its value, as written.
        lower_value: String,
        /// Name of the upper-bound key.
        upper: &'static str,
        /// Its value, as written.
        upper_value: String,
    },
    /// A bound is not a finite number (e.g. `.nan`).
    #[error("`{0}` must be a finite number")]
    NonFiniteBound(&'static str),
    /// A rule was given for a type it does not apply to (e.g. `min_length` on an integer).
    #[error("`{rule}` does not apply to fields of type `{field_type}`")]
    RuleNotApplicable {
        /// The rule key.
        rule: &'static str,
        /// The field's declared type.
        field_type: &'static str,
    },
    /// An enum without `values`, or `values` on a non-enum.
    #[error("fields of type `enum` need a non-empty `values` list")]
    MissingEnumValues,
    /// An object without nested `fields`.
    #[error("fields of type `object` need a non-empty `fields` map")]
    MissingObjectFields,
    /// A field name that cannot be addressed by a dotted path.
    #[error("field names must be non-empty and contain no `.`")]
    InvalidFieldName,
    /// `default` does not pass the field's own rules.
    #[error("`default` is not a valid value for this field ({0})")]
    InvalidDefault(ErrorCode),
    /// `required_unless` names a field that is not a declared sibling, or is combined with
    /// `required: true`.
    #[error(
        "`required_unless` must list declared sibling fields and not be combined with `required`"
    )]
    InvalidRequiredUnless,
    /// `default` together with `required: true` can never apply.
    #[error("`default` has no effect on a required field")]
    DefaultOnRequired,
    /// The JSON Schema file could not be read.
    #[error("cannot read JSON Schema file `{path}`: {reason}")]
    UnreadableJsonSchema {
        /// The path as resolved against the policy directory.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The JSON Schema file is not JSON or not a valid draft 2020-12 schema.
    #[error("invalid JSON Schema `{path}`: {reason}")]
    InvalidJsonSchema {
        /// The path as resolved against the policy directory.
        path: String,
        /// What the parser or compiler said.
        reason: String,
    },
}
