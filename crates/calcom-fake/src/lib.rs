//! A fake Cal.com API v2 server for tests and benches (feature `fake`).
//!
//! It speaks the documented v2 shapes (`GET /v2/slots` by date, booking create, get, list,
//! cancel and reschedule with their envelopes and error bodies), checks `cal-api-version` and,
//! when told to, the bearer key, and keeps bookings in memory so slots really disappear when
//! booked. Tests steer it:
//! - failures on command: [`FakeCalcom::fail_next`] / [`FakeCalcom::fail_always`] with a
//!   [`Failure`] (any status, 429 with reset headers, 400 slot taken, a dropped connection);
//! - slow answers without sleeping: [`FakeCalcom::hold`] parks every request until
//!   [`FakeCalcom::release`]; [`FakeCalcom::wait_held`] waits until requests are parked;
//! - refused connections: [`FakeCalcom::stop`] closes the listener and every open connection;
//! - lag: [`FakeCalcom::set_slots_lag`] makes the slot list ignore bookings, as a lagging
//!   Cal.com would;
//! - counting: every request is recorded ([`FakeCalcom::count`], [`FakeCalcom::requests`]) so a
//!   test can assert "exactly one Cal.com request"; [`FakeCalcom::count_for_key`] counts per API
//!   key;
//! - slot reservations (`POST /v2/slots/reservations`, `GET|PATCH|DELETE …/{uid}`) as Cal.com
//!   keeps them: a live reservation hides its slot from `GET /v2/slots` (API requests carry no
//!   reservation cookie, so from every caller's list) and refuses bookings and reservations of
//!   it except a booking that names it (`reservedSlotUid`), which consumes it; it lapses by the
//!   fake's clock ([`FakeCalcom::set_clock`]);
//! - Cal.com's throttler on demand ([`FakeCalcom::set_rate_limit`]): `X-RateLimit-*-Default`
//!   headers on every answer, a fixed window per API key by the fake's clock, 429 past it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use frontdesk_clock::{Clock, SystemClock};

use frontdesk_calcom::wire::{
    BOOKINGS_API_VERSION, BOOKINGS_API_VERSION_2024, CreateBookingBody, RescheduleBody,
    ReserveSlotBody, SLOTS_API_VERSION,
};

/// Which endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Slots,
    CreateBooking,
    GetBooking,
    ListBookings,
    Cancel,
    Reschedule,
    ReserveSlot,
    GetReservation,
    UpdateReservation,
    DeleteReservation,
    Other,
}

/// A failure to answer with instead of the normal response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// This status with a Cal.com error envelope (`500`, `401`, `403`, `404`, `409`, …).
    Status(u16),
    /// 429 with `X-RateLimit-*-Default` headers; reset in seconds.
    RateLimited { reset_secs: u64 },
    /// 400 "User either already has booking at this time or is not available".
    SlotTaken,
    /// The connection is dropped without an answer.
    Close,
}

/// One recorded request (the bearer key itself is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub endpoint: Endpoint,
    pub method: String,
    pub path_and_query: String,
    pub api_version: Option<String>,
    pub has_bearer: bool,
    pub body: Option<Value>,
}

/// When an event type can be booked: weekdays between `open` and `close` in `time_zone`,
/// one slot every `length_min` minutes.
#[derive(Debug, Clone)]
pub struct EventTypeSpec {
    pub slug: String,
    pub length_min: u32,
    pub time_zone: TimeZone,
    pub open: Time,
    pub close: Time,
    pub weekend: bool,
    /// Who holds the appointments: event types with the same host block each other (one
    /// practice's services), different hosts never do.
    pub host: u64,
    /// Bookings wait for the host's confirmation: Cal.com creates them `pending`.
    pub requires_confirmation: bool,
}

impl EventTypeSpec {
    /// Monday to Friday, 09:00–18:00 in `time_zone`, `length_min` minute slots.
    pub fn weekdays(time_zone: &str, length_min: u32) -> Self {
        Self {
            slug: "appointment".to_owned(),
            length_min,
            time_zone: TimeZone::get(time_zone).unwrap_or(TimeZone::UTC),
            open: Time::constant(9, 0, 0, 0),
            close: Time::constant(18, 0, 0, 0),
            weekend: false,
            host: 0,
            requires_confirmation: false,
        }
    }
}

#[derive(Debug, Clone)]
struct FakeBooking {
    id: u64,
    uid: String,
    event_type: u64,
    start: Timestamp,
    end: Timestamp,
    cancelled: bool,
    /// Created for an event type that requires confirmation, not confirmed yet.
    pending: bool,
    attendee: Value,
    /// What the booking request's `metadata` held (Cal.com returns it with the booking).
    metadata: Value,
    rescheduled_from: Option<String>,
}

