//! Secrets (signing keys, API keys, the admin token) come from the environment or files, are read
//! when a snapshot is compiled, and can never be printed: `Secret` has no `Display` and its
//! `Debug` is redacted, and its bytes are wiped when it is dropped.

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;
use zeroize::Zeroizing;

/// Where a secret comes from: an environment variable or a file (trailing newline trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    #[serde(default)]
    pub env: Option<String>,
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// An optional secret may be absent (e.g. the previous key during rotation).
    #[serde(default)]
    pub optional: bool,
}

impl SecretRef {
    pub fn env(var: &str, optional: bool) -> Self {
        Self {
            env: Some(var.to_string()),
            file: None,
            optional,
        }
    }

    /// What the secret is called in messages (never its value).
    pub fn describe(&self) -> String {
        match (&self.env, &self.file) {
            (Some(var), _) => format!("environment variable {var}"),
            (None, Some(path)) => format!("file {}", path.display()),
            (None, None) => "an empty secret reference".into(),
        }
    }

    /// Reads the secret. `Ok(None)` for an absent optional secret.
    pub fn resolve(&self) -> Result<Option<Secret>, String> {
        let value = match (&self.env, &self.file) {
            (Some(var), _) => std::env::var(var).ok().filter(|v| !v.is_empty()),
            (None, Some(path)) => std::fs::read_to_string(path)
                .ok()
                .map(|v| v.trim_end_matches(['\n', '\r']).to_string())
                .filter(|v| !v.is_empty()),
            (None, None) => return Err("a secret needs `env` or `file`".into()),
        };
        match value {
            Some(v) => Ok(Some(Secret::new(v))),
            None if self.optional => Ok(None),
            None => Err(format!("missing secret: {} is not set", self.describe())),
        }
    }
}

/// A secret value. Deliberately not `Display`; `Debug` prints a placeholder; its bytes are
/// overwritten when it is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
