//! The booking-event outbox and booking listings on SQLite (see `local::events`). One
//! replica delivers per SQLite file; claims still take a lease, so two processes on one host
//! never send an event twice either.

use async_trait::async_trait;
use rusqlite::{Transaction, params};

use super::{SqliteDb, Write, status_of};
use crate::directory::TenantScope;
use crate::local::db::Row;
use crate::local::events::{
    Attendee, EventKind, EventsDb, ListedBooking, Listing, OutboxEvent, OutboxStats,
};
use crate::provider::{BookingStatus, CalendarError};

/// Appended to the calendar's migrations.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE booking_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id      TEXT    NOT NULL,
    branch_id       TEXT    NOT NULL,
    booking_uid     TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    service         TEXT,
    start_ms        INTEGER NOT NULL,
    end_ms          INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    created_ms      INTEGER NOT NULL,
    queued_ms       INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    lease_until_ms  INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    delivered_ms    INTEGER,
    UNIQUE (booking_uid, seq)
);
CREATE INDEX booking_events_due ON booking_events (state, next_attempt_ms);
"#;

/// Writes the event of a change to `row`, inside the change's transaction.
pub(super) fn record(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    row: &Row,
    kind: EventKind,
    now_ms: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO booking_events (company_id, branch_id, booking_uid, seq, kind, service,
            start_ms, end_ms, status, created_ms, queued_ms, next_attempt_ms)
         VALUES (?1, ?2, ?3,
            (SELECT COALESCE(MAX(seq), 0) + 1 FROM booking_events WHERE booking_uid = ?3),
            ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9)",
    )?
    .execute(params![
        scope.company_id,
        scope.branch_id,
        row.uid,
        kind.as_str(),
        row.service,
        row.start_ms,
        row.end_ms,
        status_text(row.status),
        now_ms,
    ])?;
    Ok(())
}

pub(super) fn status_text(status: BookingStatus) -> &'static str {
    match status {
        BookingStatus::Cancelled => "cancelled",
        _ => "accepted",
    }
}

const EVENT_COLUMNS: &str = "e.id, e.company_id, e.branch_id, e.booking_uid, e.seq, e.kind,
    e.service, e.start_ms, e.end_ms, e.status, e.created_ms, e.attempts, e.queued_ms,
    b.name, b.phone, b.email, b.notes";

fn read_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEvent> {
    Ok(OutboxEvent {
        id: r.get(0)?,
        scope: TenantScope {
            company_id: r.get(1)?,
            branch_id: r.get(2)?,
        },
        booking_uid: r.get(3)?,
        seq: r.get(4)?,
        kind: EventKind::parse(&r.get::<_, String>(5)?),
        service: r.get(6)?,
        start_ms: r.get(7)?,
        end_ms: r.get(8)?,
        status: status_of(&r.get::<_, String>(9)?),
        created_ms: r.get(10)?,
        attempts: r.get(11)?,
        queued_ms: r.get(12)?,
        attendee: Attendee {
            name: r.get(13)?,
            phone: r.get(14)?,
            email: r.get(15)?,
            notes: r.get(16)?,
        },
    })
}

