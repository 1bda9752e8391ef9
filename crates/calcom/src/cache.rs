//! [`CachedProvider`]: a slot cache in the [`Store`] in front of any [`CalendarProvider`].
//!
//! What it promises:
//! - **Tenant isolation by construction.** Every cached day is stored under a [`SlotKey`] (company,
//!   branch, event type, date, time zone, length), the only key type the cache knows.
//! - **Fast.** A day fetched less than `ttl` ago is answered from the store (`hit`). Up to
//!   `ttl + stale` it is still answered (`stale`) while one background refresh runs, and while
//!   Cal.com rate-limits us or is down.
//! - **One upstream request per cold key.** Concurrent misses share one fill
//!   ([`crate::singleflight`]); a fill fetches the check's whole window with one request and
//!   stores every day of it, so a tenant's days age (and are refreshed) together.
//! - **Never offers a slot known to be taken.** Our own create/cancel/reschedule and Cal.com's
//!   booking webhooks bump the affected tenant-days' generation (no KEYS/SCAN: the generation is
//!   part of the key, so old entries are simply never read again) and record the booked interval
//!   in a short-lived overlay ([`crate::overlay`]) that masks it even if Cal.com's slot list lags.
//!   A fill that raced an invalidation is written under the generation it started with, so it
//!   can never resurrect the old state.
//!
//! - **Held slots stay the holding call's.** A slot a call holds ([`CalendarProvider::hold`]) is
//!   not offered to other calls while the hold lasts ([`crate::held`]); the holding call is
//!   offered it (Cal.com hides reserved slots from its slot list). The cache keys stay per
//!   tenant-day, not per call: the overlay is applied to the answer, not to what is cached.
//!
//! Bookings themselves (`create`, `cancel`, ...) and holds always go to the inner provider.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use frontdesk_booking::{
    Booking, CalendarError, CalendarProvider, ContactQuery, HoldOutcome, HoldRequest, NewBooking,
    Slot, SlotQuery, Tenant, TenantDirectory,
};
use frontdesk_clock::Clock;
use frontdesk_store::Store;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::client::usable_slots;
use crate::config::CacheConfig;
use crate::event_type;
use crate::held::{Held, HeldOverlay};
use crate::key::{DayGroup, SlotKey, TenantGroup};
use crate::metrics::{self, CacheResult};
use crate::overlay::Overlay;
use crate::singleflight::{DayResult, Role, SingleFlight};
use crate::webhook;

/// A cached day as stored: when it was fetched and the slot starts (Unix ms).
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    fetched_ms: u64,
    starts: Vec<i64>,
    /// Fetched while a call held a slot of the day: Cal.com's list hid it, so the day is
    /// fetched again once that hold lapses (the earliest such lapse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refetch_after_ms: Option<u64>,
}

/// A day that must be fetched: its key, and the store key rendered with the generation read
/// before the fetch (`None` when the store could not say: fetched, not cached).
#[derive(Debug, Clone)]
struct Pending {
    key: SlotKey,
    stored_as: Option<String>,
}

impl Pending {
    fn flight_key(&self) -> String {
        self.stored_as
            .clone()
            .unwrap_or_else(|| format!("uncached:{}", self.key))
    }
}

/// The slot cache decorator. Cheap to share (`Arc`); one per process.
pub struct CachedProvider {
    shared: Arc<Shared>,
}

struct Shared {
    inner: Arc<dyn CalendarProvider>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ttl_ms: u64,
    keep: Duration,
    answer_budget: Duration,
    flights: SingleFlight,
    overlay: Overlay,
    held: HeldOverlay,
    refreshes: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for CachedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedProvider")
            .field("inner", &self.shared.inner.name())
            .field("store", &self.shared.store.backend())
            .finish_non_exhaustive()
    }
}

