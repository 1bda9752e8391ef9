//! [`CalcomProvider`]: the booking engine's [`CalendarProvider`] over Cal.com API v2.
//!
//! One instance serves every Cal.com tenant; each call reads the tenant's API key from the
//! environment variable the tenant names. Every exchange passes four gates, in this order:
//! the key must exist (else a configuration error), the tenant's key must not be inside a
//! Cal.com rate-limit window (a 429 closes it until `X-RateLimit-Reset-Default`), the
//! `calcom` circuit breaker must admit the call (else `Unavailable` at once, Cal.com untouched),
//! and the key's outbound budget must have a token for the request's priority
//! ([`crate::budget`]; else `RateLimited`, Cal.com untouched).
//! Answers go through the one mapping table in [`crate::errors`].
//!
//! Slot holds are Cal.com slot reservations (`/v2/slots/reservations`); their uids are kept per
//! call in the store ([`crate::holds`]) and named by the call's booking (`reservedSlotUid`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use frontdesk_booking::{
    Booking, BookingStatus, CalendarError, CalendarProvider, ContactQuery, HoldOutcome,
    HoldRequest, NewBooking, Slot, SlotQuery, Tenant,
};
use frontdesk_clock::Clock;
use frontdesk_resilience::{Breaker, Outcome};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use frontdesk_booking::{HoldEvent, count_holds};
use frontdesk_store::{MemoryStore, Store};

use crate::budget::{Budget, Priority};
use crate::config::CalcomConfig;
use crate::errors::{self, Operation, Transport};
use crate::event_type;
use crate::holds::{HeldSlot, HoldBook};
use crate::metrics;
use crate::wire::{
    API_VERSION_HEADER, BOOKINGS_API_VERSION, CancelBody, CreateBookingBody, Envelope,
    ErrorEnvelope, OneOrMany, RATE_LIMIT_REMAINING_HEADER, RATE_LIMIT_RESET_HEADER, RescheduleBody,
    ReserveSlotBody, SLOTS_API_VERSION, SlotsByDate, WireAttendeeInput, WireBooking,
    WireReservation,
};

const PROVIDER: &str = "calcom";

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Config(#[from] crate::config::CalcomConfigError),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// Where tenants' API keys come from, by the variable name a tenant configures
/// (`calendar.api_key_env`). The default reads the process environment; the gateway may supply
/// keys from files, tests supply fixed keys.
pub trait ApiKeys: Send + Sync + 'static {
    fn get(&self, name: &str) -> Option<String>;
}

/// Keys from environment variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvApiKeys;

