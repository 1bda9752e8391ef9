//! Holds on SQLite: rows with an expiry beside the bookings. Writers are serialised by
//! `BEGIN IMMEDIATE`, so checking bookings and holds and then claiming a resource is one step
//! for every process sharing the file.

use rusqlite::{Transaction, params};

use crate::directory::TenantScope;
use crate::local::taken_cache::HeldRow;

/// Appended to the calendar's migrations.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE holds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  TEXT    NOT NULL,
    branch_id   TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    call_id     TEXT    NOT NULL,
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    CHECK (end_ms > start_ms)
);
CREATE INDEX holds_by_start ON holds (company_id, branch_id, start_ms);
CREATE INDEX holds_by_call ON holds (company_id, branch_id, call_id);
"#;

/// Whether `resource` has a hold live at `now_ms` over `[start_ms, end_ms)` of a call other
/// than `owner`.
pub(super) fn held_by_other(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    resource: &str,
    (start_ms, end_ms): (i64, i64),
    now_ms: i64,
    owner: Option<&str>,
) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM holds
          WHERE company_id = ?1 AND branch_id = ?2 AND resource = ?3
            AND start_ms < ?5 AND end_ms > ?4 AND expires_ms > ?6
            AND (?7 IS NULL OR call_id <> ?7))",
    )?
    .query_row(
        params![
            scope.company_id,
            scope.branch_id,
            resource,
            start_ms,
            end_ms,
            now_ms,
            owner
        ],
        |row| row.get(0),
    )
}

/// Holds live at `now_ms` that overlap `[from_ms, to_ms)`.
pub(super) fn live(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    from_ms: i64,
    to_ms: i64,
    now_ms: i64,
) -> rusqlite::Result<Vec<HeldRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT resource, call_id, start_ms, end_ms, expires_ms FROM holds
         WHERE company_id = ?1 AND branch_id = ?2 AND start_ms < ?4 AND end_ms > ?3
           AND expires_ms > ?5",
    )?;
    let rows = stmt.query_map(
        params![scope.company_id, scope.branch_id, from_ms, to_ms, now_ms],
        |r| {
            Ok(HeldRow {
                resource: r.get(0)?,
                call_id: r.get(1)?,
                start_ms: r.get(2)?,
                end_ms: r.get(3)?,
                expires_ms: r.get(4)?,
            })
        },
    )?;
    rows.collect()
}

/// The call's holds live at `now_ms`, as `(start, end, expires)`.
pub(super) fn of_call(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    call_id: &str,
    now_ms: i64,
) -> rusqlite::Result<Vec<(i64, i64, i64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT start_ms, end_ms, expires_ms FROM holds
         WHERE company_id = ?1 AND branch_id = ?2 AND call_id = ?3 AND expires_ms > ?4",
    )?;
    let rows = stmt.query_map(
        params![scope.company_id, scope.branch_id, call_id, now_ms],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    rows.collect()
}

/// Deletes the call's holds; returns each one's `(start, end, expires)`.
pub(super) fn take_call(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    call_id: &str,
) -> rusqlite::Result<Vec<(i64, i64, i64)>> {
    let mut stmt = tx.prepare_cached(
        "DELETE FROM holds WHERE company_id = ?1 AND branch_id = ?2 AND call_id = ?3
         RETURNING start_ms, end_ms, expires_ms",
    )?;
    let rows = stmt.query_map(params![scope.company_id, scope.branch_id, call_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    rows.collect()
}

/// Live holds at `now_ms` of calls other than `call_id`.
pub(super) fn others_live(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    call_id: &str,
    now_ms: i64,
) -> rusqlite::Result<u32> {
    tx.prepare_cached(
        "SELECT COUNT(*) FROM holds
         WHERE company_id = ?1 AND branch_id = ?2 AND call_id <> ?3 AND expires_ms > ?4",
    )?
    .query_row(
        params![scope.company_id, scope.branch_id, call_id, now_ms],
        |r| r.get(0),
    )
}

/// Deletes the scope's expired holds; how many.
pub(super) fn sweep(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    now_ms: i64,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "DELETE FROM holds WHERE company_id = ?1 AND branch_id = ?2 AND expires_ms <= ?3",
    )?
    .execute(params![scope.company_id, scope.branch_id, now_ms])
}

pub(super) fn insert(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    resource: &str,
    call_id: &str,
    (start_ms, end_ms): (i64, i64),
    expires_ms: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO holds (company_id, branch_id, resource, call_id, start_ms, end_ms, expires_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        scope.company_id,
        scope.branch_id,
        resource,
        call_id,
        start_ms,
        end_ms,
        expires_ms
    ])?;
    Ok(())
}
