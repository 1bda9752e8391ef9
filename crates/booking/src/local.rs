//! The embedded `local` calendar: bookings in SQLite, free slots derived from business hours,
//! slot granularity and the bookings already made.
//!
//! Double booking is prevented by the database, not by memory: each booking occupies every
//! 5-minute granule it covers in `occupancy`, whose primary key is
//! `(company_id, branch_id, resource, slot_start_ms)`. Inserting a booking and its granules is
//! one `BEGIN IMMEDIATE` transaction, so two processes racing for one slot cannot both commit.
//! The granule is fixed (not the tenant's slot granularity) so that changing a tenant's grid
//! never invalidates existing rows.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use frontdesk_store::Clock;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::directory::{Tenant, TenantScope};
use crate::provider::{
    Booking, BookingStatus, CalendarError, CalendarProvider, ContactQuery, NewBooking, Slot,
    SlotQuery,
};
use crate::sqlite_pool::{PoolError, SqlitePool};
use crate::taken_cache::{RangeKey, Taken, TakenCache};
use crate::tenants::CalendarConfig;

/// Occupancy granule in milliseconds (5 minutes).
const GRANULE_MS: i64 = 5 * 60 * 1000;
const DEFAULT_POOL_SIZE: usize = 4;

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
];

/// Why the local calendar could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LocalCalendarError {
    #[error("cannot create the database directory: {0}")]
    Directory(#[from] std::io::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this build ({known})")]
    SchemaTooNew { found: i64, known: i64 },
}

/// The SQLite-backed calendar.
pub struct LocalCalendar {
    pool: Arc<SqlitePool>,
    clock: Arc<dyn Clock>,
    /// Occupancy recently read for free slots (see `taken_cache`).
    taken: TakenCache,
}

impl LocalCalendar {
    /// Opens (creating when needed) the database at `path` and migrates it.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, LocalCalendarError> {
        Self::open_with_pool_size(path, clock, DEFAULT_POOL_SIZE)
    }

    pub fn open_with_pool_size(
        path: &Path,
        clock: Arc<dyn Clock>,
        pool_size: usize,
    ) -> Result<Self, LocalCalendarError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = SqlitePool::connect(path)?;
        migrate(&mut conn)?;
        let pool = SqlitePool::new(path, pool_size);
        Ok(Self {
            pool: Arc::new(pool),
            clock,
            taken: TakenCache::default(),
        })
    }

    fn now(&self) -> i64 {
        i64::try_from(self.clock.now_ms()).unwrap_or(i64::MAX)
    }

    /// Runs a writing transaction; afterwards every cached occupancy read is stale.
    async fn write<T, F>(&self, f: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T, PoolError> + Send + 'static,
    {
        let result = self.pool.run(f).await;
        self.taken.invalidate();
        result
    }

    /// Occupied granules in `from_ms..to_ms`, per resource.
    async fn read_taken(
        &self,
        scope: &TenantScope,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Taken, CalendarError> {
        let scope = scope.clone();
        self.pool
            .run(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT resource, slot_start_ms FROM occupancy
                     WHERE company_id = ?1 AND branch_id = ?2
                       AND slot_start_ms >= ?3 AND slot_start_ms < ?4",
                )?;
                let rows = stmt.query_map(
                    params![scope.company_id, scope.branch_id, from_ms, to_ms],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
                )?;
                let mut taken = Taken::new();
                for row in rows {
                    let (resource, granule) = row?;
                    taken.entry(resource).or_default().insert(granule);
                }
                Ok(taken)
            })
            .await
            .map_err(pool_error)
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

fn resources(tenant: &Tenant) -> Result<Vec<String>, CalendarError> {
    match &tenant.calendar {
        CalendarConfig::Local(local) => Ok(local.resources.clone()),
        CalendarConfig::Calcom(_) => Err(CalendarError::Config(
            "tenant does not use the local calendar".into(),
        )),
    }
}

fn pool_error(e: PoolError) -> CalendarError {
    // rusqlite's messages can quote SQL but never row values; still, keep the detail in the
    // log field only and the error text generic.
    tracing::warn!(error = %e, "local calendar database error");
    CalendarError::Unavailable("local calendar database error".into())
}

fn granules(start_ms: i64, end_ms: i64) -> impl Iterator<Item = i64> {
    let first = start_ms.div_euclid(GRANULE_MS) * GRANULE_MS;
    (0..)
        .map(move |i| first + i * GRANULE_MS)
        .take_while(move |g| *g < end_ms)
}

fn ts(ms: i64) -> Result<Timestamp, CalendarError> {
    Timestamp::from_millisecond(ms)
        .map_err(|_| CalendarError::Unavailable("bad stored time".into()))
}

fn normalise_phone(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

/// A booking row as stored.
struct Row {
    id: i64,
    uid: String,
    resource: String,
    service: Option<String>,
    start_ms: i64,
    end_ms: i64,
    status: String,
    phone: Option<String>,
    call_id: Option<String>,
}

impl Row {
    fn into_booking(self) -> Result<Booking, CalendarError> {
        Ok(Booking {
            // The row number stays inside: callers only ever see the unguessable uid.
            id: self.uid.clone(),
            uid: self.uid,
            start: ts(self.start_ms)?,
            end: ts(self.end_ms)?,
            status: if self.status == "cancelled" {
                BookingStatus::Cancelled
            } else {
                BookingStatus::Accepted
            },
            service: self.service,
            phone: self.phone,
            call_id: self.call_id,
        })
    }
}

const ROW_COLUMNS: &str = "id, uid, resource, service, start_ms, end_ms, status, phone, call_id";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: row.get(0)?,
        uid: row.get(1)?,
        resource: row.get(2)?,
        service: row.get(3)?,
        start_ms: row.get(4)?,
        end_ms: row.get(5)?,
        status: row.get(6)?,
        phone: row.get(7)?,
        call_id: row.get(8)?,
    })
}

