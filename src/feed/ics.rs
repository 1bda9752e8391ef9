//! RFC 5545 text for a practice's calendar: one `VEVENT` per booking, times in the tenant's
//! zone with a `VTIMEZONE` listing every offset change over the feed's span (explicit
//! observances rather than RRULEs: exact for any zone jiff knows, whatever its history).
//! Hand-written because the Rust iCalendar crates do not derive a VTIMEZONE from tz data; the
//! format is a few line rules, and the test parses the result with an independent parser.

use std::fmt::Write;

use frontdesk_booking::local::events::ListedBooking;
use frontdesk_booking::tenants::AttendeeField;
use frontdesk_booking::{BookingStatus, Language, Tenant};
use jiff::tz::{Dst, Offset};
use jiff::{SignedDuration, Timestamp};

/// The whole calendar. Deterministic for the same bookings (no "now" in it), so its hash is an
/// ETag that only changes when a booking does.
pub fn calendar(tenant: &Tenant, bookings: &[ListedBooking], from_ms: i64, to_ms: i64) -> String {
    let mut out = String::new();
    let tzid = tenant.time_zone.iana_name().unwrap_or("UTC").to_owned();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//frontdesk//booking feed//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(&tenant.id)));
    line(&mut out, &format!("X-WR-TIMEZONE:{tzid}"));
    timezone(&mut out, tenant, &tzid, from_ms, to_ms);
    for b in bookings {
        event(&mut out, tenant, &tzid, b);
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn timezone(out: &mut String, tenant: &Tenant, tzid: &str, from_ms: i64, to_ms: i64) {
    let tz = &tenant.time_zone;
    let from = Timestamp::from_millisecond(from_ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let to = Timestamp::from_millisecond(to_ms).unwrap_or(Timestamp::UNIX_EPOCH);
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{tzid}"));
    // The offset in force at the feed's start, then every change until its end.
    let info = tz.to_offset_info(from);
    let (start_offset, start_dst, start_abbr) = (info.offset(), info.dst(), info.abbreviation());
    let before = tz
        .preceding(from)
        .next()
        .map(|t| {
            (
                t.timestamp(),
                tz.to_offset(
                    t.timestamp()
                        .checked_sub(SignedDuration::from_secs(1))
                        .unwrap_or(t.timestamp()),
                ),
            )
        })
        .unwrap_or((Timestamp::UNIX_EPOCH, start_offset));
    observance(out, before.0, before.1, start_offset, start_dst, start_abbr);
    let mut previous = start_offset;
    for t in tz.following(from) {
        if t.timestamp() > to {
            break;
        }
        observance(
            out,
            t.timestamp(),
            previous,
            t.offset(),
            t.dst(),
            t.abbreviation(),
        );
        previous = t.offset();
    }
    line(out, "END:VTIMEZONE");
}

fn observance(out: &mut String, at: Timestamp, from: Offset, to: Offset, dst: Dst, name: &str) {
    let kind = if dst.is_dst() { "DAYLIGHT" } else { "STANDARD" };
    line(out, &format!("BEGIN:{kind}"));
    // Local time in the offset before the change (RFC 5545 §3.6.5).
    line(
        out,
        &format!("DTSTART:{}", from.to_datetime(at).strftime("%Y%m%dT%H%M%S")),
    );
    line(out, &format!("TZOFFSETFROM:{}", offset(from)));
    line(out, &format!("TZOFFSETTO:{}", offset(to)));
    if !name.is_empty() {
        line(out, &format!("TZNAME:{}", text(name)));
    }
    line(out, &format!("END:{kind}"));
}

fn offset(o: Offset) -> String {
    let secs = o.seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!("{sign}{:02}{:02}", abs / 3600, (abs % 3600) / 60)
}

fn event(out: &mut String, tenant: &Tenant, tzid: &str, b: &ListedBooking) {
    let local = |ms: i64| {
        let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
        tenant
            .time_zone
            .to_datetime(ts)
            .strftime("%Y%m%dT%H%M%S")
            .to_string()
    };
    let utc = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string()
    };
    let service = b.service.clone().unwrap_or_else(|| match tenant.language {
        Language::De => "Termin".to_owned(),
        Language::En => "Appointment".to_owned(),
    });
    let name = b
        .attendee
        .name
        .as_ref()
        .filter(|_| tenant.allows(AttendeeField::Name));
    let summary = match name {
        Some(name) => format!("{service}: {name}"),
        None => service,
    };
    let mut details = Vec::new();
    for (field, label, value) in [
        (AttendeeField::Phone, "Tel", &b.attendee.phone),
        (AttendeeField::Email, "E-Mail", &b.attendee.email),
        (AttendeeField::Notes, "Notes", &b.attendee.notes),
    ] {
        if let Some(value) = value.as_ref().filter(|_| tenant.allows(field)) {
            details.push(format!("{label}: {value}"));
        }
    }
    line(out, "BEGIN:VEVENT");
    line(out, &format!("UID:{}@frontdesk", b.uid));
    // The last change, not the moment of the request: the text stays the same until a booking
    // changes, so clients and the ETag see no false updates.
    line(out, &format!("DTSTAMP:{}", utc(b.updated_ms)));
    line(out, &format!("LAST-MODIFIED:{}", utc(b.updated_ms)));
    line(out, &format!("CREATED:{}", utc(b.created_ms)));
    line(out, &format!("DTSTART;TZID={tzid}:{}", local(b.start_ms)));
    line(out, &format!("DTEND;TZID={tzid}:{}", local(b.end_ms)));
    line(out, &format!("SUMMARY:{}", text(&summary)));
    if !details.is_empty() {
        line(out, &format!("DESCRIPTION:{}", text(&details.join("\n"))));
    }
    let status = match b.status {
        BookingStatus::Cancelled => "CANCELLED",
        _ => "CONFIRMED",
    };
    line(out, &format!("STATUS:{status}"));
    line(out, "TRANSP:OPAQUE");
    line(out, "END:VEVENT");
}

/// TEXT value escaping (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded at 75 octets without splitting a character (§3.1), CRLF-ended.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    let _ = out.write_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_on_character_boundaries() {
        let mut out = String::new();
        line(&mut out, &format!("SUMMARY:{}", "ä".repeat(60)));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{l}");
        }
        assert_eq!(
            out.replace("\r\n ", "").trim_end(),
            format!("SUMMARY:{}", "ä".repeat(60))
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
