//! Logging and metrics.
//!
//! Every log line passes through the PII redactor on its way out, whatever code emitted it and
//! whatever field or error message carries the data: redaction happens on the formatted line in
//! the writer (the log pipe's writer thread, or [`RedactingSink`] when writing synchronously),
//! not at call sites that could forget it. Panic messages take the same path.

mod json_lines;
mod log_pipe;
pub mod metrics;

use std::io::{self, Write};
use std::sync::{Arc, OnceLock};

use frontdesk_redact::Redactor;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// Redacts each formatted event before it reaches `inner`. The formatter hands over one whole
/// event per write, so a finding never straddles two writes.
pub struct RedactingSink<W> {
    redactor: Arc<Redactor>,
    inner: W,
}

impl<W> RedactingSink<W> {
    pub fn new(inner: W) -> Self {
        Self {
            redactor: log_redactor(),
            inner,
        }
    }
}

impl<W: Write> Write for RedactingSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner
            .write_all(self.redactor.redact_text(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

static LOG_REDACTOR: OnceLock<Arc<Redactor>> = OnceLock::new();

/// The redactor used for log lines (built-in detectors).
pub fn log_redactor() -> Arc<Redactor> {
    LOG_REDACTOR
        .get_or_init(|| Arc::new(Redactor::default()))
        .clone()
}

/// Installs the global subscriber for `frontdesk run`: events are formatted on the request
/// thread, then redacted and written to `sink` in batches by a writer thread (see
/// [`log_pipe`]), so neither the redactor nor a slow log pipe sits on the request path. Keep the
/// guard alive until exit; dropping it writes what is queued.
pub fn init_logging<W: Write + Send + 'static>(
    format: LogFormat,
    level: &str,
    sink: W,
) -> io::Result<log_pipe::LogPipeGuard> {
    let (pipe, guard) = log_pipe::LogPipe::start(log_redactor(), sink)?;
    install(format, level, pipe);
    Ok(guard)
}

/// Like [`init_logging`], but each line is redacted and written before the event returns (tests
/// read what was logged right after the fact).
pub fn init_logging_sync<W: Write + Clone + Send + Sync + 'static>(
    format: LogFormat,
    level: &str,
    sink: W,
) {
    install(format, level, move || RedactingSink::new(sink.clone()));
}

/// Installs the global subscriber. Later calls are no-ops, so tests that start several servers
/// in one process share the first subscriber.
fn install<M>(format: LogFormat, level: &str, writer: M)
where
    M: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // Pingora's own start/stop chatter is kept to warnings unless asked for explicitly.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("pingora_core=warn,{level}")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = match format {
        LogFormat::Json => builder.event_format(json_lines::JsonLines).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    if installed.is_err() {
        tracing::debug!("a global subscriber was already installed");
    }
}

/// Panic messages can carry request data; route them through the redacting log instead of
/// printing them raw to stderr. Installed by `frontdesk run` (tests keep the default hook).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        tracing::error!(%location, %message, "panic");
    }));
}
