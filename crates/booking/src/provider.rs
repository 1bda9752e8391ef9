//! The calendar abstraction: one trait every calendar backend implements (the embedded SQLite
//! calendar now, Cal.com and a caching decorator next), plus the values that cross it.
//!
//! Every method receives the [`Tenant`], so a provider always knows the tenant's
//! [`TenantScope`](crate::directory::TenantScope) (company + branch), time zone, hours and
//! services. A caching decorator wraps any provider and builds its keys from that scope; a
//! Cal.com provider reads event type ids and the API key variable from `tenant.calendar`.

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::directory::Tenant;

/// What free slots to list: every start in `from..=to` (tenant-local dates) where an
/// appointment of `duration_min` minutes fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotQuery {
    pub from: Date,
    pub to: Date,
    pub duration_min: u32,
    pub service: Option<String>,
    /// The call asking: slots held for it count as free (see [`CalendarProvider::hold`]).
    pub for_call: Option<String>,
}

/// A free start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub start: Timestamp,
}

/// Who the appointment is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attendee {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A booking to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    pub start: Timestamp,
    pub duration_min: u32,
    pub service: Option<String>,
    pub attendee: Attendee,
    pub notes: Option<String>,
    /// The Retell call that made the booking: that call may change it again.
    pub call_id: Option<String>,
    /// The idempotency key of the request (see [`crate::idempotency::Idempotency::key`]): the
    /// calendar stores it with the booking, so a retry finds the booking it made even when the
    /// reply store forgot it (a restart, a replica that never saw the first attempt).
    pub request_key: Option<String>,
}

/// Slots kept for one call while its caller gives their details (`hold_for` of the tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    /// The signed call the slots are kept for: only its booking may take them.
    pub call_id: String,
    pub starts: Vec<Timestamp>,
    pub duration_min: u32,
    pub service: Option<String>,
    pub hold_for: Duration,
}

/// What became of one start of a [`HoldRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldOutcome {
    /// Kept for the call until then.
    Held { until: Timestamp },
    /// Booked or held by another call meanwhile: the slot is not free any more.
    Taken,
}

/// How to find a caller's bookings: by phone, by e-mail, or both (either matches).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactQuery {
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Only bookings starting at or after this instant.
    pub from: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStatus {
    Accepted,
    /// Made, but waiting for the practice to confirm (Cal.com event types that require
    /// confirmation): never "booked" to a caller.
    Pending,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Accepted => "accepted",
            BookingStatus::Pending => "pending",
            BookingStatus::Cancelled => "cancelled",
        }
    }
}

/// A booking as a calendar reports it. `id` is the reference handed to callers: the uid, which
/// is unguessable, never a row number (Cal.com returns a *new* booking on reschedule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: String,
    pub uid: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub status: BookingStatus,
    pub service: Option<String>,
    /// The attendee's phone as stored: who may change the booking by calling.
    pub phone: Option<String>,
    /// The call that made it, when the calendar keeps it.
    pub call_id: Option<String>,
}

/// Why a calendar operation failed. Messages never carry personal data or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The slot is (no longer) free.
    #[error("slot is taken")]
    SlotTaken,
    #[error("booking not found")]
    NotFound,
    /// The calendar refused our credentials.
    #[error("calendar refused the credentials")]
    Unauthorized,
    #[error("calendar rate limit; retry after {retry_after:?}")]
    RateLimited { retry_after: Option<Duration> },
    /// The calendar cannot be reached or failed (timeouts, 5xx, open breaker, database error).
    #[error("calendar unavailable: {0}")]
    Unavailable(String),
    /// The tenant's calendar configuration cannot work (missing key, unknown service mapping).
    #[error("calendar configuration: {0}")]
    Config(String),
    /// The calendar rejected the request itself (e.g. a start outside its booking window).
    #[error("calendar rejected the request: {0}")]
    Rejected(String),
}

/// A calendar backend. Implementations must be safe to call concurrently; `create` and
/// `reschedule` must never let two bookings hold one slot (return [`CalendarError::SlotTaken`]).
#[async_trait]
pub trait CalendarProvider: Send + Sync + 'static {
    /// Backend name for logs and metrics (`local`, `calcom`).
    fn name(&self) -> &'static str;

    /// Free start times, ascending, inside the tenant's business hours, not in the past.
    async fn free_slots(
        &self,
        tenant: &Tenant,
        query: &SlotQuery,
    ) -> Result<Vec<Slot>, CalendarError>;

    async fn create(&self, tenant: &Tenant, booking: &NewBooking)
    -> Result<Booking, CalendarError>;

    /// One booking of this tenant by its reference (any status); another tenant's booking, or
    /// (Cal.com) one of an event type that is not the tenant's, is [`CalendarError::NotFound`].
    async fn get_booking(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
    ) -> Result<Booking, CalendarError>;

    /// Cancels by reference; cancelling a cancelled booking returns it unchanged.
    async fn cancel(&self, tenant: &Tenant, booking_ref: &str) -> Result<Booking, CalendarError>;

    /// Moves a booking (keeping its duration) and returns the booking as it now stands.
    async fn reschedule(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
        new_start: Timestamp,
    ) -> Result<Booking, CalendarError>;

    /// Accepted bookings of a contact, ascending by start.
    async fn find_bookings(
        &self,
        tenant: &Tenant,
        contact: &ContactQuery,
    ) -> Result<Vec<Booking>, CalendarError>;

    /// Keeps `hold.starts` for `hold.call_id` for `hold.hold_for`, replacing the call's
    /// earlier holds. While held, other calls' `free_slots` do not list a slot and their
    /// `create`/`reschedule` onto it is [`CalendarError::SlotTaken`]; the call's own booking
    /// takes it (and releases the call's other holds). One outcome per start, in order. An
    /// error means nothing could be held; the slots may still be free.
    async fn hold(
        &self,
        tenant: &Tenant,
        hold: &HoldRequest,
    ) -> Result<Vec<HoldOutcome>, CalendarError>;

    /// Releases every hold of the call (a cancel, the end of the call); how many were live.
    async fn release_holds(&self, tenant: &Tenant, call_id: &str) -> Result<usize, CalendarError>;
}
