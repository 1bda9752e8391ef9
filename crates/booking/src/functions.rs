//! The four booking functions, each from typed arguments to the SPEC's reply object.
//!
//! Replies always carry `success` and a speakable `message` in the tenant's language; failures
//! add a machine `reason` (`slot_unavailable`, `outside_business_hours`, `not_found`,
//! `ambiguous`, `calendar_unavailable`, `configuration_error`, ...). Whether a reply is kept for
//! idempotent repeats is decided here too ([`Outcome`]): answers about the calendar's state are
//! final, "try again later" is not.

use jiff::civil::{Date, DateTime, Time};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Map, Value, json};

use crate::alternatives::{alternatives, first_free};
use crate::args::{BookArgs, CancelArgs, CheckArgs, RescheduleArgs};
use crate::call::{CallContext, Function};
use crate::directory::Tenant;
use crate::hours::{AdjustReason, Placement};
use crate::idempotency::{Idempotency, Outcome};
use crate::messages::{MessageKey, Messages};
use crate::metrics::booking_outcome;
use crate::parse::{format_date, format_time};
use crate::provider::{
    Attendee, Booking, BookingStatus, CalendarError, CalendarProvider, ContactQuery, HoldOutcome,
    HoldRequest, NewBooking, Slot, SlotQuery,
};
use crate::tenants::Language;

/// Everything one function call needs.
pub(crate) struct Ctx<'a> {
    pub tenant: &'a Tenant,
    pub call: &'a CallContext,
    pub provider: &'a dyn CalendarProvider,
    pub messages: &'static Messages,
    pub now_ms: u64,
}