impl CachedProvider {
    /// Wraps `inner`; registers the cache metric series at zero.
    pub fn new(
        inner: Arc<dyn CalendarProvider>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cfg: &CacheConfig,
    ) -> Self {
        metrics::init_cache_metrics();
        Self {
            shared: Arc::new(Shared {
                inner,
                // A day refetched while Cal.com still lags a booking is cached for up to
                // ttl + stale; the mask must outlive that entry, or the lagging list could be
                // offered after the mask expired.
                overlay: Overlay::new(
                    Arc::clone(&store),
                    cfg.taken_overlay.max(cfg.ttl.saturating_add(cfg.stale)),
                ),
                held: HeldOverlay::new(Arc::clone(&store)),
                store,
                clock,
                ttl_ms: millis(cfg.ttl),
                keep: cfg.ttl.saturating_add(cfg.stale),
                answer_budget: cfg.answer_budget,
                flights: SingleFlight::default(),
                refreshes: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Applies a Cal.com booking webhook (`BOOKING_CREATED`, `BOOKING_CANCELLED`,
    /// `BOOKING_RESCHEDULED`; also `BOOKING_REQUESTED`/`BOOKING_REJECTED`): every tenant using
    /// the event type has the affected days invalidated (old and new days of a reschedule), and
    /// a newly booked interval is masked at once. Returns how many tenant-days were invalidated.
    pub async fn invalidate_from_webhook(&self, tenants: &TenantDirectory, body: &Value) -> usize {
        let Some(change) = webhook::booking_change(body) else {
            return 0;
        };
        let mut invalidated = 0;
        for tenant in tenants.tenants() {
            let uses_event_type = event_type::calcom_config(tenant)
                .is_ok_and(|cfg| cfg.event_types.values().any(|id| *id == change.event_type));
            if uses_event_type {
                invalidated += self
                    .shared
                    .changed(tenant, &change.taken, &change.freed)
                    .await;
            }
        }
        invalidated
    }

    /// Callers currently waiting for another caller's fill of the same day.
    pub fn waiting_fills(&self) -> usize {
        self.shared.flights.waiting()
    }

    /// Waits for the background refreshes started so far (tests, graceful shutdown).
    pub async fn settle(&self) {
        loop {
            let handles: Vec<JoinHandle<()>> = std::mem::take(&mut *self.shared.refreshes.lock());
            if handles.is_empty() {
                return;
            }
            for handle in handles {
                let _ = handle.await;
            }
        }
    }
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The store key of `key` under its group's current generation, the entry there, and,
    /// when there is none, the entry of the generation before (what the day looked like before
    /// its last invalidation: answered only when Cal.com cannot be asked, see `free_slots`).
    async fn lookup(&self, key: &SlotKey) -> (Option<String>, Option<Entry>, Option<Entry>) {
        let generation = match self.store.generation(&key.group().generation_group()).await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "slot cache generation unreadable; fetching uncached");
                return (None, None, None);
            }
        };
        let stored_as = key.render(generation);
        let entry = self.read_entry(&stored_as).await;
        let before = match (&entry, generation.checked_sub(1)) {
            (None, Some(previous)) => self.read_entry(&key.render(previous)).await,
            _ => None,
        };
        (Some(stored_as), entry, before)
    }

    async fn read_entry(&self, stored_as: &str) -> Option<Entry> {
        match self.store.get(stored_as).await {
            Ok(Some(bytes)) => serde_json::from_slice::<Entry>(&bytes).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "slot cache unreadable; fetching");
                None
            }
        }
    }

    /// Fetches the `needed` days, single-flight, and returns each one's starts. One request
    /// covers the query's whole window, and every day of `window` is stored: Cal.com counts
    /// requests, not days, and days fetched together expire together, so a tenant's window is
    /// refreshed by one request instead of one per day as they age apart.
    async fn fill(
        &self,
        tenant: &Tenant,
        query: &SlotQuery,
        window: &[Pending],
        mut needed: Vec<Pending>,
    ) -> Result<BTreeMap<Date, Arc<Vec<Timestamp>>>, CalendarError> {
        let mut days = BTreeMap::new();
        while !needed.is_empty() {
            let mut leads = Vec::new();
            let mut follows = Vec::new();
            for day in needed.drain(..) {
                match self.flights.join(&day.flight_key()) {
                    Role::Lead(lead) => leads.push((day, lead)),
                    Role::Follow(follow) => follows.push((day, follow)),
                }
            }
            // Leaders finish their own days before waiting on others' (no waiting cycles).
            if !leads.is_empty() {
                let fetched = self.fetch_window(tenant, query).await;
                if let Ok(by_date) = &fetched {
                    let held = self.held_slots(tenant).await;
                    for day in window {
                        if let Some(stored_as) = &day.stored_as {
                            let starts =
                                by_date.get(&day.key.date()).map_or(&[][..], Vec::as_slice);
                            let lapse = held
                                .iter()
                                .filter(|h| {
                                    Timestamp::from_millisecond(h.start_ms).is_ok_and(|t| {
                                        tenant.time_zone.to_datetime(t).date() == day.key.date()
                                    })
                                })
                                .map(|h| h.until_ms)
                                .min();
                            self.save(stored_as, starts, lapse).await;
                        }
                    }
                }
                let mut failure = None;
                for (day, lead) in leads {
                    let result: DayResult = match &fetched {
                        Ok(by_date) => Ok(Arc::new(
                            by_date.get(&day.key.date()).cloned().unwrap_or_default(),
                        )),
                        Err(e) => Err(e.clone()),
                    };
                    match &result {
                        Ok(starts) => {
                            days.insert(day.key.date(), Arc::clone(starts));
                        }
                        Err(e) => failure = Some(e.clone()),
                    }
                    lead.finish(result);
                }
                if let Some(e) = failure {
                    return Err(e);
                }
            }
            for (day, follow) in follows {
                match follow.wait().await {
                    Some(Ok(starts)) => {
                        days.insert(day.key.date(), starts);
                    }
                    Some(Err(e)) => return Err(e),
                    // The leader's caller went away: try again (perhaps leading this time).
                    None => needed.push(day),
                }
            }
        }
        Ok(days)
    }

