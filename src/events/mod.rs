//! Booking events for the practice: the delivery worker that sends the embedded calendar's
//! outbox (`frontdesk_booking::local::events`) to each tenant's `notify` endpoint, signed per
//! Standard Webhooks, retried with backoff, and dead-lettered when the retry window is spent.
//!
//! Its settings are `booking_events` in `frontdesk.yaml` ([`crate::config::BookingEventsConfig`]);
//! each tenant's endpoint and keys are compiled with the policy ([`crate::policy::outlets`]) and
//! signed with [`crate::standard_webhooks`].
//!
//! - [`payload`] — the JSON sent;
//! - [`schedule`] — when a failed event is tried again; [`worker`] — the loop;
//! - [`metrics`] — counters, latency and queue depth.

pub mod metrics;
pub mod payload;
pub mod schedule;
pub mod worker;
