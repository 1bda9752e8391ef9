//! Process signals and test triggers → draining, reloads and exit.
//!
//! SIGTERM flips readiness, lets in-flight requests finish (up to the grace period) and only then
//! tells Pingora to stop, so an idle server exits at once and a busy one within the grace.
//! SIGINT exits at once. SIGHUP reloads the policy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Mutex, mpsc};

use crate::app::App;

/// What a controller (a test, or an embedding program) can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Like SIGTERM.
    Drain,
    /// Like SIGINT.
    Stop,
    /// Like SIGHUP.
    Reload,
}

/// Where the stop, drain and reload requests of a running server come from.
pub enum Signals {
    /// SIGTERM, SIGINT and SIGHUP of this process.
    Process,
    /// Only this channel (tests run many servers in one process).
    Controlled(mpsc::Receiver<Control>),
}

pub(super) struct SignalWatch {
    app: Arc<App>,
    grace: Duration,
    control: Mutex<Option<mpsc::Receiver<Control>>>,
    listen_to_process_signals: bool,
}

impl SignalWatch {
    pub(super) fn new(app: Arc<App>, signals: Signals) -> Self {
        match signals {
            Signals::Process => Self::process(app),
            Signals::Controlled(control) => Self::controlled(app, control),
        }
    }

    /// Listens to SIGTERM, SIGINT and SIGHUP.
    fn process(app: Arc<App>) -> Self {
        let grace = app.config().file.server.grace_period;
        Self {
            app,
            grace,
            control: Mutex::new(None),
            listen_to_process_signals: true,
        }
    }

    /// Listens only to `control` (tests run many servers in one process).
    fn controlled(app: Arc<App>, control: mpsc::Receiver<Control>) -> Self {
        let grace = app.config().file.server.grace_period;
        Self {
            app,
            grace,
            control: Mutex::new(Some(control)),
            listen_to_process_signals: false,
        }
    }

    async fn drain(&self) -> ShutdownSignal {
        self.app.lifecycle.start_draining();
        let deadline = Instant::now() + self.grace;
        tracing::info!(
            in_flight = self.app.lifecycle.in_flight(),
            grace_ms = self.grace.as_millis() as u64,
            "draining"
        );
        while self.app.lifecycle.in_flight() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let left = self.app.lifecycle.in_flight();
        if left > 0 {
            tracing::warn!(
                in_flight = left,
                "grace period over; closing remaining requests"
            );
        }
        ShutdownSignal::FastShutdown
    }
}

#[async_trait]
impl ShutdownSignalWatch for SignalWatch {
    async fn recv(&self) -> ShutdownSignal {
        let mut control = self.control.lock().await;
        let (mut term, mut int, mut hup) = if self.listen_to_process_signals {
            (
                signal(SignalKind::terminate()).ok(),
                signal(SignalKind::interrupt()).ok(),
                signal(SignalKind::hangup()).ok(),
            )
        } else {
            (None, None, None)
        };
        loop {
            tokio::select! {
                Some(_) = recv_signal(&mut term) => return self.drain().await,
                Some(_) = recv_signal(&mut int) => return ShutdownSignal::FastShutdown,
                Some(_) = recv_signal(&mut hup) => {
                    // Errors are logged and counted by reload itself.
                    let _ = self.app.policy.reload("sighup");
                }
                message = recv_control(&mut control) => match message {
                    Some(Control::Drain) => return self.drain().await,
                    Some(Control::Reload) => {
                        let _ = self.app.policy.reload("control");
                    }
                    Some(Control::Stop) | None => return ShutdownSignal::FastShutdown,
                },
            }
        }
    }
}

async fn recv_signal(sig: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match sig {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_control(control: &mut Option<mpsc::Receiver<Control>>) -> Option<Control> {
    match control {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