impl FakeBooking {
    fn status(&self) -> &'static str {
        match (self.cancelled, self.pending) {
            (true, _) => "cancelled",
            (false, true) => "pending",
            (false, false) => "accepted",
        }
    }
}

/// One slot reservation.
#[derive(Debug, Clone)]
struct Reservation {
    uid: String,
    event_type: u64,
    start: Timestamp,
    end: Timestamp,
    minutes: u32,
    until_ms: u64,
}

/// The throttler's fixed window of one API key.
#[derive(Debug, Clone, Copy)]
struct Window {
    started_ms: u64,
    used: u32,
}

#[derive(Default)]
struct World {
    event_types: HashMap<u64, EventTypeSpec>,
    bookings: Vec<FakeBooking>,
    reservations: Vec<Reservation>,
    rate_limit: Option<u32>,
    windows: HashMap<String, Window>,
    per_key: HashMap<String, usize>,
    next_id: u64,
    next_failures: VecDeque<Failure>,
    sticky_failure: Option<Failure>,
    api_key: Option<String>,
    slots_lag: bool,
    counts: HashMap<Endpoint, usize>,
    requests: Vec<RecordedRequest>,
}

struct State {
    world: Mutex<World>,
    clock: Mutex<Arc<dyn Clock>>,
    holding: watch::Sender<bool>,
    held: AtomicUsize,
    held_changed: Notify,
}

