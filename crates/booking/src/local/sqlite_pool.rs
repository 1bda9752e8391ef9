//! A small pool of SQLite connections driven from async code.
//!
//! rusqlite is blocking, so every database call runs on tokio's blocking pool with a connection
//! checked out of this pool. The pool size bounds both open connections and how many blocking
//! threads the calendar can occupy. In WAL mode readers proceed in parallel; writers take the
//! database lock with `BEGIN IMMEDIATE` and wait for each other via `busy_timeout`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::Semaphore;

/// How long a writer waits for the database lock before reporting the calendar as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database task failed")]
    TaskFailed,
    #[error("connection pool closed")]
    Closed,
}

pub struct SqlitePool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl SqlitePool {
    pub fn new(path: &Path, size: usize) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// Opens a configured connection (WAL, busy timeout, foreign keys).
    pub fn connect(path: &Path) -> Result<Connection, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets availability reads run while a booking commits; NORMAL sync is durable
        // across process crashes in WAL mode, which is what "survives a restart" needs.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(conn)
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, PoolError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PoolError::Closed)?;
        let pooled = self.idle.lock().pop();
        let path = self.path.clone();
        let task = tokio::task::spawn_blocking(move || {
            let mut conn = match pooled {
                Some(conn) => conn,
                // Opened lazily: the first calls, or a replacement after a task panicked and
                // took its connection with it.
                None => Self::connect(&path)?,
            };
            let result = f(&mut conn);
            Ok::<_, PoolError>((conn, result))
        });
        let (conn, result) = task.await.map_err(|_| PoolError::TaskFailed)??;
        self.idle.lock().push(conn);
        result
    }
}
