//! Child processes that must not outlive the load run.
//!
//! Every server and load generator is started through [`Supervised::spawn`], which keeps the
//! `Child` in a process-wide registry. Dropping the handle (normal end, `?` early return or panic
//! unwinding) stops the child; Ctrl-C or SIGTERM stops every registered child, removes registered
//! scratch directories and exits, so no server is left listening after the tool is gone.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// How long a child may take to exit after its stop signal before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Exit code after an interrupt, as a shell reports a SIGINT death.
const INTERRUPTED: i32 = 130;

struct Entry {
    child: Child,
    stop: Signal,
}

#[derive(Default)]
struct Registry {
    children: HashMap<u32, Entry>,
    scratch: Vec<PathBuf>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

/// The registry stays usable after a panic elsewhere: cleanup matters most then.
fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// On Ctrl-C or SIGTERM: stop every child, remove scratch directories, exit 130.
pub fn install_interrupt_handler() -> Result<()> {
    ctrlc::set_handler(|| {
        eprintln!("loadrun: interrupted; stopping servers");
        let (entries, scratch) = {
            let mut registry = registry();
            let entries: Vec<Entry> = registry.children.drain().map(|(_, e)| e).collect();
            (entries, std::mem::take(&mut registry.scratch))
        };
        for entry in entries {
            stop(entry);
        }
        for dir in scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
        std::process::exit(INTERRUPTED);
    })?;
    Ok(())
}

/// Removes `dir` if the run is interrupted (a `TempDir` removes it on a normal end).
pub fn remove_on_interrupt(dir: PathBuf) {
    registry().scratch.push(dir);
}

/// A running child process, stopped when dropped.
pub struct Supervised {
    pid: u32,
}

impl Supervised {
    /// Spawns `command`; `stop` is the signal that makes it exit promptly (escalated to SIGKILL).
    pub fn spawn(name: &str, command: &mut Command, stop: Signal) -> Result<Self> {
        let child = command.spawn().map_err(|source| Error::Spawn {
            program: name.to_owned(),
            source,
        })?;
        let pid = child.id();
        registry().children.insert(pid, Entry { child, stop });
        Ok(Self { pid })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The child's stdout, when it was piped; taken once.
    pub fn take_stdout(&self) -> Option<ChildStdout> {
        registry()
            .children
            .get_mut(&self.pid)
            .and_then(|e| e.child.stdout.take())
    }

    /// `Some(status)` once the child has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        let mut registry = registry();
        let entry = registry.children.get_mut(&self.pid)?;
        entry.child.try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the child to exit by itself; `None` if it is still running.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let entry = registry().children.remove(&self.pid);
        if let Some(entry) = entry {
            stop(entry);
        }
    }
}

/// Sends the stop signal, waits up to [`STOP_GRACE`], then kills and reaps the child.
fn stop(mut entry: Entry) {
    if matches!(entry.child.try_wait(), Ok(Some(_))) {
        return;
    }
    let pid = i32::try_from(entry.child.id()).map(Pid::from_raw);
    if let Ok(pid) = pid {
        let _ = kill(pid, entry.stop);
    }
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if matches!(entry.child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::park_timeout(Duration::from_millis(20));
    }
    let _ = entry.child.kill();
    let _ = entry.child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_handle_stops_the_child() {
        let mut command = Command::new("sleep");
        command.arg("30");
        let child = Supervised::spawn("sleep", &mut command, Signal::SIGTERM).unwrap();
        let pid = child.pid();
        assert!(child.exited().is_none());
        drop(child);
        assert!(!registry().children.contains_key(&pid));
        // The process is gone (reaped): /proc no longer lists it.
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn a_child_that_exits_by_itself_reports_its_status() {
        let mut command = Command::new("true");
        let child = Supervised::spawn("true", &mut command, Signal::SIGTERM).unwrap();
        let status = child.wait_timeout(Duration::from_secs(10)).expect("exits");
        assert!(status.success());
    }
}
