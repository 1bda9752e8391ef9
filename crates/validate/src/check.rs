//! Validation of input against compiled compact-form rules: type coercion, normalisation,
//! bounds, patterns, required fields, defaults and unknown fields. Every error is collected.

use serde_json::{Map, Number, Value};

use crate::contact::{parse_email, parse_phone};
use crate::def::UnknownFields;
use crate::error::{ErrorCode, FieldError, UNKNOWN_FIELD_LABEL};
use crate::rules::{Bounds, CompiledField, ObjectRules, Rule, TextKind, TextRule};
use crate::temporal::{parse_date, parse_datetime, parse_time};

/// Longest unknown-key path echoed back in an error; keys are caller-chosen text.
const MAX_ECHOED_KEY_CHARS: usize = 64;

/// Result of checking one value.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Valid; the normalised value.
    Value(Value),
    /// Empty after normalisation (or `null`): treated like an absent field.
    Missing,
    /// Refused; the errors were pushed.
    Invalid,
}

/// Checks one present value against `rule`. `path` names it in errors.
pub(crate) fn check_value(
    rule: &Rule,
    path: &str,
    value: &Value,
    errors: &mut Vec<FieldError>,
) -> Outcome {
    if value.is_null() {
        return Outcome::Missing;
    }
    let result = match rule {
        Rule::Text(text) => return check_text(text, path, value, errors),
        Rule::Object(rules) => return check_object(rules, path, value, errors),
        Rule::Integer(_) => coerce_integer(value).map(|n| (f64_of(n), Value::from(n))),
        Rule::Number(_) => coerce_number(value).map(|(n, json)| (n, Value::Number(json))),
        Rule::Boolean => coerce_bool(value).map(|b| (0.0, Value::Bool(b))),
    };
    let (numeric, normalised) = match result {
        Coerced::Ok(pair) => pair,
        Coerced::Empty => return Outcome::Missing,
        Coerced::WrongType => {
            errors.push(FieldError::declared(path, ErrorCode::InvalidType));
            return Outcome::Invalid;
        }
    };
    if let Rule::Integer(bounds) | Rule::Number(bounds) = rule
        && let Some(code) = bounds_violation(*bounds, numeric)
    {
        errors.push(FieldError::declared(path, code));
        return Outcome::Invalid;
    }
    Outcome::Value(normalised)
}

/// Checks an object level: declared fields in declaration order, then undeclared keys.
pub(crate) fn check_object(
    rules: &ObjectRules,
    prefix: &str,
    value: &Value,
    errors: &mut Vec<FieldError>,
) -> Outcome {
    let Value::Object(input) = value else {
        errors.push(FieldError::declared(prefix, ErrorCode::InvalidType));
        return Outcome::Invalid;
    };
    let errors_before = errors.len();
    let mut output = Map::new();
    for field in &rules.fields {
        let required = field.required
            || (!field.required_unless.is_empty()
                && !field
                    .required_unless
                    .iter()
                    .any(|other| is_present(input.get(other))));
        if let Some(value) = check_field(field, required, input.get(&field.name), errors) {
            output.insert(field.name.clone(), value);
        }
    }
    if rules.unknown == UnknownFields::Reject {
        for key in input.keys() {
            if !rules.fields.iter().any(|field| &field.name == key) {
                errors.push(FieldError::with_label(
                    unknown_path(prefix, key),
                    ErrorCode::UnknownField,
                    UNKNOWN_FIELD_LABEL.to_owned(),
                ));
            }
        }
    }
    if errors.len() == errors_before {
        Outcome::Value(Value::Object(output))
    } else {
        Outcome::Invalid
    }
}

/// Checks one declared field; returns what goes into the output, if anything.
fn check_field(
    field: &CompiledField,
    required: bool,
    value: Option<&Value>,
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    let outcome = match value {
        Some(value) => check_value(&field.rule, &field.path, value, errors),
        None => Outcome::Missing,
    };
    match outcome {
        Outcome::Value(value) => Some(value),
        Outcome::Invalid => None,
        Outcome::Missing if required => {
            errors.push(FieldError::declared(&field.path, ErrorCode::Required));
            None
        }
        Outcome::Missing => field.default.clone(),
    }
}

