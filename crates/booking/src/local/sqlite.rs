//! The embedded calendar on SQLite: one file, any number of processes on one host.
//!
//! Double booking is prevented by the database, not by memory: each booking occupies every
//! 5-minute granule it covers in `occupancy`, whose primary key is
//! `(company_id, branch_id, resource, slot_start_ms)`. Inserting a booking and its granules is
//! one `BEGIN IMMEDIATE` transaction, so two processes racing for one slot cannot both commit.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::db::{CalendarDb, GRANULE_MS, HoldCounts, NewHolds, NewRow, Row, granules, status_of};
use super::sqlite_pool::{PoolError, SqlitePool};
use super::taken_cache::Taken;
use crate::directory::TenantScope;
use crate::local::events::EventKind;
use crate::provider::{BookingStatus, CalendarError};

mod events;
mod holds;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    uid         TEXT    NOT NULL UNIQUE,
    company_id  TEXT    NOT NULL,
    branch_id   TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    service     TEXT,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('accepted', 'cancelled')),
    name        TEXT    NOT NULL,
    email       TEXT,
    phone       TEXT,
    notes       TEXT,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE INDEX bookings_by_start ON bookings (company_id, branch_id, start_ms);
CREATE INDEX bookings_by_phone ON bookings (company_id, branch_id, phone);
CREATE INDEX bookings_by_email ON bookings (company_id, branch_id, email);
CREATE TABLE occupancy (
    company_id    TEXT    NOT NULL,
    branch_id     TEXT    NOT NULL,
    resource      TEXT    NOT NULL,
    slot_start_ms INTEGER NOT NULL,
    booking_id    INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    PRIMARY KEY (company_id, branch_id, resource, slot_start_ms)
) WITHOUT ROWID;
CREATE INDEX occupancy_by_booking ON occupancy (booking_id);
"#,
    // The call that made a booking may change it again (see `functions::may_change`).
    "ALTER TABLE bookings ADD COLUMN call_id TEXT;",
    // A retried request finds the booking it made, in the same transaction that made it.
    r#"
ALTER TABLE bookings ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX bookings_request_once ON bookings (company_id, branch_id, request_key)
    WHERE status = 'accepted' AND request_key IS NOT NULL;
"#,
    events::MIGRATION,
    holds::MIGRATION,
];

/// Why the SQLite calendar could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LocalCalendarError {
    #[error("cannot create the database directory: {0}")]
    Directory(#[from] std::io::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this build ({known})")]
    SchemaTooNew { found: i64, known: i64 },
}

pub(crate) struct SqliteDb {
    pool: Arc<SqlitePool>,
}

impl SqliteDb {
    /// Opens (creating when needed) the database at `path` and migrates it.
    pub(crate) fn open(path: &Path, pool_size: usize) -> Result<Self, LocalCalendarError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = SqlitePool::connect(path)?;
        migrate(&mut conn)?;
        Ok(Self {
            pool: Arc::new(SqlitePool::new(path, pool_size)),
        })
    }

    /// Runs `f` inside one transaction (`BEGIN IMMEDIATE` when it writes).
    async fn transaction<T, F>(&self, writes: bool, f: F) -> Result<T, CalendarError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<Write<T>, PoolError> + Send + 'static,
    {
        let result = self
            .pool
            .run(move |conn| {
                let behavior = if writes {
                    TransactionBehavior::Immediate
                } else {
                    TransactionBehavior::Deferred
                };
                let tx = conn.transaction_with_behavior(behavior)?;
                let out = f(&tx)?;
                if matches!(out, Write::Done(_)) {
                    tx.commit()?;
                }
                // Anything else rolls back as the transaction drops.
                Ok(out)
            })
            .await;
        match result {
            Ok(Write::Done(v)) => Ok(v),
            Ok(Write::SlotTaken) => Err(CalendarError::SlotTaken),
            Ok(Write::NotFound) => Err(CalendarError::NotFound),
            Err(e) if is_constraint(&e) => Err(CalendarError::SlotTaken),
            Err(e) => Err(pool_error(e)),
        }
    }
}

