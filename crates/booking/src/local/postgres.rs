//! The embedded calendar on PostgreSQL: one database, any number of frontdesk replicas.
//!
//! Double booking is impossible by the database itself: an exclusion constraint keeps two
//! accepted bookings of one resource from overlapping (`btree_gist`), and a unique index keeps
//! one request from booking twice. A write that still meets the constraint (a writer that did
//! not queue, see `queue_for_tenant`) fails with it, which here means "try the next resource"
//! or "the slot is taken". Every operation runs under `operation_timeout` (pool wait included),
//! also set as the server's `statement_timeout`, so a slow or absent database answers as
//! "unavailable" within the caller's deadline.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Transaction};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::db::{CalendarDb, HoldCounts, NewHolds, NewRow, Row, granules, status_of};
use super::taken_cache::Taken;
use crate::directory::TenantScope;
use crate::local::config::CalendarStoreConfig;
use crate::local::events::EventKind;
use crate::provider::{BookingStatus, CalendarError};

mod events;
mod holds;

/// Versioned migrations, applied in order at connect (and by `frontdesk migrate`); the table
/// `frontdesk_schema_migrations` records which ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE bookings (
    id          BIGSERIAL   PRIMARY KEY,
    uid         TEXT        NOT NULL UNIQUE,
    company_id  TEXT        NOT NULL,
    branch_id   TEXT        NOT NULL,
    resource    TEXT        NOT NULL,
    service     TEXT,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('accepted', 'cancelled')),
    name        TEXT        NOT NULL,
    email       TEXT,
    phone       TEXT,
    notes       TEXT,
    call_id     TEXT,
    request_key TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        company_id WITH =, branch_id WITH =, resource WITH =,
        tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status = 'accepted')
);
CREATE UNIQUE INDEX bookings_request_once ON bookings (company_id, branch_id, request_key)
    WHERE status = 'accepted' AND request_key IS NOT NULL;
CREATE INDEX bookings_by_phone ON bookings (company_id, branch_id, phone);
CREATE INDEX bookings_by_email ON bookings (company_id, branch_id, email);
"#,
    // Free-slot reads look up a tenant's accepted bookings by time.
    r#"
CREATE INDEX bookings_by_start ON bookings (company_id, branch_id, starts_at)
    WHERE status = 'accepted';
"#,
    events::MIGRATION,
    holds::MIGRATION,
];

/// Any key: it only has to be the same for every frontdesk process migrating one database.
const MIGRATION_LOCK: i64 = 0x6672_6f6e_7464_6b31;

const ROW_COLUMNS: &str = "id, uid, resource, service, starts_at, ends_at, status, phone, call_id";