impl Ctx<'_> {
    /// Whether this call may change `booking`: it made it, or the caller's (verified) number is
    /// the booking's phone, compared as E.164. Anything else reads as "not found", so a caller
    /// learns nothing about other people's appointments.
    fn may_change(&self, booking: &Booking) -> bool {
        let same_call = matches!(
            (&self.call.call_id, &booking.call_id),
            (Some(call), Some(made_in)) if call == made_in
        );
        let same_phone = match (&self.call.from_number, &booking.phone) {
            (Some(caller), Some(phone)) => {
                let caller = self.tenant.phone(caller);
                caller.is_some() && caller == self.tenant.phone(phone)
            }
            _ => false,
        };
        same_call || same_phone
    }

    /// The tenant's booking `reference`, if this call may change it.
    async fn changeable(&self, reference: &str) -> Result<Booking, CalendarError> {
        let booking = self.provider.get_booking(self.tenant, reference).await?;
        if self.may_change(&booking) {
            Ok(booking)
        } else {
            tracing::info!(tenant = %self.tenant.id, "booking reference refused: not this caller's");
            Err(CalendarError::NotFound)
        }
    }

    /// The call's id, when it has a non-empty one.
    fn call_id(&self) -> Option<&str> {
        self.call.call_id.as_deref().filter(|c| !c.is_empty())
    }

    /// The idempotency key of this request, when the call has an id (the engine's key too).
    fn request_key(&self, function: Function, normalised_args: &Value) -> Option<String> {
        let call_id = self.call_id()?;
        Some(Idempotency::key(
            &self.tenant.scope,
            call_id,
            function.as_str(),
            normalised_args,
        ))
    }

    fn lang(&self) -> Language {
        self.tenant.language
    }

    fn local(&self, ts: Timestamp) -> DateTime {
        self.tenant.time_zone.to_datetime(ts)
    }

    fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        self.tenant
            .time_zone
            .to_timestamp(date.to_datetime(time))
            .ok()
    }

    fn rfc3339(&self, ts: Timestamp) -> String {
        ts.display_with_offset(self.tenant.time_zone.to_offset(ts))
            .to_string()
    }

    fn when(&self, ts: Timestamp) -> String {
        self.messages.when(self.lang(), self.local(ts))
    }

    fn text(&self, key: MessageKey, vars: &[(&str, &str)]) -> String {
        self.messages.text(self.lang(), key, vars)
    }

    fn slot_json(&self, slot: &Slot) -> Value {
        let local = self.local(slot.start);
        json!({
            "date": format_date(local.date()),
            "time": format_time(local.time()),
            "start": self.rfc3339(slot.start),
        })
    }

    fn booking_json(&self, b: &Booking) -> Value {
        json!({
            "id": b.id,
            "uid": b.uid,
            "start": self.rfc3339(b.start),
            "end": self.rfc3339(b.end),
            "status": b.status.as_str(),
        })
    }

    fn spoken_slots(&self, slots: &[Slot]) -> String {
        let items: Vec<String> = slots.iter().map(|s| self.when(s.start)).collect();
        self.messages.list_or(self.lang(), &items)
    }

    fn today(&self) -> Option<Date> {
        self.tenant.today(self.now_ms)
    }

    /// Free slots from `from` (not before today) over the tenant's search window.
    async fn free_slots(
        &self,
        from: Date,
        duration_min: u32,
        service: Option<&str>,
    ) -> Result<Vec<Slot>, CalendarError> {
        self.free_slots_within(from, self.tenant.search_days, duration_min, service)
            .await
    }

    /// Free slots for a check: the requested day alone when that answers it (the requested time
    /// is free, or the day has free times to list), else the whole search window for
    /// alternatives. Most checks end at the cheaper first step.
    async fn free_slots_for_check(
        &self,
        date: Date,
        requested: Option<Timestamp>,
        duration_min: u32,
        service: Option<&str>,
    ) -> Result<Vec<Slot>, CalendarError> {
        let day = self
            .free_slots_within(date, 0, duration_min, service)
            .await?;
        let answered = match requested {
            Some(start) => day.iter().any(|s| s.start == start),
            None => !day.is_empty(),
        };
        if answered {
            Ok(day)
        } else {
            self.free_slots(date, duration_min, service).await
        }
    }

    async fn free_slots_within(
        &self,
        from: Date,
        days: u16,
        duration_min: u32,
        service: Option<&str>,
    ) -> Result<Vec<Slot>, CalendarError> {
        let from = self.today().map_or(from, |today| from.max(today));
        let to = from.checked_add(i32::from(days).days()).unwrap_or(from);
        let query = SlotQuery {
            for_call: self.call.call_id.clone(),
            from,
            to,
            duration_min,
            service: service.map(str::to_owned),
        };
        self.provider.free_slots(self.tenant, &query).await
    }

    /// Keeps `starts` for this call (see the tenant's `hold_for`), replacing its earlier holds;
    /// `None` where nothing is held: holds are off, the call has no id, or the calendar could
    /// not hold (the slots may still be free, so the answer stands). `Some(Taken)` means
    /// another call took the slot since it was read.
    async fn hold(
        &self,
        starts: &[Timestamp],
        duration_min: u32,
        service: Option<&str>,
    ) -> Vec<Option<HoldOutcome>> {
        let (Some(call_id), false, false) = (
            self.call_id(),
            self.tenant.hold_for.is_zero(),
            starts.is_empty(),
        ) else {
            return vec![None; starts.len()];
        };
        let request = HoldRequest {
            call_id: call_id.to_owned(),
            starts: starts.to_vec(),
            duration_min,
            service: service.map(str::to_owned),
            hold_for: self.tenant.hold_for,
        };
        match self.provider.hold(self.tenant, &request).await {
            Ok(outcomes) => outcomes.into_iter().map(Some).collect(),
            Err(e) => {
                tracing::warn!(tenant = %self.tenant.id, error = %e, "slots not held");
                vec![None; starts.len()]
            }
        }
    }

    /// The alternatives an answer offers, held for this call when the tenant holds
    /// alternatives; one another call took meanwhile is dropped. Each held one carries
    /// `held_until` in the reply.
    async fn offered(
        &self,
        alts: Vec<Slot>,
        duration_min: u32,
        service: Option<&str>,
    ) -> Vec<(Slot, Option<Timestamp>)> {
        if !self.tenant.hold_alternatives {
            return alts.into_iter().map(|s| (s, None)).collect();
        }
        let starts: Vec<Timestamp> = alts.iter().map(|s| s.start).collect();
        let outcomes = self.hold(&starts, duration_min, service).await;
        alts.into_iter()
            .zip(outcomes)
            .filter_map(|(slot, outcome)| match outcome {
                Some(HoldOutcome::Taken) => None,
                Some(HoldOutcome::Held { until }) => Some((slot, Some(until))),
                None => Some((slot, None)),
            })
            .collect()
    }

    /// Releases the slots held for this call (best effort: holds expire anyway).
    pub async fn release_holds(&self) {
        let Some(call_id) = self.call_id() else {
            return;
        };
        if let Err(e) = self.provider.release_holds(self.tenant, call_id).await {
            tracing::warn!(tenant = %self.tenant.id, error = %e, "held slots not released; they expire");
        }
    }

    fn offered_json(&self, offered: &[(Slot, Option<Timestamp>)]) -> Value {
        offered
            .iter()
            .map(|(slot, held)| {
                let mut json = self.slot_json(slot);
                if let (Some(until), Value::Object(map)) = (held, &mut json) {
                    map.insert("held_until".into(), Value::String(self.rfc3339(*until)));
                }
                json
            })
            .collect()
    }

    /// `{success:false, reason, message}` plus `extra` fields.
    fn failure(&self, reason: &str, message: String, extra: Map<String, Value>) -> Value {
        let mut reply = Map::new();
        reply.insert("success".into(), Value::Bool(false));
        reply.insert("reason".into(), Value::String(reason.to_owned()));
        reply.extend(extra);
        reply.insert("message".into(), Value::String(message));
        Value::Object(reply)
    }

    /// A calendar failure that is not about the slot: the caller should try again later, so
    /// the reply is not kept for idempotent repeats.
    pub fn calendar_failure(&self, error: &CalendarError) -> Outcome {
        let (reason, key, outcome) = match error {
            CalendarError::RateLimited { .. } => (
                "calendar_unavailable",
                MessageKey::CalendarBusy,
                "calendar_unavailable",
            ),
            CalendarError::Unauthorized | CalendarError::Config(_) => {
                tracing::error!(tenant = %self.tenant.id, provider = self.provider.name(), error = %error, "calendar configuration error");
                (
                    "configuration_error",
                    MessageKey::ConfigurationError,
                    "configuration_error",
                )
            }
            CalendarError::NotFound => {
                booking_outcome("not_found");
                return Outcome::Final(self.failure(
                    "not_found",
                    self.text(MessageKey::NotFound, &[]),
                    Map::new(),
                ));
            }
            CalendarError::Unavailable(_)
            | CalendarError::SlotTaken
            | CalendarError::Rejected(_) => {
                tracing::warn!(tenant = %self.tenant.id, provider = self.provider.name(), error = %error, "calendar call failed");
                (
                    "calendar_unavailable",
                    MessageKey::CalendarUnavailable,
                    "calendar_unavailable",
                )
            }
        };
        booking_outcome(outcome);
        Outcome::Retryable(self.failure(reason, self.text(key, &[]), Map::new()))
    }

    /// `invalid_input` for a date past the tenant's booking horizon, with a sentence that says
    /// how far ahead the practice books; `None` when the date is within it.
    fn beyond_horizon(&self, date: Date) -> Option<Value> {
        let today = self.today()?;
        let last = today
            .checked_add(i32::from(self.tenant.book_ahead_days).days())
            .unwrap_or(Date::MAX);
        if date <= last {
            return None;
        }
        let days = self.tenant.book_ahead_days.to_string();
        let mut extra = Map::new();
        extra.insert(
            "errors".into(),
            json!([{ "field": "date", "code": "out_of_range" }]),
        );
        Some(self.failure(
            "invalid_input",
            self.text(MessageKey::BeyondHorizon, &[("days", &days)]),
            extra,
        ))
    }

    /// Whether `start` is one of the day's bookable starts (on the tenant's slot grid, fitting
    /// the hours) — the same starts `check_availability` can call free.
    fn on_grid(&self, date: Date, start: Timestamp, duration_min: u32) -> bool {
        self.tenant
            .hours
            .slot_starts(
                date,
                &self.tenant.time_zone,
                self.tenant.granularity_min,
                duration_min,
            )
            .contains(&start)
    }

    /// `configuration_error`, logged with its cause (never caller data).
    fn configuration_error_because(&self, cause: &str) -> Value {
        tracing::error!(tenant = %self.tenant.id, cause, "booking function: configuration error");
        self.configuration_error()
    }

    pub fn configuration_error(&self) -> Value {
        self.failure(
            "configuration_error",
            self.text(MessageKey::ConfigurationError, &[]),
            Map::new(),
        )
    }

    fn adjusted_json(&self, placement: &Placement) -> Option<Value> {
        let reason = placement.reason?;
        Some(json!({
            "date": format_date(placement.date),
            "time": placement.time.map(format_time),
            "reason": reason.as_str(),
        }))
    }

    fn adjusted_sentence(&self, placement: &Placement) -> Option<String> {
        let key = match placement.reason? {
            AdjustReason::BeforeOpening => MessageKey::AdjustedBeforeOpening,
            AdjustReason::AfterClosing => MessageKey::AdjustedAfterClosing,
            AdjustReason::Weekend => MessageKey::AdjustedWeekend,
            AdjustReason::ClosedDate => MessageKey::AdjustedClosedDate,
        };
        let time = placement
            .time
            .map(|t| self.messages.time(self.lang(), t))
            .unwrap_or_default();
        Some(self.text(key, &[("time", &time)]))
    }

    /// Alternatives to `wanted`, best effort: if the calendar cannot list slots, no
    /// alternatives rather than no answer.
    async fn alternatives_for(
        &self,
        wanted: Timestamp,
        duration_min: u32,
        service: Option<&str>,
    ) -> Vec<Slot> {
        let date = self.local(wanted).date();
        match self.free_slots(date, duration_min, service).await {
            Ok(free) => alternatives(
                &self.tenant.hours,
                &self.tenant.time_zone,
                wanted,
                &free,
                self.tenant.max_alternatives,
            ),
            Err(e) => {
                tracing::warn!(tenant = %self.tenant.id, error = %e, "alternatives unavailable");
                Vec::new()
            }
        }
    }

    /// `slot_unavailable` with real alternatives.
    async fn slot_unavailable(
        &self,
        wanted: Timestamp,
        duration_min: u32,
        service: Option<&str>,
    ) -> Value {
        booking_outcome("slot_unavailable");
        let alts = self.alternatives_for(wanted, duration_min, service).await;
        let when = self.when(wanted);
        let message = if alts.is_empty() {
            self.text(
                MessageKey::SlotUnavailableNoAlternatives,
                &[("when", &when)],
            )
        } else {
            self.text(
                MessageKey::SlotUnavailable,
                &[("when", &when), ("alternatives", &self.spoken_slots(&alts))],
            )
        };
        let mut extra = Map::new();
        extra.insert(
            "alternatives".into(),
            alts.iter().map(|s| self.slot_json(s)).collect(),
        );
        self.failure("slot_unavailable", message, extra)
    }

    /// A booking or move asked for a time outside business hours: nothing is written; the
    /// adjusted time (when free) leads the alternatives, so "yes, then 9:00" is one step.
    async fn outside_hours(
        &self,
        placement: &Placement,
        duration_min: u32,
        service: Option<&str>,
    ) -> Value {
        booking_outcome("outside_hours");
        let mut alts: Vec<Slot> = Vec::new();
        if let Some(adjusted) = placement.time.and_then(|t| self.instant(placement.date, t)) {
            match self.free_slots(placement.date, duration_min, service).await {
                Ok(free) => {
                    if free.iter().any(|s| s.start == adjusted) {
                        alts.push(Slot { start: adjusted });
                    }
                    let more = alternatives(
                        &self.tenant.hours,
                        &self.tenant.time_zone,
                        adjusted,
                        &free,
                        self.tenant.max_alternatives,
                    );
                    alts.extend(more.into_iter().filter(|s| s.start != adjusted));
                    alts.truncate(self.tenant.max_alternatives);
                }
                Err(e) => {
                    tracing::warn!(tenant = %self.tenant.id, error = %e, "alternatives unavailable")
                }
            }
        }
        let mut message = self.adjusted_sentence(placement).unwrap_or_default();
        if !alts.is_empty() {
            message.push(' ');
            message.push_str(&self.text(
                MessageKey::OutsideHours,
                &[("alternatives", &self.spoken_slots(&alts))],
            ));
        }
        let mut extra = Map::new();
        extra.insert(
            "adjusted".into(),
            self.adjusted_json(placement).unwrap_or(Value::Null),
        );
        extra.insert(
            "alternatives".into(),
            alts.iter().map(|s| self.slot_json(s)).collect(),
        );
        self.failure("outside_business_hours", message, extra)
    }
}

