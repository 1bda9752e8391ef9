//! frontdesk: the front door of an AI phone receptionist.
//!
//! A request walks one straight line, and the modules read the same way:
//! `gateway` (Pingora listener, body) → `stages` (auth, tenant, limits, dedupe, validate) →
//! `functions`/`booking` (in-process answers) or `gateway::forward` (upstream) → `telemetry`.
//! `config` and `policy` compile YAML into the immutable snapshot every request reads;
//! `events` delivers booking events to the practices in the background.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod booking;
pub mod cli;
pub mod config;
pub mod events;
pub mod feed;
pub mod functions;
pub mod gateway;
pub mod policy;
pub mod schema;
pub mod server;
pub mod signature;
pub mod stages;
pub mod standard_webhooks;
pub mod telemetry;
pub mod tls;