/// Why the PostgreSQL calendar could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("the database URL is not valid (its text is not shown: it may hold a password)")]
    Url,
    #[error("cannot build the connection pool: {0}")]
    Pool(#[source] deadpool_postgres::BuildError),
    #[error("cannot reach the database: {0}")]
    Connect(#[source] deadpool_postgres::PoolError),
    #[error("TLS to the database: {0}")]
    Tls(String),
    #[error("migration failed: {0}")]
    Migrate(#[source] tokio_postgres::Error),
    #[error("database schema version {found} is newer than this build ({known})")]
    SchemaTooNew { found: i64, known: i64 },
}

pub(crate) struct PostgresDb {
    pool: Pool,
    operation_timeout: Duration,
}

impl PostgresDb {
    /// Builds the pool and applies pending migrations (a failure here stops the start: a
    /// calendar that cannot migrate cannot answer truthfully).
    pub(crate) async fn connect(
        config: &CalendarStoreConfig,
        url: &str,
    ) -> Result<Self, PostgresError> {
        let mut pg = tokio_postgres::Config::from_str(url).map_err(|_| PostgresError::Url)?;
        pg.connect_timeout(config.connect_timeout);
        pg.application_name("frontdesk");
        // Server-side bounds below our own, so the server gives up first and says why; kept
        // beside whatever `options` the URL already carries (a search_path, say).
        let budget = config.operation_timeout.as_millis();
        let bounds = format!(
            "-c statement_timeout={} -c lock_timeout={}",
            budget * 3 / 4,
            budget / 2
        );
        let options = match pg.get_options() {
            Some(theirs) if !theirs.trim().is_empty() => format!("{theirs} {bounds}"),
            _ => bounds,
        };
        pg.options(options);
        // A peer that vanishes without a FIN (failover, NAT reset) is noticed in seconds, not
        // after the kernel's retransmission timeout.
        pg.keepalives(true);
        pg.keepalives_idle(Duration::from_secs(10));
        pg.tcp_user_timeout(config.operation_timeout.max(Duration::from_secs(5)));
        let recycling = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.tls {
            pg.ssl_mode(SslMode::Require);
            let tls = MakeRustlsConnect::new(tls_config(config.ca_file.as_deref())?);
            Manager::from_config(pg, tls, recycling)
        } else {
            Manager::from_config(pg, NoTls, recycling)
        };
        let pool = Pool::builder(manager)
            .max_size(config.pool)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.operation_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(Some(config.operation_timeout))
            .build()
            .map_err(PostgresError::Pool)?;
        let db = Self {
            pool,
            operation_timeout: config.operation_timeout,
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), PostgresError> {
        let mut client = self.pool.get().await.map_err(PostgresError::Connect)?;
        let failed = PostgresError::Migrate;
        let tx = client.transaction().await.map_err(failed)?;
        // Migrations may take long (an index on a full table): not bound by the call budget.
        tx.batch_execute("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0")
            .await
            .map_err(failed)?;
        // Replicas starting together migrate one after the other.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(failed)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS frontdesk_schema_migrations (
                version    INTEGER     PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(failed)?;
        let found: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM frontdesk_schema_migrations",
                &[],
            )
            .await
            .map_err(failed)?
            .get(0);
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if found > known {
            return Err(PostgresError::SchemaTooNew { found, known });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate() {
            let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
            if i64::from(version) <= found {
                continue;
            }
            tx.batch_execute(sql).await.map_err(failed)?;
            tx.execute(
                "INSERT INTO frontdesk_schema_migrations (version) VALUES ($1)",
                &[&version],
            )
            .await
            .map_err(failed)?;
        }
        tx.commit().await.map_err(failed)
    }

    /// Runs one operation on a pooled connection within `operation_timeout` (pool wait
    /// included). A connection whose operation ran out of time is closed, never pooled again:
    /// its statement may still be running, or its peer be gone.
    async fn run<T, F>(&self, op: F) -> Result<T, CalendarError>
    where
        F: AsyncFnOnce(&mut deadpool_postgres::Client) -> Result<T, Failure>,
    {
        let deadline = tokio::time::Instant::now() + self.operation_timeout;
        let mut client = match tokio::time::timeout_at(deadline, self.pool.get()).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "calendar database: no connection");
                return Err(unavailable());
            }
            Err(_) => {
                tracing::warn!("calendar database: no connection within the budget");
                return Err(unavailable());
            }
        };
        let result = tokio::time::timeout_at(deadline, op(&mut client)).await;
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Failure::SlotTaken)) => Err(CalendarError::SlotTaken),
            Ok(Err(Failure::NotFound)) => Err(CalendarError::NotFound),
            Ok(Err(Failure::Refused)) => Err(CalendarError::Rejected(
                "the calendar database refused the values".into(),
            )),
            Ok(Err(Failure::Unavailable)) => Err(unavailable()),
            Err(_) => {
                drop(deadpool_postgres::Client::take(client));
                tracing::warn!("calendar database: operation timed out; connection closed");
                Err(unavailable())
            }
        }
    }
}

/// A verifying TLS client: roots from `ca_file`, else the system's.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, PostgresError> {
    let tls_error = |e: String| PostgresError::Tls(e);
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| tls_error(format!("{}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| tls_error(format!("{}: {e}", path.display())))?;
                roots.add(cert).map_err(|e| tls_error(e.to_string()))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                // A malformed system root is skipped, like every TLS client does.
                let _ = roots.add(cert);
            }
        }
    }
    if roots.is_empty() {
        return Err(tls_error(
            "no root certificates to verify the server with".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn unavailable() -> CalendarError {
    CalendarError::Unavailable("calendar database unavailable".into())
}

/// How an operation ended other than with its value.
enum Failure {
    SlotTaken,
    NotFound,
    /// The database refused the values (data or integrity errors): the request's fault, not
    /// the database's, so it never counts against the breaker.
    Refused,
    Unavailable,
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        // The server's message can quote values of the failing row; log only its code.
        let code = e.code().map(SqlState::code).unwrap_or("none");
        tracing::warn!(
            sqlstate = code,
            closed = e.is_closed(),
            "calendar database error"
        );
        // Class 22 (data exception) and 23 (integrity violation) are about the values sent.
        if code.starts_with("22") || code.starts_with("23") {
            Failure::Refused
        } else {
            Failure::Unavailable
        }
    }
}

fn is(e: &tokio_postgres::Error, state: &SqlState) -> bool {
    e.code() == Some(state)
}

/// An instant from Unix milliseconds, clamped to ±3 000 years: the open ends callers pass
/// (`i64::MIN` for "from the beginning") stay inside what PostgreSQL and `SystemTime` hold.
fn at(ms: i64) -> SystemTime {
    const LIMIT_MS: i64 = 100_000_000_000_000;
    match u64::try_from(ms.clamp(-LIMIT_MS, LIMIT_MS)) {
        Ok(ms) => UNIX_EPOCH + Duration::from_millis(ms),
        Err(_) => UNIX_EPOCH - Duration::from_millis(ms.clamp(-LIMIT_MS, 0).unsigned_abs()),
    }
}

fn ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// A stored row with its row number (which never leaves this module: it can be guessed).
struct Stored {
    id: i64,
    row: Row,
}

fn read_row(r: &tokio_postgres::Row) -> Stored {
    Stored {
        id: r.get(0),
        row: Row {
            uid: r.get(1),
            resource: r.get(2),
            service: r.get(3),
            start_ms: ms(r.get(4)),
            end_ms: ms(r.get(5)),
            status: status_of(r.get(6)),
            phone: r.get(7),
            call_id: r.get(8),
        },
    }
}

async fn made_by_request(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    key: &str,
) -> Result<Option<Stored>, Failure> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {ROW_COLUMNS} FROM bookings
                 WHERE company_id = $1 AND branch_id = $2 AND request_key = $3
                   AND status = 'accepted'"
            ),
            &[&scope.company_id, &scope.branch_id, &key],
        )
        .await?;
    Ok(row.as_ref().map(read_row))
}