/// `check_availability`: is the (adjusted) time free, or which times are free that day.
pub(crate) async fn check_availability(ctx: &Ctx<'_>, args: &CheckArgs) -> Value {
    if let Some(reply) = ctx.beyond_horizon(args.date) {
        return reply;
    }
    let Ok(placement) = ctx.tenant.hours.adjust(args.date, args.time) else {
        return ctx.configuration_error_because("business hours cannot place the date");
    };
    let duration = args.duration_min;
    let service = args.service.as_deref();
    let requested = placement.time.and_then(|t| ctx.instant(placement.date, t));
    let mut free = match ctx
        .free_slots_for_check(placement.date, requested, duration, service)
        .await
    {
        Ok(free) => free,
        Err(e) => {
            return match ctx.calendar_failure(&e) {
                Outcome::Final(v) | Outcome::Retryable(v) => v,
            };
        }
    };
    // A free requested time is kept for this call while the caller gives their details. If
    // another call took it since the read, the answer is what the calendar holds now.
    let mut held_until = None;
    if let Some(start) = requested
        && free.iter().any(|s| s.start == start)
    {
        match ctx.hold(&[start], duration, service).await.first() {
            Some(Some(HoldOutcome::Held { until })) => held_until = Some(*until),
            Some(Some(HoldOutcome::Taken)) => {
                if let Ok(fresh) = ctx.free_slots(placement.date, duration, service).await {
                    free = fresh;
                }
                free.retain(|s| s.start != start);
            }
            _ => {}
        }
    }
    let mut reply = Map::new();
    reply.insert("success".into(), Value::Bool(true));
    reply.insert(
        "requested".into(),
        json!({ "date": format_date(args.date), "time": args.time.map(format_time) }),
    );
    if let Some(adjusted) = ctx.adjusted_json(&placement) {
        reply.insert("adjusted".into(), adjusted);
    }
    let mut message: Vec<String> = ctx.adjusted_sentence(&placement).into_iter().collect();
    let spoken = |offered: &[(Slot, Option<Timestamp>)]| {
        let slots: Vec<Slot> = offered.iter().map(|(s, _)| *s).collect();
        ctx.spoken_slots(&slots)
    };
    let (available, offered) = match requested {
        Some(start) => {
            let available = free.iter().any(|s| s.start == start);
            let offered = if available {
                Vec::new()
            } else {
                let alts = alternatives(
                    &ctx.tenant.hours,
                    &ctx.tenant.time_zone,
                    start,
                    &free,
                    ctx.tenant.max_alternatives,
                );
                ctx.offered(alts, duration, service).await
            };
            let when = ctx.when(start);
            message.push(match (available, offered.is_empty()) {
                (true, _) => ctx.text(MessageKey::Available, &[("when", &when)]),
                (false, false) => ctx.text(
                    MessageKey::Unavailable,
                    &[("when", &when), ("alternatives", &spoken(&offered))],
                ),
                (false, true) => {
                    ctx.text(MessageKey::UnavailableNoAlternatives, &[("when", &when)])
                }
            });
            (available, offered)
        }
        None => {
            let whole_day: Vec<Slot> = free
                .iter()
                .filter(|s| ctx.local(s.start).date() == placement.date)
                .copied()
                .collect();
            let in_part = |s: &Slot| {
                args.part
                    .is_none_or(|p| p.contains(ctx.local(s.start).time()))
            };
            let day: Vec<Slot> = whole_day.iter().filter(|s| in_part(s)).copied().collect();
            reply.insert(
                "slots".into(),
                day.iter()
                    .take(ctx.tenant.max_slots)
                    .map(|s| {
                        json!({ "time": format_time(ctx.local(s.start).time()), "start": ctx.rfc3339(s.start) })
                    })
                    .collect(),
            );
            if day.len() > ctx.tenant.max_slots {
                reply.insert("more_slots".into(), Value::Bool(true));
            }
            let date = ctx.messages.date(ctx.lang(), placement.date);
            if day.is_empty() && !whole_day.is_empty() {
                // Nothing in the part asked about, but the day has other times: offer those.
                let alts: Vec<Slot> = whole_day
                    .into_iter()
                    .take(ctx.tenant.max_alternatives)
                    .collect();
                let offered = ctx.offered(alts, duration, service).await;
                message.push(ctx.text(
                    MessageKey::PartUnavailable,
                    &[("date", &date), ("alternatives", &spoken(&offered))],
                ));
                (false, offered)
            } else if day.is_empty() {
                let after = ctx
                    .instant(placement.date, Time::MIN)
                    .and_then(|t| t.checked_add(SignedDuration::from_hours(24)).ok())
                    .unwrap_or(Timestamp::MIN);
                let alts = first_free(&free, after, ctx.tenant.max_alternatives);
                let offered = ctx.offered(alts, duration, service).await;
                message.push(if offered.is_empty() {
                    ctx.text(MessageKey::DayUnavailableNoAlternatives, &[("date", &date)])
                } else {
                    ctx.text(
                        MessageKey::DayUnavailable,
                        &[("date", &date), ("alternatives", &spoken(&offered))],
                    )
                });
                (false, offered)
            } else {
                let times: Vec<String> = day
                    .iter()
                    .take(ctx.tenant.max_alternatives)
                    .map(|s| ctx.messages.time(ctx.lang(), ctx.local(s.start).time()))
                    .collect();
                let times = ctx.messages.list_or(ctx.lang(), &times);
                message.push(ctx.text(
                    MessageKey::DayAvailable,
                    &[("date", &date), ("times", &times)],
                ));
                (true, Vec::new())
            }
        }
    };
    reply.insert("available".into(), Value::Bool(available));
    if let Some(until) = held_until {
        reply.insert("held_until".into(), Value::String(ctx.rfc3339(until)));
    }
    reply.insert("alternatives".into(), ctx.offered_json(&offered));
    reply.insert("message".into(), Value::String(message.join(" ")));
    Value::Object(reply)
}