    /// One inner request for the query's window; starts grouped by tenant-local date.
    async fn fetch_window(
        &self,
        tenant: &Tenant,
        query: &SlotQuery,
    ) -> Result<BTreeMap<Date, Vec<Timestamp>>, CalendarError> {
        // What is cached is shared by every call: the inner provider is asked for nobody's
        // view (a call's own holds are added to the answer, not to the cache).
        let shared_view = SlotQuery {
            for_call: None,
            ..query.clone()
        };
        let slots = self.inner.free_slots(tenant, &shared_view).await?;
        let mut by_date: BTreeMap<Date, Vec<Timestamp>> = BTreeMap::new();
        for slot in slots {
            let date = tenant.time_zone.to_datetime(slot.start).date();
            by_date.entry(date).or_default().push(slot.start);
        }
        Ok(by_date)
    }

    async fn save(&self, stored_as: &str, starts: &[Timestamp], refetch_after_ms: Option<u64>) {
        let entry = Entry {
            fetched_ms: self.now_ms(),
            starts: starts.iter().map(|t| t.as_millisecond()).collect(),
            refetch_after_ms,
        };
        let Ok(bytes) = serde_json::to_vec(&entry) else {
            return;
        };
        if let Err(e) = self.store.set(stored_as, &bytes, self.keep).await {
            tracing::warn!(error = %e, "slot cache not written");
        }
    }

    /// Invalidates the tenant-days `taken` and `freed` touch, masks `taken`, unmasks `freed`.
    /// Returns how many tenant-days were invalidated.
    async fn changed(
        &self,
        tenant: &Tenant,
        taken: &[(Timestamp, Timestamp)],
        freed: &[(Timestamp, Timestamp)],
    ) -> usize {
        let now = self.now_ms();
        let mut touched: BTreeSet<Date> = BTreeSet::new();
        for &(start, end) in taken.iter().chain(freed) {
            touched.extend(local_dates(tenant, start, end));
        }
        let scope = &tenant.scope;
        for &(start, end) in freed {
            for date in local_dates(tenant, start, end) {
                if let Ok(day) = DayGroup::new(&scope.company_id, &scope.branch_id, date) {
                    self.overlay.remove(&day, start, end, now).await;
                }
            }
        }
        for &(start, end) in taken {
            for date in local_dates(tenant, start, end) {
                if let Ok(day) = DayGroup::new(&scope.company_id, &scope.branch_id, date) {
                    self.overlay.add(&day, start, end, now).await;
                }
            }
        }
        let mut invalidated = 0;
        for date in touched {
            let Ok(day) = DayGroup::new(&scope.company_id, &scope.branch_id, date) else {
                continue;
            };
            match self.store.bump_generation(&day.generation_group()).await {
                Ok(_) => invalidated += 1,
                Err(e) => {
                    tracing::error!(tenant = %tenant.id, error = %e, "slot cache invalidation failed")
                }
            }
        }
        invalidated
    }

    /// Every live hold of the tenant (none when the tenant's ids cannot name a key).
    async fn held_slots(&self, tenant: &Tenant) -> crate::held::HeldSlots {
        match TenantGroup::new(&tenant.scope.company_id, &tenant.scope.branch_id) {
            Ok(group) => self.held.read(&group, self.now_ms()).await,
            Err(_) => Default::default(),
        }
    }

