//! Compilation of a [`SchemaDef`] into a [`Schema`]: every rule is checked, every regex built
//! and every default validated once, so a schema that compiles cannot fail at request time for
//! a configuration reason.

use std::path::Path;

use indexmap::IndexMap;
use regex::Regex;
use serde_json::Value;

use crate::check::{Outcome, check_object, check_value};
use crate::def::{FieldDef, FieldType, SchemaDef, UnknownFields};
use crate::error::{ErrorCode, FieldError, SchemaError, SchemaErrorKind};
use crate::json_schema::JsonSchemaRules;
use crate::normalize::Pipeline;
use crate::rules::{Bounds, CompiledField, ObjectRules, Rule, TextKind, TextRule};

/// A compiled, immutable schema. Cheap to share (`Send + Sync`); validation never mutates it.
#[derive(Debug)]
pub struct Schema {
    name: String,
    form: Form,
}

#[derive(Debug)]
enum Form {
    Fields(ObjectRules),
    JsonSchema(Box<JsonSchemaRules>),
}

impl Schema {
    /// Compiles `def`. `name` is the schema's key under `schemas:`; `base_dir` is the directory
    /// of the policy file, against which `json_schema` paths are resolved. All problems are
    /// reported, each with its path inside the definition (e.g. `fields.email.pattern`).
    pub fn compile(name: &str, def: &SchemaDef, base_dir: &Path) -> Result<Self, Vec<SchemaError>> {
        let mut errors = Vec::new();
        let form = match (&def.fields, &def.json_schema) {
            (Some(fields), None) => {
                let mut compiler = Compiler {
                    schema: name,
                    unknown: def.unknown_fields,
                    errors: &mut errors,
                };
                Some(Form::Fields(compiler.object(fields, "", "fields")))
            }
            (None, Some(path)) => match JsonSchemaRules::load(&base_dir.join(path)) {
                Ok(rules) => Some(Form::JsonSchema(Box::new(rules))),
                Err(kind) => {
                    errors.push(schema_error(name, "json_schema", kind));
                    None
                }
            },
            _ => {
                errors.push(schema_error(name, "", SchemaErrorKind::AmbiguousForm));
                None
            }
        };
        match form {
            Some(form) if errors.is_empty() => Ok(Self {
                name: name.to_owned(),
                form,
            }),
            _ => Err(errors),
        }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Validates `input` and returns it normalised, or every error found.
    ///
    /// Compact form: the result holds only declared fields (normalised, defaults filled in;
    /// with `unknown_fields: ignore` undeclared fields are left out). JSON Schema form: the
    /// result is `input` unchanged.
    pub fn validate(&self, input: &Value) -> Result<Value, Vec<FieldError>> {
        match &self.form {
            Form::Fields(rules) => {
                let mut errors = Vec::new();
                match check_object(rules, "", input, &mut errors) {
                    Outcome::Value(value) if errors.is_empty() => Ok(value),
                    // Defensive: an invalid outcome always comes with at least one error.
                    _ if errors.is_empty() => {
                        Err(vec![FieldError::declared("", ErrorCode::InvalidType)])
                    }
                    _ => Err(errors),
                }
            }
            Form::JsonSchema(rules) => rules.validate(input),
        }
    }
}

fn schema_error(schema: &str, path: &str, kind: SchemaErrorKind) -> SchemaError {
    SchemaError {
        schema: schema.to_owned(),
        path: path.to_owned(),
        kind,
    }
}

struct Compiler<'e> {
    schema: &'e str,
    unknown: UnknownFields,
    errors: &'e mut Vec<SchemaError>,
}

