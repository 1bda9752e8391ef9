//! Reloads the policy when a policy or tenants file changes. Editors write files in several
//! steps (truncate, write, rename), so events are debounced before one reload.

use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::app::App;

const DEBOUNCE: Duration = Duration::from_millis(150);

/// Starts watching on the current tokio runtime. The returned watcher must be kept alive.
pub fn spawn(app: Arc<App>) -> notify::Result<notify::RecommendedWatcher> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(());
        }
    })?;
    let config = app.config();
    watcher.watch(&config.policy_dir, RecursiveMode::NonRecursive)?;
    if let Some(dir) = config.tenants_file.parent() {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Swallow the burst that follows the first event.
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            let _ = app.policy.reload("file_change");
        }
    });
    Ok(watcher)
}
