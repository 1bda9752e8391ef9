//! What the practice's staff read: the bookings API on the admin listener and the calendar
//! feed on the traffic listener, through the real server.

use serde_json::{Value, json};

use crate::harness::{FIXTURE_MS, RETELL_KEY, Setup, TestServer};
use crate::http;

const AGENT: &str = "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD";
const ADMIN_TOKEN: &str = "admin-token-for-the-bookings-api";

fn call(base: &str, call_id: &str, name: &str, args: Value) -> Value {
    let body = serde_json::to_vec(&json!({
        "name": name,
        "args": args,
        "call": { "call_id": call_id, "agent_id": AGENT, "from_number": "+4915112345678", "to_number": "+14155550199" },
    }))
    .unwrap();
    let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let r = http::post(
        base,
        "/retell/function",
        &[("x-retell-signature", &sig)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Books `date` `time` for `name`; returns the uid.
pub fn book(server: &TestServer, call_id: &str, date: &str, time: &str, name: &str) -> String {
    let booked = call(
        &server.base,
        call_id,
        "book_appointment",
        json!({ "date": date, "time": time, "name": name, "email": "erika@example.de" }),
    );
    assert_eq!(booked["success"], true, "{booked}");
    booked["booking"]["uid"].as_str().unwrap().to_owned()
}

pub fn cancel(server: &TestServer, call_id: &str, uid: &str) {
    let cancelled = call(
        &server.base,
        call_id,
        "cancel_appointment",
        json!({ "booking_id": uid }),
    );
    assert_eq!(cancelled["success"], true, "{cancelled}");
}

fn get(server: &TestServer, path: &str, token: Option<&str>) -> http::Response {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    http::request(&server.admin, "GET", path, &headers, b"").unwrap()
}

#[test]
fn the_bookings_api_lists_by_time_filters_by_status_pages_and_needs_the_token() {
    let setup = Setup::shipped(None);
    setup.write("secrets/admin", ADMIN_TOKEN);
    let server = setup.start();
    let first = book(&server, "c1", "2026-01-06", "10:00", "Erika Mustermann");
    let second = book(&server, "c2", "2026-01-06", "11:00", "Max Mustermann");
    let third = book(&server, "c3", "2026-01-07", "09:00", "Anna Schmidt");
    cancel(&server, "c2", &second);

    let path = "/admin/tenants/fixture/bookings?from=2026-01-06&to=2026-01-08";
    assert_eq!(get(&server, path, None).status, 401);
    assert_eq!(get(&server, path, Some("wrong")).status, 401);
    let all = get(&server, path, Some(ADMIN_TOKEN));
    assert_eq!(all.status, 200, "{}", all.text());
    let all = all.json();
    let uids: Vec<&str> = all["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, [first.as_str(), second.as_str(), third.as_str()]);
    let b = &all["bookings"][0];
    assert_eq!(b["start"], "2026-01-06T10:00:00+01:00");
    assert_eq!(b["end"], "2026-01-06T10:30:00+01:00");
    assert_eq!(b["status"], "accepted");
    assert_eq!(b["attendee"]["name"], "Erika Mustermann");
    assert!(b["attendee"].get("email").is_none(), "{b}");
    assert_eq!(all["bookings"][1]["status"], "cancelled");
    assert!(all["next_cursor"].is_null());

    let cancelled = get(
        &server,
        &format!("{path}&status=cancelled"),
        Some(ADMIN_TOKEN),
    )
    .json();
    assert_eq!(cancelled["bookings"].as_array().unwrap().len(), 1);
    assert_eq!(cancelled["bookings"][0]["uid"], second.as_str());

    // Pages of one, each after the last.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{path}&limit=1&cursor={c}"),
            None => format!("{path}&limit=1"),
        };
        let page = get(&server, &page_path, Some(ADMIN_TOKEN)).json();
        for b in page["bookings"].as_array().unwrap() {
            seen.push(b["uid"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(seen.len() <= 3, "paging does not end: {seen:?}");
    }
    assert_eq!(seen, [first.clone(), second.clone(), third.clone()]);

    let one_day = get(
        &server,
        "/admin/tenants/fixture/bookings?from=2026-01-07T00:00:00%2B01:00&to=2026-01-08",
        Some(ADMIN_TOKEN),
    )
    .json();
    assert_eq!(one_day["bookings"].as_array().unwrap().len(), 1);

    for (bad, says) in [
        ("?from=tomorrow", "from must be"),
        ("?status=maybe", "status must be"),
        ("?limit=0", "limit must be"),
        ("?cursor=xyz", "cursor"),
        ("?from=2026-01-08&to=2026-01-06", "to must be after from"),
        ("?colour=blue", "unknown parameter"),
    ] {
        let r = get(
            &server,
            &format!("/admin/tenants/fixture/bookings{bad}"),
            Some(ADMIN_TOKEN),
        );
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(
            r.json()["message"].as_str().unwrap().contains(says),
            "{bad}: {}",
            r.text()
        );
    }
    assert_eq!(
        get(&server, "/admin/tenants/nobody/bookings", Some(ADMIN_TOKEN)).status,
        404
    );
}

const FEED_TOKEN: &str = "feedtoken0123456789abcdef0123456789";
/// Friday 2026-03-20 12:00 UTC: the clocks in Berlin go forward on Sunday 2026-03-29.
const MARCH_20: u64 = 1_774_008_000_000;

fn call_at(base: &str, at_ms: u64, call_id: &str, name: &str, args: Value) -> Value {
    let body = serde_json::to_vec(&json!({
        "name": name,
        "args": args,
        "call": { "call_id": call_id, "agent_id": AGENT, "from_number": "+4915112345678" },
    }))
    .unwrap();
    let r =
        crate::harness::post_signed(base, "/retell/function", RETELL_KEY, at_ms, &body).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The feed as the independent parser (Python `icalendar`) reads it: one JSON object per event.
fn parse_ics(text: &str) -> Vec<Value> {
    use std::io::Write;
    let script = crate::harness::repo_path("scripts/ensure-test-python.sh");
    let out = std::process::Command::new(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let python = String::from_utf8(out.stdout).unwrap();
    let mut child = std::process::Command::new(python.trim())
        .args([
            "-c",
            r#"
import json, sys, datetime, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.read())
out = []
for e in cal.walk("VEVENT"):
    start, end = e.decoded("DTSTART"), e.decoded("DTEND")
    out.append({
        "uid": str(e["UID"]), "status": str(e.get("STATUS")), "summary": str(e["SUMMARY"]),
        "start_local": start.isoformat(), "end_local": end.isoformat(),
        "start_utc": start.astimezone(datetime.timezone.utc).isoformat(),
        "tz": str(start.tzinfo),
    })
print(json.dumps(out))
"#,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icalendar refused the feed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

#[test]
fn the_calendar_feed_parses_keeps_local_times_across_dst_and_drops_a_cancelled_booking() {
    let setup = Setup::shipped(None);
    setup.write("secrets/feed-token", FEED_TOKEN);
    let current = std::fs::read_to_string(setup.path("config/tenants.yaml")).unwrap();
    setup.write(
        "config/tenants.yaml",
        &format!(
            "{}\n    calendar_feed:\n      token: {{ file: {} }}\n",
            current.trim_end(),
            setup.path("secrets/feed-token").display()
        ),
    );
    setup.clock.set_ms(MARCH_20);
    let server = setup.start();
    let clock = server.setup().clock.clone();
    let mut uids = Vec::new();
    for (i, date) in ["2026-03-27", "2026-03-30", "2026-03-31"]
        .iter()
        .enumerate()
    {
        let booked = call_at(
            &server.base,
            MARCH_20,
            &format!("f{i}"),
            "book_appointment",
            json!({ "date": date, "time": "10:00", "name": "Erika Mustermann" }),
        );
        assert_eq!(booked["success"], true, "{booked}");
        uids.push(booked["booking"]["uid"].as_str().unwrap().to_owned());
    }
    let cancelled = call_at(
        &server.base,
        MARCH_20,
        "f2",
        "cancel_appointment",
        json!({ "booking_id": uids[2] }),
    );
    assert_eq!(cancelled["success"], true, "{cancelled}");

    let path = format!("/calendar/fixture/{FEED_TOKEN}.ics");
    let feed = http::get(&server.base, &path).unwrap();
    assert_eq!(feed.status, 200, "{}", feed.text());
    assert!(
        feed.header("content-type")
            .unwrap()
            .starts_with("text/calendar")
    );
    let etag = feed.header("etag").unwrap().to_owned();
    let text = feed.text();
    assert!(
        text.contains("BEGIN:VTIMEZONE") && text.contains("TZID:Europe/Berlin"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.len() <= 76), "lines are folded");
    let events = parse_ics(&text);
    assert_eq!(events.len(), 3, "{events:?}");
    let by_uid = |uid: &str| {
        events
            .iter()
            .find(|e| e["uid"] == format!("{uid}@frontdesk"))
            .unwrap_or_else(|| panic!("{uid} not in {events:?}"))
    };
    let before = by_uid(&uids[0]);
    assert_eq!(before["start_local"], "2026-03-27T10:00:00+01:00");
    assert_eq!(before["start_utc"], "2026-03-27T09:00:00+00:00");
    assert_eq!(before["end_local"], "2026-03-27T10:30:00+01:00");
    assert_eq!(before["status"], "CONFIRMED");
    assert_eq!(before["summary"], "Appointment: Erika Mustermann");
    let after = by_uid(&uids[1]);
    assert_eq!(after["start_local"], "2026-03-30T10:00:00+02:00");
    assert_eq!(after["start_utc"], "2026-03-30T08:00:00+00:00");
    assert_eq!(by_uid(&uids[2])["status"], "CANCELLED");

    // Unchanged: 304 on the same ETag.
    let again =
        http::request(&server.base, "GET", &path, &[("if-none-match", &etag)], b"").unwrap();
    assert_eq!(again.status, 304);

    // Wrong token, unknown tenant, no token: the same 404.
    let wrong = http::get(
        &server.base,
        "/calendar/fixture/feedtoken0123456789abcdef012345678X.ics",
    )
    .unwrap();
    let unknown = http::get(&server.base, &format!("/calendar/nobody/{FEED_TOKEN}.ics")).unwrap();
    let bare = http::get(&server.base, "/calendar/fixture").unwrap();
    for r in [&wrong, &unknown, &bare] {
        assert_eq!(r.status, 404);
        assert_eq!(r.body, wrong.body);
    }

    // A week on, the cancelled booking has been seen by every client and is left out.
    clock.advance(std::time::Duration::from_secs(8 * 86_400));
    let later = http::get(&server.base, &path).unwrap();
    assert_eq!(later.status, 200);
    assert_ne!(later.header("etag").unwrap(), etag);
    let events = parse_ics(&later.text());
    let uids_later: Vec<&str> = events.iter().map(|e| e["uid"].as_str().unwrap()).collect();
    assert_eq!(
        uids_later,
        [
            format!("{}@frontdesk", uids[0]),
            format!("{}@frontdesk", uids[1])
        ]
    );

    // Guessing is rate limited per client address.
    let statuses: Vec<u16> = (0..30)
        .map(|i| {
            http::get(&server.base, &format!("/calendar/fixture/guess{i:030}.ics"))
                .unwrap()
                .status
        })
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 404 || *s == 429));
}
