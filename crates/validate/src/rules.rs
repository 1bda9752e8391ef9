//! Compiled rules: what [`crate::compile`] builds from a schema definition and [`crate::check`]
//! applies to a request.

use regex::Regex;
use serde_json::Value;

use crate::def::UnknownFields;
use crate::normalize::Pipeline;

/// The declared fields of one object level.
#[derive(Debug)]
pub(crate) struct ObjectRules {
    pub(crate) fields: Vec<CompiledField>,
    pub(crate) unknown: UnknownFields,
}

#[derive(Debug)]
pub(crate) struct CompiledField {
    pub(crate) name: String,
    /// Dotted path from the schema root; doubles as the bounded metric label.
    pub(crate) path: String,
    pub(crate) required: bool,
    /// Sibling field names whose presence lifts the requirement.
    pub(crate) required_unless: Vec<String>,
    /// Already normalised, so it is inserted as-is.
    pub(crate) default: Option<Value>,
    pub(crate) rule: Rule,
}

#[derive(Debug)]
pub(crate) enum Rule {
    Text(TextRule),
    Integer(Bounds),
    Number(Bounds),
    Boolean,
    Object(ObjectRules),
}

#[derive(Debug)]
pub(crate) struct TextRule {
    pub(crate) kind: TextKind,
    pub(crate) pipeline: Pipeline,
    pub(crate) min_length: Option<usize>,
    pub(crate) max_length: Option<usize>,
    pub(crate) pattern: Option<Regex>,
}

#[derive(Debug)]
pub(crate) enum TextKind {
    String,
    Date,
    Time,
    Datetime,
    Email,
    Phone,
    /// Declared spellings; matched case-insensitively.
    Enum(Vec<String>),
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bounds {
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
}
