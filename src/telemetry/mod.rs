//! Logging and metrics.
//!
//! Every log line passes through the PII redactor on its way out, whatever code emitted it and
//! whatever field or error message carries the data: redaction happens on the formatted line in
//! the writer, not at call sites that could forget it. Panic messages take the same path.

pub mod metrics;

use std::io::{self, Write};
use std::sync::{Arc, OnceLock};

use frontdesk_redact::Redactor;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// Writes formatted log lines through the redactor.
#[derive(Clone)]
pub struct RedactingWriter<W> {
    redactor: Arc<Redactor>,
    inner: W,
}

impl<W> RedactingWriter<W> {
    pub fn new(redactor: Arc<Redactor>, inner: W) -> Self {
        Self { redactor, inner }
    }
}

/// One formatted event, redacted when flushed to the sink.
pub struct RedactedLine<W: Write> {
    redactor: Arc<Redactor>,
    sink: W,
    buffer: Vec<u8>,
}

impl<W: Write> Write for RedactedLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let redacted = self.redactor.redact_text(&text);
        self.sink.write_all(redacted.as_bytes())?;
        self.buffer.clear();
        self.sink.flush()
    }
}

impl<W: Write> Drop for RedactedLine<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

impl<'a, M> MakeWriter<'a> for RedactingWriter<M>
where
    M: MakeWriter<'a>,
{
    type Writer = RedactedLine<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLine {
            redactor: self.redactor.clone(),
            sink: self.inner.make_writer(),
            buffer: Vec::with_capacity(256),
        }
    }
}

static LOG_REDACTOR: OnceLock<Arc<Redactor>> = OnceLock::new();

/// The redactor used for log lines (built-in detectors).
pub fn log_redactor() -> Arc<Redactor> {
    LOG_REDACTOR
        .get_or_init(|| Arc::new(Redactor::default()))
        .clone()
}

/// Installs the global subscriber writing redacted lines to `sink`. Later calls are no-ops, so
/// tests that start several servers in one process share the first subscriber.
pub fn init_logging<M>(format: LogFormat, level: &str, sink: M)
where
    M: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // Pingora's own start/stop chatter is kept to warnings unless asked for explicitly.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("pingora_core=warn,pingora_proxy=warn,{level}"))
    });
    let writer = RedactingWriter::new(log_redactor(), sink);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
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
