//! Error types. Messages name the offending config item or a byte position, never a value from
//! a body or log line (those may be personal data).

/// A redaction config that cannot be compiled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A field rule's path does not follow the path syntax.
    #[error("redaction field rule #{index} (`{path}`): {reason}")]
    InvalidPath {
        /// Position of the rule in `fields` (0-based).
        index: usize,
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two field rules address the same path.
    #[error("redaction field rule #{index} (`{path}`): path already has a rule")]
    DuplicatePath {
        /// Position of the second rule in `fields` (0-based).
        index: usize,
        /// The path as written.
        path: String,
    },
    /// `pseudonym_key_env` names a variable that is not set (or not UTF-8).
    #[error("redaction pseudonym_key_env: environment variable `{var}` is not set")]
    MissingPseudonymKey {
        /// The variable name.
        var: String,
    },
    /// The pseudonym key is too short to resist brute force.
    #[error(
        "redaction pseudonym_key_env: the key in `{var}` must be at least {min} bytes",
        min = crate::pseudonym::MIN_KEY_LEN
    )]
    WeakPseudonymKey {
        /// The variable name.
        var: String,
    },
}

/// A body that `redact_json_bytes` cannot treat as JSON.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    /// The bytes are not one well-formed JSON document.
    #[error("body is not valid JSON (line {line}, column {column})")]
    InvalidJson {
        /// 1-based line of the first error.
        line: usize,
        /// 1-based column of the first error.
        column: usize,
    },
    /// The bytes are not UTF-8.
    #[error("body is not valid UTF-8 (byte {offset})")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
}
