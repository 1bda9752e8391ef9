//! The booking-event outbox and booking listings on PostgreSQL (see `local::events`). Replicas
//! claim with `FOR UPDATE SKIP LOCKED` and a lease, so each event is sent by one of them at a
//! time, and none waits for another's claim.

use async_trait::async_trait;
use tokio_postgres::Transaction;

use super::{Failure, PostgresDb, at, ms};
use crate::directory::TenantScope;
use crate::local::db::{Row, status_of};
use crate::local::events::{
    Attendee, EventKind, EventsDb, ListedBooking, Listing, OutboxEvent, OutboxStats,
};
use crate::provider::{BookingStatus, CalendarError};

/// Appended to the calendar's migrations. Event times are Unix milliseconds: the outbox is
/// frontdesk's own bookkeeping, read by no one else.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE booking_events (
    id              BIGSERIAL PRIMARY KEY,
    company_id      TEXT    NOT NULL,
    branch_id       TEXT    NOT NULL,
    booking_uid     TEXT    NOT NULL,
    seq             BIGINT  NOT NULL,
    kind            TEXT    NOT NULL,
    service         TEXT,
    start_ms        BIGINT  NOT NULL,
    end_ms          BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    created_ms      BIGINT  NOT NULL,
    queued_ms       BIGINT  NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT  NOT NULL,
    lease_until_ms  BIGINT  NOT NULL DEFAULT 0,
    last_error      TEXT,
    delivered_ms    BIGINT,
    UNIQUE (booking_uid, seq)
);
CREATE INDEX booking_events_due ON booking_events (next_attempt_ms) WHERE state = 'pending';
"#;

/// Writes the event of a change to `row`, inside the change's transaction (which holds the
/// tenant's write queue, so the sequence number is computed without a race).
pub(super) async fn record(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    row: &Row,
    kind: EventKind,
    now_ms: i64,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO booking_events (company_id, branch_id, booking_uid, seq, kind, service,
            start_ms, end_ms, status, created_ms, queued_ms, next_attempt_ms)
         VALUES ($1, $2, $3,
            (SELECT COALESCE(MAX(seq), 0) + 1 FROM booking_events WHERE booking_uid = $3),
            $4, $5, $6, $7, $8, $9, $9, $9)",
        &[
            &scope.company_id,
            &scope.branch_id,
            &row.uid,
            &kind.as_str(),
            &row.service,
            &row.start_ms,
            &row.end_ms,
            &status_text(row.status),
            &now_ms,
        ],
    )
    .await?;
    Ok(())
}

fn status_text(status: BookingStatus) -> &'static str {
    match status {
        BookingStatus::Cancelled => "cancelled",
        _ => "accepted",
    }
}