fn migrate(conn: &mut rusqlite::Connection) -> Result<(), LocalCalendarError> {
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > known {
        return Err(LocalCalendarError::SchemaTooNew { found, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        if version <= found {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

fn pool_error(e: PoolError) -> CalendarError {
    // rusqlite's messages can quote SQL but never row values; still, keep the detail in the
    // log field only and the error text generic.
    tracing::warn!(error = %e, "local calendar database error");
    CalendarError::Unavailable("local calendar database error".into())
}

fn is_constraint(e: &PoolError) -> bool {
    matches!(
        e,
        PoolError::Sqlite(rusqlite::Error::SqliteFailure(err, _))
            if err.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

/// Outcome of a transaction, so "slot taken" and "not found" travel out of the blocking
/// closure as values rather than as database errors; only `Done` commits.
enum Write<T> {
    Done(T),
    SlotTaken,
    NotFound,
}

/// A stored row with its row number (which never leaves this module: it can be guessed).
struct Stored {
    id: i64,
    row: Row,
}

const ROW_COLUMNS: &str = "id, uid, resource, service, start_ms, end_ms, status, phone, call_id";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    Ok(Stored {
        id: r.get(0)?,
        row: Row {
            uid: r.get(1)?,
            resource: r.get(2)?,
            service: r.get(3)?,
            start_ms: r.get(4)?,
            end_ms: r.get(5)?,
            status: status_of(&r.get::<_, String>(6)?),
            phone: r.get(7)?,
            call_id: r.get(8)?,
        },
    })
}

fn find_row(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    uid: &str,
) -> rusqlite::Result<Option<Stored>> {
    tx.query_row(
        &format!(
            "SELECT {ROW_COLUMNS} FROM bookings
             WHERE company_id = ?1 AND branch_id = ?2 AND uid = ?3"
        ),
        params![scope.company_id, scope.branch_id, uid],
        read_row,
    )
    .optional()
}

/// The accepted booking made by request `key`, if any.
fn made_by_request(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    key: &str,
) -> rusqlite::Result<Option<Stored>> {
    tx.query_row(
        &format!(
            "SELECT {ROW_COLUMNS} FROM bookings
             WHERE company_id = ?1 AND branch_id = ?2 AND request_key = ?3
               AND status = 'accepted'"
        ),
        params![scope.company_id, scope.branch_id, key],
        read_row,
    )
    .optional()
}

/// The first of `resources` free over `[start_ms, end_ms)`, inside the caller's transaction:
/// no booking, and no hold live at `now_ms` of a call other than `owner`.
fn first_free<'r>(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    resources: impl IntoIterator<Item = &'r String>,
    (start_ms, end_ms): (i64, i64),
    now_ms: i64,
    owner: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    let first = start_ms.div_euclid(GRANULE_MS) * GRANULE_MS;
    let mut stmt = tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM occupancy
          WHERE company_id = ?1 AND branch_id = ?2 AND resource = ?3
            AND slot_start_ms >= ?4 AND slot_start_ms < ?5)",
    )?;
    for resource in resources {
        let occupied: bool = stmt.query_row(
            params![scope.company_id, scope.branch_id, resource, first, end_ms],
            |row| row.get(0),
        )?;
        if !occupied
            && !holds::held_by_other(tx, scope, resource, (start_ms, end_ms), now_ms, owner)?
        {
            return Ok(Some(resource.clone()));
        }
    }
    Ok(None)
}

/// Records the granules of a booking; a primary-key conflict means someone else holds one.
fn occupy(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    resource: &str,
    booking_id: i64,
    start_ms: i64,
    end_ms: i64,
) -> Result<(), PoolError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO occupancy (company_id, branch_id, resource, slot_start_ms, booking_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for g in granules(start_ms, end_ms) {
        stmt.execute(params![
            scope.company_id,
            scope.branch_id,
            resource,
            g,
            booking_id
        ])?;
    }
    Ok(())
}

#[async_trait]
impl CalendarDb for SqliteDb {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn taken(
        &self,
        scope: &TenantScope,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<Taken, CalendarError> {
        let scope = scope.clone();
        self.transaction(false, move |tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT resource, slot_start_ms FROM occupancy
                 WHERE company_id = ?1 AND branch_id = ?2
                   AND slot_start_ms >= ?3 AND slot_start_ms < ?4",
            )?;
            let rows = stmt.query_map(
                params![scope.company_id, scope.branch_id, from_ms, to_ms],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )?;
            let mut taken = Taken::default();
            for row in rows {
                let (resource, granule) = row?;
                taken.booked.entry(resource).or_default().insert(granule);
            }
            taken.held = holds::live(tx, &scope, from_ms, to_ms, now_ms)?;
            Ok(Write::Done(taken))
        })
        .await
    }

    async fn insert(
        &self,
        scope: &TenantScope,
        resources: &[String],
        new: NewRow,
    ) -> Result<(Row, HoldCounts), CalendarError> {
        let scope = scope.clone();
        let resources = resources.to_vec();
        self.transaction(true, move |tx| {
            if let Some(key) = &new.request_key
                && let Some(made) = made_by_request(tx, &scope, key)?
            {
                return Ok(Write::Done((made.row, HoldCounts::default())));
            }
            let span = (new.start_ms, new.end_ms);
            let owner = new.call_id.as_deref();
            let Some(resource) = first_free(tx, &scope, &resources, span, new.now_ms, owner)?
            else {
                return Ok(Write::SlotTaken);
            };
            tx.execute(
                "INSERT INTO bookings (uid, company_id, branch_id, resource, service, start_ms,
                    end_ms, status, name, email, phone, notes, created_ms, updated_ms, call_id,
                    request_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'accepted', ?8, ?9, ?10, ?11, ?12, ?12, ?13,
                    ?14)",
                params![
                    new.uid,
                    scope.company_id,
                    scope.branch_id,
                    resource,
                    new.service,
                    new.start_ms,
                    new.end_ms,
                    new.name,
                    new.email,
                    new.phone,
                    new.notes,
                    new.now_ms,
                    new.call_id,
                    new.request_key,
                ],
            )?;
            let id = tx.last_insert_rowid();
            occupy(tx, &scope, &resource, id, new.start_ms, new.end_ms)?;
            let row = Row {
                uid: new.uid,
                resource,
                service: new.service,
                start_ms: new.start_ms,
                end_ms: new.end_ms,
                status: BookingStatus::Accepted,
                phone: new.phone,
                call_id: new.call_id.clone(),
            };
            if new.notify {
                events::record(tx, &scope, &row, EventKind::Created, new.now_ms)?;
            }
            let counts = match owner {
                Some(call) => HoldCounts::of_deleted(
                    &holds::take_call(tx, &scope, call)?,
                    Some(span),
                    new.now_ms,
                ),
                None => HoldCounts::default(),
            };
            Ok(Write::Done((row, counts)))
        })
        .await
    }

    async fn hold(
        &self,
        scope: &TenantScope,
        resources: &[String],
        new: NewHolds,
    ) -> Result<Option<(Vec<bool>, HoldCounts)>, CalendarError> {
        let scope = scope.clone();
        let resources = resources.to_vec();
        self.transaction(true, move |tx| {
            let others = holds::others_live(tx, &scope, &new.call_id, new.now_ms)?;
            let wanted = u32::try_from(new.spans.len()).unwrap_or(u32::MAX);
            if others.saturating_add(wanted) > new.max_holds {
                return Ok(Write::Done(None));
            }
            let expired = holds::sweep(tx, &scope, new.now_ms)?;
            let old = holds::take_call(tx, &scope, &new.call_id)?;
            let mut held = Vec::with_capacity(new.spans.len());
            for &span in &new.spans {
                let owner = Some(new.call_id.as_str());
                let free = first_free(tx, &scope, &resources, span, new.now_ms, owner)?;
                if let Some(resource) = &free {
                    holds::insert(tx, &scope, resource, &new.call_id, span, new.expires_ms)?;
                }
                held.push(free.is_some());
            }
            let counts = HoldCounts::replaced(&old, &new.spans, &held, expired);
            Ok(Write::Done(Some((held, counts))))
        })
        .await
    }

    async fn own_holds(
        &self,
        scope: &TenantScope,
        call_id: &str,
        now_ms: i64,
    ) -> Result<Vec<(i64, i64, i64)>, CalendarError> {
        let scope = scope.clone();
        let call_id = call_id.to_owned();
        self.transaction(false, move |tx| {
            Ok(Write::Done(holds::of_call(tx, &scope, &call_id, now_ms)?))
        })
        .await
    }

    async fn release(
        &self,
        scope: &TenantScope,
        call_id: &str,
        now_ms: i64,
    ) -> Result<HoldCounts, CalendarError> {
        let scope = scope.clone();
        let call_id = call_id.to_owned();
        self.transaction(true, move |tx| {
            let old = holds::take_call(tx, &scope, &call_id)?;
            let mut counts = HoldCounts::of_deleted(&old, None, now_ms);
            counts.expired += holds::sweep(tx, &scope, now_ms)?;
            Ok(Write::Done(counts))
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, uid: &str) -> Result<Row, CalendarError> {
        let scope = scope.clone();
        let uid = uid.to_owned();
        self.transaction(false, move |tx| {
            Ok(match find_row(tx, &scope, &uid)? {
                Some(stored) => Write::Done(stored.row),
                None => Write::NotFound,
            })
        })
        .await
    }

    async fn cancel(
        &self,
        scope: &TenantScope,
        uid: &str,
        now_ms: i64,
        notify: bool,
    ) -> Result<Row, CalendarError> {
        let scope = scope.clone();
        let uid = uid.to_owned();
        self.transaction(true, move |tx| {
            let Some(Stored { id, mut row }) = find_row(tx, &scope, &uid)? else {
                return Ok(Write::NotFound);
            };
            if row.status != BookingStatus::Cancelled {
                tx.execute(
                    "UPDATE bookings SET status = 'cancelled', updated_ms = ?2 WHERE id = ?1",
                    params![id, now_ms],
                )?;
                tx.execute("DELETE FROM occupancy WHERE booking_id = ?1", params![id])?;
                row.status = BookingStatus::Cancelled;
                if notify {
                    events::record(tx, &scope, &row, EventKind::Cancelled, now_ms)?;
                }
            }
            Ok(Write::Done(row))
        })
        .await
    }

    async fn move_to(
        &self,
        scope: &TenantScope,
        uid: &str,
        resources: &[String],
        start_ms: i64,
        end_ms: i64,
        now_ms: i64,
        notify: bool,
    ) -> Result<Row, CalendarError> {
        let scope = scope.clone();
        let uid = uid.to_owned();
        let resources = resources.to_vec();
        self.transaction(true, move |tx| {
            let Some(Stored { id, mut row }) = find_row(tx, &scope, &uid)? else {
                return Ok(Write::NotFound);
            };
            if row.status == BookingStatus::Cancelled {
                return Ok(Write::NotFound);
            }
            // The booking's own granules must not block its move to an overlapping time.
            tx.execute("DELETE FROM occupancy WHERE booking_id = ?1", params![id])?;
            let preferred = std::iter::once(&row.resource)
                .chain(resources.iter().filter(|r| **r != row.resource));
            let Some(resource) =
                first_free(tx, &scope, preferred, (start_ms, end_ms), now_ms, None)?
            else {
                return Ok(Write::SlotTaken);
            };
            tx.execute(
                "UPDATE bookings SET start_ms = ?2, end_ms = ?3, resource = ?4, updated_ms = ?5
                 WHERE id = ?1",
                params![id, start_ms, end_ms, resource, now_ms],
            )?;
            occupy(tx, &scope, &resource, id, start_ms, end_ms)?;
            row.start_ms = start_ms;
            row.end_ms = end_ms;
            row.resource = resource;
            if notify {
                events::record(tx, &scope, &row, EventKind::Rescheduled, now_ms)?;
            }
            Ok(Write::Done(row))
        })
        .await
    }

    async fn find(
        &self,
        scope: &TenantScope,
        phone: Option<String>,
        email: Option<String>,
        from_ms: i64,
    ) -> Result<Vec<Row>, CalendarError> {
        let scope = scope.clone();
        self.transaction(false, move |tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM bookings
                 WHERE company_id = ?1 AND branch_id = ?2 AND status = 'accepted'
                   AND start_ms >= ?3 AND (phone = ?4 OR email = ?5)
                 ORDER BY start_ms"
            ))?;
            let rows = stmt
                .query_map(
                    params![scope.company_id, scope.branch_id, from_ms, phone, email],
                    read_row,
                )?
                .map(|stored| stored.map(|s| s.row))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Write::Done(rows))
        })
        .await
    }
}