/// A running fake Cal.com on 127.0.0.1 (ephemeral port).
pub struct FakeCalcom {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeCalcom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCalcom")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeCalcom {
    /// Starts the server on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (holding, _) = watch::channel(false);
        let state = Arc::new(State {
            world: Mutex::new(World {
                next_id: 1000,
                ..World::default()
            }),
            clock: Mutex::new(Arc::new(SystemClock)),
            holding,
            held: AtomicUsize::new(0),
            held_changed: Notify::new(),
        });
        let (shutdown, _) = watch::channel(false);
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&state), shutdown.clone()));
        Ok(Self {
            addr,
            state,
            shutdown,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:<port>`, for `CalcomConfig::base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add_event_type(&self, id: u64, spec: EventTypeSpec) {
        self.state.world.lock().event_types.insert(id, spec);
    }

    /// Requires `Authorization: Bearer <key>` on every request (else 401, like Cal.com's
    /// throttler guard).
    pub fn require_api_key(&self, key: &str) {
        self.state.world.lock().api_key = Some(key.to_owned());
    }

    /// Answers the next request with `failure` (queued failures apply in order).
    pub fn fail_next(&self, failure: Failure) {
        self.state.world.lock().next_failures.push_back(failure);
    }

    /// Answers every request with `failure` until [`FakeCalcom::clear_failures`].
    pub fn fail_always(&self, failure: Failure) {
        self.state.world.lock().sticky_failure = Some(failure);
    }

    pub fn clear_failures(&self) {
        let mut world = self.state.world.lock();
        world.next_failures.clear();
        world.sticky_failure = None;
    }

    /// Reservations lapse and rate-limit windows turn by `clock` (the system clock by default).
    pub fn set_clock(&self, clock: Arc<dyn Clock>) {
        *self.state.clock.lock() = clock;
    }

    /// Throttles like Cal.com: `limit` requests per API key per 60 s window (by the fake's
    /// clock), with `X-RateLimit-{Limit,Remaining,Reset}-Default` on every answer and 429 past
    /// the limit. Off by default.
    pub fn set_rate_limit(&self, limit: u32) {
        self.state.world.lock().rate_limit = Some(limit);
    }

    /// Requests that carried this API key (failed and throttled ones included).
    pub fn count_for_key(&self, key: &str) -> usize {
        self.state
            .world
            .lock()
            .per_key
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Deletes every reservation (as if released elsewhere); how many there were.
    pub fn clear_reservations(&self) -> usize {
        let mut world = self.state.world.lock();
        let n = world.reservations.len();
        world.reservations.clear();
        n
    }

    /// Live reservations (by the fake's clock) of `event_type`'s host overlapping `start..end`.
    pub fn reserved(&self, event_type: u64, start: Timestamp, end: Timestamp) -> usize {
        let now = self.state.clock.lock().now_ms();
        let world = self.state.world.lock();
        world.live_reservations(event_type, start, end, now).count()
    }

    /// Slot lists ignore bookings (Cal.com's availability lagging behind a booking).
    pub fn set_slots_lag(&self, lag: bool) {
        self.state.world.lock().slots_lag = lag;
    }

    /// Parks every request from now on until [`FakeCalcom::release`].
    pub fn hold(&self) {
        self.state.holding.send_replace(true);
    }

    pub fn release(&self) {
        self.state.holding.send_replace(false);
    }

    /// Waits until at least `n` requests are parked by [`FakeCalcom::hold`].
    pub async fn wait_held(&self, n: usize) {
        loop {
            let notified = self.state.held_changed.notified();
            if self.state.held.load(Ordering::Acquire) >= n {
                return;
            }
            notified.await;
        }
    }

    /// Stops listening and drops every open connection: later requests are refused.
    pub fn stop(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }

    /// Requests received at `endpoint` (failed ones included).
    pub fn count(&self, endpoint: Endpoint) -> usize {
        self.state
            .world
            .lock()
            .counts
            .get(&endpoint)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_requests(&self) -> usize {
        self.state.world.lock().counts.values().sum()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.world.lock().requests.clone()
    }

    /// Books `start` directly in the fake (as if through Cal.com's own booking page) and
    /// returns the uid; the slot list stops offering it (unless lagging).
    pub fn book_directly(&self, event_type: u64, start: Timestamp) -> Option<String> {
        let mut world = self.state.world.lock();
        let length = world.event_types.get(&event_type)?.length_min;
        let end = start
            .checked_add(SignedDuration::from_mins(i64::from(length)))
            .ok()?;
        let booking = world.insert_booking(
            event_type,
            start,
            end,
            json!({"name": "Walk In", "phoneNumber": "+4915112345678"}),
            json!({}),
            None,
        );
        Some(booking.uid)
    }

    /// Whether an accepted booking of `event_type`'s host overlaps `start..end` (the truth a
    /// cache is checked against).
    pub fn is_booked(&self, event_type: u64, start: Timestamp, end: Timestamp) -> bool {
        self.state
            .world
            .lock()
            .overlaps(event_type, start, end, None)
    }

    /// A webhook body (`BOOKING_CREATED`, `BOOKING_CANCELLED`, `BOOKING_RESCHEDULED`) for one of
    /// the fake's bookings, in Cal.com's documented envelope.
    pub fn webhook_body(&self, trigger: &str, uid: &str) -> Option<Value> {
        let world = self.state.world.lock();
        let booking = world.bookings.iter().find(|b| b.uid == uid)?;
        let mut payload = json!({
            "uid": booking.uid,
            "bookingId": booking.id,
            "eventTypeId": booking.event_type,
            "startTime": booking.start.to_string(),
            "endTime": booking.end.to_string(),
            "iCalSequence": 0,
            "status": booking.status().to_ascii_uppercase(),
        });
        if let Some(old_uid) = &booking.rescheduled_from
            && let Some(old) = world.bookings.iter().find(|b| &b.uid == old_uid)
            && let Some(object) = payload.as_object_mut()
        {
            object.insert("rescheduleUid".into(), json!(old.uid));
            object.insert("rescheduleStartTime".into(), json!(old.start.to_string()));
            object.insert("rescheduleEndTime".into(), json!(old.end.to_string()));
        }
        Some(json!({
            "triggerEvent": trigger,
            "createdAt": "2026-01-02T12:03:41.512Z",
            "payload": payload,
        }))
    }
}

impl Drop for FakeCalcom {
    fn drop(&mut self) {
        self.release();
        self.stop();
    }
}

impl World {
    fn insert_booking(
        &mut self,
        event_type: u64,
        start: Timestamp,
        end: Timestamp,
        attendee: Value,
        metadata: Value,
        rescheduled_from: Option<String>,
    ) -> FakeBooking {
        self.next_id += 1;
        let pending = self
            .event_types
            .get(&event_type)
            .is_some_and(|s| s.requires_confirmation);
        let booking = FakeBooking {
            id: self.next_id,
            uid: format!("fk{:010}", self.next_id),
            event_type,
            start,
            end,
            cancelled: false,
            pending,
            attendee,
            metadata,
            rescheduled_from,
        };
        self.bookings.push(booking.clone());
        booking
    }

    /// Live reservations of `event_type`'s host overlapping `start..end`.
    fn live_reservations(
        &self,
        event_type: u64,
        start: Timestamp,
        end: Timestamp,
        now_ms: u64,
    ) -> impl Iterator<Item = &Reservation> {
        let host = self.host(event_type);
        self.reservations.iter().filter(move |r| {
            r.until_ms > now_ms && self.host(r.event_type) == host && start < r.end && end > r.start
        })
    }

    /// Cal.com's check before a booking: a live reservation of someone else refuses it, the
    /// booking's own (named) reservation is consumed. `Err` is the seconds until it lapses.
    fn take_reservation(
        &mut self,
        event_type: u64,
        start: Timestamp,
        end: Timestamp,
        named: Option<&str>,
        now_ms: u64,
    ) -> Result<(), u64> {
        let blocking = self
            .live_reservations(event_type, start, end, now_ms)
            .filter(|r| Some(r.uid.as_str()) != named)
            .map(|r| r.until_ms)
            .max();
        if let Some(until) = blocking {
            return Err(until.saturating_sub(now_ms).div_ceil(1000));
        }
        if let Some(uid) = named {
            self.reservations.retain(|r| r.uid != uid);
        }
        Ok(())
    }

    fn reservation_json(&self, r: &Reservation) -> Value {
        json!({
            "eventTypeId": r.event_type,
            "slotStart": iso_utc(r.start),
            "slotEnd": iso_utc(r.end),
            "slotDuration": r.start.duration_until(r.end).as_mins(),
            "reservationUid": r.uid,
            "reservationDuration": r.minutes,
            "reservationUntil": iso_utc(timestamp_of_ms(r.until_ms)),
        })
    }

    /// Counts a request against its key's window; `Some((limit, remaining, reset_secs,
    /// exceeded))` when throttling is on.
    fn throttle(&mut self, key: Option<&str>, now_ms: u64) -> Option<(u32, u32, u64, bool)> {
        let limit = self.rate_limit?;
        let key = key.unwrap_or("anonymous").to_owned();
        let window = self.windows.entry(key).or_insert(Window {
            started_ms: now_ms,
            used: 0,
        });
        if now_ms >= window.started_ms.saturating_add(60_000) {
            *window = Window {
                started_ms: now_ms,
                used: 0,
            };
        }
        window.used = window.used.saturating_add(1);
        let reset_ms = window
            .started_ms
            .saturating_add(60_000)
            .saturating_sub(now_ms);
        let exceeded = window.used > limit;
        Some((
            limit,
            limit.saturating_sub(window.used),
            reset_ms.div_ceil(1000),
            exceeded,
        ))
    }

    fn host(&self, event_type: u64) -> Option<u64> {
        self.event_types.get(&event_type).map(|s| s.host)
    }

    fn overlaps(
        &self,
        event_type: u64,
        start: Timestamp,
        end: Timestamp,
        except: Option<&str>,
    ) -> bool {
        let host = self.host(event_type);
        self.bookings.iter().any(|b| {
            !b.cancelled
                && Some(b.uid.as_str()) != except
                && self.host(b.event_type) == host
                && start < b.end
                && end > b.start
        })
    }

    fn booking_json(&self, b: &FakeBooking) -> Value {
        let slug = self
            .event_types
            .get(&b.event_type)
            .map_or("appointment".to_owned(), |s| s.slug.clone());
        let mut v = json!({
            "id": b.id,
            "uid": b.uid,
            "title": "Appointment",
            "description": "",
            "hosts": [],
            "status": b.status(),
            "start": iso_utc(b.start),
            "end": iso_utc(b.end),
            "duration": b.start.duration_until(b.end).as_mins(),
            "eventTypeId": b.event_type,
            "eventType": {"id": b.event_type, "slug": slug},
            "location": "",
            "absentHost": false,
            "createdAt": "2026-01-02T12:03:40.998Z",
            "updatedAt": null,
            "attendees": [b.attendee],
            "guests": [],
            "bookingFieldsResponses": {},
            "metadata": b.metadata,
        });
        if let (Some(from), Some(object)) = (&b.rescheduled_from, v.as_object_mut()) {
            object.insert("rescheduledFromUid".into(), json!(from));
        }
        v
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, shutdown: watch::Sender<bool>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = Arc::clone(&state);
        let mut stop = shutdown.subscribe();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&state), req));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }
}

