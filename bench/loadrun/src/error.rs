//! The one error type of the load run: every failure names what was being done.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {}: {source}", path.display())]
    File {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{what} did not become ready: {detail}")]
    NotReady { what: String, detail: String },
    #[error("{what} failed: {detail}")]
    Tool { what: String, detail: String },
    #[error("unexpected answer from {what}: {detail}")]
    Answer { what: String, detail: String },
    #[error("{what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("plot {}: {detail}", path.display())]
    Plot { path: PathBuf, detail: String },
    #[error("interrupt handler: {0}")]
    Interrupt(#[from] ctrlc::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn file(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { what, path, source }
    }

    pub fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Io { what, source }
    }
}
