//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use frontdesk_validate::{Schema, SchemaDef};

/// The repository's `policies/` directory.
pub fn policy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

/// Parses a policy file the way the policy loader does: `schemas:` into `HashMap<String, SchemaDef>`.
pub fn parse_schemas(yaml: &str) -> HashMap<String, SchemaDef> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        schemas: HashMap<String, SchemaDef>,
    }
    serde_yaml::from_str::<File>(yaml)
        .expect("policy file parses")
        .schemas
}

/// Every schema of the shipped `policies/booking-schemas.yaml`, compiled.
pub fn shipped_schemas() -> HashMap<String, Schema> {
    let dir = policy_dir();
    let text = std::fs::read_to_string(dir.join("booking-schemas.yaml")).expect("shipped file");
    parse_schemas(&text)
        .into_iter()
        .map(|(name, def)| {
            let schema = Schema::compile(&name, &def, &dir)
                .unwrap_or_else(|errors| panic!("{name} does not compile: {errors:?}"));
            (name, schema)
        })
        .collect()
}

/// Compiles one schema written inline as YAML.
pub fn compile_yaml(yaml: &str) -> Schema {
    let def: SchemaDef = serde_yaml::from_str(yaml).expect("schema parses");
    Schema::compile("test", &def, Path::new(".")).expect("schema compiles")
}

/// `(field, code)` pairs of a failed validation, for compact assertions.
pub fn error_pairs(
    result: Result<serde_json::Value, Vec<frontdesk_validate::FieldError>>,
) -> Vec<(String, String)> {
    match result {
        Ok(value) => panic!("expected errors, got {value}"),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.field, e.code.as_str().to_owned()))
            .collect(),
    }
}
