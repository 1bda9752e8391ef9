//! The embedded `local` calendar: bookings in a database frontdesk owns — SQLite by default
//! (one host), PostgreSQL for several replicas — and free slots derived from business hours,
//! slot granularity and the bookings already made.
//!
//! This module owns what both databases share: the business-hours checks, the free-slot
//! computation, booking references, and the `calendar` circuit breaker; [`db::CalendarDb`] is
//! what each database implements.

pub mod config;
mod db;
pub mod events;
pub mod postgres;
mod sqlite;
mod sqlite_pool;
mod taken_cache;

use std::collections::HashSet;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use frontdesk_clock::Clock;
use frontdesk_resilience::{Breaker, Outcome};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::directory::{Tenant, TenantScope};
use crate::metrics::{HoldEvent, count_holds};
use crate::provider::{
    Booking, CalendarError, CalendarProvider, ContactQuery, HoldOutcome, HoldRequest, NewBooking,
    Slot, SlotQuery,
};
use crate::tenants::CalendarConfig;
pub use config::{CalendarBackend, CalendarStoreConfig};
use db::{CalendarDb, GRANULE_MS, HoldCounts, NewHolds, NewRow, Row, granules};
use events::{EventsDb, ListedBooking, Listing, OutboxEvent, OutboxStats};
pub use postgres::PostgresError;
pub use sqlite::LocalCalendarError;
use taken_cache::{RangeKey, TakenCache};

/// The breaker that guards the calendar database (`/health/detailed`, the admin API).
pub const BREAKER_TARGET: &str = "calendar";

const DEFAULT_SQLITE_POOL_SIZE: usize = 4;

/// The embedded calendar over one database.
pub struct LocalCalendar {
    db: Arc<dyn CalendarDb>,
    /// The same database's outbox and listings.
    events: Arc<dyn EventsDb>,
    /// Woken after a change that recorded an event, so delivery starts without waiting for
    /// the worker's next poll.
    event_written: Arc<tokio::sync::Notify>,
    clock: Arc<dyn Clock>,
    /// Occupancy recently read for free slots (see `taken_cache`).
    taken: TakenCache,
    /// Open while the database keeps failing: callers hear "try again" at once.
    breaker: Option<Breaker>,
}

impl LocalCalendar {
    /// The SQLite calendar at `path` (created and migrated when needed).
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, LocalCalendarError> {
        Self::open_with_pool_size(path, clock, DEFAULT_SQLITE_POOL_SIZE)
    }

    pub fn open_with_pool_size(
        path: &Path,
        clock: Arc<dyn Clock>,
        pool_size: usize,
    ) -> Result<Self, LocalCalendarError> {
        let db = Arc::new(sqlite::SqliteDb::open(path, pool_size)?);
        Ok(Self::over(db.clone(), db, clock))
    }

    /// The PostgreSQL calendar (migrated at connect; see [`postgres`]).
    pub async fn postgres(
        config: &CalendarStoreConfig,
        url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, PostgresError> {
        let db = Arc::new(postgres::PostgresDb::connect(config, url).await?);
        Ok(Self::over(db.clone(), db, clock))
    }

    fn over(db: Arc<dyn CalendarDb>, events: Arc<dyn EventsDb>, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            events,
            event_written: Arc::new(tokio::sync::Notify::new()),
            clock,
            taken: TakenCache::default(),
            breaker: None,
        }
    }

