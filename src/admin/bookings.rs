//! `GET /admin/tenants/{id}/bookings?from=&to=&status=&limit=&cursor=`: a tenant's bookings of
//! the embedded calendar by start time, as JSON, a page at a time (keyset pagination: a page
//! never repeats or skips a booking while others are added).

use frontdesk_booking::local::events::{ListedBooking, Listing};
use frontdesk_booking::tenants::AttendeeField;
use frontdesk_booking::{BookingStatus, CalendarProvider, Tenant};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::app::App;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;

/// `(status, body)`.
pub async fn list(app: &App, id: &str, query: &str) -> (u16, Value) {
    let Some(tenant) = app.policy.current().tenants.get(id) else {
        return (404, json!({ "error": "unknown tenant" }));
    };
    if app.calendar.name() != "local"
        || !matches!(
            tenant.calendar,
            frontdesk_booking::tenants::CalendarConfig::Local(_)
        )
    {
        return (
            404,
            json!({ "error": "tenant is not on the embedded calendar" }),
        );
    }
    let listing = match parse(&tenant, query, app.calendar.now_ms()) {
        Ok(listing) => listing,
        Err(message) => return (400, json!({ "error": "invalid_query", "message": message })),
    };
    match app.calendar.list_bookings(&tenant, &listing).await {
        Ok(rows) => {
            let next = (rows.len() == listing.limit as usize)
                .then(|| rows.last().map(|b| format!("{}_{}", b.start_ms, b.uid)))
                .flatten();
            let bookings: Vec<Value> = rows.iter().map(|b| booking_json(&tenant, b)).collect();
            (
                200,
                json!({ "tenant": tenant.id, "bookings": bookings, "next_cursor": next }),
            )
        }
        Err(e) => (
            503,
            json!({ "error": "calendar_unavailable", "message": e.to_string() }),
        ),
    }
}

fn parse(tenant: &Tenant, query: &str, now_ms: i64) -> Result<Listing, String> {
    let url = reqwest::Url::parse(&format!("http://admin/?{query}"))
        .map_err(|_| "the query is not valid".to_owned())?;
    let today = tenant
        .today(u64::try_from(now_ms).unwrap_or(0))
        .ok_or("the clock is out of range")?;
    let mut from = None;
    let mut to = None;
    let mut listing = Listing {
        from_ms: 0,
        to_ms: 0,
        status: None,
        after: None,
        limit: DEFAULT_LIMIT,
    };
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "from" => from = Some(instant(tenant, &value, "from")?),
            "to" => to = Some(instant(tenant, &value, "to")?),
            "status" => {
                listing.status = Some(match value.as_ref() {
                    "accepted" => BookingStatus::Accepted,
                    "cancelled" => BookingStatus::Cancelled,
                    _ => return Err("status must be accepted or cancelled".into()),
                })
            }
            "limit" => {
                listing.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or(format!("limit must be 1 to {MAX_LIMIT}"))?
            }
            "cursor" => {
                let (start, uid) = value
                    .split_once('_')
                    .and_then(|(s, u)| Some((s.parse::<i64>().ok()?, u.to_owned())))
                    .ok_or("cursor is not one this API returned")?;
                listing.after = Some((start, uid));
            }
            other => {
                return Err(format!(
                    "unknown parameter `{other}` (from, to, status, limit, cursor)"
                ));
            }
        }
    }
    let day_start = |date: jiff::civil::Date| {
        tenant
            .time_zone
            .to_timestamp(date.at(0, 0, 0, 0))
            .map(|t| t.as_millisecond())
            .map_err(|_| "date out of range".to_owned())
    };
    listing.from_ms = match from {
        Some(ms) => ms,
        None => day_start(today)?,
    };
    listing.to_ms = match to {
        Some(ms) => ms,
        None => listing.from_ms + i64::from(tenant.search_days) * 86_400_000,
    };
    if listing.to_ms <= listing.from_ms {
        return Err("to must be after from".into());
    }
    Ok(listing)
}

/// An RFC 3339 instant, or a date (`YYYY-MM-DD`: its start in the tenant's zone).
fn instant(tenant: &Tenant, text: &str, name: &str) -> Result<i64, String> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| format!("{name} must be a date (2026-01-06) or an RFC 3339 instant"))?;
    tenant
        .time_zone
        .to_timestamp(date.at(0, 0, 0, 0))
        .map(|t| t.as_millisecond())
        .map_err(|_| format!("{name} is out of range"))
}

fn booking_json(tenant: &Tenant, b: &ListedBooking) -> Value {
    let local = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(|t| {
                t.display_with_offset(tenant.time_zone.to_offset(t))
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut attendee = Map::new();
    let a = &b.attendee;
    for (field, key, value) in [
        (AttendeeField::Name, "name", &a.name),
        (AttendeeField::Phone, "phone", &a.phone),
        (AttendeeField::Email, "email", &a.email),
        (AttendeeField::Notes, "notes", &a.notes),
    ] {
        if tenant.allows(field) {
            attendee.insert(key.into(), value.clone().map_or(Value::Null, Value::String));
        }
    }
    json!({
        "uid": b.uid,
        "start": local(b.start_ms),
        "end": local(b.end_ms),
        "service": b.service,
        "status": match b.status { BookingStatus::Cancelled => "cancelled", _ => "accepted" },
        "attendee": attendee,
        "created": local(b.created_ms),
        "updated": local(b.updated_ms),
    })
}
