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
    let sig = frontdesk::stages::auth::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
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
