//! `logging.format: json`: one JSON object per event and line —
//! `{"timestamp":"…Z","level":"INFO","message":"request","route":"…",…,"target":"access"}` —
//! fields flattened in the order the event declares them.
//!
//! Hand-written because tracing-subscriber's JSON formatter was an eighth of the instructions
//! of a forwarded request: it serialises through serde into an `io::Write` adapter that
//! re-checks every piece as UTF-8, allocates for the timestamp and every `Debug` value, and
//! formats the date anew for each event. Here everything is written straight into the line
//! buffer and the date part of the timestamp is formatted once a second per thread. Spans are
//! not written: frontdesk opens none.

use std::cell::Cell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON event format.
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Records of the `log` crate (Pingora's) carry their own target in `log.*` fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        out.write_str("{\"timestamp\":\"")?;
        write_timestamp(&mut out, SystemTime::now())?;
        out.write_str("\",\"level\":\"")?;
        out.write_str(meta.level().as_str())?;
        out.write_char('"')?;
        let mut fields = Fields {
            out: &mut out,
            skip_log_fields: normalized.is_some(),
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        out.write_str(",\"target\":")?;
        write_string(&mut out, meta.target())?;
        out.write_str("}\n")
    }
}

/// Writes each field as `,"name":value`.
struct Fields<'w, 'a> {
    out: &'w mut Writer<'a>,
    /// A `log` record's `log.target`, `log.file`, … are already in the metadata.
    skip_log_fields: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_err() || (self.skip_log_fields && field.name().starts_with("log.")) {
            return;
        }
        self.result = (|| {
            self.out.write_str(",\"")?;
            self.out.write_str(field.name())?;
            self.out.write_str("\":")?;
            value(self.out)
        })();
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |out| write_string(out, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |out| {
            out.write_str(itoa::Buffer::new().format(value))
        });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |out| {
            out.write_str(itoa::Buffer::new().format(value))
        });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |out| {
            if value.is_finite() {
                write!(out, "{value}")
            } else {
                out.write_str("null")
            }
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |out| {
            out.write_str(if value { "true" } else { "false" })
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |out| {
            out.write_char('"')?;
            write!(Escaping(&mut *out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

/// `value` as a JSON string literal.
fn write_string(out: &mut impl Write, value: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaping(&mut *out).write_str(value)?;
    out.write_char('"')
}

/// Escapes what passes through for the inside of a JSON string literal.
struct Escaping<W>(W);

impl<W: Write> Write for Escaping<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut clean = 0;
        for (i, byte) in s.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..0x20 | 0x7f => "",
                _ => continue,
            };
            self.0.write_str(&s[clean..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            clean = i + 1;
        }
        self.0.write_str(&s[clean..])
    }
}

thread_local! {
    /// The second last formatted on this thread and its `YYYY-MM-DDTHH:MM:SS` text.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// `2026-11-26T05:34:11.513025Z`: UTC, microseconds.
fn write_timestamp(out: &mut impl Write, now: SystemTime) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let second = since.as_secs();
    let (cached, mut text) = SECOND.get();
    if cached != second {
        text = date_and_time(second);
        SECOND.set((second, text));
    }
    let mut micros = *b".000000Z";
    let mut n = since.subsec_micros();
    for digit in micros[1..7].iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
    // Both arrays hold ASCII only.
    out.write_str(std::str::from_utf8(&text).unwrap_or_default())?;
    out.write_str(std::str::from_utf8(&micros).unwrap_or_default())
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix second, in UTC.
fn date_and_time(second: u64) -> [u8; 19] {
    let time = i64::try_from(second)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let civil = jiff::tz::Offset::UTC.to_datetime(time);
    let mut text = [b'0'; 19];
    let formatted = civil.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    if formatted.len() == text.len() {
        text.copy_from_slice(formatted.as_bytes());
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;

    /// Every line the subscriber wrote while `emit` ran, as text.
    fn raw_lines(emit: impl FnOnce()) -> Vec<String> {
        let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        assert!(text.ends_with('\n'), "{text}");
        text.lines().map(str::to_owned).collect()
    }

    /// Every line the subscriber wrote while `emit` ran, parsed.
    fn lines(emit: impl FnOnce()) -> Vec<Value> {
        raw_lines(emit)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn fields_are_flattened_in_order_between_level_and_target() {
        let raw = raw_lines(|| {
            tracing::info!(
                target: "access",
                route = "bench",
                status = 200_u64,
                delta = -3_i64,
                duration_ms = 6.304,
                cached = true,
                error = Option::<&str>::None,
                "request"
            );
        });
        assert_eq!(raw.len(), 1);
        let keys = [
            "timestamp",
            "level",
            "message",
            "route",
            "status",
            "delta",
            "duration_ms",
            "cached",
            "target",
        ];
        let at = |key: &str| raw[0].find(&format!("\"{key}\":")).unwrap_or(usize::MAX);
        assert!(keys.windows(2).all(|w| at(w[0]) < at(w[1])), "{}", raw[0]);
        let line: Value = serde_json::from_str(&raw[0]).unwrap();
        // An absent optional field is left out, not written as null.
        assert_eq!(line.as_object().unwrap().len(), keys.len(), "{line}");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "request");
        assert_eq!(line["route"], "bench");
        assert_eq!(line["status"], 200);
        assert_eq!(line["delta"], -3);
        assert_eq!(line["duration_ms"], 6.304);
        assert_eq!(line["cached"], true);
        assert_eq!(line["target"], "access");
    }

    #[test]
    fn strings_debug_values_and_messages_are_escaped() {
        let nasty = "quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} umlaut ü";
        let lines = lines(|| {
            tracing::warn!(text = nasty, debug = ?vec![nasty], "formatted {}", nasty);
        });
        let line = &lines[0];
        assert_eq!(line["text"], nasty);
        assert_eq!(line["debug"], format!("{:?}", vec![nasty]));
        assert_eq!(line["message"], format!("formatted {nasty}"));
        assert_eq!(line["level"], "WARN");
    }

    #[test]
    fn non_finite_floats_become_null() {
        let lines = lines(|| tracing::info!(ratio = f64::NAN, big = f64::INFINITY, "x"));
        assert_eq!(lines[0]["ratio"], Value::Null);
        assert_eq!(lines[0]["big"], Value::Null);
    }

    #[test]
    fn log_crate_records_keep_their_own_target_without_log_fields() {
        let lines = lines(|| {
            let record = tracing_log::log::Record::builder()
                .args(format_args!("upstream reset"))
                .level(tracing_log::log::Level::Warn)
                .target("pingora_core::connectors")
                .module_path(Some("pingora_core::connectors"))
                .file(Some("connectors/mod.rs"))
                .line(Some(42))
                .build();
            tracing_log::format_trace(&record).unwrap();
        });
        assert_eq!(
            lines[0],
            json!({
                "timestamp": lines[0]["timestamp"],
                "level": "WARN",
                "message": "upstream reset",
                "target": "pingora_core::connectors",
            })
        );
    }

    #[test]
    fn timestamps_are_utc_with_microseconds_across_second_and_day_boundaries() {
        let at = |secs: u64, micros: u64| {
            let mut text = String::new();
            let time = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros);
            write_timestamp(&mut text, time).unwrap();
            text
        };
        // 2026-11-26T05:34:11Z
        assert_eq!(at(1_795_671_251, 513_025), "2026-11-26T05:34:11.513025Z");
        assert_eq!(at(1_795_671_251, 7), "2026-11-26T05:34:11.000007Z");
        // The cached second must not leak into the next one, nor into the next day.
        assert_eq!(at(1_795_671_252, 0), "2026-11-26T05:34:12.000000Z");
        assert_eq!(at(1_795_737_599, 999_999), "2026-11-26T23:59:59.999999Z");
        assert_eq!(at(1_795_737_600, 0), "2026-11-27T00:00:00.000000Z");
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
    }
}