impl ApiKeys for EnvApiKeys {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// Fixed keys by name (tests, or keys loaded from files at start).
#[derive(Clone, Default)]
pub struct StaticApiKeys(HashMap<String, String>);

impl StaticApiKeys {
    pub fn new<I, K, V>(keys: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self(
            keys.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for StaticApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticApiKeys")
            .field("names", &self.0.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ApiKeys for StaticApiKeys {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A tenant's Cal.com API key. Never printed: `Debug` shows a placeholder.
struct ApiKey(String);

impl ApiKey {
    fn lookup(keys: &dyn ApiKeys, name: &str) -> Option<Self> {
        keys.get(name)
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(ApiKey)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// The Cal.com API v2 calendar provider.
pub struct CalcomProvider {
    http: reqwest::Client,
    base: Url,
    breaker: Breaker,
    clock: Arc<dyn Clock>,
    keys: Arc<dyn ApiKeys>,
    budget: Budget,
    holds: HoldBook,
    count_429_as_failure: bool,
    rate_limit_fallback_wait: Duration,
}

impl fmt::Debug for CalcomProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalcomProvider")
            .field("base", &self.base.as_str())
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

/// Why an exchange produced no answer: our own budget, or Cal.com (or the way to it).
enum Refusal {
    Budget(CalendarError),
    Answer(CalendarError),
}

impl Refusal {
    fn into_error(self) -> CalendarError {
        match self {
            Refusal::Budget(e) | Refusal::Answer(e) => e,
        }
    }
}

/// A request before the gates: what to call and with which body.
struct Call<'a, B: Serialize> {
    operation: Operation,
    priority: Priority,
    method: Method,
    url: Url,
    api_version: &'static str,
    body: Option<&'a B>,
}

impl CalcomProvider {
    /// A provider for `cfg`, guarded by `breaker` (the registry's `calcom` target).
    pub fn new(
        cfg: &CalcomConfig,
        breaker: Breaker,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ClientError> {
        cfg.validate()?;
        // reqwest is built without a bundled crypto provider; the process-wide default may
        // already be installed (the binary does so at start). Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let t = &cfg.timeouts;
        let http = reqwest::Client::builder()
            .connect_timeout(t.connect)
            .read_timeout(t.read)
            .timeout(t.total)
            .pool_idle_timeout(t.idle)
            .build()?;
        let base = Url::parse(&cfg.base_url).map_err(|_| crate::config::CalcomConfigError {
            field: "base_url".into(),
            message: "not a URL".into(),
        })?;
        // Until `with_store` names the shared store, holds and the budget are this process's.
        let local: Arc<dyn Store> = Arc::new(MemoryStore::new(Arc::clone(&clock)));
        Ok(Self {
            http,
            base,
            breaker,
            clock,
            keys: Arc::new(EnvApiKeys),
            budget: Budget::new(Arc::clone(&local), &cfg.budget),
            holds: HoldBook::new(local),
            count_429_as_failure: cfg.count_429_as_failure,
            rate_limit_fallback_wait: cfg.rate_limit_fallback_wait,
        })
    }

    /// Reads API keys from `keys` instead of the environment.
    pub fn with_api_keys(mut self, keys: Arc<dyn ApiKeys>) -> Self {
        self.keys = keys;
        self
    }

    /// Keeps hold records and the outbound budget in `store` (the shared store, so every
    /// replica can release a call's holds and draws from one budget per API key).
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.budget = self.budget.with_store(Arc::clone(&store));
        self.holds = HoldBook::new(store);
        self
    }

    /// `base` + path segments (each percent-encoded).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Runs one exchange through the gates and the error table; returns the parsed `data`.
    async fn exchange<B: Serialize, T: DeserializeOwned>(
        &self,
        tenant: &Tenant,
        call: Call<'_, B>,
    ) -> Result<T, CalendarError> {
        let body = self.exchange_raw(tenant, &call).await?;
        serde_json::from_slice::<Envelope<T>>(&body)
            .map(|envelope| envelope.data)
            .map_err(|_| {
                let error = errors::from_transport(Transport::Body);
                self.report(tenant, call.operation, &error);
                error
            })
    }

    /// [`Self::exchange`] for answers without `data` (`{"status":"success"}`).
    async fn exchange_empty<B: Serialize>(
        &self,
        tenant: &Tenant,
        call: Call<'_, B>,
    ) -> Result<(), CalendarError> {
        self.exchange_raw(tenant, &call).await.map(|_| ())
    }

    async fn exchange_raw<B: Serialize>(
        &self,
        tenant: &Tenant,
        call: &Call<'_, B>,
    ) -> Result<Vec<u8>, CalendarError> {
        let result = self.exchange_inner(tenant, call).await;
        match &result {
            // Our own budget held the request back: expected while a practice is busy.
            Err(Refusal::Budget(error)) => {
                metrics::calendar_error(PROVIDER, errors::kind(error));
                tracing::debug!(tenant = %tenant.id, operation = call.operation.label(), "Cal.com budget spent; request not sent");
            }
            Err(Refusal::Answer(error)) => self.report(tenant, call.operation, error),
            Ok(_) => {}
        }
        result.map_err(Refusal::into_error)
    }

    async fn exchange_inner<B: Serialize>(
        &self,
        tenant: &Tenant,
        call: &Call<'_, B>,
    ) -> Result<Vec<u8>, Refusal> {
        let cfg = event_type::calcom_config(tenant).map_err(Refusal::Answer)?;
        let key = ApiKey::lookup(self.keys.as_ref(), &cfg.api_key_env).ok_or_else(|| {
            Refusal::Answer(CalendarError::Config(
                "the tenant's Cal.com API key variable is not set".into(),
            ))
        })?;
        let now_ms = self.clock.now_ms();
        if let Some(retry_after) = self
            .budget
            .closed_for(&cfg.api_key_env, call.priority, now_ms)
        {
            return Err(Refusal::Budget(CalendarError::RateLimited {
                retry_after: Some(retry_after),
            }));
        }
        let permit = self
            .breaker
            .try_acquire()
            .map_err(|_| Refusal::Answer(errors::breaker_open()))?;
        // After the breaker, so a refused call spends no budget; a dropped permit is neutral.
        if let Err(retry_after) = self.budget.take(&cfg.api_key_env, call.priority).await {
            return Err(Refusal::Budget(CalendarError::RateLimited {
                retry_after: Some(retry_after),
            }));
        }

        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(API_VERSION_HEADER, call.api_version)
            .bearer_auth(&key.0);
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let started = Instant::now();
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let (outcome, transport) = if e.is_timeout() {
                    (Outcome::Timeout, Transport::Timeout)
                } else {
                    (Outcome::ConnectError, Transport::Connect)
                };
                permit.record(outcome, started.elapsed());
                return Err(Refusal::Answer(errors::from_transport(transport)));
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let reset =
            header(RATE_LIMIT_RESET_HEADER).and_then(|v| errors::parse_reset(&v, now_ms / 1000));
        let remaining =
            header(RATE_LIMIT_REMAINING_HEADER).and_then(|v| v.trim().parse::<u32>().ok());
        self.budget
            .observe(&cfg.api_key_env, remaining, reset, now_ms);
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => {
                let outcome = if e.is_timeout() {
                    Outcome::Timeout
                } else {
                    Outcome::ConnectError
                };
                permit.record(outcome, started.elapsed());
                return Err(Refusal::Answer(errors::from_transport(if e.is_timeout() {
                    Transport::Timeout
                } else {
                    Transport::Body
                })));
            }
        };
        let outcome = match status {
            500..=599 => Outcome::Status(status),
            429 if self.count_429_as_failure => Outcome::Status(429),
            // Any other answer, 4xx included, shows Cal.com is up.
            _ => Outcome::Success,
        };
        permit.record(outcome, started.elapsed());

        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        let message = serde_json::from_slice::<ErrorEnvelope>(&body)
            .ok()
            .and_then(|e| e.error)
            .map(|e| e.message)
            .unwrap_or_default();
        let error = errors::from_status(
            call.operation,
            status,
            &message,
            reset,
            self.rate_limit_fallback_wait,
        );
        if let CalendarError::RateLimited {
            retry_after: Some(wait),
        } = &error
        {
            let until = now_ms.saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
            self.budget.close_all(&cfg.api_key_env, until);
        }
        Err(Refusal::Answer(error))
    }

    /// Counts and logs a failure. Nothing from the request or Cal.com's text is logged.
    fn report(&self, tenant: &Tenant, operation: Operation, error: &CalendarError) {
        metrics::calendar_error(PROVIDER, errors::kind(error));
        match error {
            CalendarError::Unauthorized | CalendarError::Config(_) => {
                let key_env = event_type::calcom_config(tenant)
                    .map(|c| c.api_key_env.as_str())
                    .unwrap_or("");
                tracing::error!(
                    tenant = %tenant.id,
                    operation = operation.label(),
                    api_key_env = key_env,
                    error = %error,
                    "Cal.com configuration error: check the tenant's API key and event types"
                );
            }
            CalendarError::SlotTaken | CalendarError::NotFound => {
                tracing::debug!(tenant = %tenant.id, operation = operation.label(), error = %error, "Cal.com answer");
            }
            _ => {
                tracing::warn!(tenant = %tenant.id, operation = operation.label(), error = %error, "Cal.com call failed");
            }
        }
    }

    fn to_booking(&self, tenant: &Tenant, wire: WireBooking) -> Result<Booking, CalendarError> {
        let parse = |s: &str| {
            s.parse::<Timestamp>()
                .map_err(|_| errors::from_transport(Transport::Body))
        };
        let status = match wire.status.to_ascii_lowercase().as_str() {
            "cancelled" | "rejected" => BookingStatus::Cancelled,
            "pending" | "awaiting_host" | "unconfirmed" => BookingStatus::Pending,
            _ => BookingStatus::Accepted,
        };
        Ok(Booking {
            // The v2 API addresses bookings by uid only, so the uid is the reference we hand
            // out as `id` too: every id a caller repeats back works for cancel and reschedule.
            id: wire.uid.clone(),
            uid: wire.uid.clone(),
            start: parse(&wire.start)?,
            end: parse(&wire.end)?,
            status,
            service: wire
                .event_type()
                .and_then(|id| event_type::service_of(tenant, id)),
            phone: wire.attendees.first().and_then(|a| a.phone_number.clone()),
            call_id: wire.call_id(),
        })
    }

    fn time_zone_name(tenant: &Tenant) -> &str {
        tenant.time_zone.iana_name().unwrap_or("UTC")
    }

    /// Cal.com slots for `event_type` over the tenant-local dates `from..=to`, as instants
    /// (unfiltered: what Cal.com offers).
    pub(crate) async fn fetch_slots(
        &self,
        tenant: &Tenant,
        event_type: u64,
        from: Date,
        to: Date,
        duration_min: u32,
    ) -> Result<Vec<Timestamp>, CalendarError> {
        let tz = &tenant.time_zone;
        let start = tz
            .to_timestamp(from.to_datetime(jiff::civil::Time::midnight()))
            .map_err(|_| CalendarError::Rejected("date out of range".into()))?;
        let end = to
            .tomorrow()
            .ok()
            .and_then(|d| {
                tz.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                    .ok()
            })
            .and_then(|t| t.checked_sub(SignedDuration::from_secs(1)).ok())
            .ok_or_else(|| CalendarError::Rejected("date out of range".into()))?;
        let mut url = self.url(&["v2", "slots"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("eventTypeId", &event_type.to_string())
                .append_pair("start", &start.to_string())
                .append_pair("end", &end.to_string())
                .append_pair("timeZone", Self::time_zone_name(tenant));
            if event_type::needs_explicit_duration(tenant, event_type, duration_min) {
                q.append_pair("duration", &duration_min.to_string());
            }
        }
        let data: SlotsByDate = self
            .exchange::<(), _>(
                tenant,
                Call {
                    operation: Operation::Slots,
                    priority: Priority::Refresh,
                    method: Method::GET,
                    url,
                    api_version: SLOTS_API_VERSION,
                    body: None,
                },
            )
            .await?;
        let mut starts: Vec<Timestamp> = data
            .values()
            .flatten()
            .filter_map(|s| s.start.parse::<Timestamp>().ok())
            .filter(|t| *t >= start && *t <= end)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        Ok(starts)
    }
}

/// Keeps the slots that fit the tenant's business hours and are not in the past.
pub(crate) fn usable_slots(
    tenant: &Tenant,
    starts: &[Timestamp],
    duration_min: u32,
    now_ms: u64,
) -> Vec<Slot> {
    let now = i64::try_from(now_ms)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(Timestamp::MIN);
    let length = SignedDuration::from_mins(i64::from(duration_min));
    starts
        .iter()
        .filter(|start| **start >= now)
        .filter(|start| {
            let date = tenant.time_zone.to_datetime(**start).date();
            let Some((open, close)) = tenant.hours.day_window(date, &tenant.time_zone) else {
                return false;
            };
            let end = start.checked_add(length).unwrap_or(Timestamp::MAX);
            **start >= open && end <= close
        })
        .map(|start| Slot { start: *start })
        .collect()
}

#[async_trait]
impl CalendarProvider for CalcomProvider {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    async fn free_slots(
        &self,
        tenant: &Tenant,
        query: &SlotQuery,
    ) -> Result<Vec<Slot>, CalendarError> {
        let event_type = event_type::resolve(tenant, query.service.as_deref(), query.duration_min)?;
        let mut starts = self
            .fetch_slots(tenant, event_type, query.from, query.to, query.duration_min)
            .await?;
        // Cal.com hides reserved slots from every list; the asking call's own are still its.
        if let Some(call) = &query.for_call {
            let now = self.clock.now_ms();
            let own = self.holds.load(tenant, call).await.into_iter().filter(|h| {
                h.is_live(now) && h.event_type == event_type && h.duration_min == query.duration_min
            });
            for held in own {
                if let Ok(start) = Timestamp::from_millisecond(held.start_ms) {
                    let date = tenant.time_zone.to_datetime(start).date();
                    if date >= query.from && date <= query.to {
                        starts.push(start);
                    }
                }
            }
            starts.sort_unstable();
            starts.dedup();
        }
        Ok(usable_slots(
            tenant,
            &starts,
            query.duration_min,
            self.clock.now_ms(),
        ))
    }

    async fn create(
        &self,
        tenant: &Tenant,
        booking: &NewBooking,
    ) -> Result<Booking, CalendarError> {
        let event_type =
            event_type::resolve(tenant, booking.service.as_deref(), booking.duration_min)?;
        let body = CreateBookingBody {
            start: booking.start.to_string(),
            event_type_id: event_type,
            attendee: WireAttendeeInput {
                name: booking.attendee.name.clone(),
                time_zone: Self::time_zone_name(tenant).to_owned(),
                email: booking.attendee.email.clone(),
                phone_number: booking.attendee.phone.clone(),
                language: tenant.language.as_str().to_owned(),
            },
            length_in_minutes: event_type::needs_explicit_duration(
                tenant,
                event_type,
                booking.duration_min,
            )
            .then_some(booking.duration_min),
            booking_fields_responses: booking
                .notes
                .as_ref()
                .map(|notes| [("notes".to_owned(), notes.clone())].into_iter().collect()),
            metadata: booking.call_id.as_ref().map(|call| {
                [(crate::wire::CALL_ID_METADATA.to_owned(), call.clone())]
                    .into_iter()
                    .collect()
            }),
            reserved_slot_uid: None,
        };
        // The call's reservation of this slot, if it holds one: named even when it lapsed in
        // our clock's view, because Cal.com ignores a lapsed reservation and a slightly
        // different clock must not leave our own reservation in our way.
        let mut held = match &booking.call_id {
            Some(call) => self.holds.load(tenant, call).await,
            None => Vec::new(),
        };
        let start_ms = booking.start.as_millisecond();
        let reservation = held
            .iter()
            .find(|h| h.start_ms == start_ms && h.event_type == event_type)
            .map(|h| h.uid.clone());
        // The call's other holds overlapping this booking would refuse it as someone else's.
        let end_ms = start_ms.saturating_add(i64::from(booking.duration_min) * 60_000);
        let now = self.clock.now_ms();
        let (in_the_way, rest): (Vec<HeldSlot>, Vec<HeldSlot>) = held.into_iter().partition(|h| {
            let h_end = h
                .start_ms
                .saturating_add(i64::from(h.duration_min) * 60_000);
            Some(&h.uid) != reservation.as_ref()
                && h.is_live(now)
                && h.start_ms < end_ms
                && h_end > start_ms
        });
        held = rest;
        if !in_the_way.is_empty() {
            let released = self.unreserve_all(tenant, &in_the_way).await;
            count_holds(PROVIDER, HoldEvent::Released, released);
            if let Some(call) = &booking.call_id {
                let _ = self.holds.save(tenant, call, &held, now).await;
            }
        }
        let send = |body: CreateBookingBody| async move {
            self.exchange::<_, OneOrMany>(
                tenant,
                Call {
                    operation: Operation::Create,
                    priority: Priority::Booking,
                    method: Method::POST,
                    url: self.url(&["v2", "bookings"]),
                    api_version: BOOKINGS_API_VERSION,
                    body: Some(&body),
                },
            )
            .await
        };
        let result = match reservation {
            Some(uid) => {
                let with_uid = CreateBookingBody {
                    reserved_slot_uid: Some(uid),
                    ..body.clone()
                };
                match send(with_uid).await {
                    // A Cal.com that refuses the reservation itself must not keep a free slot
                    // from the caller: once more without it.
                    Err(CalendarError::Rejected(_)) => send(body).await,
                    other => other,
                }
            }
            None => send(body).await,
        };
        let data = result?;
        let wire = data
            .first()
            .ok_or_else(|| errors::from_transport(Transport::Body))?;
        let created = self.to_booking(tenant, wire)?;
        if let Some(call) = &booking.call_id
            && !held.is_empty()
        {
            self.settle_after_booking(tenant, call, held, start_ms, event_type)
                .await;
        }
        Ok(created)
    }

    async fn get_booking(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
    ) -> Result<Booking, CalendarError> {
        let data: OneOrMany = self
            .exchange::<(), _>(
                tenant,
                Call {
                    operation: Operation::GetBooking,
                    priority: Priority::Booking,
                    method: Method::GET,
                    url: self.url(&["v2", "bookings", booking_ref]),
                    api_version: BOOKINGS_API_VERSION,
                    body: None,
                },
            )
            .await?;
        let wire = data
            .first()
            .ok_or_else(|| errors::from_transport(Transport::Body))?;
        // A uid is global in Cal.com; one of an event type that is not this tenant's is another
        // practice's booking, and does not exist for this tenant.
        let tenants_own = wire.event_type().is_some_and(|id| {
            event_type::calcom_config(tenant)
                .is_ok_and(|cfg| cfg.event_types.values().any(|own| *own == id))
        });
        if !tenants_own {
            return Err(CalendarError::NotFound);
        }
        self.to_booking(tenant, wire)
    }

    async fn cancel(&self, tenant: &Tenant, booking_ref: &str) -> Result<Booking, CalendarError> {
        let body = CancelBody {
            cancellation_reason: Some("Cancelled by phone".to_owned()),
        };
        let result: Result<OneOrMany, CalendarError> = self
            .exchange(
                tenant,
                Call {
                    operation: Operation::Cancel,
                    priority: Priority::Booking,
                    method: Method::POST,
                    url: self.url(&["v2", "bookings", booking_ref, "cancel"]),
                    api_version: BOOKINGS_API_VERSION,
                    body: Some(&body),
                },
            )
            .await;
        match result {
            Ok(data) => {
                let wire = data
                    .first()
                    .ok_or_else(|| errors::from_transport(Transport::Body))?;
                self.to_booking(tenant, wire)
            }
            // Cal.com refuses to cancel a cancelled booking; the trait says that is a no-op.
            Err(CalendarError::Rejected(reason)) => {
                match self.get_booking(tenant, booking_ref).await {
                    Ok(b) if b.status == BookingStatus::Cancelled => Ok(b),
                    _ => Err(CalendarError::Rejected(reason)),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn reschedule(
        &self,
        tenant: &Tenant,
        booking_ref: &str,
        new_start: Timestamp,
    ) -> Result<Booking, CalendarError> {
        let body = RescheduleBody {
            start: new_start.to_string(),
            rescheduling_reason: Some("Rescheduled by phone".to_owned()),
            // The trait's reschedule names no call, so no reservation of it can be named.
            reserved_slot_uid: None,
        };
        let data: OneOrMany = self
            .exchange(
                tenant,
                Call {
                    operation: Operation::Reschedule,
                    priority: Priority::Booking,
                    method: Method::POST,
                    url: self.url(&["v2", "bookings", booking_ref, "reschedule"]),
                    api_version: BOOKINGS_API_VERSION,
                    body: Some(&body),
                },
            )
            .await?;
        let wire = data
            .first()
            .ok_or_else(|| errors::from_transport(Transport::Body))?;
        self.to_booking(tenant, wire)
    }

    async fn find_bookings(
        &self,
        tenant: &Tenant,
        contact: &ContactQuery,
    ) -> Result<Vec<Booking>, CalendarError> {
        let cfg = event_type::calcom_config(tenant)?;
        let ids: Vec<String> = cfg.event_types.values().map(u64::to_string).collect();
        let mut url = self.url(&["v2", "bookings"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("status", "upcoming")
                .append_pair("eventTypeIds", &ids.join(","))
                .append_pair("sortStart", "asc")
                .append_pair("take", "100");
            if let Some(email) = &contact.email {
                q.append_pair("attendeeEmail", email);
            }
            if let Some(from) = contact.from {
                q.append_pair("afterStart", &from.to_string());
            }
        }
        let data: Vec<WireBooking> = self
            .exchange::<(), _>(
                tenant,
                Call {
                    operation: Operation::ListBookings,
                    priority: Priority::Booking,
                    method: Method::GET,
                    url,
                    api_version: BOOKINGS_API_VERSION,
                    body: None,
                },
            )
            .await?;
        let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
        let mut found = Vec::new();
        for wire in data {
            // Cal.com cannot filter by phone: match it here (digits only, so formatting
            // differences between the call and the booking form do not matter).
            let matches = wire.attendees.iter().any(|a| {
                let email_ok = contact.email.as_deref().is_some_and(|e| {
                    a.email
                        .as_deref()
                        .is_some_and(|ae| ae.eq_ignore_ascii_case(e))
                });
                let phone_ok = contact.phone.as_deref().is_some_and(|p| {
                    let p = digits(p);
                    !p.is_empty() && a.phone_number.as_deref().is_some_and(|ap| digits(ap) == p)
                });
                email_ok || phone_ok
            });
            if !matches {
                continue;
            }
            let booking = self.to_booking(tenant, wire)?;
            if booking.status == BookingStatus::Accepted
                && contact.from.is_none_or(|from| booking.start >= from)
            {
                found.push(booking);
            }
        }
        found.sort_by_key(|b| b.start);
        Ok(found)
    }

    async fn hold(
        &self,
        tenant: &Tenant,
        hold: &HoldRequest,
    ) -> Result<Vec<HoldOutcome>, CalendarError> {
        let event_type = event_type::resolve(tenant, hold.service.as_deref(), hold.duration_min)?;
        let now = self.clock.now_ms();
        let previous = self.holds.load(tenant, &hold.call_id).await;
        let (live, expired): (Vec<HeldSlot>, Vec<HeldSlot>) =
            previous.into_iter().partition(|h| h.is_live(now));
        count_holds(PROVIDER, HoldEvent::Expired, expired.len());
        // Earlier holds this request does not keep go first: Cal.com would refuse a new
        // reservation overlapping one of them as "reserved by another user".
        let wanted = |h: &HeldSlot| {
            hold.starts.iter().any(|start| {
                h.start_ms == start.as_millisecond()
                    && h.event_type == event_type
                    && h.duration_min == hold.duration_min
            })
        };
        let (mut live, dropped): (Vec<HeldSlot>, Vec<HeldSlot>) =
            live.into_iter().partition(wanted);
        let released = self.unreserve_all(tenant, &dropped).await;
        count_holds(PROVIDER, HoldEvent::Released, released);

        let mut kept: Vec<HeldSlot> = Vec::new();
        let mut created = 0;
        let mut outcomes = Vec::with_capacity(hold.starts.len());
        let mut failure = None;
        for start in &hold.starts {
            let start_ms = start.as_millisecond();
            let same = live.iter().position(|h| {
                h.start_ms == start_ms
                    && h.event_type == event_type
                    && h.duration_min == hold.duration_min
            });
            // A slot the call already holds is extended in place: no moment where it is free.
            let extended = match same {
                Some(i) => {
                    let prev = live.swap_remove(i);
                    match self
                        .reserve(tenant, event_type, *start, hold, Some(&prev.uid))
                        .await
                    {
                        Ok(slot) => Some(Ok(slot)),
                        // Gone at Cal.com (it lapsed there): reserve afresh.
                        Err(CalendarError::NotFound) => None,
                        Err(e) => {
                            // Still Cal.com's reservation: released with the others below.
                            live.push(prev);
                            Some(Err(e))
                        }
                    }
                }
                None => None,
            };
            let result = match extended {
                Some(result) => result,
                None => {
                    let fresh = self.reserve(tenant, event_type, *start, hold, None).await;
                    if fresh.is_ok() {
                        created += 1;
                    }
                    fresh
                }
            };
            match result {
                Ok(slot) => {
                    outcomes.push(HoldOutcome::Held {
                        until: timestamp_of_ms(slot.until_ms),
                    });
                    kept.push(slot);
                }
                Err(CalendarError::SlotTaken) => outcomes.push(HoldOutcome::Taken),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        count_holds(PROVIDER, HoldEvent::Created, created);
        // What is left of the earlier holds could not be extended (a failure): given up.
        let released = self.unreserve_all(tenant, &live).await;
        count_holds(PROVIDER, HoldEvent::Released, released);

        if let Some(error) = failure {
            // Nothing half-held: what this request reserved is given up too.
            let given_up = self.unreserve_all(tenant, &kept).await;
            count_holds(PROVIDER, HoldEvent::Released, given_up);
            let _ = self.holds.save(tenant, &hold.call_id, &[], now).await;
            return Err(error);
        }
        if let Err(e) = self.holds.save(tenant, &hold.call_id, &kept, now).await {
            // A reservation no replica can name would keep the caller's own booking out.
            let given_up = self.unreserve_all(tenant, &kept).await;
            count_holds(PROVIDER, HoldEvent::Released, given_up);
            return Err(e);
        }
        Ok(outcomes)
    }

    async fn release_holds(&self, tenant: &Tenant, call_id: &str) -> Result<usize, CalendarError> {
        let now = self.clock.now_ms();
        let held = self.holds.load(tenant, call_id).await;
        if held.is_empty() {
            return Ok(0);
        }
        let (live, expired): (Vec<HeldSlot>, Vec<HeldSlot>) =
            held.into_iter().partition(|h| h.is_live(now));
        count_holds(PROVIDER, HoldEvent::Expired, expired.len());
        let released = self.unreserve_all(tenant, &live).await;
        count_holds(PROVIDER, HoldEvent::Released, released);
        self.holds.save(tenant, call_id, &[], now).await?;
        Ok(live.len())
    }
}

fn timestamp_of_ms(ms: u64) -> Timestamp {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(Timestamp::MAX)
}

impl CalcomProvider {
    /// Reserves (or, with `extend`, moves and prolongs that reservation) one slot for `hold_for`.
    async fn reserve(
        &self,
        tenant: &Tenant,
        event_type: u64,
        start: Timestamp,
        hold: &HoldRequest,
        extend: Option<&str>,
    ) -> Result<HeldSlot, CalendarError> {
        // Cal.com reserves whole minutes.
        let minutes = u32::try_from(hold.hold_for.as_secs().div_ceil(60))
            .unwrap_or(u32::MAX)
            .max(1);
        let body = ReserveSlotBody {
            event_type_id: event_type,
            slot_start: start.to_string(),
            slot_duration: event_type::needs_explicit_duration(
                tenant,
                event_type,
                hold.duration_min,
            )
            .then_some(hold.duration_min),
            reservation_duration: Some(minutes),
        };
        let (operation, method, url) = match extend {
            Some(uid) => (
                Operation::ExtendReservation,
                Method::PATCH,
                self.url(&["v2", "slots", "reservations", uid]),
            ),
            None => (
                Operation::Reserve,
                Method::POST,
                self.url(&["v2", "slots", "reservations"]),
            ),
        };
        let now = self.clock.now_ms();
        let data: WireReservation = self
            .exchange(
                tenant,
                Call {
                    operation,
                    priority: Priority::Booking,
                    method,
                    url,
                    api_version: SLOTS_API_VERSION,
                    body: Some(&body),
                },
            )
            .await?;
        let fallback_until = now.saturating_add(u64::from(minutes) * 60_000);
        let until_ms = data
            .reservation_until
            .as_deref()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .and_then(|t| u64::try_from(t.as_millisecond()).ok())
            .unwrap_or(fallback_until);
        Ok(HeldSlot {
            uid: data.reservation_uid,
            event_type,
            start_ms: start.as_millisecond(),
            duration_min: hold.duration_min,
            until_ms,
        })
    }

    /// Deletes reservations at Cal.com; how many it confirmed gone (an unknown one is gone).
    /// A failure is logged and left to lapse: it cannot be undone from here.
    async fn unreserve_all(&self, tenant: &Tenant, slots: &[HeldSlot]) -> usize {
        let mut gone = 0;
        for slot in slots {
            let result = self
                .exchange_empty::<()>(
                    tenant,
                    Call {
                        operation: Operation::DeleteReservation,
                        priority: Priority::Booking,
                        method: Method::DELETE,
                        url: self.url(&["v2", "slots", "reservations", &slot.uid]),
                        api_version: SLOTS_API_VERSION,
                        body: None,
                    },
                )
                .await;
            match result {
                Ok(()) | Err(CalendarError::NotFound) => gone += 1,
                Err(e) => {
                    tracing::warn!(tenant = %tenant.id, error = %e, "slot reservation not deleted; it lapses by itself");
                }
            }
        }
        gone
    }

    /// After the call booked `start_ms`: that hold is consumed, the call's others released.
    async fn settle_after_booking(
        &self,
        tenant: &Tenant,
        call_id: &str,
        held: Vec<HeldSlot>,
        start_ms: i64,
        event_type: u64,
    ) {
        let now = self.clock.now_ms();
        let (booked, others): (Vec<HeldSlot>, Vec<HeldSlot>) = held
            .into_iter()
            .partition(|h| h.start_ms == start_ms && h.event_type == event_type);
        for slot in &booked {
            let event = if slot.is_live(now) {
                HoldEvent::Consumed
            } else {
                HoldEvent::Expired
            };
            count_holds(PROVIDER, event, 1);
        }
        let (live, expired): (Vec<HeldSlot>, Vec<HeldSlot>) =
            others.into_iter().partition(|h| h.is_live(now));
        count_holds(PROVIDER, HoldEvent::Expired, expired.len());
        let released = self.unreserve_all(tenant, &live).await;
        count_holds(PROVIDER, HoldEvent::Released, released);
        let _ = self.holds.save(tenant, call_id, &[], now).await;
    }
}