/// Writers of one tenant take turns (a transaction-scoped advisory lock). The exclusion
/// constraint alone keeps bookings apart, but writers racing for one slot would each wait for
/// the other's row, and PostgreSQL resolves such waits only after `deadlock_timeout` (1 s):
/// queueing first turns a burst into quick, orderly transactions.
async fn queue_for_tenant(tx: &Transaction<'_>, scope: &TenantScope) -> Result<(), Failure> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))",
        &[&scope.company_id, &scope.branch_id],
    )
    .await?;
    Ok(())
}

/// Resources with an accepted booking (other than `except`) overlapping `[start, end)`.
async fn busy(
    tx: &Transaction<'_>,
    scope: &TenantScope,
    start_ms: i64,
    end_ms: i64,
    except: i64,
) -> Result<Vec<String>, Failure> {
    let rows = tx
        .query(
            "SELECT DISTINCT resource FROM bookings
             WHERE company_id = $1 AND branch_id = $2 AND status = 'accepted' AND id <> $5
               AND tstzrange(starts_at, ends_at) && tstzrange($3, $4)",
            &[
                &scope.company_id,
                &scope.branch_id,
                &at(start_ms),
                &at(end_ms),
                &except,
            ],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

#[async_trait]
impl CalendarDb for PostgresDb {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn taken(
        &self,
        scope: &TenantScope,
        from_ms: i64,
        to_ms: i64,
        now_ms: i64,
    ) -> Result<Taken, CalendarError> {
        self.run(async |client| {
            let rows = client
                .query(
                    "SELECT resource, starts_at, ends_at FROM bookings
                     WHERE company_id = $1 AND branch_id = $2 AND status = 'accepted'
                       AND starts_at < $4 AND ends_at > $3",
                    &[
                        &scope.company_id,
                        &scope.branch_id,
                        &at(from_ms),
                        &at(to_ms),
                    ],
                )
                .await?;
            let mut taken = Taken::default();
            for r in &rows {
                let cells = taken.booked.entry(r.get(0)).or_default();
                cells.extend(
                    granules(ms(r.get(1)), ms(r.get(2))).filter(|g| (from_ms..to_ms).contains(g)),
                );
            }
            taken.held = holds::live(client, scope, from_ms, to_ms, now_ms).await?;
            Ok(taken)
        })
        .await
    }

    async fn insert(
        &self,
        scope: &TenantScope,
        resources: &[String],
        new: NewRow,
    ) -> Result<(Row, HoldCounts), CalendarError> {
        self.run(async |client| {
            let mut tx = client.transaction().await?;
            queue_for_tenant(&tx, scope).await?;
            if let Some(key) = &new.request_key
                && let Some(made) = made_by_request(&tx, scope, key).await?
            {
                return Ok((made.row, HoldCounts::default()));
            }
            let span = (new.start_ms, new.end_ms);
            let owner = new.call_id.as_deref();
            let mut busy = busy(&tx, scope, new.start_ms, new.end_ms, 0).await?;
            busy.extend(holds::busy(&tx, scope, span, new.now_ms, owner).await?);
            let candidates: Vec<&String> = resources.iter().filter(|r| !busy.contains(r)).collect();
            let mut next = 0;
            while let Some(&resource) = candidates.get(next) {
                let attempt = tx.savepoint("attempt").await?;
                let inserted = attempt
                    .execute(
                        "INSERT INTO bookings (uid, company_id, branch_id, resource, service,
                            starts_at, ends_at, status, name, email, phone, notes, call_id,
                            request_key, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'accepted', $8, $9, $10, $11, $12,
                            $13, $14, $14)",
                        &[
                            &new.uid,
                            &scope.company_id,
                            &scope.branch_id,
                            resource,
                            &new.service,
                            &at(new.start_ms),
                            &at(new.end_ms),
                            &new.name,
                            &new.email,
                            &new.phone,
                            &new.notes,
                            &new.call_id,
                            &new.request_key,
                            &at(new.now_ms),
                        ],
                    )
                    .await;
                match inserted {
                    Ok(_) => {
                        attempt.commit().await?;
                        let row = Row {
                            uid: new.uid,
                            resource: resource.clone(),
                            service: new.service,
                            start_ms: new.start_ms,
                            end_ms: new.end_ms,
                            status: BookingStatus::Accepted,
                            phone: new.phone,
                            call_id: new.call_id.clone(),
                        };
                        if new.notify {
                            events::record(&tx, scope, &row, EventKind::Created, new.now_ms)
                                .await?;
                        }
                        let counts = match owner {
                            Some(call) => HoldCounts::of_deleted(
                                &holds::take_call(&tx, scope, call).await?,
                                Some(span),
                                new.now_ms,
                            ),
                            None => HoldCounts::default(),
                        };
                        tx.commit().await?;
                        return Ok((row, counts));
                    }
                    // Another transaction took this resource meanwhile: try the next one.
                    Err(e) if is(&e, &SqlState::EXCLUSION_VIOLATION) => {
                        attempt.rollback().await?;
                        next += 1;
                    }
                    // The same request committed first (a retry racing the original).
                    Err(e) if is(&e, &SqlState::UNIQUE_VIOLATION) => {
                        attempt.rollback().await?;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // Under READ COMMITTED this sees a racing twin of this request that committed.
            if let Some(key) = &new.request_key
                && let Some(made) = made_by_request(&tx, scope, key).await?
            {
                return Ok((made.row, HoldCounts::default()));
            }
            Err(Failure::SlotTaken)
        })
        .await
    }

    async fn hold(
        &self,
        scope: &TenantScope,
        resources: &[String],
        new: NewHolds,
    ) -> Result<Option<(Vec<bool>, HoldCounts)>, CalendarError> {
        self.run(async |client| {
            let tx = client.transaction().await?;
            queue_for_tenant(&tx, scope).await?;
            let others = holds::others_live(&tx, scope, &new.call_id, new.now_ms).await?;
            let wanted = u32::try_from(new.spans.len()).unwrap_or(u32::MAX);
            if others.saturating_add(wanted) > new.max_holds {
                return Ok(None);
            }
            let expired = holds::sweep(&tx, scope, new.now_ms).await?;
            let old = holds::take_call(&tx, scope, &new.call_id).await?;
            let owner = Some(new.call_id.as_str());
            let mut held = Vec::with_capacity(new.spans.len());
            for &span in &new.spans {
                let mut taken = busy(&tx, scope, span.0, span.1, 0).await?;
                taken.extend(holds::busy(&tx, scope, span, new.now_ms, owner).await?);
                let free = resources.iter().find(|r| !taken.contains(r));
                if let Some(resource) = free {
                    holds::insert(&tx, scope, resource, &new.call_id, span, new.expires_ms).await?;
                }
                held.push(free.is_some());
            }
            tx.commit().await?;
            let counts = HoldCounts::replaced(&old, &new.spans, &held, expired);
            Ok(Some((held, counts)))
        })
        .await
    }

    async fn own_holds(
        &self,
        scope: &TenantScope,
        call_id: &str,
        now_ms: i64,
    ) -> Result<Vec<(i64, i64, i64)>, CalendarError> {
        self.run(async |client| holds::of_call(client, scope, call_id, now_ms).await)
            .await
    }

    async fn release(
        &self,
        scope: &TenantScope,
        call_id: &str,
        now_ms: i64,
    ) -> Result<HoldCounts, CalendarError> {
        self.run(async |client| {
            let tx = client.transaction().await?;
            queue_for_tenant(&tx, scope).await?;
            let old = holds::take_call(&tx, scope, call_id).await?;
            let mut counts = HoldCounts::of_deleted(&old, None, now_ms);
            counts.expired += holds::sweep(&tx, scope, now_ms).await?;
            tx.commit().await?;
            Ok(counts)
        })
        .await
    }

    async fn get(&self, scope: &TenantScope, uid: &str) -> Result<Row, CalendarError> {
        self.run(async |client| {
            let row = client
                .query_opt(
                    &format!(
                        "SELECT {ROW_COLUMNS} FROM bookings
                         WHERE company_id = $1 AND branch_id = $2 AND uid = $3"
                    ),
                    &[&scope.company_id, &scope.branch_id, &uid],
                )
                .await?;
            row.as_ref()
                .map(|r| read_row(r).row)
                .ok_or(Failure::NotFound)
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
        self.run(async |client| {
            let tx = client.transaction().await?;
            // Queued like every write of the tenant: the event's sequence number is the next
            // one of its booking, with no other writer of that booking in between.
            queue_for_tenant(&tx, scope).await?;
            let row = tx
                .query_opt(
                    &format!(
                        "WITH old AS (
                            SELECT id AS old_id, status AS old_status FROM bookings
                            WHERE company_id = $1 AND branch_id = $2 AND uid = $3 FOR UPDATE)
                         UPDATE bookings SET status = 'cancelled',
                            updated_at = CASE WHEN status = 'accepted' THEN $4 ELSE updated_at END
                         FROM old WHERE id = old_id
                         RETURNING {ROW_COLUMNS}, old_status = 'accepted'"
                    ),
                    &[&scope.company_id, &scope.branch_id, &uid, &at(now_ms)],
                )
                .await?;
            let Some(found) = row else {
                return Err(Failure::NotFound);
            };
            let row = read_row(&found).row;
            let changed: bool = found.get(9);
            if changed && notify {
                events::record(&tx, scope, &row, EventKind::Cancelled, now_ms).await?;
            }
            tx.commit().await?;
            Ok(row)
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
        self.run(async |client| {
            let mut tx = client.transaction().await?;
            queue_for_tenant(&tx, scope).await?;
            let current = tx
                .query_opt(
                    &format!(
                        "SELECT {ROW_COLUMNS} FROM bookings
                         WHERE company_id = $1 AND branch_id = $2 AND uid = $3 FOR UPDATE"
                    ),
                    &[&scope.company_id, &scope.branch_id, &uid],
                )
                .await?
                .as_ref()
                .map(read_row);
            let Some(Stored { id, mut row }) = current else {
                return Err(Failure::NotFound);
            };
            if row.status == BookingStatus::Cancelled {
                return Err(Failure::NotFound);
            }
            let mut busy = busy(&tx, scope, start_ms, end_ms, id).await?;
            busy.extend(holds::busy(&tx, scope, (start_ms, end_ms), now_ms, None).await?);
            let preferred = std::iter::once(&row.resource)
                .chain(resources.iter().filter(|r| **r != row.resource))
                .filter(|r| !busy.contains(r))
                .cloned()
                .collect::<Vec<_>>();
            let mut next = 0;
            while let Some(resource) = preferred.get(next) {
                let attempt = tx.savepoint("attempt").await?;
                let moved = attempt
                    .execute(
                        "UPDATE bookings SET starts_at = $2, ends_at = $3, resource = $4,
                            updated_at = $5
                         WHERE id = $1",
                        &[&id, &at(start_ms), &at(end_ms), resource, &at(now_ms)],
                    )
                    .await;
                match moved {
                    Ok(_) => {
                        attempt.commit().await?;
                        row.start_ms = start_ms;
                        row.end_ms = end_ms;
                        row.resource = resource.clone();
                        if notify {
                            events::record(&tx, scope, &row, EventKind::Rescheduled, now_ms)
                                .await?;
                        }
                        tx.commit().await?;
                        return Ok(row);
                    }
                    Err(e) if is(&e, &SqlState::EXCLUSION_VIOLATION) => {
                        attempt.rollback().await?;
                        next += 1;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(Failure::SlotTaken)
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
        self.run(async |client| {
            let rows = client
                .query(
                    &format!(
                        "SELECT {ROW_COLUMNS} FROM bookings
                         WHERE company_id = $1 AND branch_id = $2 AND status = 'accepted'
                           AND starts_at >= $3 AND (phone = $4 OR email = $5)
                         ORDER BY starts_at"
                    ),
                    &[
                        &scope.company_id,
                        &scope.branch_id,
                        &at(from_ms),
                        &phone,
                        &email,
                    ],
                )
                .await?;
            Ok(rows.iter().map(|r| read_row(r).row).collect())
        })
        .await
    }
}
