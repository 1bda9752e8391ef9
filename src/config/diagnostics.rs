//! Errors in configuration files, always pointing at `file:line:col`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::locate::Locator;

/// One problem in one file. Displayed as `file:line:col: message`, the form editors jump to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// A parsed YAML file together with what is needed to point at its nodes.
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    locator: Locator,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<Self, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| Diagnostic {
            file: path.to_path_buf(),
            line: 1,
            col: 1,
            message: format!("cannot read file: {e}"),
        })?;
        Ok(Self::from_text(path, text))
    }

    pub fn from_text(path: &Path, text: String) -> Self {
        let locator = Locator::new(&text);
        Self {
            path: path.to_path_buf(),
            text,
            locator,
        }
    }

    /// A diagnostic at the node `path` (e.g. `routes[1].limits[0]`).
    pub fn at(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        let (line, col) = self.locator.find(path);
        Diagnostic {
            file: self.path.clone(),
            line,
            col,
            message: message.into(),
        }
    }

    /// Deserialises the file, turning serde's error into a positioned diagnostic.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        if self.text.trim().is_empty() {
            return serde_yaml::from_str("{}").map_err(|e| self.serde_error(e));
        }
        serde_yaml::from_str(&self.text).map_err(|e| self.serde_error(e))
    }

    fn serde_error(&self, error: serde_yaml::Error) -> Diagnostic {
        let (line, col) = error
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        // serde_yaml prefixes the message with the path and position; keep only the reason.
        let message = error.to_string();
        let message = match message.split_once(" at line ") {
            Some((head, _)) => head.to_string(),
            None => message,
        };
        Diagnostic {
            file: self.path.clone(),
            line,
            col,
            message,
        }
    }
}