fn find_row(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    booking_ref: &str,
) -> rusqlite::Result<Option<Row>> {
    // A reference is the uid, looked up within the tenant only, so another tenant's reads as
    // "not found". Row numbers are never references: they can be guessed.
    tx.query_row(
        &format!(
            "SELECT {ROW_COLUMNS} FROM bookings
             WHERE company_id = ?1 AND branch_id = ?2 AND uid = ?3"
        ),
        params![scope.company_id, scope.branch_id, booking_ref.trim()],
        read_row,
    )
    .optional()
}

/// The accepted booking `call_id` made for exactly `[start_ms, end_ms)`, if any.
fn made_by_call(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    call_id: &str,
    start_ms: i64,
    end_ms: i64,
) -> rusqlite::Result<Option<Row>> {
    tx.query_row(
        &format!(
            "SELECT {ROW_COLUMNS} FROM bookings
             WHERE company_id = ?1 AND branch_id = ?2 AND start_ms = ?3 AND end_ms = ?4
               AND call_id = ?5 AND status = 'accepted'"
        ),
        params![scope.company_id, scope.branch_id, start_ms, end_ms, call_id],
        read_row,
    )
    .optional()
}

/// The first of `resources` free over `[start_ms, end_ms)`, inside the caller's transaction.
fn first_free<'r>(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    resources: impl IntoIterator<Item = &'r String>,
    start_ms: i64,
    end_ms: i64,
) -> rusqlite::Result<Option<String>> {
    for resource in resources {
        if !occupied(tx, scope, resource, start_ms, end_ms)? {
            return Ok(Some(resource.clone()));
        }
    }
    Ok(None)
}

fn occupied(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    resource: &str,
    start_ms: i64,
    end_ms: i64,
) -> rusqlite::Result<bool> {
    let first = start_ms.div_euclid(GRANULE_MS) * GRANULE_MS;
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM occupancy
          WHERE company_id = ?1 AND branch_id = ?2 AND resource = ?3
            AND slot_start_ms >= ?4 AND slot_start_ms < ?5)",
        params![scope.company_id, scope.branch_id, resource, first, end_ms],
        |row| row.get(0),
    )
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

