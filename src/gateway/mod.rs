//! The only module that knows Pingora: builds the server (traffic and admin listeners), wires
//! signals to draining and reloads, and runs it.

mod admin;
mod admission;
pub mod bounds;
pub mod connection;
pub mod forward;
mod head_meter;
pub mod metrics;
pub mod nofile;
mod pool;
pub mod proxy;
mod reply;
pub mod signals;
mod tls;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server};
use pingora::services::background::background_service;
use pingora::services::listening::Service;

use crate::admin::Admin;
use crate::app::App;
use admin::AdminApp;
use admission::{Admission, AdmissionFilter};
use bounds::Bounds;
use connection::Frontdoor;
use forward::Forwarder;
use pool::IdleSweep;
use proxy::Gateway;
use signals::{SignalWatch, Signals};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source} (is another process using the port?)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Fails loudly when a listen address is taken: Pingora itself would retry for 30 s and then
/// carry on without the listener.
pub fn check_bind(addrs: &[SocketAddr]) -> Result<(), StartError> {
    for &addr in addrs {
        TcpListener::bind(addr).map_err(|source| StartError::Bind { addr, source })?;
    }
    Ok(())
}

/// The traffic connection cap: the configured one (0: automatic), never more than fits under
/// the descriptor limit, which is raised to its maximum first. Logged, since it decides when
/// connections are refused.
fn connection_cap(configured: usize) -> usize {
    let Some(limit) = nofile::raise() else {
        return if configured == 0 { 10_000 } else { configured };
    };
    let share = nofile::traffic_share(limit);
    let cap = match configured {
        0 => share,
        n if n > share => {
            tracing::warn!(
                configured = n,
                open_file_limit = limit,
                "server.max_connections does not fit under the open-file limit; lowered"
            );
            share
        }
        n => n,
    };
    tracing::info!(
        open_file_limit = limit,
        max_connections = cap,
        "connection limits"
    );
    cap
}

/// Runs the server until `signals` say so. Blocks the calling thread, which must not be inside
/// a tokio runtime.
pub fn serve(app: Arc<App>, signals: Signals) -> Result<(), StartError> {
    let config = app.config().clone();
    check_bind(&[config.listen, config.admin_listen])?;

    let conf = ServerConf {
        threads: config.threads(),
        // Draining is done by our signal watcher before Pingora is told to stop.
        grace_period_seconds: Some(0),
        graceful_shutdown_timeout_seconds: Some(1),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();

    let forwarder = Forwarder::new(&config.file.upstreams, app.clock.clone());
    let sweep = background_service(
        "idle upstream connections",
        IdleSweep(forwarder.idle_pools()),
    );
    let server_config = &config.file.server;
    let gateway = Arc::new(Gateway::new(
        app.clone(),
        forwarder,
        Bounds::from_config(server_config),
    ));
    let max_connections = connection_cap(server_config.max_connections);
    let admission = Admission::new(max_connections, server_config.max_connections_per_client);
    metrics::init();
    let mut traffic = Service::new(
        "frontdesk-traffic".into(),
        Frontdoor {
            gateway,
            admission: admission.clone(),
            tls: app.tls.clone().map(tls::Tls::new),
        },
    );
    traffic.set_connection_filter(Arc::new(AdmissionFilter(admission)));
    traffic.add_tcp(&config.listen.to_string());
    traffic.threads = Some(config.threads());

    let mut admin = Service::new(
        "frontdesk-admin".into(),
        AdminApp(Admin { app: app.clone() }),
    );
    admin.add_tcp(&config.admin_listen.to_string());
    admin.threads = Some(1);

    server.add_service(traffic);
    server.add_service(admin);
    server.add_service(sweep);
    app.lifecycle.mark_ready();
    tracing::info!(listen = %config.listen, tls = app.tls.is_some(), admin = %config.admin_listen, threads = config.threads(), max_connections, "frontdesk serving");
    server.run(RunArgs {
        shutdown_signal: Box::new(SignalWatch::new(app.clone(), signals)),
    });
    tracing::info!("frontdesk stopped");
    Ok(())
}