fn read_event(r: &tokio_postgres::Row) -> OutboxEvent {
    OutboxEvent {
        id: r.get(0),
        scope: TenantScope {
            company_id: r.get(1),
            branch_id: r.get(2),
        },
        booking_uid: r.get(3),
        seq: r.get(4),
        kind: EventKind::parse(r.get(5)),
        service: r.get(6),
        start_ms: r.get(7),
        end_ms: r.get(8),
        status: status_of(r.get(9)),
        created_ms: r.get(10),
        attempts: u32::try_from(r.get::<_, i32>(11)).unwrap_or(0),
        queued_ms: r.get(12),
        attendee: Attendee {
            name: r.get(13),
            phone: r.get(14),
            email: r.get(15),
            notes: r.get(16),
        },
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl EventsDb for PostgresDb {
    async fn claim(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, CalendarError> {
        let limit = i64::from(limit);
        self.run(async |client| {
            let rows = client
                .query(
                    "WITH due AS (
                        SELECT e.id FROM booking_events e
                        WHERE e.state = 'pending' AND e.next_attempt_ms <= $1
                          AND e.lease_until_ms <= $1
                          AND NOT EXISTS (SELECT 1 FROM booking_events p
                              WHERE p.booking_uid = e.booking_uid AND p.seq < e.seq
                                AND p.state <> 'delivered')
                        ORDER BY e.id LIMIT $2
                        FOR UPDATE SKIP LOCKED)
                     UPDATE booking_events e SET lease_until_ms = $3
                     FROM due, bookings b
                     WHERE e.id = due.id AND b.uid = e.booking_uid
                     RETURNING e.id, e.company_id, e.branch_id, e.booking_uid, e.seq, e.kind,
                        e.service, e.start_ms, e.end_ms, e.status, e.created_ms, e.attempts,
                        e.queued_ms, b.name, b.phone, b.email, b.notes",
                    &[&now_ms, &limit, &lease_until_ms],
                )
                .await?;
            let mut events: Vec<OutboxEvent> = rows.iter().map(read_event).collect();
            events.sort_by_key(|e| e.id);
            Ok(events)
        })
        .await
    }

    async fn delivered(&self, id: i64, now_ms: i64) -> Result<(), CalendarError> {
        self.run(async |client| {
            client
                .execute(
                    "UPDATE booking_events SET state = 'delivered', delivered_ms = $2,
                        attempts = attempts + 1, last_error = NULL, lease_until_ms = 0
                     WHERE id = $1",
                    &[&id, &now_ms],
                )
                .await?;
            Ok(())
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
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        self.run(async |client| {
            client
                .execute(
                    "UPDATE booking_events SET attempts = $2, next_attempt_ms = $3,
                        last_error = $4, lease_until_ms = 0
                     WHERE id = $1 AND state = 'pending'",
                    &[&id, &attempts, &next_attempt_ms, &error],
                )
                .await?;
            Ok(())
        })
        .await
    }

    async fn dead(&self, id: i64, attempts: u32, error: &str) -> Result<(), CalendarError> {
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        self.run(async |client| {
            let tx = client.transaction().await?;
            tx.execute(
                "UPDATE booking_events SET state = 'dead', attempts = $2, last_error = $3,
                    lease_until_ms = 0
                 WHERE id = $1",
                &[&id, &attempts, &error],
            )
            .await?;
            tx.execute(
                "UPDATE booking_events l SET state = 'dead',
                    last_error = 'an earlier event of the booking is dead'
                 FROM booking_events d
                 WHERE d.id = $1 AND l.booking_uid = d.booking_uid AND l.seq > d.seq
                   AND l.state = 'pending'",
                &[&id],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn requeue_dead(&self, scope: &TenantScope, now_ms: i64) -> Result<u64, CalendarError> {
        self.run(async |client| {
            let n = client
                .execute(
                    "UPDATE booking_events SET state = 'pending', attempts = 0,
                        next_attempt_ms = $3, lease_until_ms = 0, queued_ms = $3
                     WHERE company_id = $1 AND branch_id = $2 AND state = 'dead'",
                    &[&scope.company_id, &scope.branch_id, &now_ms],
                )
                .await?;
            Ok(n)
        })
        .await
    }

    async fn stats(&self) -> Result<Vec<OutboxStats>, CalendarError> {
        self.run(async |client| {
            let rows = client
                .query(
                    "SELECT company_id, branch_id,
                        COUNT(*) FILTER (WHERE state = 'pending'),
                        COUNT(*) FILTER (WHERE state = 'dead'),
                        MIN(next_attempt_ms) FILTER (WHERE state = 'pending' AND attempts > 0),
                        COALESCE(MAX(attempts) FILTER (WHERE state = 'pending'), 0)
                     FROM booking_events WHERE state <> 'delivered'
                     GROUP BY company_id, branch_id ORDER BY company_id, branch_id",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| OutboxStats {
                    scope: TenantScope {
                        company_id: r.get(0),
                        branch_id: r.get(1),
                    },
                    pending: count(r.get(2)),
                    dead: count(r.get(3)),
                    next_attempt_ms: r.get(4),
                    max_attempts: u32::try_from(r.get::<_, i32>(5)).unwrap_or(0),
                })
                .collect())
        })
        .await
    }

    async fn list(
        &self,
        scope: &TenantScope,
        listing: &Listing,
    ) -> Result<Vec<ListedBooking>, CalendarError> {
        let (after_start, after_uid) = listing.after.clone().unwrap_or((i64::MIN, String::new()));
        let status = listing.status.map(status_text);
        let limit = i64::from(listing.limit);
        self.run(async |client| {
            let rows = client
                .query(
                    "SELECT uid, service, starts_at, ends_at, status, name, phone, email, notes,
                        created_at, updated_at
                     FROM bookings
                     WHERE company_id = $1 AND branch_id = $2
                       AND starts_at >= $3 AND starts_at < $4
                       AND ($5::TEXT IS NULL OR status = $5)
                       AND (starts_at > $6 OR (starts_at = $6 AND uid > $7))
                     ORDER BY starts_at, uid LIMIT $8",
                    &[
                        &scope.company_id,
                        &scope.branch_id,
                        &at(listing.from_ms),
                        &at(listing.to_ms),
                        &status,
                        &at(after_start),
                        &after_uid,
                        &limit,
                    ],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| ListedBooking {
                    uid: r.get(0),
                    service: r.get(1),
                    start_ms: ms(r.get(2)),
                    end_ms: ms(r.get(3)),
                    status: status_of(r.get(4)),
                    attendee: Attendee {
                        name: r.get(5),
                        phone: r.get(6),
                        email: r.get(7),
                        notes: r.get(8),
                    },
                    created_ms: ms(r.get(9)),
                    updated_ms: ms(r.get(10)),
                })
                .collect())
        })
        .await
    }
}