    /// Guards every database call with `breaker` (the registry's [`BREAKER_TARGET`]).
    pub fn with_breaker(mut self, breaker: Breaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    fn now(&self) -> i64 {
        i64::try_from(self.clock.now_ms()).unwrap_or(i64::MAX)
    }

    /// Runs one database call through the breaker: refused at once while it is open; an
    /// unavailable database counts against it, answers (found or not, slot taken) for it.
    async fn guarded<T>(
        &self,
        call: impl Future<Output = Result<T, CalendarError>>,
    ) -> Result<T, CalendarError> {
        let Some(breaker) = &self.breaker else {
            return call.await;
        };
        let permit = breaker
            .try_acquire()
            .map_err(|_| CalendarError::Unavailable("calendar database breaker is open".into()))?;
        let started = Instant::now();
        let result = call.await;
        let outcome = match &result {
            Err(CalendarError::Unavailable(_)) => Outcome::Timeout,
            _ => Outcome::Success,
        };
        permit.record(outcome, started.elapsed());
        result
    }

    /// A write of the tenant; afterwards its cached occupancy reads are stale.
    async fn write<T>(
        &self,
        scope: &TenantScope,
        call: impl Future<Output = Result<T, CalendarError>>,
    ) -> Result<T, CalendarError> {
        let result = self.guarded(call).await;
        self.taken.invalidate(scope);
        result
    }

    /// Notified after every change that recorded a booking event.
    pub fn event_written(&self) -> Arc<tokio::sync::Notify> {
        self.event_written.clone()
    }

    /// Claims due booking events for delivery until `lease_until_ms` (see [`events`]).
    pub async fn claim_events(
        &self,
        lease_until_ms: i64,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, CalendarError> {
        self.events.claim(self.now(), lease_until_ms, limit).await
    }

    pub async fn event_delivered(&self, id: i64) -> Result<(), CalendarError> {
        self.events.delivered(id, self.now()).await
    }

    pub async fn event_failed(
        &self,
        id: i64,
        attempts: u32,
        next_attempt_ms: i64,
        error: &str,
    ) -> Result<(), CalendarError> {
        self.events
            .failed(id, attempts, next_attempt_ms, error)
            .await
    }

    pub async fn event_dead(
        &self,
        id: i64,
        attempts: u32,
        error: &str,
    ) -> Result<(), CalendarError> {
        self.events.dead(id, attempts, error).await
    }

    /// Re-queues a tenant's dead events (due now, a fresh retry window); how many.
    pub async fn requeue_dead_events(&self, tenant: &Tenant) -> Result<u64, CalendarError> {
        let n = self
            .guarded(self.events.requeue_dead(&tenant.scope, self.now()))
            .await?;
        self.event_written.notify_one();
        Ok(n)
    }

    /// Pending and dead events per tenant that has any.
    pub async fn outbox_stats(&self) -> Result<Vec<OutboxStats>, CalendarError> {
        self.events.stats().await
    }

    /// A tenant's bookings by start time (the feed, the bookings API).
    pub async fn list_bookings(
        &self,
        tenant: &Tenant,
        listing: &Listing,
    ) -> Result<Vec<ListedBooking>, CalendarError> {
        resources(tenant)?;
        self.guarded(self.events.list(&tenant.scope, listing)).await
    }

    /// The instant the calendar's clock reads (Unix ms).
    pub fn now_ms(&self) -> i64 {
        self.now()
    }

    fn written(&self, tenant: &Tenant) {
        if tenant.notifies() {
            self.event_written.notify_one();
        }
    }

    fn booking(&self, row: Row) -> Result<Booking, CalendarError> {
        Ok(Booking {
            // Callers only ever see the unguessable uid, never a row number.
            id: row.uid.clone(),
            uid: row.uid,
            start: ts(row.start_ms)?,
            end: ts(row.end_ms)?,
            status: row.status,
            service: row.service,
            phone: row.phone,
            call_id: row.call_id,
        })
    }
}

fn count(counts: HoldCounts) {
    count_holds("local", HoldEvent::Created, counts.created);
    count_holds("local", HoldEvent::Consumed, counts.consumed);
    count_holds("local", HoldEvent::Expired, counts.expired);
    count_holds("local", HoldEvent::Released, counts.released);
}

fn resources(tenant: &Tenant) -> Result<Vec<String>, CalendarError> {
    match &tenant.calendar {
        CalendarConfig::Local(local) => Ok(local.resources.clone()),
        CalendarConfig::Calcom(_) => Err(CalendarError::Config(
            "tenant does not use the local calendar".into(),
        )),
    }
}

fn ts(ms: i64) -> Result<Timestamp, CalendarError> {
    Timestamp::from_millisecond(ms)
        .map_err(|_| CalendarError::Unavailable("bad stored time".into()))
}

/// Refuses a start that is in the past or does not fit inside that day's business hours; the
/// engine only offers fitting slots, so this guards direct callers. Returns the end.
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
/// one booking's reference cannot derive another's (a UNIQUE column catches the impossible).
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
        let lo = first.as_millisecond().div_euclid(GRANULE_MS) * GRANULE_MS;
        let hi = last.as_millisecond() + duration_ms;
        let key: RangeKey = (
            tenant.scope.company_id.clone(),
            tenant.scope.branch_id.clone(),
            lo,
            hi,
        );
        let taken = match self.taken.get(&key, self.clock.now_ms()) {
            Some(taken) => taken,
            None => {
                let generation = self.taken.generation(&tenant.scope);
                let fetched = Arc::new(
                    self.guarded(self.db.taken(&tenant.scope, lo, hi, now_ms))
                        .await?,
                );
                self.taken
                    .store(key, generation, self.clock.now_ms(), fetched.clone());
                fetched
            }
        };
        let empty = HashSet::new();
        // Each resource's booked granules and other calls' live holds looked up once, not
        // once per candidate.
        let taken_by: Vec<(&HashSet<i64>, Vec<(i64, i64)>)> = resources
            .iter()
            .map(|r| {
                let held = taken
                    .held
                    .iter()
                    .filter(|h| {
                        h.resource == *r
                            && h.expires_ms > now_ms
                            && query.for_call.as_deref() != Some(h.call_id.as_str())
                    })
                    .map(|h| (h.start_ms, h.end_ms))
                    .collect();
                (taken.booked.get(r).unwrap_or(&empty), held)
            })
            .collect();
        let free = candidates
            .into_iter()
            .filter(|start| {
                let s = start.as_millisecond();
                let e = s + duration_ms;
                taken_by.iter().any(|(booked, held)| {
                    (booked.is_empty() || granules(s, e).all(|g| !booked.contains(&g)))
                        && held.iter().all(|&(hs, he)| hs >= e || he <= s)
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
        let row = NewRow {
            uid: new_uid(),
            service: booking.service.clone(),
            start_ms: booking.start.as_millisecond(),
            end_ms,
            name: booking.attendee.name.clone(),
            email: booking.attendee.email.as_deref().map(str::to_lowercase),
            phone: booking
                .attendee
                .phone
                .as_deref()
                .and_then(|p| tenant.phone(p)),
            notes: booking.notes.clone(),
            call_id: booking.call_id.clone(),
            request_key: booking.request_key.clone(),
            now_ms,
            notify: tenant.notifies(),
        };
        let (row, holds) = self
            .write(
                &tenant.scope,
                self.db.insert(&tenant.scope, &resources, row),
            )
            .await?;
        count(holds);
        self.written(tenant);
        self.booking(row)
    }

    async fn get_booking(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
    ) -> Result<Booking, CalendarError> {
        resources(tenant)?;
        // A reference is the uid, looked up within the tenant only, so another tenant's reads
        // as "not found".
        let row = self
            .guarded(self.db.get(&tenant.scope, booking_ref.trim()))
            .await?;
        self.booking(row)
    }

    async fn cancel(&self, tenant: &Tenant, booking_ref: &str) -> Result<Booking, CalendarError> {
        resources(tenant)?;
        let row = self
            .write(
                &tenant.scope,
                self.db.cancel(
                    &tenant.scope,
                    booking_ref.trim(),
                    self.now(),
                    tenant.notifies(),
                ),
            )
            .await?;
        self.written(tenant);
        self.booking(row)
    }

    async fn reschedule(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
        new_start: Timestamp,
    ) -> Result<Booking, CalendarError> {
        let resources = resources(tenant)?;
        let now_ms = self.now();
        let uid = booking_ref.trim();
        // A booking's duration never changes, so reading it before the move's transaction is
        // safe; the move re-checks the status inside its own.
        let current = self.guarded(self.db.get(&tenant.scope, uid)).await?;
        let duration_min = u32::try_from((current.end_ms - current.start_ms) / 60_000).unwrap_or(0);
        let end_ms = check_fits(tenant, new_start, duration_min, now_ms)?;
        let row = self
            .write(
                &tenant.scope,
                self.db.move_to(
                    &tenant.scope,
                    uid,
                    &resources,
                    new_start.as_millisecond(),
                    end_ms,
                    now_ms,
                    tenant.notifies(),
                ),
            )
            .await?;
        self.written(tenant);
        self.booking(row)
    }

    async fn find_bookings(
        &self,
        tenant: &Tenant,
        contact: &ContactQuery,
    ) -> Result<Vec<Booking>, CalendarError> {
        resources(tenant)?;
        let phone = contact.phone.as_deref().and_then(|p| tenant.phone(p));
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
            .guarded(self.db.find(&tenant.scope, phone, email, from_ms))
            .await?;
        rows.into_iter().map(|row| self.booking(row)).collect()
    }

    async fn hold(
        &self,
        tenant: &Tenant,
        hold: &HoldRequest,
    ) -> Result<Vec<HoldOutcome>, CalendarError> {
        let resources = resources(tenant)?;
        let now_ms = self.now();
        let hold_ms = i64::try_from(hold.hold_for.as_millis()).unwrap_or(i64::MAX);
        let until = ts(now_ms.saturating_add(hold_ms))?;
        // A start the calendar would not book (past, outside hours) is not held either.
        let spans: Vec<Option<(i64, i64)>> = hold
            .starts
            .iter()
            .map(|start| {
                check_fits(tenant, *start, hold.duration_min, now_ms)
                    .ok()
                    .map(|end| (start.as_millisecond(), end))
            })
            .collect();
        let wanted: Vec<(i64, i64)> = spans.iter().flatten().copied().collect();
        // Asking again about what the call already holds, with more than half its time left,
        // is a read: no write lock, and the occupancy other checks cached stays valid.
        if wanted.len() == spans.len() && !wanted.is_empty() {
            let own = self
                .guarded(self.db.own_holds(&tenant.scope, &hold.call_id, now_ms))
                .await?;
            let fresh = |&(s, e): &(i64, i64)| {
                own.iter().find(|&&(os, oe, expires)| {
                    (os, oe) == (s, e) && expires - now_ms >= hold_ms / 2
                })
            };
            if own.len() == wanted.len() && wanted.iter().all(|span| fresh(span).is_some()) {
                return wanted
                    .iter()
                    .filter_map(fresh)
                    .map(|&(_, _, expires)| {
                        Ok(HoldOutcome::Held {
                            until: ts(expires)?,
                        })
                    })
                    .collect();
            }
        }
        let new = NewHolds {
            call_id: hold.call_id.clone(),
            spans: wanted,
            now_ms,
            expires_ms: until.as_millisecond(),
            max_holds: tenant.max_holds,
        };
        let (placed, counts) = self
            .write(&tenant.scope, self.db.hold(&tenant.scope, &resources, new))
            .await?
            .ok_or_else(|| {
                CalendarError::Rejected("the practice's hold limit is reached".into())
            })?;
        count(counts);
        let mut placed = placed.into_iter();
        Ok(spans
            .iter()
            .map(|span| match span.and_then(|_| placed.next()) {
                Some(true) => HoldOutcome::Held { until },
                _ => HoldOutcome::Taken,
            })
            .collect())
    }

    async fn release_holds(&self, tenant: &Tenant, call_id: &str) -> Result<usize, CalendarError> {
        resources(tenant)?;
        let counts = self
            .write(
                &tenant.scope,
                self.db.release(&tenant.scope, call_id, self.now()),
            )
            .await?;
        count(counts);
        Ok(counts.released)
    }
}
