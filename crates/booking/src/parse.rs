//! Lenient parsing of the dates, times and durations a voice agent sends.
//!
//! The gateway's validation stage normalises most input already, but the engine is also called
//! directly (tests, other front ends), so it accepts the spellings callers and agents actually
//! produce: `2026-01-06`, `06.01.2026`, `6.1.2026`, `14:30`, `14.30`, `14:30 Uhr`, `14 Uhr`,
//! `14:30:00`. Dates and times are read by the validation crate's parsers, the one place
//! their spellings are defined.

use jiff::civil::{Date, Time};

/// `YYYY-MM-DD` or `DD.MM.YYYY` (day and month may have one digit): the validation stage's
/// parser, read into a date, so the gateway and the engine accept the same spellings.
pub fn parse_date(input: &str) -> Option<Date> {
    frontdesk_validate::parse_date(input.trim())?.parse().ok()
}

/// `HH:MM`, `H:MM`, `HH.MM`, `HH:MM:00`, optionally followed by `Uhr`, and a bare hour followed
/// by `Uhr` (`14 Uhr`): the validation stage's parser, read into a time.
pub fn parse_time(input: &str) -> Option<Time> {
    frontdesk_validate::parse_time(input.trim())?.parse().ok()
}

/// A part of the day a caller asks about instead of a time: `[from, until)` in local time
/// (`until: None` = to the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayPart {
    pub from: Time,
    pub until: Option<Time>,
}

impl DayPart {
    pub fn contains(&self, t: Time) -> bool {
        t >= self.from && self.until.is_none_or(|u| t < u)
    }
}

/// Parses what callers say instead of a time: `morgens`/`vormittags`/`morning` (before 12:00),
/// `mittags`/`midday` (11:00–14:00), `nachmittags`/`afternoon` (12:00–17:00),
/// `abends`/`evening` (from 17:00), and `nach`/`ab`/`after`/`from` or `vor`/`before` a time
/// (`nach 16 Uhr`, `after 16:00`, `ab 16`). Leading `am`/`in the` are ignored.
pub fn parse_day_part(input: &str) -> Option<DayPart> {
    let lowered = input.trim().to_lowercase();
    let s = ["in the ", "am ", "at "]
        .iter()
        .find_map(|p| lowered.strip_prefix(p))
        .unwrap_or(&lowered)
        .trim();
    let at = |h: i8| Time::new(h, 0, 0, 0).ok();
    let part = |from: i8, until: Option<i8>| {
        Some(DayPart {
            from: at(from)?,
            until: match until {
                Some(h) => Some(at(h)?),
                None => None,
            },
        })
    };
    match s {
        "morgens" | "vormittags" | "vormittag" | "morgen früh" | "morning" => {
            return part(0, Some(12));
        }
        "mittags" | "mittag" | "midday" | "noon" | "lunchtime" => return part(11, Some(14)),
        "nachmittags" | "nachmittag" | "afternoon" => return part(12, Some(17)),
        "abends" | "abend" | "evening" => return part(17, None),
        _ => {}
    }
    let (word, rest) = s.split_once(' ')?;
    // "nach 16" is a time though it has no "Uhr": the preposition says so.
    let rest = rest.trim();
    let time = parse_time(rest).or_else(|| number::<i8>(rest).and_then(at))?;
    match word {
        "nach" | "ab" | "after" | "from" => Some(DayPart {
            from: time,
            until: None,
        }),
        "vor" | "before" => Some(DayPart {
            from: Time::MIN,
            until: Some(time),
        }),
        _ => None,
    }
}

/// Parses a duration in minutes from a JSON number or a string like `30`, `30m`, `30 min`,
/// `1h`, `90 Minuten`.
pub fn parse_duration_minutes(value: &serde_json::Value) -> Option<u32> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        serde_json::Value::String(s) => {
            let s = s.trim().to_ascii_lowercase();
            let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (digits, unit) = s.split_at(digits_end);
            let n: u32 = number(digits)?;
            match unit.trim() {
                "" | "m" | "min" | "mins" | "minute" | "minutes" | "minuten" => Some(n),
                "h" | "std" | "stunde" | "stunden" | "hour" | "hours" => n.checked_mul(60),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Formats a date the way responses carry it (`YYYY-MM-DD`).
pub fn format_date(date: Date) -> String {
    date.strftime("%Y-%m-%d").to_string()
}

/// Formats a time the way responses carry it (`HH:MM`).
pub fn format_time(time: Time) -> String {
    time.strftime("%H:%M").to_string()
}

fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use serde_json::json;

    #[test]
    fn dates_in_both_spellings() {
        assert_eq!(parse_date("2026-01-06"), Some(date(2026, 1, 6)));
        assert_eq!(parse_date("06.01.2026"), Some(date(2026, 1, 6)));
        assert_eq!(parse_date(" 6.1.2026 "), Some(date(2026, 1, 6)));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("06.01.26"), None);
        assert_eq!(parse_date("tomorrow"), None);
        assert_eq!(parse_date("2026-01-06-01"), None);
    }

    #[test]
    fn times_with_and_without_uhr() {
        assert_eq!(parse_time("14:30"), Some(time(14, 30, 0, 0)));
        assert_eq!(parse_time("14:30 Uhr"), Some(time(14, 30, 0, 0)));
        assert_eq!(parse_time("9:05"), Some(time(9, 5, 0, 0)));
        assert_eq!(parse_time("14.30"), Some(time(14, 30, 0, 0)));
        assert_eq!(parse_time("14 Uhr"), Some(time(14, 0, 0, 0)));
        assert_eq!(parse_time("14:30:00"), Some(time(14, 30, 0, 0)));
        assert_eq!(parse_time("14"), None);
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_time("14:3"), None);
        assert_eq!(parse_time("noon"), None);
    }

    #[test]
    fn durations_from_numbers_and_words() {
        assert_eq!(parse_duration_minutes(&json!(45)), Some(45));
        assert_eq!(parse_duration_minutes(&json!("30")), Some(30));
        assert_eq!(parse_duration_minutes(&json!("30 min")), Some(30));
        assert_eq!(parse_duration_minutes(&json!("1h")), Some(60));
        assert_eq!(parse_duration_minutes(&json!("90 Minuten")), Some(90));
        assert_eq!(parse_duration_minutes(&json!("lang")), None);
        assert_eq!(parse_duration_minutes(&json!(-5)), None);
    }
}
