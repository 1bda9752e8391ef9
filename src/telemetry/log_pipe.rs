//! The log pipe of `frontdesk run`: request threads hand over formatted events, one writer
//! thread redacts them and writes them out in batches.
//!
//! Hand-written because `tracing-appender`'s non-blocking writer wakes its thread for every
//! line (a futex wake plus a context switch per request on a busy proxy) and writes each line
//! with its own system call. Here the writer is woken only when it sleeps idle; under load it
//! takes whatever accumulated every [`BATCH_INTERVAL`] and writes it with one call. Nothing is
//! dropped: past [`MAX_QUEUED`] bytes, request threads wait for the writer.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use frontdesk_redact::Redactor;
use tracing_subscriber::fmt::MakeWriter;

/// How long the writer lets events accumulate after writing a batch.
const BATCH_INTERVAL: Duration = Duration::from_millis(2);
/// Queued bytes beyond which request threads wait (a stuck log pipe must not eat the memory).
const MAX_QUEUED: usize = 16 << 20;

/// Events waiting for the writer: their bytes back to back, and where each one ends (events are
/// redacted one by one, so a finding can never straddle two of them).
#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// The writer is blocked waiting for the first event after an idle period.
    writer_idle: bool,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when the first event arrives while the writer is idle, and on close.
    work: Condvar,
    /// Signalled when the writer has taken a batch (room for waiting request threads).
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves the queue consistent (plain pushes): go on.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where `tracing` writes: each `write` call is one formatted event.
#[derive(Clone)]
pub struct LogPipe {
    shared: Arc<Shared>,
}

/// Stops the writer when dropped, after everything queued has been written.
pub struct LogPipeGuard {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

impl LogPipe {
    /// Starts the writer thread, which redacts every event with `redactor` and writes to `sink`.
    pub fn start<W: Write + Send + 'static>(
        redactor: Arc<Redactor>,
        sink: W,
    ) -> io::Result<(Self, LogPipeGuard)> {
        let shared = Arc::new(Shared::default());
        let writer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("frontdesk-log".into())
                .spawn(move || write_batches(&shared, &redactor, sink))?
        };
        let guard = LogPipeGuard {
            shared: shared.clone(),
            writer: Some(writer),
        };
        Ok((Self { shared }, guard))
    }

    fn push(&self, event: &[u8]) {
        let mut queue = self.shared.lock();
        while queue.bytes.len() >= MAX_QUEUED && !queue.closed {
            queue = self
                .shared
                .room
                .wait(queue)
                .unwrap_or_else(|e| e.into_inner());
        }
        queue.bytes.extend_from_slice(event);
        let end = queue.bytes.len();
        queue.ends.push(end);
        if queue.writer_idle {
            queue.writer_idle = false;
            self.shared.work.notify_one();
        }
    }
}

impl Write for LogPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogPipe {
    type Writer = LogPipe;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for LogPipeGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_one();
        self.shared.room.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn write_batches<W: Write>(shared: &Shared, redactor: &Redactor, mut sink: W) {
    let mut taken = Queue::default();
    let mut out = Vec::new();
    loop {
        let closed = {
            let mut queue = shared.lock();
            while queue.ends.is_empty() && !queue.closed {
                queue.writer_idle = true;
                queue = shared.work.wait(queue).unwrap_or_else(|e| e.into_inner());
            }
            queue.writer_idle = false;
            std::mem::swap(&mut queue.bytes, &mut taken.bytes);
            std::mem::swap(&mut queue.ends, &mut taken.ends);
            queue.closed
        };
        shared.room.notify_all();
        out.clear();
        let mut start = 0;
        for &end in &taken.ends {
            let event = &taken.bytes[start..end];
            // `from_utf8` first: it skips ASCII a word at a time, `from_utf8_lossy` byte by byte.
            let event = std::str::from_utf8(event)
                .map_or_else(|_| String::from_utf8_lossy(event), Cow::Borrowed);
            out.extend_from_slice(redactor.redact_text(&event).as_bytes());
            start = end;
        }
        taken.bytes.clear();
        taken.ends.clear();
        // A failing sink (closed stderr) must not stop the process; the lines are lost.
        let _ = sink.write_all(&out).and_then(|()| sink.flush());
        if closed {
            return;
        }
        std::thread::sleep(BATCH_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink shared with the test, recording each `write_all` separately.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Spins until `done` holds; a broken pipe fails the test instead of hanging it.
    fn wait_until(done: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "condition never held");
            std::thread::yield_now();
        }
    }

    #[test]
    fn every_event_is_written_redacted_and_in_order_before_the_guard_returns() {
        let sink = Recorder::default();
        let (pipe, guard) =
            LogPipe::start(Arc::new(Redactor::default()), sink.clone()).expect("writer thread");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut pipe = pipe.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        let line = format!("t{t} line {i} mail jane{t}@example.com\n");
                        pipe.write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let written: Vec<u8> = sink.0.lock().unwrap().concat();
        let text = String::from_utf8(written).unwrap();
        assert!(!text.contains("@example.com"));
        for t in 0..4 {
            let numbers: Vec<usize> = text
                .lines()
                .filter(|l| l.starts_with(&format!("t{t} ")))
                .map(|l| l.split(' ').nth(2).unwrap().parse().unwrap())
                .collect();
            assert_eq!(numbers, (0..2_000).collect::<Vec<_>>(), "thread {t}");
        }
        // Batched: far fewer writes than events.
        assert!(sink.0.lock().unwrap().len() < 8_000);
    }

    #[test]
    fn an_event_that_is_not_utf8_is_written_with_replacement_characters_and_still_redacted() {
        let sink = Recorder::default();
        let (mut pipe, guard) =
            LogPipe::start(Arc::new(Redactor::default()), sink.clone()).expect("writer thread");
        pipe.write_all(b"bad \xff byte, mail jane@example.com\n")
            .unwrap();
        pipe.write_all("gr\u{fc}\u{df}e\n".as_bytes()).unwrap();
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().concat()).unwrap();
        assert!(text.starts_with("bad \u{fffd} byte, mail "), "{text}");
        assert!(!text.contains("@example.com"), "{text}");
        assert!(text.ends_with("gr\u{fc}\u{df}e\n"), "{text}");
    }

    #[test]
    fn an_idle_writer_wakes_for_the_next_event() {
        let sink = Recorder::default();
        let (mut pipe, guard) =
            LogPipe::start(Arc::new(Redactor::default()), sink.clone()).expect("writer thread");
        pipe.write_all(b"first\n").unwrap();
        // Wait until the writer has written it and gone idle again, then send another.
        wait_until(|| sink.0.lock().unwrap().len() == 1 && pipe.shared.lock().writer_idle);
        pipe.write_all(b"second\n").unwrap();
        wait_until(|| sink.0.lock().unwrap().len() == 2);
        drop(guard);
        assert_eq!(sink.0.lock().unwrap().concat(), b"first\nsecond\n");
    }
}