    /// Whether a call other than `for_call` holds a slot overlapping `start` + `length`.
    async fn held_by_others(
        &self,
        tenant: &Tenant,
        for_call: Option<&str>,
        start: Timestamp,
        length: SignedDuration,
    ) -> bool {
        match TenantGroup::new(&tenant.scope.company_id, &tenant.scope.branch_id) {
            Ok(group) => self
                .held
                .read(&group, self.now_ms())
                .await
                .masks_for(for_call, start, length),
            Err(_) => false,
        }
    }

    /// Sets the slots `call_id` holds at `tenant` (none: its holds are gone). The days of the
    /// holds it gave up are fetched again on their next check: Cal.com's list, cached while
    /// they were held, hid them.
    async fn replace_holds(&self, tenant: &Tenant, call_id: &str, held: Vec<Held>) {
        let Ok(group) = TenantGroup::new(&tenant.scope.company_id, &tenant.scope.branch_id) else {
            return;
        };
        let previous = self
            .held
            .replace(&group, call_id, held.clone(), self.now_ms())
            .await;
        let mut days: BTreeSet<Date> = BTreeSet::new();
        let kept = |p: &Held| {
            held.iter()
                .any(|h| h.start_ms == p.start_ms && h.end_ms == p.end_ms)
        };
        for gone in previous.iter().filter(|p| !kept(p)) {
            if let Ok(start) = Timestamp::from_millisecond(gone.start_ms) {
                days.insert(tenant.time_zone.to_datetime(start).date());
            }
        }
        for date in days {
            if let Ok(day) = DayGroup::new(&tenant.scope.company_id, &tenant.scope.branch_id, date)
                && let Err(e) = self.store.bump_generation(&day.generation_group()).await
            {
                tracing::warn!(tenant = %tenant.id, error = %e, "slot cache invalidation failed");
            }
        }
    }

    /// Starts one background refresh of `stale` days (skipping days already being fetched).
    fn refresh_in_background(
        self: &Arc<Self>,
        tenant: &Tenant,
        query: &SlotQuery,
        window: Vec<Pending>,
        stale: Vec<Pending>,
    ) {
        let stale: Vec<Pending> = stale
            .into_iter()
            .filter(|p| !self.flights.is_inflight(&p.flight_key()))
            .collect();
        if stale.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let shared = Arc::clone(self);
        let tenant = tenant.clone();
        let query = query.clone();
        let handle = runtime.spawn(async move {
            if let Err(e) = shared.fill(&tenant, &query, &window, stale).await {
                tracing::debug!(tenant = %tenant.id, error = %e, "background slot refresh failed; stale days kept");
            }
        });
        let mut refreshes = self.refreshes.lock();
        refreshes.retain(|h| !h.is_finished());
        refreshes.push(handle);
    }
}