impl Compiler<'_> {
    fn error(&mut self, path: &str, kind: SchemaErrorKind) {
        self.errors.push(schema_error(self.schema, path, kind));
    }

    /// `prefix` is the input path of this object level, `def_path` its path in the definition.
    fn object(
        &mut self,
        fields: &IndexMap<String, FieldDef>,
        prefix: &str,
        def_path: &str,
    ) -> ObjectRules {
        let mut compiled = Vec::with_capacity(fields.len());
        for (name, def) in fields {
            let def_path = format!("{def_path}.{name}");
            if name.is_empty() || name.contains('.') {
                self.error(&def_path, SchemaErrorKind::InvalidFieldName);
                continue;
            }
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if let Some(others) = &def.required_unless {
                let valid = !def.required
                    && !others.is_empty()
                    && others
                        .iter()
                        .all(|other| other != name && fields.contains_key(other));
                if !valid {
                    self.error(
                        &format!("{def_path}.required_unless"),
                        SchemaErrorKind::InvalidRequiredUnless,
                    );
                }
            }
            if let Some(field) = self.field(name, path, def, &def_path) {
                compiled.push(field);
            }
        }
        ObjectRules {
            fields: compiled,
            unknown: self.unknown,
        }
    }

    fn field(
        &mut self,
        name: &str,
        path: String,
        def: &FieldDef,
        def_path: &str,
    ) -> Option<CompiledField> {
        let errors_before = self.errors.len();
        self.check_applicable(def, def_path);
        let rule = self.rule(def, &path, def_path)?;
        let default = match &def.default {
            None => None,
            Some(_) if def.required => {
                self.error(
                    &format!("{def_path}.default"),
                    SchemaErrorKind::DefaultOnRequired,
                );
                None
            }
            Some(value) => self.default(&rule, &path, value, def_path),
        };
        (self.errors.len() == errors_before).then(|| CompiledField {
            name: name.to_owned(),
            path,
            required: def.required,
            required_unless: def.required_unless.clone().unwrap_or_default(),
            default,
            rule,
        })
    }

    /// Refuses rules that would silently do nothing for this type.
    fn check_applicable(&mut self, def: &FieldDef, def_path: &str) {
        use FieldType as T;
        let ty = def.field_type;
        let text = matches!(
            ty,
            T::String | T::Date | T::Time | T::Datetime | T::Email | T::Phone | T::Enum
        );
        let checks: [(&'static str, bool, bool); 7] = [
            (
                "min_length",
                def.min_length.is_some(),
                matches!(ty, T::String | T::Email | T::Phone),
            ),
            (
                "max_length",
                def.max_length.is_some(),
                matches!(ty, T::String | T::Email | T::Phone),
            ),
            (
                "min",
                def.min.is_some(),
                matches!(ty, T::Integer | T::Number),
            ),
            (
                "max",
                def.max.is_some(),
                matches!(ty, T::Integer | T::Number),
            ),
            ("pattern", def.pattern.is_some(), ty == T::String),
            ("normalize", def.normalize.is_some(), text),
            ("values", def.values.is_some(), ty == T::Enum),
        ];
        for (rule, given, applies) in checks {
            if given && !applies {
                self.error(
                    &format!("{def_path}.{rule}"),
                    SchemaErrorKind::RuleNotApplicable {
                        rule,
                        field_type: ty.as_str(),
                    },
                );
            }
        }
        if def.fields.is_some() && ty != T::Object {
            self.error(
                &format!("{def_path}.fields"),
                SchemaErrorKind::RuleNotApplicable {
                    rule: "fields",
                    field_type: ty.as_str(),
                },
            );
        }
    }

    fn rule(&mut self, def: &FieldDef, path: &str, def_path: &str) -> Option<Rule> {
        let kind = match def.field_type {
            FieldType::Integer => return Some(Rule::Integer(self.bounds(def, def_path))),
            FieldType::Number => return Some(Rule::Number(self.bounds(def, def_path))),
            FieldType::Boolean => return Some(Rule::Boolean),
            FieldType::Object => {
                return match &def.fields {
                    Some(fields) if !fields.is_empty() => Some(Rule::Object(self.object(
                        fields,
                        path,
                        &format!("{def_path}.fields"),
                    ))),
                    _ => {
                        self.error(def_path, SchemaErrorKind::MissingObjectFields);
                        None
                    }
                };
            }
            FieldType::String => TextKind::String,
            FieldType::Date => TextKind::Date,
            FieldType::Time => TextKind::Time,
            FieldType::Datetime => TextKind::Datetime,
            FieldType::Email => TextKind::Email,
            FieldType::Phone => TextKind::Phone,
            FieldType::Enum => match &def.values {
                Some(values) if !values.is_empty() && values.iter().all(|v| !v.is_empty()) => {
                    TextKind::Enum(values.clone())
                }
                _ => {
                    self.error(
                        &format!("{def_path}.values"),
                        SchemaErrorKind::MissingEnumValues,
                    );
                    return None;
                }
            },
        };
        if let (Some(min), Some(max)) = (def.min_length, def.max_length)
            && min > max
        {
            self.error(
                &format!("{def_path}.min_length"),
                SchemaErrorKind::InvertedBounds {
                    lower: "min_length",
                    lower_value: min.to_string(),
                    upper: "max_length",
                    upper_value: max.to_string(),
                },
            );
        }
        let pattern = match def.pattern.as_deref().map(Regex::new) {
            None => None,
            Some(Ok(regex)) => Some(regex),
            Some(Err(error)) => {
                self.error(
                    &format!("{def_path}.pattern"),
                    SchemaErrorKind::InvalidPattern(error),
                );
                None
            }
        };
        let pipeline = def
            .normalize
            .as_deref()
            .map_or(Pipeline::DEFAULT, Pipeline::from_steps);
        Some(Rule::Text(TextRule {
            kind,
            pipeline,
            min_length: def.min_length,
            max_length: def.max_length,
            pattern,
        }))
    }

    fn bounds(&mut self, def: &FieldDef, def_path: &str) -> Bounds {
        for (key, value) in [("min", def.min), ("max", def.max)] {
            if value.is_some_and(|v| !v.is_finite()) {
                self.error(
                    &format!("{def_path}.{key}"),
                    SchemaErrorKind::NonFiniteBound(key),
                );
            }
        }
        if let (Some(min), Some(max)) = (def.min, def.max)
            && min > max
        {
            self.error(
                &format!("{def_path}.min"),
                SchemaErrorKind::InvertedBounds {
                    lower: "min",
                    lower_value: min.to_string(),
                    upper: "max",
                    upper_value: max.to_string(),
                },
            );
        }
        Bounds {
            min: def.min,
            max: def.max,
        }
    }

    /// A default must pass the field's own rules; it is stored normalised.
    fn default(&mut self, rule: &Rule, path: &str, value: &Value, def_path: &str) -> Option<Value> {
        let mut field_errors = Vec::new();
        let outcome = check_value(rule, path, value, &mut field_errors);
        let code = match (outcome, field_errors.first()) {
            (Outcome::Value(normalised), None) => return Some(normalised),
            (_, Some(error)) => error.code,
            (_, None) => ErrorCode::Required,
        };
        self.error(
            &format!("{def_path}.default"),
            SchemaErrorKind::InvalidDefault(code),
        );
        None
    }
}
