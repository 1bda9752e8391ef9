//! Business hours: which days are working days, when a day opens and closes, and the SPEC's
//! adjustment of a requested time that falls outside them.
//!
//! Hours are civil times (`09:00`) in the tenant's time zone. Turning a civil time into an
//! instant (and therefore everything DST-sensitive) happens in [`BusinessHours::day_window`], so
//! the rest of the engine compares instants and never does wall-clock arithmetic across a
//! daylight-saving change.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

/// How far ahead the next working day is searched. A year of closed dates is a configuration
/// mistake, and bounding the walk keeps a bad config from looping forever.
const MAX_DAYS_AHEAD: i32 = 366;

/// One day's opening hours; `open < close`, both on the same civil day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub open: Time,
    pub close: Time,
}

/// Why a requested date or time was moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustReason {
    BeforeOpening,
    AfterClosing,
    /// A weekday without opening hours (Saturday and Sunday by default).
    Weekend,
    ClosedDate,
}

impl AdjustReason {
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustReason::BeforeOpening => "before_opening",
            AdjustReason::AfterClosing => "after_closing",
            AdjustReason::Weekend => "weekend",
            AdjustReason::ClosedDate => "closed_date",
        }
    }
}

/// The result of [`BusinessHours::adjust`]: where the search starts, and what was moved and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub date: Date,
    /// `None` when no time was asked and the date was already a working day.
    pub time: Option<Time>,
    pub reason: Option<AdjustReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("no working day within {MAX_DAYS_AHEAD} days")]
    NoWorkingDay,
}

/// A tenant's week plus closed dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// Monday-first.
    week: [Option<DayHours>; 7],
    closed: BTreeSet<Date>,
}

impl BusinessHours {
    /// `week` is Monday-first. Callers (the tenant compiler) have checked `open < close`.
    pub fn new(week: [Option<DayHours>; 7], closed: BTreeSet<Date>) -> Self {
        Self { week, closed }
    }

    /// Monday–Friday 09:00–18:00, no closed dates.
    pub fn default_week() -> [Option<DayHours>; 7] {
        let day = DayHours {
            open: Time::constant(9, 0, 0, 0),
            close: Time::constant(18, 0, 0, 0),
        };
        [
            Some(day),
            Some(day),
            Some(day),
            Some(day),
            Some(day),
            None,
            None,
        ]
    }

    /// Opening hours on `date`, `None` when closed (weekday off or closed date).
    pub fn hours_on(&self, date: Date) -> Option<DayHours> {
        if self.closed.contains(&date) {
            return None;
        }
        self.week[weekday_index(date.weekday())]
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        self.hours_on(date).is_some()
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: Date) -> Result<(Date, DayHours), HoursError> {
        let mut day = date;
        for _ in 0..MAX_DAYS_AHEAD {
            day = day.tomorrow().map_err(|_| HoursError::NoWorkingDay)?;
            if let Some(hours) = self.hours_on(day) {
                return Ok((day, hours));
            }
        }
        Err(HoursError::NoWorkingDay)
    }

    /// The same weekday one week later, if that is a working day.
    pub fn same_weekday_next_week(&self, date: Date) -> Option<Date> {
        let next = date.checked_add(7.days()).ok()?;
        self.is_working_day(next).then_some(next)
    }

    /// SPEC's adjustment rules: weekend or closed date → next working day at opening; before
    /// opening → opening the same day; at or after closing → next working day at opening.
    pub fn adjust(&self, date: Date, time: Option<Time>) -> Result<Placement, HoursError> {
        let Some(hours) = self.hours_on(date) else {
            let reason = if self.closed.contains(&date) {
                AdjustReason::ClosedDate
            } else {
                AdjustReason::Weekend
            };
            let (day, hours) = self.next_working_day(date)?;
            return Ok(Placement {
                date: day,
                time: Some(hours.open),
                reason: Some(reason),
            });
        };
        match time {
            Some(t) if t < hours.open => Ok(Placement {
                date,
                time: Some(hours.open),
                reason: Some(AdjustReason::BeforeOpening),
            }),
            Some(t) if t >= hours.close => {
                let (day, hours) = self.next_working_day(date)?;
                Ok(Placement {
                    date: day,
                    time: Some(hours.open),
                    reason: Some(AdjustReason::AfterClosing),
                })
            }
            _ => Ok(Placement {
                date,
                time,
                reason: None,
            }),
        }
    }

