//! Business-hours adjustment: the SPEC's rules as a table, DST days, and a property test.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code"
)]

mod common;

use std::collections::BTreeSet;

use frontdesk_booking::hours::DayHours;
use frontdesk_booking::{AdjustReason, BusinessHours};
use jiff::civil::{Date, Time, date, time};
use proptest::prelude::*;

fn t(h: i8, m: i8) -> Time {
    time(h, m, 0, 0)
}

fn default_hours(closed: &[Date]) -> BusinessHours {
    BusinessHours::new(
        BusinessHours::default_week(),
        closed.iter().copied().collect(),
    )
}

/// (requested date, requested time, expected date, expected time, expected reason)
type Case = (Date, Option<Time>, Date, Option<Time>, Option<AdjustReason>);

#[test]
fn adjustment_table() {
    use AdjustReason::*;
    // 2026-01-05 is a Monday; 2026-01-07 (Wednesday) is a closed date in this table.
    let hours = default_hours(&[date(2026, 1, 7)]);
    let cases: &[Case] = &[
        // The replaced gateway's cases.
        (
            date(2026, 1, 5),
            Some(t(8, 0)),
            date(2026, 1, 5),
            Some(t(9, 0)),
            Some(BeforeOpening),
        ),
        (
            date(2026, 1, 5),
            Some(t(19, 0)),
            date(2026, 1, 6),
            Some(t(9, 0)),
            Some(AfterClosing),
        ),
        (
            date(2026, 1, 10),
            Some(t(10, 0)),
            date(2026, 1, 12),
            Some(t(9, 0)),
            Some(Weekend),
        ),
        // Edges: closing time itself is closed, the minute before is open.
        (
            date(2026, 1, 5),
            Some(t(18, 0)),
            date(2026, 1, 6),
            Some(t(9, 0)),
            Some(AfterClosing),
        ),
        (
            date(2026, 1, 5),
            Some(t(17, 59)),
            date(2026, 1, 5),
            Some(t(17, 59)),
            None,
        ),
        (
            date(2026, 1, 5),
            Some(t(9, 0)),
            date(2026, 1, 5),
            Some(t(9, 0)),
            None,
        ),
        (
            date(2026, 1, 5),
            Some(t(0, 0)),
            date(2026, 1, 5),
            Some(t(9, 0)),
            Some(BeforeOpening),
        ),
        // Friday evening → Monday; Sunday without a time → Monday at opening.
        (
            date(2026, 1, 9),
            Some(t(19, 0)),
            date(2026, 1, 12),
            Some(t(9, 0)),
            Some(AfterClosing),
        ),
        (
            date(2026, 1, 11),
            None,
            date(2026, 1, 12),
            Some(t(9, 0)),
            Some(Weekend),
        ),
        // A working day without a time is not adjusted.
        (date(2026, 1, 5), None, date(2026, 1, 5), None, None),
        // Closed dates: the day itself, and "after closing" skipping over it.
        (
            date(2026, 1, 7),
            Some(t(10, 0)),
            date(2026, 1, 8),
            Some(t(9, 0)),
            Some(ClosedDate),
        ),
        (
            date(2026, 1, 6),
            Some(t(18, 30)),
            date(2026, 1, 8),
            Some(t(9, 0)),
            Some(AfterClosing),
        ),
        // DST weekends in Europe/Berlin (last Sundays of March and October 2026).
        (
            date(2026, 3, 28),
            Some(t(11, 0)),
            date(2026, 3, 30),
            Some(t(9, 0)),
            Some(Weekend),
        ),
        (
            date(2026, 3, 29),
            Some(t(2, 30)),
            date(2026, 3, 30),
            Some(t(9, 0)),
            Some(Weekend),
        ),
        (
            date(2026, 10, 25),
            Some(t(2, 30)),
            date(2026, 10, 26),
            Some(t(9, 0)),
            Some(Weekend),
        ),
        (
            date(2026, 3, 27),
            Some(t(18, 0)),
            date(2026, 3, 30),
            Some(t(9, 0)),
            Some(AfterClosing),
        ),
    ];
    for (i, (d, tm, want_d, want_t, want_r)) in cases.iter().enumerate() {
        let p = hours.adjust(*d, *tm).unwrap();
        assert_eq!(
            (p.date, p.time, p.reason),
            (*want_d, *want_t, *want_r),
            "case {i}: {d} {tm:?}"
        );
    }
}

/// A practice open every day 09:00–18:00, to exercise the DST Sundays themselves.
fn seven_days() -> BusinessHours {
    let day = DayHours {
        open: t(9, 0),
        close: t(18, 0),
    };
    BusinessHours::new([Some(day); 7], BTreeSet::new())
}