fn check_text(rule: &TextRule, path: &str, value: &Value, errors: &mut Vec<FieldError>) -> Outcome {
    let raw = match value {
        Value::String(text) => text.clone(),
        // Voice agents sometimes send a phone number as a JSON number.
        Value::Number(number) if matches!(rule.kind, TextKind::Phone) && number.is_u64() => {
            number.to_string()
        }
        _ => {
            errors.push(FieldError::declared(path, rule.kind.type_error()));
            return Outcome::Invalid;
        }
    };
    let text = rule.pipeline.apply(&raw);
    if text.is_empty() {
        return Outcome::Missing;
    }
    let canonical = match &rule.kind {
        TextKind::String => Some(text),
        TextKind::Date => parse_date(&text),
        TextKind::Time => parse_time(&text),
        TextKind::Datetime => parse_datetime(&text),
        TextKind::Email => parse_email(&text),
        TextKind::Phone => parse_phone(&text),
        TextKind::Enum(values) => values
            .iter()
            .find(|allowed| allowed.to_lowercase() == text.to_lowercase())
            .cloned(),
    };
    let Some(canonical) = canonical else {
        errors.push(FieldError::declared(path, rule.kind.format_error()));
        return Outcome::Invalid;
    };
    let errors_before = errors.len();
    let length = canonical.chars().count();
    if rule.min_length.is_some_and(|min| length < min) {
        errors.push(FieldError::declared(path, ErrorCode::TooShort));
    }
    if rule.max_length.is_some_and(|max| length > max) {
        errors.push(FieldError::declared(path, ErrorCode::TooLong));
    }
    if rule
        .pattern
        .as_ref()
        .is_some_and(|pattern| !pattern.is_match(&canonical))
    {
        errors.push(FieldError::declared(path, ErrorCode::PatternMismatch));
    }
    if errors.len() == errors_before {
        Outcome::Value(Value::String(canonical))
    } else {
        Outcome::Invalid
    }
}

impl TextKind {
    /// Code for a JSON value of the wrong type. Typed text fields report their own format code,
    /// which tells the agent more than `invalid_type` (`date: 20260106` is a bad date).
    fn type_error(&self) -> ErrorCode {
        match self {
            Self::String | Self::Enum(_) => ErrorCode::InvalidType,
            _ => self.format_error(),
        }
    }

    fn format_error(&self) -> ErrorCode {
        match self {
            Self::String => ErrorCode::InvalidType,
            Self::Date => ErrorCode::InvalidDate,
            Self::Time => ErrorCode::InvalidTime,
            Self::Datetime => ErrorCode::InvalidDatetime,
            Self::Email => ErrorCode::InvalidEmail,
            Self::Phone => ErrorCode::InvalidPhone,
            Self::Enum(_) => ErrorCode::NotAllowed,
        }
    }
}

enum Coerced<T> {
    Ok(T),
    Empty,
    WrongType,
}

impl<T> Coerced<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Coerced<U> {
        match self {
            Self::Ok(value) => Coerced::Ok(f(value)),
            Self::Empty => Coerced::Empty,
            Self::WrongType => Coerced::WrongType,
        }
    }
}

/// JSON integers, integral numbers (`30.0`) and numeric strings (`"30"`, `" 30 "`, `"30.0"`).
fn coerce_integer(value: &Value) -> Coerced<i64> {
    let float = match value {
        Value::Number(number) => {
            if let Some(int) = number.as_i64() {
                return Coerced::Ok(int);
            }
            number.as_f64()
        }
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty() {
                return Coerced::Empty;
            }
            if let Ok(int) = text.parse::<i64>() {
                return Coerced::Ok(int);
            }
            text.parse::<f64>().ok()
        }
        _ => None,
    };
    match float {
        // The range check keeps the cast exact; 2^63 itself is out of range.
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 =>
        {
            #[allow(clippy::cast_possible_truncation)]
            Coerced::Ok(f as i64)
        }
        _ => Coerced::WrongType,
    }
}

/// JSON numbers and numeric strings; the JSON number is kept as given when there was one.
fn coerce_number(value: &Value) -> Coerced<(f64, Number)> {
    match value {
        Value::Number(number) => match number.as_f64() {
            Some(f) if f.is_finite() => Coerced::Ok((f, number.clone())),
            _ => Coerced::WrongType,
        },
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty() {
                return Coerced::Empty;
            }
            match text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                Some(f) => match Number::from_f64(f) {
                    Some(number) => Coerced::Ok((f, number)),
                    None => Coerced::WrongType,
                },
                None => Coerced::WrongType,
            }
        }
        _ => Coerced::WrongType,
    }
}

/// JSON booleans and the strings `true`/`false` (any case).
fn coerce_bool(value: &Value) -> Coerced<bool> {
    match value {
        Value::Bool(b) => Coerced::Ok(*b),
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty() {
                Coerced::Empty
            } else if text.eq_ignore_ascii_case("true") {
                Coerced::Ok(true)
            } else if text.eq_ignore_ascii_case("false") {
                Coerced::Ok(false)
            } else {
                Coerced::WrongType
            }
        }
        _ => Coerced::WrongType,
    }
}

#[allow(clippy::cast_precision_loss)]
fn f64_of(n: i64) -> f64 {
    // Bounds are f64 in the policy; integers beyond 2^53 only lose precision, not order.
    n as f64
}

fn bounds_violation(bounds: Bounds, value: f64) -> Option<ErrorCode> {
    if bounds.min.is_some_and(|min| value < min) {
        Some(ErrorCode::TooSmall)
    } else if bounds.max.is_some_and(|max| value > max) {
        Some(ErrorCode::TooLarge)
    } else {
        None
    }
}

/// Whether a sibling counts as given for `required_unless`: present, not `null`, not blank.
fn is_present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.trim().is_empty(),
        Some(_) => true,
    }
}

/// Path of an undeclared key, with the key cut short: it is caller-chosen text.
fn unknown_path(prefix: &str, key: &str) -> String {
    let key: String = key.chars().take(MAX_ECHOED_KEY_CHARS).collect();
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}
