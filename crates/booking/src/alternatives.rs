//! The alternative finder: when the requested time is taken, which real free slots to offer.
//!
//! Input is the list of free slots a calendar reported (already inside business hours and
//! already fitting the duration before closing), so every alternative is bookable as offered.
//! Order, per SPEC: the nearest free slot on the same day (later or earlier, whichever is
//! closer, then the other), the next working day at the same time (or nearest to it), the same
//! weekday a week later (same time or nearest), then the first free slots from the start of the
//! window. No duplicates, at most `max`.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::hours::{BusinessHours, minutes_of_day};
use crate::provider::Slot;

/// Alternatives for a wanted start (`requested`), from `free` (ascending).
pub fn alternatives(
    hours: &BusinessHours,
    tz: &TimeZone,
    requested: Timestamp,
    free: &[Slot],
    max: usize,
) -> Vec<Slot> {
    let wanted: DateTime = tz.to_datetime(requested);
    let wanted_min = minutes_of_day(wanted.time());
    // Local date and minute of day of every free slot, converted once.
    let local: Vec<(Slot, Date, i64)> = free
        .iter()
        .map(|s| {
            let dt = tz.to_datetime(s.start);
            (*s, dt.date(), minutes_of_day(dt.time()))
        })
        .collect();
    let on_day = |day: Date| local.iter().filter(move |(_, d, _)| *d == day);
    let nearest_on = |day: Date| {
        on_day(day)
            .filter(|(s, _, _)| s.start != requested)
            .min_by_key(|(s, _, m)| ((m - wanted_min).abs(), s.start))
            .map(|(s, _, _)| *s)
    };

    let mut picked: Vec<Slot> = Vec::with_capacity(max);
    let push = |slot: Option<Slot>, picked: &mut Vec<Slot>| {
        if let Some(slot) = slot
            && slot.start != requested
            && !picked.contains(&slot)
            && picked.len() < max
        {
            picked.push(slot);
        }
    };

    let later = on_day(wanted.date())
        .map(|(s, _, _)| *s)
        .find(|s| s.start > requested);
    let earlier = on_day(wanted.date())
        .map(|(s, _, _)| *s)
        .filter(|s| s.start < requested)
        .max_by_key(|s| s.start);
    let distance = |s: &Option<Slot>| {
        s.map(|s| (s.start.as_millisecond() - requested.as_millisecond()).abs())
            .unwrap_or(i64::MAX)
    };
    // Ties go to the later slot: callers more often accept "a bit later" than "earlier".
    let (first, second) = if distance(&earlier) < distance(&later) {
        (earlier, later)
    } else {
        (later, earlier)
    };
    push(first, &mut picked);
    push(second, &mut picked);

    if let Ok((next_day, _)) = hours.next_working_day(wanted.date()) {
        push(nearest_on(next_day), &mut picked);
    }
    if let Some(next_week) = hours.same_weekday_next_week(wanted.date()) {
        push(nearest_on(next_week), &mut picked);
    }
    for slot in free {
        if picked.len() >= max {
            break;
        }
        push(Some(*slot), &mut picked);
    }
    picked
}

/// The first `max` free slots on or after `after` (for a day that has nothing free).
pub fn first_free(free: &[Slot], after: Timestamp, max: usize) -> Vec<Slot> {
    free.iter()
        .filter(|s| s.start >= after)
        .take(max)
        .copied()
        .collect()
}