type Reply = Response<Full<Bytes>>;

/// An error makes hyper drop the connection: that is [`Failure::Close`].
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Reply, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let api_version = req
        .headers()
        .get("cal-api-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let body_json: Option<Value> = serde_json::from_slice(&body).ok();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let endpoint = match (&method, segments.as_slice()) {
        (&Method::GET, ["v2", "slots"]) => Endpoint::Slots,
        (&Method::POST, ["v2", "bookings"]) => Endpoint::CreateBooking,
        (&Method::GET, ["v2", "bookings"]) => Endpoint::ListBookings,
        (&Method::GET, ["v2", "bookings", _]) => Endpoint::GetBooking,
        (&Method::POST, ["v2", "bookings", _, "cancel"]) => Endpoint::Cancel,
        (&Method::POST, ["v2", "bookings", _, "reschedule"]) => Endpoint::Reschedule,
        (&Method::POST, ["v2", "slots", "reservations"]) => Endpoint::ReserveSlot,
        (&Method::GET, ["v2", "slots", "reservations", _]) => Endpoint::GetReservation,
        (&Method::PATCH, ["v2", "slots", "reservations", _]) => Endpoint::UpdateReservation,
        (&Method::DELETE, ["v2", "slots", "reservations", _]) => Endpoint::DeleteReservation,
        _ => Endpoint::Other,
    };

    let now_ms = state.clock.lock().now_ms();
    let (failure, throttle) = {
        let mut world = state.world.lock();
        *world.counts.entry(endpoint).or_insert(0) += 1;
        if let Some(key) = &bearer {
            *world.per_key.entry(key.clone()).or_insert(0) += 1;
        }
        let throttle = world.throttle(bearer.as_deref(), now_ms);
        world.requests.push(RecordedRequest {
            endpoint,
            method: method.to_string(),
            path_and_query: if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            },
            api_version: api_version.clone(),
            has_bearer: bearer.is_some(),
            body: body_json.clone(),
        });
        let failure = world
            .next_failures
            .pop_front()
            .or_else(|| world.sticky_failure.clone());
        (failure, throttle)
    };
    let reply = answer(
        &state,
        failure,
        throttle,
        endpoint,
        &ReqParts {
            path: &path,
            query: &query,
            api_version: api_version.as_deref(),
            bearer: bearer.as_deref(),
            body: &body,
            segments: &segments,
            now_ms,
        },
    )
    .await?;
    Ok(with_rate_headers(reply, throttle))
}

