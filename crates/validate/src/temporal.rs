//! Parsing of the `date`, `time` and `datetime` field types into their canonical spellings.
//! Each function takes already-trimmed text and returns `None` when it is not acceptable.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::fmt::temporal::Pieces;
use jiff::tz::{Offset, TimeZone};

/// `YYYY-MM-DD` or `D.M.YYYY`/`DD.MM.YYYY` (German spoken-date transcription), calendar-valid,
/// as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<String> {
    let (year, month, day) = if let Some((y, m, d)) = split3(text, '-') {
        (
            fixed_digits(y, 4)?,
            fixed_digits(m, 2)?,
            fixed_digits(d, 2)?,
        )
    } else {
        let (d, m, y) = split3(text.strip_suffix('.').unwrap_or(text), '.')?;
        (fixed_digits(y, 4)?, short_digits(m)?, short_digits(d)?)
    };
    // Only checks that the day exists.
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()?;
    let mut out = String::with_capacity(10);
    push_padded(&mut out, year, 4);
    out.push('-');
    push_padded(&mut out, month, 2);
    out.push('-');
    push_padded(&mut out, day, 2);
    Some(out)
}

/// `HH:MM`, `H:MM`, `HH:MM:00`, `14.30`, each optionally followed by `Uhr`, or `14 Uhr`, as
/// `HH:MM` (24 h). A bare `14` is refused: without `Uhr` it may be a duration or a day.
pub fn parse_time(text: &str) -> Option<String> {
    let (clock, has_uhr) = match strip_suffix_ignore_case(text, "uhr") {
        Some(rest) => (rest.trim_end(), true),
        None => (text, false),
    };
    let (hour, minute) = if let Some((h, m)) = clock.split_once(':') {
        // Seconds are tolerated only when zero: a booking time has minute precision.
        let m = match m.split_once(':') {
            Some((m, "00")) => m,
            Some(_) => return None,
            None => m,
        };
        (short_digits(h)?, fixed_digits(m, 2)?)
    } else if let Some((h, m)) = clock.split_once('.') {
        (short_digits(h)?, fixed_digits(m, 2)?)
    } else if has_uhr {
        (short_digits(clock)?, 0)
    } else {
        return None;
    };
    (hour <= 23 && minute <= 59).then(|| {
        let mut out = String::with_capacity(5);
        push_padded(&mut out, hour, 2);
        out.push(':');
        push_padded(&mut out, minute, 2);
        out
    })
}

/// Appends the last `width` decimal digits of `value`, zero-padded. Hand-written because these
/// run on every validated request and `format!("{:02}")` costs about a thousand instructions.
fn push_padded(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u32.pow(place) % 10) as u8;
        out.push(char::from(b'0' + digit));
    }
}

/// RFC 3339 date-time with an offset (`Z` or `±HH:MM`), as `YYYY-MM-DDTHH:MM:SS` plus the
/// caller's offset (`Z` for UTC). Sub-second precision is dropped: bookings are per minute.
pub fn parse_datetime(text: &str) -> Option<String> {
    let timestamp: Timestamp = text.parse().ok()?;
    let offset = Pieces::parse(text).ok()?.to_numeric_offset()?;
    let seconds = Timestamp::from_second(timestamp.as_second()).ok()?;
    if offset == Offset::UTC {
        return Some(seconds.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    Some(
        seconds
            .to_zoned_datetime(TimeZone::fixed(offset))
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
    )
}

fn split3(text: &str, separator: char) -> Option<(&str, &str, &str)> {
    let mut parts = text.split(separator);
    let triple = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some(triple)
}

fn fixed_digits(text: &str, len: usize) -> Option<u32> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// One or two ASCII digits.
fn short_digits(text: &str) -> Option<u32> {
    ((1..=2).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn strip_suffix_ignore_case<'t>(text: &'t str, suffix: &str) -> Option<&'t str> {
    let split = text.len().checked_sub(suffix.len())?;
    let tail = text.get(split..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &text[..split])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-01-06").as_deref(), Some("2026-01-06"));
        assert_eq!(parse_date("6.1.2026").as_deref(), Some("2026-01-06"));
        assert_eq!(parse_date("06.01.2026").as_deref(), Some("2026-01-06"));
        assert_eq!(parse_date("29.02.2028").as_deref(), Some("2028-02-29"));
        assert_eq!(parse_date("5.3.0042").as_deref(), Some("0042-03-05"));
        for bad in [
            "2026-02-30",
            "2026-1-6",
            "31.04.2026",
            "2026/01/06",
            "06.01.26",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn padding_spells_as_format_does() {
        for value in [0, 7, 10, 42, 99, 100, 999, 2026, 9999] {
            for width in [2, 4] {
                let mut out = String::new();
                push_padded(&mut out, value, width);
                let want = format!("{value:0w$}", w = width as usize);
                assert_eq!(out, want[want.len() - width as usize..], "{value} {width}");
            }
        }
    }

    #[test]
    fn times() {
        for (input, want) in [
            ("14:30", "14:30"),
            ("9:05", "09:05"),
            ("14:30 Uhr", "14:30"),
            ("14 Uhr", "14:00"),
            ("14uhr", "14:00"),
            ("14.30", "14:30"),
            ("14:30:00", "14:30"),
            ("00:00", "00:00"),
        ] {
            assert_eq!(parse_time(input).as_deref(), Some(want), "{input}");
        }
        for bad in [
            "24:00", "12:60", "14", "14:3", "14:30:15", "Uhr", "ab:cd", "1430",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetimes() {
        assert_eq!(
            parse_datetime("2026-01-06T17:00:00Z").as_deref(),
            Some("2026-01-06T17:00:00Z")
        );
        assert_eq!(
            parse_datetime("2026-01-06T10:00:00.123+01:00").as_deref(),
            Some("2026-01-06T10:00:00+01:00")
        );
        for bad in [
            "2026-01-06T17:00:00",
            "2026-01-06",
            "2026-13-06T17:00:00Z",
            "x",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }
}
