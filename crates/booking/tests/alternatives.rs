//! The alternative finder: SPEC order, limits, no duplicates, only slots that fit.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::collections::BTreeSet;

use frontdesk_booking::Slot;
use frontdesk_booking::alternatives::alternatives;
use frontdesk_booking::hours::BusinessHours;
use jiff::Timestamp;
use jiff::civil::{Date, date};

fn at(d: Date, h: i8, m: i8) -> Timestamp {
    common::berlin().to_timestamp(d.at(h, m, 0, 0)).unwrap()
}

fn slots(list: &[(Date, i8, i8)]) -> Vec<Slot> {
    let mut v: Vec<Slot> = list
        .iter()
        .map(|(d, h, m)| Slot {
            start: at(*d, *h, *m),
        })
        .collect();
    v.sort();
    v
}

fn hours() -> BusinessHours {
    BusinessHours::new(BusinessHours::default_week(), BTreeSet::new())
}

#[test]
fn order_is_same_day_nearest_then_next_day_then_next_week_then_first_free() {
    let tz = common::berlin();
    let mon = date(2026, 1, 5);
    let tue = date(2026, 1, 6);
    let wed = date(2026, 1, 7);
    let next_mon = date(2026, 1, 12);
    let free = slots(&[
        (mon, 9, 0),
        (mon, 11, 30), // 30 min earlier
        (mon, 13, 0),  // 60 min later
        (tue, 9, 0),
        (tue, 12, 15), // next working day, nearest to 12:00
        (wed, 12, 0),
        (next_mon, 12, 0), // same weekday next week, same time
    ]);
    let wanted = at(mon, 12, 0);
    let got = alternatives(&hours(), &tz, wanted, &free, 10);
    let expected = slots(&[
        (mon, 11, 30),
        (mon, 13, 0),
        (tue, 12, 15),
        (next_mon, 12, 0),
    ]);
    assert_eq!(&got[..4], &expected[..], "priority groups in order");
    // Then the first free slots, without repeating any.
    assert_eq!(
        got[4],
        Slot {
            start: at(mon, 9, 0)
        }
    );
    let unique: BTreeSet<_> = got.iter().collect();
    assert_eq!(unique.len(), got.len());
    assert_eq!(got.len(), free.len());

    // The default limit of three keeps the best three.
    let three = alternatives(&hours(), &tz, wanted, &free, 3);
    assert_eq!(three, expected[..3]);
}

#[test]
fn later_wins_a_tie_and_requested_slot_is_never_offered() {
    let tz = common::berlin();
    let mon = date(2026, 1, 5);
    let free = slots(&[(mon, 11, 0), (mon, 12, 0), (mon, 13, 0)]);
    let got = alternatives(&hours(), &tz, at(mon, 12, 0), &free, 3);
    assert_eq!(
        got,
        slots(&[(mon, 13, 0), (mon, 11, 0)])
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
    );
    assert!(!got.contains(&Slot {
        start: at(mon, 12, 0)
    }));
}

#[test]
fn friday_request_looks_at_monday_as_next_working_day() {
    let tz = common::berlin();
    let fri = date(2026, 1, 9);
    let mon = date(2026, 1, 12);
    let free = slots(&[(mon, 10, 0), (mon, 15, 0), (date(2026, 1, 16), 15, 0)]);
    let got = alternatives(&hours(), &tz, at(fri, 15, 0), &free, 2);
    assert_eq!(got, slots(&[(mon, 15, 0), (date(2026, 1, 16), 15, 0)]));
}

#[tokio::test]
async fn alternatives_from_the_calendar_fit_before_closing() {
    // Ask for a 2-hour service late in the afternoon of a fully free day: 16:30 does not fit
    // (ends 18:30), alternatives must all end by 18:00.
    let f = common::fixture();
    let tenant = common::demo();
    let reply = f
        .engine
        .call(
            &tenant,
            Default::default(),
            "check_availability",
            &serde_json::json!({"date": "2026-01-06", "time": "16:30", "service": "lang"}),
        )
        .await;
    assert_eq!(reply["available"], false, "{reply}");
    let alts = reply["alternatives"].as_array().unwrap();
    assert_eq!(alts.len(), 3);
    for a in alts {
        let t = a["time"].as_str().unwrap();
        assert!(t <= "16:00", "{t} would end after closing");
    }
    assert_eq!(alts[0]["time"], "16:00");
    assert_eq!(alts[0]["date"], "2026-01-06");
}
