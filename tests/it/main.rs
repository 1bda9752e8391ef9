//! Integration tests: the real server, in-process or as a process, over real sockets.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod auth;
mod booking;
mod calcom;
mod calendar_db;
mod events;
mod gateway;
mod harness;
mod http;
mod limits;
mod ops;
mod practice;
mod process;
mod redaction;
mod reload;
mod resilience;
mod tls;
mod trust;
mod upstream;
mod wire;