/// What [`answer`] needs of a request.
struct ReqParts<'a> {
    path: &'a str,
    query: &'a str,
    api_version: Option<&'a str>,
    bearer: Option<&'a str>,
    body: &'a [u8],
    segments: &'a [&'a str],
    now_ms: u64,
}

fn with_rate_headers(mut reply: Reply, throttle: Option<(u32, u32, u64, bool)>) -> Reply {
    if let Some((limit, remaining, reset, _)) = throttle {
        let headers = reply.headers_mut();
        headers.insert("x-ratelimit-limit-default", limit.into());
        headers.insert("x-ratelimit-remaining-default", remaining.into());
        headers.insert("x-ratelimit-reset-default", reset.into());
    }
    reply
}

async fn answer(
    state: &State,
    failure: Option<Failure>,
    throttle: Option<(u32, u32, u64, bool)>,
    endpoint: Endpoint,
    req: &ReqParts<'_>,
) -> Result<Reply, DropConnection> {
    let ReqParts {
        path,
        query,
        api_version,
        bearer,
        body,
        segments,
        now_ms,
    } = *req;

    // Parked until released: a slow Cal.com, without any sleep in the tests.
    let mut holding = state.holding.subscribe();
    if *holding.borrow() {
        state.held.fetch_add(1, Ordering::AcqRel);
        state.held_changed.notify_waiters();
        let _ = holding.wait_for(|h| !*h).await;
        state.held.fetch_sub(1, Ordering::AcqRel);
    }

    if let Some((_, _, reset_secs, true)) = throttle {
        return fail(&Failure::RateLimited { reset_secs }, path);
    }
    if let Some(failure) = failure {
        return fail(&failure, path);
    }

    let version_ok = match endpoint {
        Endpoint::Slots
        | Endpoint::ReserveSlot
        | Endpoint::GetReservation
        | Endpoint::UpdateReservation
        | Endpoint::DeleteReservation => api_version == Some(SLOTS_API_VERSION),
        Endpoint::Other => true,
        // Cal.com serves both bookings versions with the same bodies and booking shape.
        _ => matches!(
            api_version,
            Some(BOOKINGS_API_VERSION | BOOKINGS_API_VERSION_2024)
        ),
    };
    if !version_ok {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "unexpected cal-api-version for this endpoint",
            path,
        ));
    }
    let mut world = state.world.lock();
    if let Some(key) = &world.api_key
        && bearer != Some(key.as_str())
    {
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "CustomThrottlerGuard - Invalid API Key",
            path,
        ));
    }
    let params = parse_query(query);
    let reply = match (endpoint, segments) {
        (Endpoint::Slots, _) => slots(&world, &params, path, now_ms),
        (Endpoint::CreateBooking, _) => create(&mut world, body, path, now_ms),
        (Endpoint::ListBookings, _) => list(&world, &params),
        (Endpoint::GetBooking, [_, _, uid]) => get(&world, uid, path),
        (Endpoint::Cancel, [_, _, uid, _]) => cancel(&mut world, uid, path),
        (Endpoint::Reschedule, [_, _, uid, _]) => reschedule(&mut world, uid, body, path, now_ms),
        (Endpoint::ReserveSlot, _) => reserve(&mut world, None, body, path, now_ms),
        (Endpoint::UpdateReservation, [_, _, _, uid]) => {
            reserve(&mut world, Some(uid), body, path, now_ms)
        }
        (Endpoint::GetReservation, [_, _, _, uid]) => get_reservation(&world, uid, now_ms),
        (Endpoint::DeleteReservation, [_, _, _, uid]) => delete_reservation(&mut world, uid, path),
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            "Cannot find this route",
            path,
        ),
    };
    Ok(reply)
}

