//! Reloads the policy when a policy or tenants file changes. Editors write files in several
//! steps (truncate, write, rename), so events are debounced before one reload.

use std::path::Path;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

const DEBOUNCE: Duration = Duration::from_millis(150);

/// Watches `dirs` on the current tokio runtime and calls `reload` once per burst of changes.
/// The returned watcher must be kept alive.
pub fn spawn(
    dirs: &[&Path],
    reload: impl Fn() + Send + 'static,
) -> notify::Result<notify::RecommendedWatcher> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(());
        }
    })?;
    for dir in dirs {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Swallow the burst that follows the first event.
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            reload();
        }
    });
    Ok(watcher)
}
