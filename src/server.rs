//! Startup: builds the process-wide [`App`] from a loaded [`Config`] and runs the gateway.
//!
//! Shared IO clients (Redis, Cal.com) and background tasks (breaker sync, the policy watcher)
//! live on one small runtime of our own, created here and kept for the process lifetime.

use std::sync::Arc;

use frontdesk_clock::{Clock, SystemClock};
use tokio::runtime::Runtime;

use crate::app::{App, Lifecycle};
use crate::config::{Config, Diagnostic};
use crate::gateway::{self, StartError};
use crate::policy::PolicyHandle;

#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("invalid configuration:\n{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Config(Vec<Diagnostic>),
    #[error("store: {0}")]
    Store(#[source] frontdesk_store::BuildError),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("calendar: {0}")]
    Calendar(String),
    #[error("runtime: {0}")]
    Runtime(#[from] std::io::Error),
    #[error(transparent)]
    Start(#[from] StartError),
}

/// What can be swapped for tests.
#[derive(Clone)]
pub struct Options {
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
        }
    }
}

/// A built application and the runtime its IO clients live on.
pub struct Prepared {
    pub app: Arc<App>,
    runtime: Runtime,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Prepared {
    /// Serves until the shutdown watch says so. Blocks.
    pub fn serve(self, signals: gateway::signals::Signals) -> Result<(), BootError> {
        let result = gateway::serve(self.app.clone(), signals);
        self.runtime
            .shutdown_timeout(std::time::Duration::from_secs(1));
        Ok(result?)
    }
}

pub fn prepare(config: Config, options: Options) -> Result<Prepared, BootError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("frontdesk-bg")
        .enable_all()
        .build()?;
    crate::telemetry::metrics::init();
    let clock = options.clock.clone();
    let admin_token = match &config.file.admin.token {
        Some(reference) => reference
            .resolve()
            .map_err(|e| BootError::Config(vec![config_error(&config, &e)]))?,
        None => None,
    };
    let store_config = config.file.store.clone().unwrap_or_default();
    let store_handle = runtime
        .block_on(frontdesk_store::build(&store_config, clock.clone()))
        .map_err(BootError::Store)?;
    let store = store_handle.store();
    let local: Arc<dyn frontdesk_store::Store> = store_handle.local();

    let breakers = Arc::new(frontdesk_resilience::BreakerRegistry::with_store(
        clock.clone(),
        store.clone(),
        "upstream",
    ));
    // One breaker per upstream, one for the Cal.com client, one for the calendar database.
    let mut targets: std::collections::BTreeMap<String, frontdesk_resilience::BreakerConfig> =
        config
            .file
            .upstreams
            .iter()
            .map(|(name, u)| (name.clone(), u.breaker.clone()))
            .collect();
    targets.insert(
        frontdesk_calcom::BREAKER_TARGET.to_string(),
        config.file.calcom.effective_breaker(),
    );
    targets.insert(
        frontdesk_booking::local::BREAKER_TARGET.to_string(),
        config.file.calendar_store.breaker.clone(),
    );
    breakers
        .configure(&targets)
        .map_err(|e| BootError::Config(vec![config_error(&config, &e.to_string())]))?;

    let tls = match &config.tls {
        Some(files) => Some(crate::tls::ReloadingCert::load(files).map_err(BootError::Tls)?),
        None => None,
    };
    let policy = PolicyHandle::load(config).map_err(BootError::Config)?;
    let (functions, calendar) = runtime
        .block_on(crate::booking::build(
            policy.config(),
            store.clone(),
            clock.clone(),
            breakers.clone(),
        ))
        .map_err(BootError::Calendar)?;

    let app = Arc::new(App {
        policy,
        store,
        local,
        store_handle,
        clock,
        functions,
        calendar,
        breakers: breakers.clone(),
        admin_token,
        lifecycle: Lifecycle::default(),
        tls,
    });
    let watcher = runtime.block_on(async {
        breakers.spawn_sync(std::time::Duration::from_millis(250));
        match crate::events::worker::Worker::new(app.clone(), app.calendar.clone()) {
            Ok(worker) => {
                tokio::spawn(worker.run());
            }
            Err(e) => tracing::error!(error = %e, "booking events are not delivered"),
        }
        if app.config().file.server.watch_policies {
            let config = app.config();
            let mut dirs = vec![config.policy_dir.as_path()];
            dirs.extend(config.tenants_file.parent());
            let reloading = app.clone();
            crate::policy::watch::spawn(&dirs, move || {
                let _ = reloading.policy.reload("file_change");
            })
            .map_err(|e| tracing::warn!(error = %e, "policy files are not watched; reload with SIGHUP or the admin API"))
                .ok()
        } else {
            None
        }
    });
    Ok(Prepared {
        app,
        runtime,
        _watcher: watcher,
    })
}

fn config_error(config: &Config, message: &str) -> Diagnostic {
    Diagnostic {
        file: config.path.clone(),
        line: 1,
        col: 1,
        message: message.to_string(),
    }
}
