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
//!   test can assert "exactly one Cal.com request".

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

use crate::wire::{BOOKINGS_API_VERSION, CreateBookingBody, RescheduleBody, SLOTS_API_VERSION};

/// Which endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Slots,
    CreateBooking,
    GetBooking,
    ListBookings,
    Cancel,
    Reschedule,
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

#[derive(Default)]
struct World {
    event_types: HashMap<u64, EventTypeSpec>,
    bookings: Vec<FakeBooking>,
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
        _ => Endpoint::Other,
    };

    let failure = {
        let mut world = state.world.lock();
        *world.counts.entry(endpoint).or_insert(0) += 1;
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
        world
            .next_failures
            .pop_front()
            .or_else(|| world.sticky_failure.clone())
    };

    // Parked until released: a slow Cal.com, without any sleep in the tests.
    let mut holding = state.holding.subscribe();
    if *holding.borrow() {
        state.held.fetch_add(1, Ordering::AcqRel);
        state.held_changed.notify_waiters();
        let _ = holding.wait_for(|h| !*h).await;
        state.held.fetch_sub(1, Ordering::AcqRel);
    }

    if let Some(failure) = failure {
        return fail(&failure, &path);
    }

    let expected_version = match endpoint {
        Endpoint::Slots => Some(SLOTS_API_VERSION),
        Endpoint::Other => None,
        _ => Some(BOOKINGS_API_VERSION),
    };
    if let Some(expected) = expected_version
        && api_version.as_deref() != Some(expected)
    {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "unexpected cal-api-version for this endpoint",
            &path,
        ));
    }
    let mut world = state.world.lock();
    if let Some(key) = &world.api_key
        && bearer.as_deref() != Some(key.as_str())
    {
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "CustomThrottlerGuard - Invalid API Key",
            &path,
        ));
    }
    let params = parse_query(&query);
    let reply = match (endpoint, segments.as_slice()) {
        (Endpoint::Slots, _) => slots(&world, &params, &path),
        (Endpoint::CreateBooking, _) => create(&mut world, &body, &path),
        (Endpoint::ListBookings, _) => list(&world, &params),
        (Endpoint::GetBooking, [_, _, uid]) => get(&world, uid, &path),
        (Endpoint::Cancel, [_, _, uid, _]) => cancel(&mut world, uid, &path),
        (Endpoint::Reschedule, [_, _, uid, _]) => reschedule(&mut world, uid, &body, &path),
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFoundException",
            "Cannot find this route",
            &path,
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

fn slots(world: &World, params: &HashMap<String, String>, path: &str) -> Reply {
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

fn create(world: &mut World, body: &[u8], path: &str) -> Reply {
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

fn reschedule(world: &mut World, uid: &str, body: &[u8], path: &str) -> Reply {
    let Some(index) = world
        .bookings
        .iter()
        .position(|b| b.uid == uid && !b.cancelled)
    else {
        return not_found(uid, path);
    };
    let Some(start) = serde_json::from_slice::<RescheduleBody>(body)
        .ok()
        .and_then(|b| b.start.parse::<Timestamp>().ok())
    else {
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