#[async_trait]
impl CalendarProvider for CachedProvider {
    fn name(&self) -> &'static str {
        self.shared.inner.name()
    }

    async fn free_slots(
        &self,
        tenant: &Tenant,
        query: &SlotQuery,
    ) -> Result<Vec<Slot>, CalendarError> {
        let shared = &self.shared;
        let event_type = event_type::resolve(tenant, query.service.as_deref(), query.duration_min)?;
        let time_zone = tenant.time_zone.iana_name().unwrap_or("UTC");
        let now = shared.now_ms();

        let mut days: BTreeMap<Date, Arc<Vec<Timestamp>>> = BTreeMap::new();
        let mut window = Vec::new();
        let mut missing = Vec::new();
        let mut stale = Vec::new();
        // Days that miss, as last seen: answered when Cal.com cannot be asked (our budget is
        // spent, it rate-limits us, is down or slow); the overlays below still mask every slot
        // known taken or held since.
        let mut last_known: BTreeMap<Date, Arc<Vec<Timestamp>>> = BTreeMap::new();
        for date in dates(query.from, query.to) {
            let key = SlotKey::new(
                &tenant.scope.company_id,
                &tenant.scope.branch_id,
                event_type,
                date,
                time_zone,
                query.duration_min,
            )
            .map_err(|e| CalendarError::Config(e.to_string()))?;
            let (stored_as, entry, before) = shared.lookup(&key).await;
            let pending = Pending { key, stored_as };
            window.push(pending.clone());
            let age = entry.as_ref().map(|e| now.saturating_sub(e.fetched_ms));
            // A hold that hid a slot from this fetch has lapsed: the slot may be free again.
            let lapsed = entry
                .as_ref()
                .and_then(|e| e.refetch_after_ms)
                .is_some_and(|t| now >= t);
            match (entry, age) {
                (Some(entry), Some(age)) if !lapsed && age < shared.ttl_ms => {
                    metrics::cache_request(CacheResult::Hit);
                    days.insert(date, Arc::new(to_timestamps(&entry.starts)));
                }
                (Some(entry), Some(_)) if !lapsed => {
                    // Younger than ttl + stale, or the store would have expired it.
                    metrics::cache_request(CacheResult::Stale);
                    days.insert(date, Arc::new(to_timestamps(&entry.starts)));
                    stale.push(pending);
                }
                (lapsed_entry, _) => {
                    metrics::cache_request(CacheResult::Miss);
                    if let Some(last) = lapsed_entry.or(before) {
                        last_known.insert(date, Arc::new(to_timestamps(&last.starts)));
                    }
                    missing.push(pending);
                }
            }
        }
        if !missing.is_empty() {
            let missed = missing.len();
            // The fill refetches the whole window, stale days included. It runs as a task of
            // its own so that a caller who stops waiting (the budget) leaves it warming the cache.
            let fill = {
                let (shared, tenant, query) = (self.shared.clone(), tenant.clone(), query.clone());
                tokio::spawn(async move { shared.fill(&tenant, &query, &window, missing).await })
            };
            let error = match tokio::time::timeout(shared.answer_budget, fill).await {
                Ok(Ok(Ok(filled))) => {
                    days.extend(filled);
                    None
                }
                Ok(Ok(Err(e))) => Some(e),
                Ok(Err(_)) => Some(CalendarError::Unavailable("slot fetch failed".into())),
                Err(_) => {
                    tracing::warn!(tenant = %tenant.id, "Cal.com did not answer within the answer budget");
                    Some(CalendarError::Unavailable(
                        "Cal.com did not answer within the answer budget".into(),
                    ))
                }
            };
            if let Some(error) = error {
                let answerable = matches!(
                    error,
                    CalendarError::RateLimited { .. } | CalendarError::Unavailable(_)
                ) && last_known.len() == missed;
                if !answerable {
                    return Err(error);
                }
                days.extend(last_known);
            }
        } else if !stale.is_empty() {
            shared.refresh_in_background(tenant, query, window, stale);
        }

        let length = SignedDuration::from_mins(i64::from(query.duration_min));
        let held = shared.held_slots(tenant).await;
        let for_call = query.for_call.as_deref();
        let own = match for_call {
            Some(call) if !held.is_empty() => held.own(call, event_type, length),
            _ => Vec::new(),
        };
        let mut starts = Vec::new();
        for (date, day_starts) in &days {
            let Ok(group) = DayGroup::new(&tenant.scope.company_id, &tenant.scope.branch_id, *date)
            else {
                continue;
            };
            let taken = shared.overlay.read(&group, now).await;
            let free = |start: &Timestamp| {
                (taken.is_empty() || !taken.masks(*start, length))
                    && (held.is_empty() || !held.masks_for(for_call, *start, length))
            };
            starts.extend(day_starts.iter().copied().filter(free));
            // The call's own holds: Cal.com no longer lists them, they are still the call's.
            starts.extend(
                own.iter()
                    .copied()
                    .filter(|start| tenant.time_zone.to_datetime(*start).date() == *date)
                    .filter(free),
            );
        }
        starts.sort_unstable();
        starts.dedup();
        Ok(usable_slots(tenant, &starts, query.duration_min, now))
    }

    async fn create(
        &self,
        tenant: &Tenant,
        booking: &NewBooking,
    ) -> Result<Booking, CalendarError> {
        let result = self.shared.inner.create(tenant, booking).await;
        match &result {
            Ok(created) => {
                self.shared
                    .changed(tenant, &[(created.start, created.end)], &[])
                    .await;
                // The booking took the call's hold and gave up its others.
                if let Some(call) = &booking.call_id {
                    self.shared.replace_holds(tenant, call, Vec::new()).await;
                }
            }
            // We offered a slot Cal.com says is taken: it is known taken now, unless another
            // call only holds it (the held overlay masks it while the hold lasts; masking it
            // for `taken_overlay` would hide it long after the hold lapsed).
            Err(CalendarError::SlotTaken) => {
                let length = SignedDuration::from_mins(i64::from(booking.duration_min));
                let end = booking.start.checked_add(length).unwrap_or(booking.start);
                let held = self
                    .shared
                    .held_by_others(tenant, booking.call_id.as_deref(), booking.start, length)
                    .await;
                let interval = [(booking.start, end)];
                // Either way the day is refetched on its next check.
                let (taken, freed): (&[_], &[_]) = if held {
                    (&[], &interval)
                } else {
                    (&interval, &[])
                };
                self.shared.changed(tenant, taken, freed).await;
            }
            Err(_) => {}
        }
        result
    }

    async fn get_booking(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
    ) -> Result<Booking, CalendarError> {
        self.shared.inner.get_booking(tenant, booking_ref).await
    }

    async fn cancel(&self, tenant: &Tenant, booking_ref: &str) -> Result<Booking, CalendarError> {
        let result = self.shared.inner.cancel(tenant, booking_ref).await;
        if let Ok(cancelled) = &result {
            self.shared
                .changed(tenant, &[], &[(cancelled.start, cancelled.end)])
                .await;
        }
        result
    }

    async fn reschedule(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
        new_start: Timestamp,
    ) -> Result<Booking, CalendarError> {
        // The old day must be invalidated too; Cal.com's answer names only the new booking.
        let old = self
            .shared
            .inner
            .get_booking(tenant, booking_ref)
            .await
            .ok();
        let result = self
            .shared
            .inner
            .reschedule(tenant, booking_ref, new_start)
            .await;
        let freed: Vec<(Timestamp, Timestamp)> = old.iter().map(|b| (b.start, b.end)).collect();
        match &result {
            Ok(moved) => {
                self.shared
                    .changed(tenant, &[(moved.start, moved.end)], &freed)
                    .await;
            }
            Err(CalendarError::SlotTaken) => {
                let length = old.as_ref().map_or(SignedDuration::from_mins(1), |b| {
                    b.start.duration_until(b.end)
                });
                let end = new_start.checked_add(length).unwrap_or(new_start);
                self.shared.changed(tenant, &[(new_start, end)], &[]).await;
            }
            Err(_) => {}
        }
        result
    }

    async fn find_bookings(
        &self,
        tenant: &Tenant,
        contact: &ContactQuery,
    ) -> Result<Vec<Booking>, CalendarError> {
        self.shared.inner.find_bookings(tenant, contact).await
    }

    async fn hold(
        &self,
        tenant: &Tenant,
        hold: &HoldRequest,
    ) -> Result<Vec<HoldOutcome>, CalendarError> {
        let result = self.shared.inner.hold(tenant, hold).await;
        let event_type = event_type::resolve(tenant, hold.service.as_deref(), hold.duration_min);
        let length_ms = i64::from(hold.duration_min) * 60_000;
        let held: Vec<Held> = match (&result, event_type) {
            (Ok(outcomes), Ok(event_type)) => hold
                .starts
                .iter()
                .zip(outcomes)
                .filter_map(|(start, outcome)| match outcome {
                    HoldOutcome::Held { until } => Some(Held {
                        call_id: hold.call_id.clone(),
                        event_type,
                        start_ms: start.as_millisecond(),
                        end_ms: start.as_millisecond().saturating_add(length_ms),
                        until_ms: u64::try_from(until.as_millisecond()).unwrap_or(0),
                    }),
                    HoldOutcome::Taken => None,
                })
                .collect(),
            // Nothing held: the call's earlier holds were given up as well.
            _ => Vec::new(),
        };
        self.shared.replace_holds(tenant, &hold.call_id, held).await;
        result
    }

    async fn release_holds(&self, tenant: &Tenant, call_id: &str) -> Result<usize, CalendarError> {
        let result = self.shared.inner.release_holds(tenant, call_id).await;
        self.shared.replace_holds(tenant, call_id, Vec::new()).await;
        result
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn to_timestamps(ms: &[i64]) -> Vec<Timestamp> {
    ms.iter()
        .filter_map(|m| Timestamp::from_millisecond(*m).ok())
        .collect()
}

/// Every date of `from..=to`.
fn dates(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut date = from;
    while date <= to {
        out.push(date);
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    out
}

/// The tenant-local dates an interval touches (an empty interval touches its start's date).
fn local_dates(tenant: &Tenant, start: Timestamp, end: Timestamp) -> Vec<Date> {
    let first = tenant.time_zone.to_datetime(start).date();
    let last_instant = end
        .checked_sub(SignedDuration::from_millis(1))
        .unwrap_or(end)
        .max(start);
    let last = tenant.time_zone.to_datetime(last_instant).date();
    dates(first, last)
}