#[async_trait]
impl EventsDb for SqliteDb {
    async fn claim(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, CalendarError> {
        self.transaction(true, move |tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM booking_events e
                 JOIN bookings b ON b.uid = e.booking_uid
                 WHERE e.state = 'pending' AND e.next_attempt_ms <= ?1
                   AND e.lease_until_ms <= ?1
                   AND NOT EXISTS (SELECT 1 FROM booking_events p
                       WHERE p.booking_uid = e.booking_uid AND p.seq < e.seq
                         AND p.state <> 'delivered')
                 ORDER BY e.id LIMIT ?2"
            ))?;
            let events = stmt
                .query_map(params![now_ms, limit], read_event)?
                .collect::<Result<Vec<_>, _>>()?;
            let mut lease =
                tx.prepare_cached("UPDATE booking_events SET lease_until_ms = ?2 WHERE id = ?1")?;
            for event in &events {
                lease.execute(params![event.id, lease_until_ms])?;
            }
            Ok(Write::Done(events))
        })
        .await
    }

    async fn delivered(&self, id: i64, now_ms: i64) -> Result<(), CalendarError> {
        self.transaction(true, move |tx| {
            tx.execute(
                "UPDATE booking_events SET state = 'delivered', delivered_ms = ?2,
                    attempts = attempts + 1, last_error = NULL, lease_until_ms = 0
                 WHERE id = ?1",
                params![id, now_ms],
            )?;
            Ok(Write::Done(()))
        })
        .await
    }

    async fn failed(
        &self,
        id: i64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), CalendarError> {
        let error = error.to_owned();
        self.transaction(true, move |tx| {
            tx.execute(
                "UPDATE booking_events SET attempts = ?2, next_attempt_ms = ?3, last_error = ?4,
                    lease_until_ms = 0
                 WHERE id = ?1 AND state = 'pending'",
                params![id, attempts, next_attempt_ms, error],
            )?;
            Ok(Write::Done(()))
        })
        .await
    }

    async fn dead(&self, id: i64, attempts: u32, error: &str) -> Result<(), CalendarError> {
        let error = error.to_owned();
        self.transaction(true, move |tx| {
            tx.execute(
                "UPDATE booking_events SET state = 'dead', attempts = ?2, last_error = ?3,
                    lease_until_ms = 0
                 WHERE id = ?1",
                params![id, attempts, error],
            )?;
            tx.execute(
                "UPDATE booking_events SET state = 'dead', last_error = 'an earlier event of the booking is dead'
                 WHERE state = 'pending' AND booking_uid = (SELECT booking_uid FROM booking_events WHERE id = ?1)
                   AND seq > (SELECT seq FROM booking_events WHERE id = ?1)",
                params![id],
            )?;
            Ok(Write::Done(()))
        })
        .await
    }

    async fn requeue_dead(&self, scope: &TenantScope, now_ms: i64) -> Result<u64, CalendarError> {
        let scope = scope.clone();
        self.transaction(true, move |tx| {
            let n = tx.execute(
                "UPDATE booking_events SET state = 'pending', attempts = 0, next_attempt_ms = ?3,
                    lease_until_ms = 0, queued_ms = ?3
                 WHERE company_id = ?1 AND branch_id = ?2 AND state = 'dead'",
                params![scope.company_id, scope.branch_id, now_ms],
            )?;
            Ok(Write::Done(n as u64))
        })
        .await
    }

    async fn stats(&self) -> Result<Vec<OutboxStats>, CalendarError> {
        self.transaction(false, move |tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT company_id, branch_id,
                    SUM(state = 'pending'), SUM(state = 'dead'),
                    MIN(CASE WHEN state = 'pending' AND attempts > 0 THEN next_attempt_ms END),
                    COALESCE(MAX(CASE WHEN state = 'pending' THEN attempts END), 0)
                 FROM booking_events WHERE state <> 'delivered'
                 GROUP BY company_id, branch_id ORDER BY company_id, branch_id",
            )?;
            let stats = stmt
                .query_map([], |r| {
                    Ok(OutboxStats {
                        scope: TenantScope {
                            company_id: r.get(0)?,
                            branch_id: r.get(1)?,
                        },
                        pending: r.get::<_, i64>(2)?.max(0) as u64,
                        dead: r.get::<_, i64>(3)?.max(0) as u64,
                        next_attempt_ms: r.get(4)?,
                        max_attempts: r.get(5)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Write::Done(stats))
        })
        .await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        listing: &Listing,
    ) -> Result<Vec<ListedBooking>, CalendarError> {
        let scope = scope.clone();
        let listing = listing.clone();
        self.transaction(false, move |tx| {
            let (after_start, after_uid) =
                listing.after.clone().unwrap_or((i64::MIN, String::new()));
            let status = listing.status.map(status_text);
            let mut stmt = tx.prepare_cached(
                "SELECT uid, service, start_ms, end_ms, status, name, phone, email, notes,
                    created_ms, updated_ms
                 FROM bookings
                 WHERE company_id = ?1 AND branch_id = ?2 AND start_ms >= ?3 AND start_ms < ?4
                   AND (?5 IS NULL OR status = ?5)
                   AND (start_ms > ?6 OR (start_ms = ?6 AND uid > ?7))
                 ORDER BY start_ms, uid LIMIT ?8",
            )?;
            let rows = stmt
                .query_map(
                    params![
                        scope.company_id,
                        scope.branch_id,
                        listing.from_ms,
                        listing.to_ms,
                        status,
                        after_start,
                        after_uid,
                        listing.limit
                    ],
                    |r| {
                        Ok(ListedBooking {
                            uid: r.get(0)?,
                            service: r.get(1)?,
                            start_ms: r.get(2)?,
                            end_ms: r.get(3)?,
                            status: status_of(&r.get::<_, String>(4)?),
                            attendee: Attendee {
                                name: r.get(5)?,
                                phone: r.get(6)?,
                                email: r.get(7)?,
                                notes: r.get(8)?,
                            },
                            created_ms: r.get(9)?,
                            updated_ms: r.get(10)?,
                        })
                    },
                )?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Write::Done(rows))
        })
        .await
    }
}