#[test]
fn dst_sundays_keep_wall_clock_hours_and_real_lengths() {
    let tz = common::berlin();
    let hours = seven_days();
    for (day, offset_hours) in [(date(2026, 3, 29), 2), (date(2026, 10, 25), 1)] {
        let p = hours.adjust(day, Some(t(7, 0))).unwrap();
        assert_eq!(
            (p.date, p.time, p.reason),
            (day, Some(t(9, 0)), Some(AdjustReason::BeforeOpening))
        );
        let (open, close) = hours.day_window(day, &tz).unwrap();
        assert_eq!(tz.to_offset(open).seconds(), offset_hours * 3600, "{day}");
        assert_eq!(open.duration_until(close).as_hours(), 9, "{day}");
        // 09:00..18:00 on a 15-minute grid, 30-minute slots: 35 starts (last 17:30), both days.
        let starts = hours.slot_starts(day, &tz, 15, 30);
        assert_eq!(starts.len(), 35, "{day}");
        assert_eq!(tz.to_datetime(*starts.last().unwrap()).time(), t(17, 30));
    }
    // The night of the change: the skipped hour has no starts, the repeated hour no duplicates.
    let night = DayHours {
        open: t(0, 0),
        close: t(6, 0),
    };
    let nights = BusinessHours::new([Some(night); 7], BTreeSet::new());
    let spring = nights.slot_starts(date(2026, 3, 29), &tz, 60, 60);
    let spring_hours: Vec<i8> = spring.iter().map(|s| tz.to_datetime(*s).hour()).collect();
    assert_eq!(spring_hours, [0, 1, 3, 4, 5]);
    let autumn = nights.slot_starts(date(2026, 10, 25), &tz, 60, 60);
    let unique: BTreeSet<_> = autumn.iter().collect();
    assert_eq!(unique.len(), autumn.len());
    assert_eq!(autumn.len(), 6);
}

fn arb_week() -> impl Strategy<Value = [Option<DayHours>; 7]> {
    let day = prop_oneof![
        1 => Just(None),
        3 => (0i64..23 * 60, 15i64..12 * 60).prop_map(|(open, len)| {
            let close = (open + len).min(23 * 60 + 59);
            Some(DayHours {
                open: t((open / 60) as i8, (open % 60) as i8),
                close: t((close / 60) as i8, (close % 60) as i8),
            })
        }),
    ];
    proptest::array::uniform7(day)
        .prop_filter("at least one open day", |w| w.iter().any(Option::is_some))
}

proptest! {
    #[test]
    fn adjusted_time_is_inside_hours_and_never_earlier(
        week in arb_week(),
        closed_offsets in proptest::collection::vec(0i32..60, 0..10),
        day_offset in 0i32..365,
        minute in proptest::option::of(0i64..24 * 60),
    ) {
        let start = date(2026, 1, 1);
        let closed = closed_offsets
            .iter()
            .map(|o| start.checked_add(jiff::Span::new().days(*o)).unwrap())
            .collect();
        let hours = BusinessHours::new(week, closed);
        let day = start.checked_add(jiff::Span::new().days(day_offset)).unwrap();
        let tm = minute.map(|m| t((m / 60) as i8, (m % 60) as i8));
        let p = hours.adjust(day, tm).unwrap();
        let open = hours.hours_on(p.date);
        prop_assert!(open.is_some(), "landed on a closed day");
        let open = open.unwrap();
        if let Some(pt) = p.time {
            prop_assert!(pt >= open.open && pt < open.close, "time outside hours");
        }
        // Never earlier than requested.
        prop_assert!(p.date >= day);
        if p.date == day
            && let (Some(pt), Some(rt)) = (p.time, tm)
        {
            prop_assert!(pt >= rt);
        }
        // Not adjusted means untouched.
        if p.reason.is_none() {
            prop_assert_eq!((p.date, p.time), (day, tm));
        }
    }
}

/// Slot starts the slow way: every grid minute from opening, kept only when that wall-clock time
/// exists and the slot ends by closing.
fn starts_by_wall_clock(
    hours: &BusinessHours,
    day: Date,
    tz: &jiff::tz::TimeZone,
    step: i64,
    duration: i64,
) -> Vec<jiff::Timestamp> {
    let Some(open) = hours.hours_on(day) else {
        return Vec::new();
    };
    let Some((_, close)) = hours.day_window(day, tz) else {
        return Vec::new();
    };
    let minutes = |t: Time| i64::from(t.hour()) * 60 + i64::from(t.minute());
    (minutes(open.open)..minutes(open.close))
        .step_by(step as usize)
        .filter_map(|m| {
            let civil = day.to_datetime(t((m / 60) as i8, (m % 60) as i8));
            let instant = tz.to_timestamp(civil).ok()?;
            (tz.to_datetime(instant) == civil).then_some(instant)
        })
        .filter(|s| *s + jiff::SignedDuration::from_mins(duration) <= close)
        .collect()
}

proptest! {
    // The one-offset fast path agrees with a per-slot lookup on any day of the year, with half
    // the cases on the clock-change days of Berlin, New York and Lord Howe (a half-hour change).
    #[test]
    fn slot_starts_match_the_wall_clock(
        week in arb_week(),
        day in prop_oneof![
            (0i32..365).prop_map(|d| date(2026, 1, 1).checked_add(jiff::Span::new().days(d)).unwrap()),
            prop_oneof![
                Just(date(2026, 3, 29)),
                Just(date(2026, 10, 25)),
                Just(date(2026, 3, 8)),
                Just(date(2026, 11, 1)),
                Just(date(2026, 4, 5)),
                Just(date(2026, 10, 4)),
            ],
        ],
        zone in prop_oneof![
            Just("Europe/Berlin"),
            Just("America/New_York"),
            Just("Australia/Lord_Howe"),
            Just("Asia/Kolkata"),
        ],
        step in prop_oneof![Just(5i64), Just(15), Just(30), Just(60)],
        duration in 5i64..180,
    ) {
        let tz = jiff::tz::TimeZone::get(zone).unwrap();
        let hours = BusinessHours::new(week, BTreeSet::new());
        let fast = hours.slot_starts(day, &tz, step as u32, duration as u32);
        prop_assert_eq!(fast, starts_by_wall_clock(&hours, day, &tz, step, duration));
    }
}
