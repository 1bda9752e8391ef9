//! The only module that knows Pingora: builds the server (traffic and admin listeners), wires
//! signals to draining and reloads, and runs it.

pub mod forward;
mod pool;
pub mod proxy;
pub mod signals;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use pingora::server::configuration::ServerConf;
use pingora::server::{RunArgs, Server, ShutdownSignalWatch};
use pingora::services::background::background_service;
use pingora::services::listening::Service;

use crate::admin::Admin;
use crate::app::App;
use forward::Forwarder;
use pool::IdleSweep;
use proxy::Gateway;

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

/// Runs the server until `shutdown` says so. Blocks the calling thread, which must not be inside
/// a tokio runtime.
pub fn serve(app: Arc<App>, shutdown: Box<dyn ShutdownSignalWatch>) -> Result<(), StartError> {
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
    let gateway = Gateway::new(app.clone(), forwarder);
    let mut traffic = Service::new("frontdesk-traffic".into(), gateway);
    traffic.add_tcp(&config.listen.to_string());
    traffic.threads = Some(config.threads());

    let mut admin = Service::new("frontdesk-admin".into(), Admin { app: app.clone() });
    admin.add_tcp(&config.admin_listen.to_string());
    admin.threads = Some(1);

    server.add_service(traffic);
    server.add_service(admin);
    server.add_service(sweep);
    app.lifecycle.mark_ready();
    tracing::info!(listen = %config.listen, admin = %config.admin_listen, threads = config.threads(), "frontdesk serving");
    server.run(RunArgs {
        shutdown_signal: shutdown,
    });
    tracing::info!("frontdesk stopped");
    Ok(())
}
