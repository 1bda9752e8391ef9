//! What the embedded calendar needs from its database, whichever one holds it.
//!
//! Each method is one transaction. The database itself keeps two bookings off one resource's
//! time (SQLite: occupancy granules under a primary key; PostgreSQL: an exclusion constraint)
//! and one request from booking twice (a unique request key among accepted bookings), so no
//! application lock is needed and any number of processes may share one database.

use async_trait::async_trait;

use crate::directory::TenantScope;
use crate::local::taken_cache::Taken;
use crate::provider::{BookingStatus, CalendarError};

/// A booking row as stored (times in Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub uid: String,
    pub resource: String,
    pub service: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub status: BookingStatus,
    pub phone: Option<String>,
    pub call_id: Option<String>,
}

/// A booking to insert; the database picks the resource.
#[derive(Debug, Clone)]
pub(crate) struct NewRow {
    pub uid: String,
    pub service: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub call_id: Option<String>,
    /// The idempotency key of the request that makes this booking: a retry of that request
    /// finds this booking instead of making a second one (see `idempotency`).
    pub request_key: Option<String>,
    pub now_ms: i64,
    /// Records a `booking.created` event with the booking (the tenant has `notify`).
    pub notify: bool,
}

#[async_trait]
pub(crate) trait CalendarDb: Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs and health.
    fn backend(&self) -> &'static str;

    /// Occupied 5-minute granules in `from_ms..to_ms`, per resource.
    async fn taken(
        &self,
        scope: &TenantScope,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Taken, CalendarError>;

    /// Inserts `row` on the first of `resources` free over its time. An accepted booking made
    /// by the same request key is returned instead; no free resource is `SlotTaken`.
    async fn insert(
        &self,
        scope: &TenantScope,
        resources: &[String],
        row: NewRow,
    ) -> Result<Row, CalendarError>;

    /// One booking by uid within the scope (any status), else `NotFound`.
    async fn get(&self, scope: &TenantScope, uid: &str) -> Result<Row, CalendarError>;

    /// Cancels by uid; a cancelled booking is returned unchanged. With `notify`, a change
    /// records its `booking.cancelled` event in the same transaction.
    async fn cancel(
        &self,
        scope: &TenantScope,
        uid: &str,
        now_ms: i64,
        notify: bool,
    ) -> Result<Row, CalendarError>;

    /// Moves an accepted booking to `start_ms..end_ms`, keeping its resource when free, else
    /// the first free of `resources`; `SlotTaken` when none is, `NotFound` when cancelled.
    /// With `notify`, records its `booking.rescheduled` event in the same transaction.
    #[allow(clippy::too_many_arguments)]
    async fn move_to(
        &self,
        scope: &TenantScope,
        uid: &str,
        resources: &[String],
        start_ms: i64,
        end_ms: i64,
        now_ms: i64,
        notify: bool,
    ) -> Result<Row, CalendarError>;

    /// Accepted bookings from `from_ms` on whose phone or e-mail (already normalised) matches,
    /// ascending by start.
    async fn find(
        &self,
        scope: &TenantScope,
        phone: Option<String>,
        email: Option<String>,
        from_ms: i64,
    ) -> Result<Vec<Row>, CalendarError>;
}

/// Occupancy granule in milliseconds (5 minutes). Fixed, not the tenant's slot granularity, so
/// that changing a tenant's grid never invalidates stored rows.
pub(crate) const GRANULE_MS: i64 = 5 * 60 * 1000;

/// The granules `[start_ms, end_ms)` touches.
pub(crate) fn granules(start_ms: i64, end_ms: i64) -> impl Iterator<Item = i64> {
    let first = start_ms.div_euclid(GRANULE_MS) * GRANULE_MS;
    (0..)
        .map(move |i| first + i * GRANULE_MS)
        .take_while(move |g| *g < end_ms)
}

pub(crate) fn status_of(text: &str) -> BookingStatus {
    if text == "cancelled" {
        BookingStatus::Cancelled
    } else {
        BookingStatus::Accepted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granules_cover_the_whole_booking() {
        let start = 10 * GRANULE_MS + 60_000; // one minute into a granule
        let end = start + 30 * 60_000;
        let g: Vec<i64> = granules(start, end).collect();
        assert_eq!(g.first(), Some(&(10 * GRANULE_MS)));
        assert!(*g.last().unwrap() < end);
        assert!(*g.last().unwrap() + GRANULE_MS >= end);
        assert_eq!(g.len(), 7);
    }
}