/// Whether a kept reply still states what the calendar holds: a success names a booking,
/// which must still be in the status the reply claims (accepted, pending, cancelled) at the
/// time it claims. A failure is never replayed: asking again costs a read, and the slot may be
/// free by now.
pub(crate) async fn still_true(ctx: &Ctx<'_>, reply: Value) -> bool {
    if reply["success"] != Value::Bool(true) {
        return false;
    }
    let Some(uid) = reply["booking"]["uid"].as_str() else {
        return false;
    };
    match ctx.provider.get_booking(ctx.tenant, uid).await {
        Ok(booking) => {
            reply["booking"]["status"].as_str() == Some(booking.status.as_str())
                && reply["booking"]["start"].as_str() == Some(ctx.rfc3339(booking.start).as_str())
        }
        Err(_) => false,
    }
}

/// `book_appointment`: writes the booking, or explains why not with alternatives.
pub(crate) async fn book_appointment(ctx: &Ctx<'_>, args: &BookArgs) -> Outcome {
    if let Some(reply) = ctx.beyond_horizon(args.date) {
        return Outcome::Final(reply);
    }
    let Ok(placement) = ctx.tenant.hours.adjust(args.date, Some(args.time)) else {
        return Outcome::Retryable(
            ctx.configuration_error_because("business hours cannot place the date"),
        );
    };
    if placement.reason.is_some() {
        return Outcome::Final(
            ctx.outside_hours(&placement, args.duration_min, args.service.as_deref())
                .await,
        );
    }
    let Some(start) = ctx.instant(args.date, args.time) else {
        return Outcome::Retryable(ctx.configuration_error_because("no such local time"));
    };
    // Off the slot grid (10:07) is what `check_availability` calls unavailable: the same answer
    // here, with the nearest grid times as alternatives.
    if !ctx.on_grid(args.date, start, args.duration_min) {
        return Outcome::Final(
            ctx.slot_unavailable(start, args.duration_min, args.service.as_deref())
                .await,
        );
    }
    let new = NewBooking {
        start,
        duration_min: args.duration_min,
        service: args.service.clone(),
        attendee: Attendee {
            name: args.name.clone(),
            email: args.email.clone(),
            phone: args.phone.clone(),
        },
        notes: args.notes.clone(),
        call_id: ctx.call.call_id.clone(),
        request_key: ctx.request_key(Function::BookAppointment, &args.normalised()),
    };
    match ctx.provider.create(ctx.tenant, &new).await {
        Ok(booking) => {
            // A booking the practice must still confirm is said to be a request, never booked.
            let (outcome, key) = match booking.status {
                BookingStatus::Pending => ("pending", MessageKey::BookingPending),
                _ => ("created", MessageKey::Booked),
            };
            booking_outcome(outcome);
            Outcome::Final(json!({
                "success": true,
                "booking": ctx.booking_json(&booking),
                "message": ctx.text(key, &[("when", &ctx.when(booking.start))]),
            }))
        }
        Err(CalendarError::SlotTaken | CalendarError::Rejected(_)) => Outcome::Final(
            ctx.slot_unavailable(start, args.duration_min, args.service.as_deref())
                .await,
        ),
        Err(e) => ctx.calendar_failure(&e),
    }
}