fn fail(failure: &Failure, path: &str) -> Result<Reply, DropConnection> {
    Ok(match failure {
        Failure::Close => return Err(DropConnection),
        Failure::SlotTaken => error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "User either already has booking at this time or is not available",
            path,
        ),
        Failure::RateLimited { reset_secs } => {
            let message = "CustomThrottlerGuard - Too many requests. Please try again later.";
            let body = json!({
                "status": "error",
                "timestamp": "2026-01-02T12:03:41.000Z",
                "path": path,
                "error": {"code": "ThrottlerException", "message": message, "details": message},
            });
            let mut reply = json_reply(StatusCode::TOO_MANY_REQUESTS, &body);
            let headers = reply.headers_mut();
            headers.insert("x-ratelimit-limit-default", 120.into());
            headers.insert("x-ratelimit-remaining-default", 0.into());
            headers.insert("x-ratelimit-reset-default", (*reset_secs).into());
            reply
        }
        Failure::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (name, message) = match code {
                400 => (
                    "BadRequestException",
                    "Attempting to book a meeting in the past.",
                ),
                401 => (
                    "UnauthorizedException",
                    "CustomThrottlerGuard - Invalid API Key",
                ),
                403 => ("ForbiddenException", "Forbidden resource"),
                404 => ("NotFoundException", "Booking with uid=unknown not found"),
                409 => (
                    "ConflictException",
                    "Invalid Input: Trying to create a record that already exists.",
                ),
                422 => ("UnprocessableEntityException", "Invalid request"),
                _ => ("InternalServerErrorException", "Internal server error"),
            };
            error(status, name, message, path)
        }
    })
}

fn json_reply(status: StatusCode, body: &Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body.to_string())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    reply
}

fn success(status: StatusCode, data: Value) -> Reply {
    json_reply(status, &json!({"status": "success", "data": data}))
}

/// Cal.com's HttpException envelope.
fn error(status: StatusCode, code: &str, message: &str, path: &str) -> Reply {
    json_reply(
        status,
        &json!({
            "status": "error",
            "timestamp": "2026-01-02T12:03:41.000Z",
            "path": path,
            "error": {
                "code": code,
                "message": message,
                "details": {"message": message, "error": status.canonical_reason().unwrap_or(""), "statusCode": status.as_u16()},
            },
        }),
    )
}

fn parse_query(query: &str) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

