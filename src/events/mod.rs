//! Booking events for the practice: the delivery worker that sends the embedded calendar's
//! outbox (`frontdesk_booking::local::events`) to each tenant's `notify` endpoint, signed per
//! Standard Webhooks, retried with backoff, and dead-lettered when the retry window is spent.
//!
//! - [`config`] — `booking_events` in `frontdesk.yaml` (poll, timeouts, retry schedule);
//! - [`target`] — each tenant's endpoint and secrets, and its feed token, read at compile;
//! - [`signing`] — the Standard Webhooks signature; [`payload`] — the JSON sent;
//! - [`schedule`] — when a failed event is tried again; [`worker`] — the loop;
//! - [`metrics`] — counters, latency and queue depth.

pub mod config;
pub mod metrics;
pub mod payload;
pub mod schedule;
pub mod signing;
pub mod target;
pub mod worker;

pub use config::BookingEventsConfig;
pub use target::NotifyTarget;