/// `cancel_appointment`: by booking id, or by date (+ time) and the caller's phone or e-mail.
pub(crate) async fn cancel_appointment(ctx: &Ctx<'_>, args: &CancelArgs) -> Outcome {
    // Whatever the caller cancels, they no longer want what this call held.
    ctx.release_holds().await;
    let booking_ref = match args {
        CancelArgs::ById(id) => match ctx.changeable(id).await {
            Ok(booking) => booking.id,
            Err(e) => return ctx.calendar_failure(&e),
        },
        CancelArgs::ByContact {
            date,
            time,
            phone,
            email,
        } => {
            let from = ctx.instant(*date, Time::MIN);
            let contact = ContactQuery {
                phone: phone.clone(),
                email: email.clone(),
                from,
            };
            let found = match ctx.provider.find_bookings(ctx.tenant, &contact).await {
                Ok(found) => found,
                Err(e) => return ctx.calendar_failure(&e),
            };
            let matching: Vec<Booking> = found
                .into_iter()
                .filter(|b| b.status != BookingStatus::Cancelled && ctx.may_change(b))
                .filter(|b| {
                    let local = ctx.local(b.start);
                    local.date() == *date && time.is_none_or(|t| local.time() == t)
                })
                .collect();
            match matching.as_slice() {
                [] => return ctx.calendar_failure(&CalendarError::NotFound),
                [one] => one.id.clone(),
                many => {
                    booking_outcome("ambiguous");
                    let slots: Vec<Slot> = many.iter().map(|b| Slot { start: b.start }).collect();
                    let mut extra = Map::new();
                    extra.insert(
                        "bookings".into(),
                        slots.iter().map(|s| ctx.slot_json(s)).collect(),
                    );
                    let message = ctx.text(
                        MessageKey::Ambiguous,
                        &[("alternatives", &ctx.spoken_slots(&slots))],
                    );
                    return Outcome::Final(ctx.failure("ambiguous", message, extra));
                }
            }
        }
    };
    match ctx.provider.cancel(ctx.tenant, &booking_ref).await {
        Ok(booking) => {
            booking_outcome("cancelled");
            Outcome::Final(json!({
                "success": true,
                "booking": ctx.booking_json(&booking),
                "message": ctx.text(MessageKey::Cancelled, &[("when", &ctx.when(booking.start))]),
            }))
        }
        Err(e) => ctx.calendar_failure(&e),
    }
}