/// `2026-01-06T17:00:00.000Z`.
fn iso_utc(t: Timestamp) -> String {
    t.to_zoned_datetime(TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// A date-only value is the start of that day (UTC); anything else must be an ISO instant.
fn parse_instant(s: &str, end_of_day: bool) -> Option<Timestamp> {
    if let Ok(date) = s.parse::<Date>() {
        let time = if end_of_day {
            Time::constant(23, 59, 59, 0)
        } else {
            Time::midnight()
        };
        return TimeZone::UTC.to_timestamp(date.to_datetime(time)).ok();
    }
    s.parse::<Timestamp>().ok()
}

fn slots(world: &World, params: &HashMap<String, String>, path: &str, now_ms: u64) -> Reply {
    let bad = |m: &str| error(StatusCode::BAD_REQUEST, "BadRequestException", m, path);
    let (Some(start), Some(end)) = (
        params.get("start").and_then(|s| parse_instant(s, false)),
        params.get("end").and_then(|s| parse_instant(s, true)),
    ) else {
        return bad("start and end must be ISO 8601 date strings");
    };
    let Some(event_type) = params
        .get("eventTypeId")
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return bad("eventTypeId is required");
    };
    let Some(spec) = world.event_types.get(&event_type) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Event type with id {event_type} not found."),
            path,
        );
    };
    let out_tz = params
        .get("timeZone")
        .and_then(|tz| TimeZone::get(tz).ok())
        .unwrap_or(TimeZone::UTC);
    let length = params
        .get("duration")
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(spec.length_min);
    let mut data: serde_json::Map<String, Value> = serde_json::Map::new();
    let mut date = spec.time_zone.to_datetime(start).date();
    let last = spec.time_zone.to_datetime(end).date();
    while date <= last {
        let workday =
            spec.weekend || !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        if workday {
            let mut minute = i64::from(spec.open.hour()) * 60 + i64::from(spec.open.minute());
            let close = i64::from(spec.close.hour()) * 60 + i64::from(spec.close.minute());
            while minute + i64::from(length) <= close {
                let civil = date.to_datetime(Time::midnight()) + minute.minutes();
                if let Ok(slot) = spec.time_zone.to_timestamp(civil)
                    && slot >= start
                    && slot <= end
                    && let Ok(slot_end) =
                        slot.checked_add(SignedDuration::from_mins(i64::from(length)))
                    && (world.slots_lag || !world.overlaps(event_type, slot, slot_end, None))
                    && world
                        .live_reservations(event_type, slot, slot_end, now_ms)
                        .next()
                        .is_none()
                {
                    let zoned = slot.to_zoned_datetime(out_tz.clone());
                    let key = zoned.date().to_string();
                    let text = zoned.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
                    if let Some(list) = data
                        .entry(key)
                        .or_insert_with(|| Value::Array(Vec::new()))
                        .as_array_mut()
                    {
                        list.push(json!({"start": text}));
                    }
                }
                minute += i64::from(spec.length_min.max(5));
            }
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    success(StatusCode::OK, Value::Object(data))
}

/// Cal.com's answer to a booking of a slot someone else reserved.
fn reserved_by_someone_else(secs: u64, status: StatusCode, path: &str) -> Reply {
    error(
        status,
        if status == StatusCode::CONFLICT {
            "ConflictException"
        } else {
            "BadRequestException"
        },
        &format!(
            "Someone else reserved this booking time slot before you. This time slot will be freed up in {secs} seconds."
        ),
        path,
    )
}

fn create(world: &mut World, body: &[u8], path: &str, now_ms: u64) -> Reply {
    let Ok(input) = serde_json::from_slice::<CreateBookingBody>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Invalid booking input",
            path,
        );
    };
    if input.attendee.email.is_none() && input.attendee.phone_number.is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "attendee email or phoneNumber is required",
            path,
        );
    }
    let Some(spec) = world.event_types.get(&input.event_type_id) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Event type with id {} not found.", input.event_type_id),
            path,
        );
    };
    let Ok(start) = input.start.parse::<Timestamp>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "start must be an ISO 8601 UTC date",
            path,
        );
    };
    let length = input.length_in_minutes.unwrap_or(spec.length_min);
    let Ok(end) = start.checked_add(SignedDuration::from_mins(i64::from(length))) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "bad length",
            path,
        );
    };
    if world.overlaps(input.event_type_id, start, end, None) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "User either already has booking at this time or is not available",
            path,
        );
    }
    if let Err(secs) = world.take_reservation(
        input.event_type_id,
        start,
        end,
        input.reserved_slot_uid.as_deref(),
        now_ms,
    ) {
        return reserved_by_someone_else(secs, StatusCode::BAD_REQUEST, path);
    }
    let attendee = json!({
        "name": input.attendee.name,
        "email": input.attendee.email,
        "displayEmail": input.attendee.email,
        "timeZone": input.attendee.time_zone,
        "phoneNumber": input.attendee.phone_number,
        "language": input.attendee.language,
        "absent": false,
    });
    let metadata = serde_json::to_value(&input.metadata).unwrap_or(Value::Null);
    let metadata = if metadata.is_null() {
        json!({})
    } else {
        metadata
    };
    let booking = world.insert_booking(input.event_type_id, start, end, attendee, metadata, None);
    success(StatusCode::CREATED, world.booking_json(&booking))
}

fn not_found(uid: &str, path: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        &format!("Booking with uid={uid} not found"),
        path,
    )
}

fn get(world: &World, uid: &str, path: &str) -> Reply {
    match world.bookings.iter().find(|b| b.uid == uid) {
        Some(b) => success(StatusCode::OK, world.booking_json(b)),
        None => not_found(uid, path),
    }
}

fn list(world: &World, params: &HashMap<String, String>) -> Reply {
    let email = params.get("attendeeEmail");
    let after = params
        .get("afterStart")
        .and_then(|s| parse_instant(s, false));
    let ids: Option<Vec<u64>> = params
        .get("eventTypeIds")
        .map(|s| s.split(',').filter_map(|i| i.trim().parse().ok()).collect());
    let mut found: Vec<&FakeBooking> = world
        .bookings
        .iter()
        .filter(|b| !b.cancelled)
        .filter(|b| after.is_none_or(|a| b.start >= a))
        .filter(|b| ids.as_ref().is_none_or(|ids| ids.contains(&b.event_type)))
        .filter(|b| {
            email.is_none_or(|e| b.attendee.get("email").and_then(Value::as_str) == Some(e))
        })
        .collect();
    found.sort_by_key(|b| b.start);
    let data: Vec<Value> = found.iter().map(|b| world.booking_json(b)).collect();
    success(StatusCode::OK, Value::Array(data))
}

fn cancel(world: &mut World, uid: &str, path: &str) -> Reply {
    let Some(index) = world.bookings.iter().position(|b| b.uid == uid) else {
        return not_found(uid, path);
    };
    if world.bookings[index].cancelled {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "This booking has already been cancelled.",
            path,
        );
    }
    world.bookings[index].cancelled = true;
    let booking = world.bookings[index].clone();
    success(StatusCode::OK, world.booking_json(&booking))
}

