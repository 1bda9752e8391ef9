//! The booking functions end to end: signed Retell calls, the embedded SQLite calendar, a
//! restart in between, idempotent and concurrent bookings.

use std::sync::{Arc, Barrier};

use serde_json::{Value, json};

use crate::harness::{DEMO_RETELL_KEY, FIXTURE_MS, RETELL_KEY, Setup, TestServer};
use crate::http;

const AGENT: &str = "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD";

fn call(base: &str, call_id: &str, name: &str, args: Value) -> Value {
    let body = json!({
        "name": name,
        "args": args,
        "call": { "call_id": call_id, "agent_id": AGENT, "from_number": "+4915112345678", "to_number": "+14155550199" },
    });
    let body = serde_json::to_vec(&body).unwrap();
    let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let r = http::post(
        base,
        "/retell/function",
        &[
            ("x-retell-signature", &sig),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn book(server: &TestServer, call_id: &str, date: &str, time: &str) -> Value {
    call(
        &server.base,
        call_id,
        "book_appointment",
        json!({ "date": date, "time": time, "name": "Erika Mustermann", "email": "erika@example.de" }),
    )
}

#[test]
fn check_book_check_cancel_rebook_reschedule_across_a_restart() {
    // The clock stands at Friday 2026-01-02 13:00 in Berlin; Tuesday 2026-01-06 is a working day.
    let server = Setup::shipped(None).start();
    let free = call(
        &server.base,
        "c1",
        "check_availability",
        json!({ "date": "06.01.2026", "time": "10:00 Uhr" }),
    );
    assert_eq!(free["success"], true, "{free}");
    assert_eq!(free["available"], true, "{free}");
    assert_eq!(
        free["requested"],
        json!({ "date": "2026-01-06", "time": "10:00" })
    );
    assert!(free["message"].as_str().unwrap().len() > 10);

    let booked = book(&server, "c1", "2026-01-06", "10:00");
    assert_eq!(booked["success"], true, "{booked}");
    let booking_id = booked["booking"]["id"].clone();
    assert!(
        booked["booking"]["start"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-06T10:00:00+01:00"),
        "{booked}"
    );

    let server = server.restart();
    let taken = call(
        &server.base,
        "c2",
        "check_availability",
        json!({ "date": "2026-01-06", "time": "10:00" }),
    );
    assert_eq!(
        taken["available"], false,
        "the booking survived the restart: {taken}"
    );
    let alternatives = taken["alternatives"].as_array().unwrap();
    assert!(
        !alternatives.is_empty() && alternatives.len() <= 3,
        "{taken}"
    );
    assert!(
        alternatives
            .iter()
            .all(|a| a["start"].as_str().unwrap().contains('T'))
    );

    let cancelled = call(
        &server.base,
        "c3",
        "cancel_appointment",
        json!({ "booking_id": booking_id }),
    );
    assert_eq!(cancelled["success"], true, "{cancelled}");
    let free_again = call(
        &server.base,
        "c4",
        "check_availability",
        json!({ "date": "2026-01-06", "time": "10:00" }),
    );
    assert_eq!(free_again["available"], true, "{free_again}");

    // The call that was just told 10:00 is free books it (the check held it for that call).
    let rebooked = book(&server, "c4", "2026-01-06", "10:00");
    assert_eq!(rebooked["success"], true, "{rebooked}");
    let moved = call(
        &server.base,
        "c6",
        "reschedule_appointment",
        json!({ "booking_id": rebooked["booking"]["id"], "date": "2026-01-07", "time": "11:30" }),
    );
    assert_eq!(moved["success"], true, "{moved}");
    let old_slot = call(
        &server.base,
        "c7",
        "check_availability",
        json!({ "date": "2026-01-06", "time": "10:00" }),
    );
    assert_eq!(old_slot["available"], true);
    let new_slot = call(
        &server.base,
        "c8",
        "check_availability",
        json!({ "date": "2026-01-07", "time": "11:30" }),
    );
    assert_eq!(new_slot["available"], false);
}

#[test]
fn outside_hours_requests_are_adjusted_and_say_why() {
    let server = Setup::shipped(None).start();
    let early = call(
        &server.base,
        "c1",
        "check_availability",
        json!({ "date": "2026-01-06", "time": "08:00" }),
    );
    assert_eq!(early["adjusted"]["time"], "09:00", "{early}");
    assert_eq!(early["adjusted"]["date"], "2026-01-06");
    let saturday = call(
        &server.base,
        "c2",
        "check_availability",
        json!({ "date": "2026-01-10", "time": "11:00" }),
    );
    assert_eq!(saturday["adjusted"]["date"], "2026-01-12", "{saturday}");
    assert_eq!(saturday["adjusted"]["time"], "09:00");
}

#[test]
fn invalid_input_is_a_speakable_200() {
    let server = Setup::shipped(None).start();
    let reply = call(
        &server.base,
        "c1",
        "book_appointment",
        json!({ "date": "2026-13-45", "time": "10:00", "name": "<script>alert(1)</script>", "email": "not-an-email", "duration": 5 }),
    );
    assert_eq!(reply["success"], false);
    assert_eq!(reply["reason"], "invalid_input");
    let fields: Vec<&str> = reply["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["date", "email", "duration"] {
        assert!(fields.contains(&field), "{reply}");
    }
    assert!(!reply["message"].as_str().unwrap().is_empty());
    assert!(
        !reply.to_string().contains("not-an-email"),
        "error bodies do not echo input"
    );
}

#[test]
fn twenty_identical_calls_make_one_booking_and_the_same_answer() {
    let setup = Setup::shipped(None);
    // The shipped per-call limit (burst 10) would answer some of these 429: not this test's subject.
    setup.replace(
        "policies/default.yaml",
        "rate: 30/min\n    burst: 10",
        "rate: 30/min\n    burst: 30",
    );
    let server = setup.start();
    let barrier = Arc::new(Barrier::new(20));
    let answers: Vec<Value> = (0..20)
        .map(|_| {
            let (base, barrier) = (server.base.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                call(
                    &base,
                    "same-call",
                    "book_appointment",
                    json!({ "date": "2026-01-08", "time": "14:00", "name": "Max Muster" }),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0]["success"], true, "{}", answers[0]);
    let taken = call(
        &server.base,
        "other",
        "check_availability",
        json!({ "date": "2026-01-08", "time": "14:00" }),
    );
    assert_eq!(taken["available"], false);
}

#[test]
fn twenty_calls_for_one_slot_make_one_booking_and_nineteen_alternatives() {
    let server = Setup::shipped(None).start();
    let barrier = Arc::new(Barrier::new(20));
    let answers: Vec<Value> = (0..20)
        .map(|i| {
            let (base, barrier) = (server.base.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                call(
                    &base,
                    &format!("caller-{i}"),
                    "book_appointment",
                    json!({ "date": "2026-01-09", "time": "09:30", "name": "Max Muster" }),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let won: Vec<&Value> = answers.iter().filter(|a| a["success"] == true).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    let lost: Vec<&Value> = answers.iter().filter(|a| a["success"] == false).collect();
    assert_eq!(lost.len(), 19);
    for a in lost {
        assert_eq!(a["reason"], "slot_unavailable", "{a}");
        assert!(!a["alternatives"].as_array().unwrap().is_empty(), "{a}");
    }
}

#[test]
fn unknown_tenants_are_refused_with_403() {
    let server = Setup::shipped(None).start();
    let body = json!({ "name": "check_availability", "args": { "date": "2026-01-06" }, "call": { "call_id": "x", "agent_id": "someone-else", "to_number": "+10000000000" } });
    let body = serde_json::to_vec(&body).unwrap();
    let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let r = http::post(
        &server.base,
        "/retell/function",
        &[("x-retell-signature", &sig)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "unknown_tenant");
}

#[test]
fn one_call_is_limited_per_call_id() {
    let server = Setup::shipped(None).start();
    let statuses: Vec<u16> = (0..11)
        .map(|_| {
            let body = serde_json::to_vec(&json!({ "name": "check_availability", "args": { "date": "2026-01-06" }, "call": { "call_id": "runaway", "agent_id": AGENT } })).unwrap();
            let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
            http::post(&server.base, "/retell/function", &[("x-retell-signature", &sig)], &body).unwrap().status
        })
        .collect();
    assert_eq!(&statuses[..10], &[200; 10]);
    assert_eq!(statuses[10], 429);
    // Another call of the same tenant is unaffected.
    assert_eq!(
        call(
            &server.base,
            "calm",
            "check_availability",
            json!({ "date": "2026-01-06" })
        )["success"],
        true
    );
}

#[test]
fn a_booking_may_name_its_start_as_one_timestamp() {
    let server = Setup::shipped(None).start();
    let reply = call(
        &server.base,
        "c1",
        "book_appointment",
        json!({ "start": "2026-01-06T15:00:00Z", "name": "Max Muster" }),
    );
    assert_eq!(reply["success"], true, "{reply}");
    // 15:00 UTC is 16:00 in Berlin.
    assert!(
        reply["booking"]["start"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-06T16:00:00+01:00"),
        "{reply}"
    );
}

#[test]
fn a_repeated_booking_after_a_cancel_in_the_same_call_books_for_real() {
    let server = Setup::shipped(None).start();
    let first = book(&server, "c-truth", "2026-01-06", "14:00");
    assert_eq!(first["success"], true, "{first}");
    let cancelled = call(
        &server.base,
        "c-truth",
        "cancel_appointment",
        json!({ "booking_id": first["booking"]["id"] }),
    );
    assert_eq!(cancelled["success"], true, "{cancelled}");
    // The identical request again, in the same call: the kept reply is no longer true.
    let again = book(&server, "c-truth", "2026-01-06", "14:00");
    assert_eq!(again["success"], true, "{again}");
    assert_eq!(again["booking"]["status"], "accepted");
    assert_ne!(
        again["booking"]["id"], first["booking"]["id"],
        "a new booking"
    );
    let check = call(
        &server.base,
        "c-look",
        "check_availability",
        json!({ "date": "2026-01-06", "time": "14:00" }),
    );
    assert_eq!(check["available"], false, "the calendar holds it: {check}");
}

#[test]
fn a_retry_after_a_restart_gets_the_booking_it_already_made() {
    let server = Setup::shipped(None).start();
    let first = book(&server, "c-restart", "2026-01-06", "15:00");
    assert_eq!(first["success"], true, "{first}");
    // The reply store (memory) is gone after the restart; the calendar database is not.
    let server = server.restart();
    let retry = book(&server, "c-restart", "2026-01-06", "15:00");
    assert_eq!(retry["success"], true, "{retry}");
    assert_eq!(retry["booking"]["id"], first["booking"]["id"], "{retry}");
    // Another call asking for the slot is told the truth: it is taken.
    let other = book(&server, "c-other", "2026-01-06", "15:00");
    assert_eq!(other["reason"], "slot_unavailable", "{other}");
}

#[test]
fn an_off_grid_time_is_unavailable_in_check_and_book_alike() {
    let server = Setup::shipped(None).start();
    let check = call(
        &server.base,
        "c-grid",
        "check_availability",
        json!({ "date": "2026-01-06", "time": "10:07" }),
    );
    assert_eq!(check["available"], false, "{check}");
    let booked = book(&server, "c-grid", "2026-01-06", "10:07");
    assert_eq!(booked["reason"], "slot_unavailable", "{booked}");
    let times: Vec<&str> = booked["alternatives"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["time"].as_str())
        .collect();
    assert!(
        times.contains(&"10:00") || times.contains(&"10:15"),
        "{booked}"
    );
    // The grid time itself books.
    assert_eq!(
        book(&server, "c-grid", "2026-01-06", "10:15")["success"],
        true
    );
}

#[test]
fn a_date_past_the_booking_horizon_says_how_far_ahead_the_practice_books() {
    let server = Setup::shipped(None).start();
    for reply in [
        book(&server, "c-far", "9999-12-31", "10:00"),
        call(
            &server.base,
            "c-far",
            "check_availability",
            json!({ "date": "9999-12-31" }),
        ),
    ] {
        assert_eq!(reply["reason"], "invalid_input", "{reply}");
        assert_eq!(reply["errors"][0]["field"], "date", "{reply}");
        assert!(
            reply["message"].as_str().unwrap().contains("365 days"),
            "{reply}"
        );
    }
}

#[test]
fn a_date_only_check_lists_the_free_times_of_the_part_of_the_day_asked() {
    let server = Setup::shipped(None).start();
    let reply = call(
        &server.base,
        "c-part",
        "check_availability",
        json!({ "date": "2026-01-06", "part_of_day": "nach 16 Uhr" }),
    );
    let slots = reply["slots"].as_array().unwrap();
    assert!(!slots.is_empty(), "{reply}");
    for slot in slots {
        let time = slot["time"].as_str().unwrap();
        assert!(time >= "16:00", "{reply}");
        assert!(
            slot["start"].as_str().unwrap().starts_with("2026-01-06T"),
            "{reply}"
        );
    }
}

/// Retell's signed `call_ended` event for `call_id`.
fn call_ended(server: &TestServer, call_id: &str) -> u16 {
    let body = serde_json::to_vec(&json!({
        "event": "call_ended",
        "call": { "call_id": call_id, "agent_id": AGENT, "call_status": "ended" },
    }))
    .unwrap();
    let sig = frontdesk::signature::sign_retell(RETELL_KEY, &body, FIXTURE_MS);
    let headers = [
        ("x-retell-signature", sig.as_str()),
        ("content-type", "application/json"),
    ];
    http::post(&server.base, "/retell/webhook", &headers, &body)
        .unwrap()
        .status
}

/// The slot a check reports free is the asking call's: another call hears it is taken and
/// cannot book it, until Retell says the first call ended.
fn a_checked_slot_stays_the_callers_until_the_call_ends(setup: Setup) {
    let server = setup.start();
    let check = |call_id: &str| {
        call(
            &server.base,
            call_id,
            "check_availability",
            json!({ "date": "2026-01-06", "time": "10:00" }),
        )
    };
    let a = check("hold-a");
    assert_eq!(a["available"], true, "{a}");
    assert!(a["held_until"].as_str().is_some(), "{a}");
    let b = check("hold-b");
    assert_eq!(b["available"], false, "held for A: {b}");
    assert!(!b["alternatives"].as_array().unwrap().is_empty(), "{b}");
    let b_books = book(&server, "hold-b", "2026-01-06", "10:00");
    assert_eq!(b_books["reason"], "slot_unavailable", "{b_books}");

    assert!(matches!(call_ended(&server, "hold-a"), 200 | 204));
    let b = check("hold-b");
    assert_eq!(b["available"], true, "A's call ended: {b}");
    let a_books = book(&server, "hold-a", "2026-01-06", "10:00");
    assert_eq!(a_books["reason"], "slot_unavailable", "now B's: {a_books}");
    let b_books = book(&server, "hold-b", "2026-01-06", "10:00");
    assert_eq!(b_books["success"], true, "{b_books}");

    let holds = |event: &str| {
        crate::events::metric(
            &server.admin,
            "frontdesk_booking_holds_total",
            &["calendar=\"local\"", &format!("event=\"{event}\"")],
        )
    };
    assert!(holds("created") >= 2.0);
    assert!(holds("released") >= 1.0, "call_ended released A's hold");
    assert!(holds("consumed") >= 1.0, "B's booking took its hold");
}

#[test]
fn a_checked_slot_stays_the_callers_until_the_call_ends_on_sqlite() {
    a_checked_slot_stays_the_callers_until_the_call_ends(Setup::shipped(None));
}

#[test]
fn a_checked_slot_stays_the_callers_until_the_call_ends_on_postgres() {
    let db = frontdesk_testdb::TestDatabase::create();
    let mut setup = Setup::shipped(None);
    crate::calendar_db::on_postgres(&mut setup, &db.url, "");
    a_checked_slot_stays_the_callers_until_the_call_ends(setup);
}

/// A practice known by its called number alone: its calls and their `call_ended` find it by the
/// signed `to_number`.
#[test]
fn call_ended_frees_the_holds_of_a_practice_known_by_its_number() {
    let server = Setup::shipped(None).start();
    let signed = |path: &str, body: Value| {
        let body = serde_json::to_vec(&body).unwrap();
        let sig = frontdesk::signature::sign_retell(DEMO_RETELL_KEY, &body, FIXTURE_MS);
        let headers = [
            ("x-retell-signature", sig.as_str()),
            ("content-type", "application/json"),
        ];
        http::post(&server.base, path, &headers, &body).unwrap()
    };
    let check = |call_id: &str| {
        let r = signed(
            "/retell/function",
            json!({
                "name": "check_availability",
                "args": { "date": "2026-01-06", "time": "10:00" },
                "call": { "call_id": call_id, "agent_id": "agent_no_tenant_names", "to_number": "+4930123456789" },
            }),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    };
    assert!(check("num-a")["held_until"].is_string());
    assert_eq!(check("num-b")["available"], false);
    let ended = signed(
        "/retell/webhook",
        json!({
            "event": "call_ended",
            "call": { "call_id": "num-a", "agent_id": "agent_no_tenant_names", "to_number": "+4930123456789" },
        }),
    );
    assert!(matches!(ended.status, 200 | 204), "{}", ended.text());
    assert_eq!(check("num-b")["available"], true, "A's call ended");
}
