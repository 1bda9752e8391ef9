//! Holds on PostgreSQL: rows with an expiry beside the bookings. Every write of a tenant
//! queues on the tenant's advisory lock (`queue_for_tenant`), so checking bookings and holds
//! and then claiming a resource is one step for every replica; an exclusion constraint also
//! keeps two calls' holds of one resource apart (expired holds are swept before a hold is
//! placed, so they never block one).

use tokio_postgres::Transaction;

use super::{Failure, at, ms};
use crate::directory::TenantScope;
use crate::local::taken_cache::HeldRow;

/// Appended to the calendar's migrations.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE holds (
    id          BIGSERIAL   PRIMARY KEY,
    company_id  TEXT        NOT NULL,
    branch_id   TEXT        NOT NULL,
    resource    TEXT        NOT NULL,
    call_id     TEXT        NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at),
    CONSTRAINT holds_no_overlap EXCLUDE USING gist (
        company_id WITH =, branch_id WITH =, resource WITH =,
        tstzrange(starts_at, ends_at) WITH &&, call_id WITH <>
    )
);
CREATE INDEX holds_by_call ON holds (company_id, branch_id, call_id);
"#;

/// Resources with a hold live at `now_ms` over `[start_ms, end_ms)` of a call other than
/// `owner`.
pub(super) async fn busy(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    (start_ms, end_ms): (i64, i64),
    now_ms: i64,
    owner: Option<&str>,
) -> Result<Vec<String>, Failure> {
    let rows = tx
        .query(
            "SELECT DISTINCT resource FROM holds
             WHERE company_id = $1 AND branch_id = $2
               AND tstzrange(starts_at, ends_at) && tstzrange($3, $4) AND expires_at > $5
               AND ($6::TEXT IS NULL OR call_id <> $6)",
            &[
                &scope.company_id,
                &scope.branch_id,
                &at(start_ms),
                &at(end_ms),
                &at(now_ms),
                &owner,
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Holds live at `now_ms` that overlap `[from_ms, to_ms)`.
pub(super) async fn live(
    client: &tokio_postgres::Client,
    scope: &TenantScope,
    from_ms: i64,
    to_ms: i64,
    now_ms: i64,
) -> Result<Vec<HeldRow>, Failure> {
    let rows = client
        .query(
            "SELECT resource, call_id, starts_at, ends_at, expires_at FROM holds
             WHERE company_id = $1 AND branch_id = $2 AND starts_at < $4 AND ends_at > $3
               AND expires_at > $5",
            &[
                &scope.company_id,
                &scope.branch_id,
                &at(from_ms),
                &at(to_ms),
                &at(now_ms),
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| HeldRow {
            resource: r.get(0),
            call_id: r.get(1),
            start_ms: ms(r.get(2)),
            end_ms: ms(r.get(3)),
            expires_ms: ms(r.get(4)),
        })
        .collect())
}

/// The call's holds live at `now_ms`, as `(start, end, expires)`.
pub(super) async fn of_call(
    client: &tokio_postgres::Client,
    scope: &TenantScope,
    call_id: &str,
    now_ms: i64,
) -> Result<Vec<(i64, i64, i64)>, Failure> {
    let rows = client
        .query(
            "SELECT starts_at, ends_at, expires_at FROM holds
             WHERE company_id = $1 AND branch_id = $2 AND call_id = $3 AND expires_at > $4",
            &[&scope.company_id, &scope.branch_id, &call_id, &at(now_ms)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (ms(r.get(0)), ms(r.get(1)), ms(r.get(2))))
        .collect())
}

/// Deletes the call's holds; returns each one's `(start, end, expires)`.
pub(super) async fn take_call(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    call_id: &str,
) -> Result<Vec<(i64, i64, i64)>, Failure> {
    let rows = tx
        .query(
            "DELETE FROM holds WHERE company_id = $1 AND branch_id = $2 AND call_id = $3
             RETURNING starts_at, ends_at, expires_at",
            &[&scope.company_id, &scope.branch_id, &call_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (ms(r.get(0)), ms(r.get(1)), ms(r.get(2))))
        .collect())
}

/// Live holds at `now_ms` of calls other than `call_id`.
pub(super) async fn others_live(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    call_id: &str,
    now_ms: i64,
) -> Result<u32, Failure> {
    let n: i64 = tx
        .query_one(
            "SELECT COUNT(*) FROM holds
             WHERE company_id = $1 AND branch_id = $2 AND call_id <> $3 AND expires_at > $4",
            &[&scope.company_id, &scope.branch_id, &call_id, &at(now_ms)],
        )
        .await?
        .get(0);
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Deletes the scope's expired holds; how many.
pub(super) async fn sweep(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    now_ms: i64,
) -> Result<usize, Failure> {
    let n = tx
        .execute(
            "DELETE FROM holds WHERE company_id = $1 AND branch_id = $2 AND expires_at <= $3",
            &[&scope.company_id, &scope.branch_id, &at(now_ms)],
        )
        .await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

pub(super) async fn insert(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    resource: &str,
    call_id: &str,
    (start_ms, end_ms): (i64, i64),
    expires_ms: i64,
) -> Result<(), Failure> {
    tx.execute(
        "INSERT INTO holds (company_id, branch_id, resource, call_id, starts_at, ends_at,
            expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &scope.company_id,
            &scope.branch_id,
            &resource,
            &call_id,
            &at(start_ms),
            &at(end_ms),
            &at(expires_ms),
        ],
    )
    .await?;
    Ok(())
}