fn reschedule(world: &mut World, uid: &str, body: &[u8], path: &str, now_ms: u64) -> Reply {
    let Some(index) = world
        .bookings
        .iter()
        .position(|b| b.uid == uid && !b.cancelled)
    else {
        return not_found(uid, path);
    };
    let input = serde_json::from_slice::<RescheduleBody>(body).ok();
    let named = input.as_ref().and_then(|b| b.reserved_slot_uid.clone());
    let Some(start) = input.and_then(|b| b.start.parse::<Timestamp>().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "start must be an ISO 8601 UTC date",
            path,
        );
    };
    let old = world.bookings[index].clone();
    let Ok(end) = start.checked_add(old.start.duration_until(old.end)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "bad start",
            path,
        );
    };
    if world.overlaps(old.event_type, start, end, Some(uid)) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "User either already has booking at this time or is not available",
            path,
        );
    }
    if let Err(secs) = world.take_reservation(old.event_type, start, end, named.as_deref(), now_ms)
    {
        return reserved_by_someone_else(secs, StatusCode::CONFLICT, path);
    }
    world.bookings[index].cancelled = true;
    let moved = world.insert_booking(
        old.event_type,
        start,
        end,
        old.attendee.clone(),
        old.metadata.clone(),
        Some(old.uid.clone()),
    );
    success(StatusCode::CREATED, world.booking_json(&moved))
}

fn timestamp_of_ms(ms: u64) -> Timestamp {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .unwrap_or(Timestamp::MAX)
}

/// `POST /v2/slots/reservations`, or with `uid` `PATCH …/{uid}` (moves and prolongs it).
fn reserve(world: &mut World, uid: Option<&str>, body: &[u8], path: &str, now_ms: u64) -> Reply {
    let unprocessable = |m: &str| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnprocessableEntityException",
            m,
            path,
        )
    };
    let Ok(input) = serde_json::from_slice::<ReserveSlotBody>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "eventTypeId and slotStart are required",
            path,
        );
    };
    if let Some(uid) = uid
        && !world.reservations.iter().any(|r| r.uid == uid)
    {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Slot with uid={uid} not found"),
            path,
        );
    }
    let Some(spec) = world.event_types.get(&input.event_type_id) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Event Type with ID={} not found", input.event_type_id),
            path,
        );
    };
    let Ok(start) = input.slot_start.parse::<Timestamp>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Invalid start date",
            path,
        );
    };
    let length = input.slot_duration.unwrap_or(spec.length_min);
    let Ok(end) = start.checked_add(SignedDuration::from_mins(i64::from(length))) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Invalid end date",
            path,
        );
    };
    if world.overlaps(input.event_type_id, start, end, None) {
        return unprocessable("Can't reserve a slot if the event is already booked.");
    }
    let taken = world
        .live_reservations(input.event_type_id, start, end, now_ms)
        .any(|r| Some(r.uid.as_str()) != uid);
    if taken {
        return unprocessable(
            "This time slot is already reserved by another user. Please choose a different time.",
        );
    }
    let minutes = input.reservation_duration.unwrap_or(5);
    let until_ms = now_ms.saturating_add(u64::from(minutes) * 60_000);
    let reservation = match uid {
        Some(uid) => {
            let Some(r) = world.reservations.iter_mut().find(|r| r.uid == uid) else {
                return not_found(uid, path);
            };
            r.event_type = input.event_type_id;
            r.start = start;
            r.end = end;
            r.minutes = minutes;
            r.until_ms = until_ms;
            r.clone()
        }
        None => {
            world.next_id += 1;
            let r = Reservation {
                uid: format!("rsv-{:08}-4696-49e3-acc7-b2f3999c3b94", world.next_id),
                event_type: input.event_type_id,
                start,
                end,
                minutes,
                until_ms,
            };
            world.reservations.push(r.clone());
            r
        }
    };
    let status = if uid.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    success(status, world.reservation_json(&reservation))
}

/// `GET /v2/slots/reservations/{uid}`: the reservation, or `null` once it is gone or lapsed.
fn get_reservation(world: &World, uid: &str, now_ms: u64) -> Reply {
    let data = world
        .reservations
        .iter()
        .find(|r| r.uid == uid && r.until_ms > now_ms)
        .map_or(Value::Null, |r| world.reservation_json(r));
    success(StatusCode::OK, data)
}

/// `DELETE /v2/slots/reservations/{uid}`: `{"status":"success"}`.
fn delete_reservation(world: &mut World, uid: &str, path: &str) -> Reply {
    let before = world.reservations.len();
    world.reservations.retain(|r| r.uid != uid);
    if world.reservations.len() == before {
        return error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            &format!("Slot with uid={uid} not found"),
            path,
        );
    }
    json_reply(StatusCode::OK, &json!({"status": "success"}))
}
