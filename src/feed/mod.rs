//! `GET /calendar/{tenant}/{token}.ics` on the traffic listener: the practice's appointments
//! as a subscribable calendar (Outlook, Google, Apple). The token from the tenants file is the
//! only key: compared in constant time, and a wrong one, an unknown tenant or a tenant without
//! a feed all answer the same 404. Every request spends the client address's feed budget first,
//! so tokens cannot be guessed at speed.

pub mod ics;

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use frontdesk_booking::BookingStatus;
use frontdesk_booking::local::events::{ListedBooking, Listing};
use frontdesk_store::Rate;
use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::stages::Reply;

pub const PREFIX: &str = "/calendar/";

/// How far back the feed reaches (clients keep what they saw before).
const DAYS_BACK: i64 = 30;
/// How long a cancelled booking stays in the feed as `STATUS:CANCELLED`, so every subscribed
/// client polls it at least once and removes the appointment; then it is left out.
const CANCELLED_KEPT_MS: i64 = 7 * 86_400_000;
/// Calendar clients poll every few minutes to hours; a person refreshing is a few more.
const RATE: Rate = Rate {
    count: 60,
    period: Duration::from_secs(3600),
    burst: 20,
};
const PAGE: u32 = 500;
/// Bookings at most in one feed (a practice has tens a day).
const MAX_BOOKINGS: usize = 20_000;

pub async fn serve(app: &App, path: &str, headers: &HeaderMap, client: IpAddr) -> Reply {
    let key = format!("feed:{}", crate::stages::client_ip::ip_text(client));
    match app.local.gcra(&key, RATE, 1).await {
        Ok(decision) if !decision.allowed => {
            return Reply::json(
                429,
                &serde_json::json!({ "error": "rate_limited", "message": "too many calendar requests" }),
            )
            .with_header("retry-after", decision.retry_after.as_secs().max(1).to_string());
        }
        _ => {}
    }
    let not_found = || {
        Reply::json(
            404,
            &serde_json::json!({ "error": "not_found", "message": "no such calendar" }),
        )
    };
    let Some((id, token)) = path
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(id, file)| Some((id, file.strip_suffix(".ics")?)))
    else {
        return not_found();
    };
    let policy = app.policy.current();
    let (Some(tenant), Some(expected)) = (policy.tenants.get(id), policy.outlets.feeds.get(id))
    else {
        return not_found();
    };
    if !bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes())) {
        tracing::warn!(tenant = %tenant.id, "calendar feed: wrong token");
        return not_found();
    }
    let now = app.calendar.now_ms();
    let from_ms = now - DAYS_BACK * 86_400_000;
    let to_ms = now + (i64::from(tenant.search_days) + 1) * 86_400_000;
    let mut bookings: Vec<ListedBooking> = Vec::new();
    let mut listing = Listing {
        from_ms,
        to_ms,
        status: None,
        after: None,
        limit: PAGE,
    };
    loop {
        let page = match app.calendar.list_bookings(&tenant, &listing).await {
            Ok(page) => page,
            Err(_) => {
                return Reply::json(
                    503,
                    &serde_json::json!({ "error": "calendar_unavailable", "message": "the calendar is unavailable; try again" }),
                )
                .with_header("retry-after", "30");
            }
        };
        let full = page.len() == PAGE as usize;
        listing.after = page.last().map(|b| (b.start_ms, b.uid.clone()));
        bookings.extend(page.into_iter().filter(|b| {
            b.status != BookingStatus::Cancelled || b.updated_ms >= now - CANCELLED_KEPT_MS
        }));
        if !full || bookings.len() >= MAX_BOOKINGS {
            break;
        }
    }
    let body = ics::calendar(&tenant, &bookings, from_ms, to_ms);
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(body.as_bytes())[..16])
    );
    let unchanged = headers
        .get_all(http::header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if unchanged {
        return Reply::empty(304).with_header("etag", etag);
    }
    Reply {
        status: 200,
        content_type: Some("text/calendar; charset=utf-8"),
        headers: vec![("etag", etag)],
        body: Bytes::from(body),
    }
}
