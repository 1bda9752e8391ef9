//! What the embedded calendar needs from its database, whichever one holds it.
//!
//! Each method is one transaction. The database itself keeps two bookings off one resource's
//! time (SQLite: occupancy granules under a primary key; PostgreSQL: an exclusion constraint)
//! and one request from booking twice (a unique request key among accepted bookings), so no
//! application lock is needed and any number of processes may share one database.
//!
//! Holds (a slot kept for one call for a few minutes) live beside the bookings. Every write
//! of a tenant is serialised by the database (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the
//! tenant's advisory lock), and each write checks bookings *and* the live holds of other calls
//! before it claims a resource, so neither a booking nor a hold can overlap another call's
//! hold or any booking.

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

/// What a write did to holds, for `frontdesk_booking_holds_total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HoldCounts {
    pub created: usize,
    pub consumed: usize,
    pub expired: usize,
    pub released: usize,
}

/// Holds to place for one call (see [`CalendarDb::hold`]).
#[derive(Debug, Clone)]
pub(crate) struct NewHolds {
    pub call_id: String,
    /// `[start_ms, end_ms)` per slot.
    pub spans: Vec<(i64, i64)>,
    pub now_ms: i64,
    pub expires_ms: i64,
    /// Live holds of other calls in the scope past which nothing more is held.
    pub max_holds: u32,
}

#[async_trait]
pub(crate) trait CalendarDb: Send + Sync + 'static {
    /// `sqlite` or `postgres`, for logs and health.
    fn backend(&self) -> &'static str;

    /// Occupied 5-minute granules in `from_ms..to_ms` per resource, and the holds unexpired at
    /// `now_ms` that overlap the range.
    async fn taken(
        &self,
        scope: &TenantScope,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<Taken, CalendarError>;

    /// Inserts `row` on the first of `resources` free over its time (no booking, no live hold
    /// of another call). An accepted booking made by the same request key is returned instead;
    /// no free resource is `SlotTaken`. The booking call's holds go with it: the ones it
    /// overlaps are consumed, the others released.
    async fn insert(
        &self,
        scope: &TenantScope,
        resources: &[String],
        row: NewRow,
    ) -> Result<(Row, HoldCounts), CalendarError>;

    /// Replaces the call's holds with one per span, each on the first of `resources` free of
    /// bookings and other calls' live holds (`false` where none is); drops the scope's expired
    /// holds on the way. `None`, changing nothing, when other calls' live holds and these
    /// would pass `max_holds`.
    async fn hold(
        &self,
        scope: &TenantScope,
        resources: &[String],
        holds: NewHolds,
    ) -> Result<Option<(Vec<bool>, HoldCounts)>, CalendarError>;

    /// The call's holds live at `now_ms`, as `(start, end, expires)`: a read, no write lock.
    async fn own_holds(
        &self,
        scope: &TenantScope,
        call_id: &str,
        now_ms: i64,
    ) -> Result<Vec<(i64, i64, i64)>, CalendarError>;

    /// Deletes the call's holds.
    async fn release(
        &self,
        scope: &TenantScope,
        call_id: &str,
        now_ms: i64,
    ) -> Result<HoldCounts, CalendarError>;

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

    /// Moves an accepted booking to `start_ms..end_ms`, keeping its resource when free (of
    /// bookings and live holds), else the first free of `resources`; `SlotTaken` when none is,
    /// `NotFound` when cancelled.
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

impl HoldCounts {
    /// Counts the call's `old` holds that a write deletes: those overlapping `[start, end)` (if
    /// given) consumed by a booking, the other live ones released, the rest expired.
    pub(crate) fn of_deleted(
        old: &[(i64, i64, i64)],
        booked: Option<(i64, i64)>,
        now_ms: i64,
    ) -> Self {
        let mut counts = Self::default();
        // One booking consumes one hold: the one at its start, else the first it overlaps.
        let consumed = booked.and_then(|(s, e)| {
            let live = |&&(_, _, expires): &&(i64, i64, i64)| expires > now_ms;
            old.iter()
                .filter(live)
                .position(|&(start, _, _)| start == s)
                .or_else(|| {
                    old.iter()
                        .filter(live)
                        .position(|&(start, end, _)| start < e && end > s)
                })
        });
        for (i, _) in old.iter().filter(|h| h.2 > now_ms).enumerate() {
            if Some(i) == consumed {
                counts.consumed += 1;
            } else {
                counts.released += 1;
            }
        }
        counts.expired = old.iter().filter(|h| h.2 <= now_ms).count();
        counts
    }

    /// Counts a call's holds `old` replaced by holds on `spans` (`held` says which were
    /// placed), with `expired` holds swept on the way: holding a slot the call already held
    /// only extends it.
    pub(crate) fn replaced(
        old: &[(i64, i64, i64)],
        spans: &[(i64, i64)],
        held: &[bool],
        expired: usize,
    ) -> Self {
        let kept = |span: &(i64, i64)| old.iter().any(|&(s, e, _)| (s, e) == *span);
        let placed = spans.iter().zip(held).filter(|(_, held)| **held);
        Self {
            created: placed.clone().filter(|(span, _)| !kept(span)).count(),
            consumed: 0,
            expired,
            released: old
                .iter()
                .filter(|&&(s, e, _)| {
                    !spans
                        .iter()
                        .zip(held)
                        .any(|(span, h)| *h && *span == (s, e))
                })
                .count(),
        }
    }
}

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
    fn a_booking_consumes_one_hold_and_releases_the_others() {
        let live = i64::MAX;
        let old = [(0, 30, live), (15, 45, live), (30, 60, live), (60, 90, 5)];
        let counts = HoldCounts::of_deleted(&old, Some((15, 45)), 10);
        assert_eq!(
            counts,
            HoldCounts {
                created: 0,
                consumed: 1,
                expired: 1,
                released: 2
            }
        );
        let counts = HoldCounts::of_deleted(&old[..2], Some((10, 40)), 10);
        assert_eq!(
            (counts.consumed, counts.released),
            (1, 1),
            "no exact start: the first overlap"
        );
    }

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