    /// The instants a working day opens and closes in `tz`; `None` on a closed day. Using
    /// instants makes a 09:00–18:00 day exactly as long as the clock says, on DST days too.
    pub fn day_window(&self, date: Date, tz: &TimeZone) -> Option<(Timestamp, Timestamp)> {
        let hours = self.hours_on(date)?;
        let open = tz.to_timestamp(date.to_datetime(hours.open)).ok()?;
        let close = tz.to_timestamp(date.to_datetime(hours.close)).ok()?;
        (open < close).then_some((open, close))
    }

    /// Start instants of every slot of `duration_min` minutes on `date` that begins on the
    /// granularity grid (counted from opening) and ends by closing. Civil times that do not
    /// exist (the skipped hour in spring) are left out rather than shifted onto another slot.
    pub fn slot_starts(
        &self,
        date: Date,
        tz: &TimeZone,
        granularity_min: u32,
        duration_min: u32,
    ) -> Vec<Timestamp> {
        let Some(hours) = self.hours_on(date) else {
            return Vec::new();
        };
        let Some((open, close)) = self.day_window(date, tz) else {
            return Vec::new();
        };
        let step = i64::from(granularity_min.max(1));
        let open_min = minutes_of_day(hours.open);
        let close_min = minutes_of_day(hours.close);
        // On every day but a clock change one offset covers the whole window: each start is the
        // opening plus whole minutes, without a time-zone lookup per slot (which was most of the
        // cost of answering `check_availability`).
        let one_offset = tz.to_datetime(open) == date.to_datetime(hours.open)
            && tz
                .following(open)
                .next()
                .is_none_or(|change| change.timestamp() >= close);
        // A slot fits when it starts by the last start that still ends by closing.
        let Ok(last_start) =
            close.checked_sub(jiff::SignedDuration::from_mins(i64::from(duration_min)))
        else {
            return Vec::new();
        };
        let mut starts = Vec::new();
        let mut minute = open_min;
        while minute < close_min {
            let start = if one_offset {
                open.checked_add(jiff::SignedDuration::from_mins(minute - open_min))
                    .ok()
            } else {
                civil_instant(date, minute, tz)
            };
            if let Some(start) = start
                && start <= last_start
            {
                starts.push(start);
            }
            minute += step;
        }
        starts
    }
}

/// Monday = 0 … Sunday = 6.
pub fn weekday_index(day: Weekday) -> usize {
    usize::try_from(day.to_monday_zero_offset()).unwrap_or(0)
}

pub fn minutes_of_day(t: Time) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

/// The instant of civil `date` + `minute` past midnight, only when that wall-clock time exists.
fn civil_instant(date: Date, minute: i64, tz: &TimeZone) -> Option<Timestamp> {
    let hour = i8::try_from(minute / 60).ok()?;
    let min = i8::try_from(minute % 60).ok()?;
    let civil: DateTime = date.to_datetime(Time::new(hour, min, 0, 0).ok()?);
    let instant = tz.to_timestamp(civil).ok()?;
    // In a spring-forward gap the compatible mapping moves the time forward; round-tripping
    // exposes that, and such a start would duplicate a real later slot.
    (tz.to_datetime(instant) == civil).then_some(instant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn hours() -> BusinessHours {
        BusinessHours::new(BusinessHours::default_week(), BTreeSet::new())
    }

    #[test]
    fn default_week_is_monday_to_friday() {
        let h = hours();
        // 2026-01-05 is a Monday.
        assert!(h.is_working_day(date(2026, 1, 5)));
        assert!(h.is_working_day(date(2026, 1, 9)));
        assert!(!h.is_working_day(date(2026, 1, 10)));
        assert!(!h.is_working_day(date(2026, 1, 11)));
    }

    #[test]
    fn skipped_hour_yields_no_slots() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let day = DayHours {
            open: Time::constant(1, 0, 0, 0),
            close: Time::constant(4, 0, 0, 0),
        };
        let h = BusinessHours::new([Some(day); 7], BTreeSet::new());
        // 2026-03-29: clocks jump from 02:00 to 03:00 — only 01:00–02:00 and 03:00–04:00 exist.
        let starts = h.slot_starts(date(2026, 3, 29), &tz, 30, 30);
        let civil: Vec<String> = starts
            .iter()
            .map(|s| tz.to_datetime(*s).time().strftime("%H:%M").to_string())
            .collect();
        assert_eq!(civil, ["01:00", "01:30", "03:00", "03:30"]);
    }
}
