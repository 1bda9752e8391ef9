//! The `json_schema:` form: a draft 2020-12 file compiled with the `jsonschema` crate, and the
//! mapping of its errors onto this crate's [`FieldError`] paths and codes.
//!
//! Only the built-in drafts are available (the crate's network and file resolvers are compiled
//! out), so a `$ref` to anything outside the file fails at compile time, not at request time.

use std::path::Path;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::error::{ErrorCode, FieldError, ROOT_FIELD_LABEL, SchemaErrorKind, UNKNOWN_FIELD_LABEL};

/// A compiled JSON Schema.
#[derive(Debug)]
pub(crate) struct JsonSchemaRules {
    validator: Validator,
}

impl JsonSchemaRules {
    /// Reads and compiles the file at `path` as draft 2020-12, with `format` assertions on
    /// (by default 2020-12 treats `format` as an annotation only).
    pub(crate) fn load(path: &Path) -> Result<Self, SchemaErrorKind> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| {
            SchemaErrorKind::UnreadableJsonSchema {
                path: shown.clone(),
                reason: error.to_string(),
            }
        })?;
        let invalid = |reason: String| SchemaErrorKind::InvalidJsonSchema {
            path: shown.clone(),
            reason,
        };
        let schema: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self { validator })
    }

    /// Validates; the input is returned unchanged (this form does not normalise).
    pub(crate) fn validate(&self, input: &Value) -> Result<Value, Vec<FieldError>> {
        let errors: Vec<FieldError> = self
            .validator
            .iter_errors(input)
            .flat_map(|error| field_errors(&error))
            .collect();
        if errors.is_empty() {
            Ok(input.clone())
        } else {
            Err(errors)
        }
    }
}

/// One JSON Schema error becomes one or more field errors (one per unexpected property).
fn field_errors(error: &ValidationError<'_>) -> Vec<FieldError> {
    let field = dotted(error.instance_path().as_str());
    // The metric label comes from the *schema* location, which the schema file bounds; the
    // instance path may contain caller-chosen keys and array indices.
    let label = declared_label(error.schema_path().as_str());
    let code = match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let field = join(&field, name);
            let label = join_label(&label, name);
            return vec![FieldError::with_label(field, ErrorCode::Required, label)];
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|key| {
                    FieldError::with_label(
                        join(&field, key),
                        ErrorCode::UnknownField,
                        UNKNOWN_FIELD_LABEL.to_owned(),
                    )
                })
                .collect();
        }
        ValidationErrorKind::Type { .. } => ErrorCode::InvalidType,
        ValidationErrorKind::MinLength { .. } => ErrorCode::TooShort,
        ValidationErrorKind::MaxLength { .. } => ErrorCode::TooLong,
        ValidationErrorKind::Minimum { .. } | ValidationErrorKind::ExclusiveMinimum { .. } => {
            ErrorCode::TooSmall
        }
        ValidationErrorKind::Maximum { .. } | ValidationErrorKind::ExclusiveMaximum { .. } => {
            ErrorCode::TooLarge
        }
        ValidationErrorKind::Pattern { .. } => ErrorCode::PatternMismatch,
        ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => {
            ErrorCode::NotAllowed
        }
        ValidationErrorKind::Format { format } => match format.as_str() {
            "email" | "idn-email" => ErrorCode::InvalidEmail,
            "date" => ErrorCode::InvalidDate,
            "time" => ErrorCode::InvalidTime,
            "date-time" => ErrorCode::InvalidDatetime,
            _ => ErrorCode::SchemaViolation,
        },
        _ => ErrorCode::SchemaViolation,
    };
    vec![FieldError::with_label(field, code, label)]
}

/// JSON Pointer (`/attendee/name`) to dotted path (`attendee.name`).
fn dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// The property names along a schema location (`/properties/attendee/properties/name/maxLength`
/// gives `attendee.name`); `_root` when the keyword applies to the whole input.
fn declared_label(schema_pointer: &str) -> String {
    let segments: Vec<String> = schema_pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect();
    let names: Vec<&str> = segments
        .windows(2)
        .filter(|pair| pair[0] == "properties")
        .map(|pair| pair[1].as_str())
        .collect();
    if names.is_empty() {
        ROOT_FIELD_LABEL.to_owned()
    } else {
        names.join(".")
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn join_label(label: &str, name: &str) -> String {
    if label == ROOT_FIELD_LABEL {
        name.to_owned()
    } else {
        format!("{label}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_become_dotted_paths() {
        assert_eq!(dotted(""), "");
        assert_eq!(dotted("/attendee/name"), "attendee.name");
        assert_eq!(dotted("/a~1b/c~0d"), "a/b.c~d");
    }

    #[test]
    fn labels_follow_declared_properties() {
        assert_eq!(
            declared_label("/properties/attendee/properties/name/maxLength"),
            "attendee.name"
        );
        assert_eq!(declared_label("/required"), "_root");
    }
}
