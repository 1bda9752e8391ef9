//! The error every configuration type of this crate reports when it cannot be compiled.

/// A configuration value that cannot work. Found by `validate()` at `frontdesk check` and reload
/// time, never at request time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ConfigError {
    /// The offending field, as spelled in YAML (`breaker.jitter`, `retry.budget.percent`).
    pub field: &'static str,
    pub reason: &'static str,
}

impl ConfigError {
    pub(crate) fn new(field: &'static str, reason: &'static str) -> Self {
        Self { field, reason }
    }
}