fn is_constraint(e: &PoolError) -> bool {
    matches!(
        e,
        PoolError::Sqlite(rusqlite::Error::SqliteFailure(err, _))
            if err.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

/// Outcome of a write transaction, so "slot taken" and "not found" travel out of the blocking
/// closure as values rather than as database errors.
enum Write<T> {
    Done(T),
    SlotTaken,
    NotFound,
}

fn finish<T>(result: Result<Write<T>, PoolError>) -> Result<T, CalendarError> {
    match result {
        Ok(Write::Done(v)) => Ok(v),
        Ok(Write::SlotTaken) => Err(CalendarError::SlotTaken),
        Ok(Write::NotFound) => Err(CalendarError::NotFound),
        Err(e) if is_constraint(&e) => Err(CalendarError::SlotTaken),
        Err(e) => Err(pool_error(e)),
    }
}

/// Refuses a start that is in the past or does not fit inside that day's business hours; the
/// engine only offers fitting slots, so this guards direct callers.
fn check_fits(
    tenant: &Tenant,
    start: Timestamp,
    duration_min: u32,
    now_ms: i64,
) -> Result<i64, CalendarError> {
    let start_ms = start.as_millisecond();
    if start_ms < now_ms {
        return Err(CalendarError::Rejected("start is in the past".into()));
    }
    let date = tenant.time_zone.to_datetime(start).date();
    let (open, close) = tenant
        .hours
        .day_window(date, &tenant.time_zone)
        .ok_or_else(|| CalendarError::Rejected("start is outside business hours".into()))?;
    let end = start
        .checked_add(SignedDuration::from_mins(i64::from(duration_min)))
        .map_err(|_| CalendarError::Rejected("bad duration".into()))?;
    if start < open || end > close {
        return Err(CalendarError::Rejected(
            "appointment does not fit business hours".into(),
        ));
    }
    Ok(end.as_millisecond())
}

/// A booking uid: 128 random bits from the operating system's generator, so a caller who knows
/// one booking's reference cannot derive another's (the UNIQUE column catches the impossible).
fn new_uid() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

#[async_trait]
impl CalendarProvider for LocalCalendar {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn free_slots(
        &self,
        tenant: &Tenant,
        query: &SlotQuery,
    ) -> Result<Vec<Slot>, CalendarError> {
        let resources = resources(tenant)?;
        let now_ms = self.now();
        // Candidate starts come from business hours alone (no database needed).
        let mut candidates: Vec<Timestamp> = Vec::new();
        let mut day: Date = query.from;
        while day <= query.to {
            candidates.extend(tenant.hours.slot_starts(
                day,
                &tenant.time_zone,
                tenant.granularity_min,
                query.duration_min,
            ));
            day = match day.checked_add(1.days()) {
                Ok(next) => next,
                Err(_) => break,
            };
        }
        candidates.retain(|s| s.as_millisecond() >= now_ms);
        let (Some(first), Some(last)) = (candidates.first(), candidates.last()) else {
            return Ok(Vec::new());
        };
        let duration_ms = i64::from(query.duration_min) * 60_000;
        let range = (first.as_millisecond(), last.as_millisecond() + duration_ms);
        let lo = range.0.div_euclid(GRANULE_MS) * GRANULE_MS;
        let key: RangeKey = (
            tenant.scope.company_id.clone(),
            tenant.scope.branch_id.clone(),
            lo,
            range.1,
        );
        let taken = match self.taken.get(&key, self.clock.now_ms()) {
            Some(taken) => taken,
            None => {
                let generation = self.taken.generation();
                let fetched = Arc::new(self.read_taken(&tenant.scope, lo, range.1).await?);
                self.taken
                    .store(key, generation, self.clock.now_ms(), fetched.clone());
                fetched
            }
        };
        let empty = HashSet::new();
        // Each resource's taken granules looked up once, not once per candidate.
        let taken_by: Vec<&HashSet<i64>> = resources
            .iter()
            .map(|r| taken.get(r).unwrap_or(&empty))
            .collect();
        let free = candidates
            .into_iter()
            .filter(|start| {
                let s = start.as_millisecond();
                taken_by.iter().any(|taken| {
                    taken.is_empty() || granules(s, s + duration_ms).all(|g| !taken.contains(&g))
                })
            })
            .map(|start| Slot { start })
            .collect();
        Ok(free)
    }

    async fn create(
        &self,
        tenant: &Tenant,
        booking: &NewBooking,
    ) -> Result<Booking, CalendarError> {
        let resources = resources(tenant)?;
        let now_ms = self.now();
        let end_ms = check_fits(tenant, booking.start, booking.duration_min, now_ms)?;
        let start_ms = booking.start.as_millisecond();
        let scope = tenant.scope.clone();
        let uid = new_uid();
        let b = booking.clone();
        let result = self
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                // The same call asking for the same slot again (Retell retries a function it
                // got no answer for, and the reply store may not have survived a restart) gets
                // the booking it already made: the database is the record, not the cache.
                if let Some(call_id) = &b.call_id
                    && let Some(row) = made_by_call(&tx, &scope, call_id, start_ms, end_ms)?
                {
                    return Ok(Write::Done(row));
                }
                let Some(resource) = first_free(&tx, &scope, &resources, start_ms, end_ms)? else {
                    return Ok(Write::SlotTaken);
                };
                tx.execute(
                    "INSERT INTO bookings (uid, company_id, branch_id, resource, service, start_ms,
                        end_ms, status, name, email, phone, notes, created_ms, updated_ms, call_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'accepted', ?8, ?9, ?10, ?11, ?12, ?12, ?13)",
                    params![
                        uid,
                        scope.company_id,
                        scope.branch_id,
                        resource,
                        b.service,
                        start_ms,
                        end_ms,
                        b.attendee.name,
                        b.attendee.email.as_deref().map(str::to_lowercase),
                        b.attendee.phone.as_deref().map(normalise_phone),
                        b.notes,
                        now_ms,
                        b.call_id,
                    ],
                )?;
                let id = tx.last_insert_rowid();
                occupy(&tx, &scope, &resource, id, start_ms, end_ms)?;
                tx.commit()?;
                Ok(Write::Done(Row {
                    id,
                    uid,
                    resource,
                    service: b.service,
                    start_ms,
                    end_ms,
                    status: "accepted".into(),
                    phone: b.attendee.phone.as_deref().map(normalise_phone),
                    call_id: b.call_id,
                }))
            })
            .await;
        finish(result)?.into_booking()
    }

    async fn get_booking(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
    ) -> Result<Booking, CalendarError> {
        resources(tenant)?;
        let scope = tenant.scope.clone();
        let booking_ref = booking_ref.to_owned();
        let result = self
            .pool
            .run(move |conn| {
                let tx = conn.transaction()?;
                Ok(match find_row(&tx, &scope, &booking_ref)? {
                    Some(row) => Write::Done(row),
                    None => Write::NotFound,
                })
            })
            .await;
        finish(result)?.into_booking()
    }

    async fn cancel(&self, tenant: &Tenant, booking_ref: &str) -> Result<Booking, CalendarError> {
        resources(tenant)?;
        let scope = tenant.scope.clone();
        let booking_ref = booking_ref.to_owned();
        let now_ms = self.now();
        let result = self
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let Some(mut row) = find_row(&tx, &scope, &booking_ref)? else {
                    return Ok(Write::NotFound);
                };
                if row.status != "cancelled" {
                    tx.execute(
                        "UPDATE bookings SET status = 'cancelled', updated_ms = ?2 WHERE id = ?1",
                        params![row.id, now_ms],
                    )?;
                    tx.execute(
                        "DELETE FROM occupancy WHERE booking_id = ?1",
                        params![row.id],
                    )?;
                    row.status = "cancelled".into();
                }
                tx.commit()?;
                Ok(Write::Done(row))
            })
            .await;
        finish(result)?.into_booking()
    }

    async fn reschedule(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
        new_start: Timestamp,
    ) -> Result<Booking, CalendarError> {
        let resources = resources(tenant)?;
        let now_ms = self.now();
        let scope = tenant.scope.clone();
        let booking_ref = booking_ref.to_owned();
        let tenant = tenant.clone();
        let result = self
            .write(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let Some(mut row) = find_row(&tx, &scope, &booking_ref)? else {
                    return Ok(Write::NotFound);
                };
                if row.status == "cancelled" {
                    return Ok(Write::NotFound);
                }
                let duration_min = u32::try_from((row.end_ms - row.start_ms) / 60_000).unwrap_or(0);
                let end_ms = match check_fits(&tenant, new_start, duration_min, now_ms) {
                    Ok(end) => end,
                    Err(e) => return Ok(Write::Done(Err(e))),
                };
                let start_ms = new_start.as_millisecond();
                // The booking's own granules must not block its move to an overlapping time.
                tx.execute(
                    "DELETE FROM occupancy WHERE booking_id = ?1",
                    params![row.id],
                )?;
                let preferred = std::iter::once(&row.resource)
                    .chain(resources.iter().filter(|r| **r != row.resource));
                let Some(resource) = first_free(&tx, &scope, preferred, start_ms, end_ms)? else {
                    // Dropping the transaction rolls back the deletion above.
                    return Ok(Write::SlotTaken);
                };
                tx.execute(
                    "UPDATE bookings SET start_ms = ?2, end_ms = ?3, resource = ?4, updated_ms = ?5
                     WHERE id = ?1",
                    params![row.id, start_ms, end_ms, resource, now_ms],
                )?;
                occupy(&tx, &scope, &resource, row.id, start_ms, end_ms)?;
                tx.commit()?;
                row.start_ms = start_ms;
                row.end_ms = end_ms;
                row.resource = resource;
                Ok(Write::Done(Ok(row)))
            })
            .await;
        finish(result)??.into_booking()
    }

    async fn find_bookings(
        &self,
        tenant: &Tenant,
        contact: &ContactQuery,
    ) -> Result<Vec<Booking>, CalendarError> {
        resources(tenant)?;
        let scope = tenant.scope.clone();
        let phone = contact
            .phone
            .as_deref()
            .map(normalise_phone)
            .filter(|p| !p.is_empty());
        let email = contact
            .email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty());
        if phone.is_none() && email.is_none() {
            return Ok(Vec::new());
        }
        let from_ms = contact.from.map(|t| t.as_millisecond()).unwrap_or(i64::MIN);
        let rows = self
            .pool
            .run(move |conn| {
                let mut stmt = conn.prepare_cached(&format!(
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
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await
            .map_err(pool_error)?;
        rows.into_iter().map(Row::into_booking).collect()
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