/// `reschedule_appointment`: moves a booking, keeping its duration.
pub(crate) async fn reschedule_appointment(ctx: &Ctx<'_>, args: &RescheduleArgs) -> Outcome {
    let existing = match ctx.changeable(&args.booking_id).await {
        Ok(b) if b.status != BookingStatus::Cancelled => b,
        Ok(_) => return ctx.calendar_failure(&CalendarError::NotFound),
        Err(e) => return ctx.calendar_failure(&e),
    };
    let duration_min = u32::try_from(existing.start.duration_until(existing.end).as_mins())
        .unwrap_or(ctx.tenant.default_duration_min);
    let service = existing.service.as_deref();
    if let Some(reply) = ctx.beyond_horizon(args.date) {
        return Outcome::Final(reply);
    }
    let Ok(placement) = ctx.tenant.hours.adjust(args.date, Some(args.time)) else {
        return Outcome::Retryable(
            ctx.configuration_error_because("business hours cannot place the date"),
        );
    };
    if placement.reason.is_some() {
        return Outcome::Final(ctx.outside_hours(&placement, duration_min, service).await);
    }
    let Some(start) = ctx.instant(args.date, args.time) else {
        return Outcome::Retryable(ctx.configuration_error_because("no such local time"));
    };
    if !ctx.on_grid(args.date, start, duration_min) {
        return Outcome::Final(ctx.slot_unavailable(start, duration_min, service).await);
    }
    // A move does not know which call asks, so the slot this call held would block it:
    // the call's holds go first (the move re-checks the slot in its own transaction).
    ctx.release_holds().await;
    match ctx
        .provider
        .reschedule(ctx.tenant, &existing.id, start)
        .await
    {
        Ok(booking) => {
            booking_outcome("rescheduled");
            Outcome::Final(json!({
                "success": true,
                "booking": ctx.booking_json(&booking),
                "message": ctx.text(MessageKey::Rescheduled, &[("when", &ctx.when(booking.start))]),
            }))
        }
        Err(CalendarError::SlotTaken | CalendarError::Rejected(_)) => {
            Outcome::Final(ctx.slot_unavailable(start, duration_min, service).await)
        }
        Err(e) => ctx.calendar_failure(&e),
    }
}
