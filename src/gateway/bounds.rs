//! The time and size bounds of the wire (from the `server` section), shared by the connection
//! loop that enforces the idle and request-count bounds and the gateway that reads each head.

use std::time::{Duration, Instant};

use super::head_meter::HeadMeter;
use crate::config::ServerSection;

/// The time and size bounds of the wire, from the `server` section.
#[derive(Debug, Clone)]
pub struct Bounds {
    pub keepalive_timeout: Duration,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub body_min_rate: u64,
    pub max_requests: u32,
    pub max_header_bytes: usize,
    pub max_headers: usize,
}

impl Bounds {
    pub fn from_config(server: &ServerSection) -> Self {
        Self {
            keepalive_timeout: server.keepalive_timeout,
            header_timeout: server.header_timeout,
            body_timeout: server.body_timeout,
            body_min_rate: server.body_min_rate.0.max(1),
            max_requests: server.max_requests_per_connection.max(1),
            max_header_bytes: usize::try_from(server.max_header_bytes.0).unwrap_or(usize::MAX),
            max_headers: server.max_headers,
        }
    }
}

/// How the next request's head is to be read.
pub struct HeadRead<'a> {
    /// The whole head must be in by then.
    pub deadline: Instant,
    pub meter: Option<&'a HeadMeter>,
}
