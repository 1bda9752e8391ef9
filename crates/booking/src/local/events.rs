//! The booking-event outbox and the booking listings, as both databases offer them.
//!
//! A change to a booking of a tenant with `notify` writes one row into `booking_events` in the
//! same transaction as the change (see `CalendarDb`): a booking never exists without its event,
//! nor an event without its booking. The delivery worker claims due rows here, and reports each
//! attempt back. Per booking, only the oldest undelivered event is ever due, so events arrive
//! in order; a claim takes a lease, so replicas sharing one database send each event once.

use async_trait::async_trait;

use crate::directory::TenantScope;
use crate::provider::{BookingStatus, CalendarError};

/// What happened to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Rescheduled,
    Cancelled,
}

impl EventKind {
    /// The event's `type` on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "booking.created",
            EventKind::Rescheduled => "booking.rescheduled",
            EventKind::Cancelled => "booking.cancelled",
        }
    }

    pub(crate) fn parse(text: &str) -> Self {
        match text {
            "booking.rescheduled" => EventKind::Rescheduled,
            "booking.cancelled" => EventKind::Cancelled,
            _ => EventKind::Created,
        }
    }
}

/// Attendee details as stored; the worker passes on only what the tenant allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attendee {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub notes: Option<String>,
}

/// One claimed event: the booking as it was right after the change, plus delivery state.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// Row number: internal, never sent.
    pub id: i64,
    pub scope: TenantScope,
    pub booking_uid: String,
    /// 1 for a booking's first event, then one more per change.
    pub seq: i64,
    pub kind: EventKind,
    pub service: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub status: BookingStatus,
    pub attendee: Attendee,
    pub created_ms: i64,
    /// Attempts made before this one.
    pub attempts: u32,
    /// Start of the retry window: the change, or the last re-queue of a dead event.
    pub queued_ms: i64,
}

impl OutboxEvent {
    /// The Standard Webhooks message id: the same on every attempt, so receivers can dedupe.
    pub fn message_id(&self) -> String {
        format!("msg_{}_{}", self.booking_uid, self.seq)
    }
}

/// Per-tenant outbox state, for health and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStats {
    pub scope: TenantScope,
    pub pending: u64,
    pub dead: u64,
    /// When the next retry of a failed event is due (Unix ms), if any.
    pub next_attempt_ms: Option<i64>,
    /// Attempts made on the most-tried pending event.
    pub max_attempts: u32,
}

/// A booking as the feed and the bookings API list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBooking {
    pub uid: String,
    pub service: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub status: BookingStatus,
    pub attendee: Attendee,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Which bookings a listing returns: starting in `from_ms..to_ms`, ordered by start then uid,
/// after the `after` position (keyset pagination), at most `limit`.
#[derive(Debug, Clone)]
pub struct Listing {
    pub from_ms: i64,
    pub to_ms: i64,
    pub status: Option<BookingStatus>,
    pub after: Option<(i64, String)>,
    pub limit: u32,
}

#[async_trait]
pub(crate) trait EventsDb: Send + Sync + 'static {
    /// Claims up to `limit` due events (each the oldest undelivered of its booking) until
    /// `lease_until_ms`; a claimed event is not claimed again before then.
    async fn claim(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, CalendarError>;

    async fn delivered(&self, id: i64, now_ms: i64) -> Result<(), CalendarError>;

    /// Records a failed attempt; the event is due again at `next_attempt_ms`.
    async fn failed(
        &self,
        id: i64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), CalendarError>;

    /// Gives up on an event, and on its booking's later ones (they may not overtake it).
    async fn dead(&self, id: i64, attempts: u32, error: &str) -> Result<(), CalendarError>;

    /// Puts a tenant's dead events back in the queue, due now; returns how many.
    async fn requeue_dead(&self, scope: &TenantScope, now_ms: i64) -> Result<u64, CalendarError>;

    /// Pending and dead events per tenant that has any.
    async fn stats(&self) -> Result<Vec<OutboxStats>, CalendarError>;

    /// A tenant's bookings in a time range (see [`Listing`]).
    async fn list(
        &self,
        scope: &TenantScope,
        listing: &Listing,
    ) -> Result<Vec<ListedBooking>, CalendarError>;
}
