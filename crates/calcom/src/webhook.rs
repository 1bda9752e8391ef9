//! Reading a Cal.com booking webhook for what it changed: which event type, which intervals
//! were taken and which were freed. Signature checks and deduplication are the gateway's job;
//! this module only interprets a body it is handed.

use jiff::Timestamp;
use serde_json::Value;

/// What one booking webhook says about availability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingChange {
    pub event_type: u64,
    /// Intervals now booked (a new booking, the new time of a reschedule).
    pub taken: Vec<(Timestamp, Timestamp)>,
    /// Intervals no longer booked (a cancellation, the old time of a reschedule).
    pub freed: Vec<(Timestamp, Timestamp)>,
}

/// The change a webhook body describes; `None` for triggers that do not affect availability
/// or bodies without an event type and times.
pub fn booking_change(body: &Value) -> Option<BookingChange> {
    let trigger = body.get("triggerEvent")?.as_str()?;
    let payload = body.get("payload")?;
    let event_type = payload.get("eventTypeId")?.as_u64()?;
    let interval = |start: &str, end: &str| -> Option<(Timestamp, Timestamp)> {
        let start = payload.get(start)?.as_str()?.parse::<Timestamp>().ok()?;
        let end = payload.get(end)?.as_str()?.parse::<Timestamp>().ok()?;
        (start <= end).then_some((start, end))
    };
    let current = interval("startTime", "endTime");
    let (taken, freed) = match trigger {
        // A pending (requested) booking holds its slot too.
        "BOOKING_CREATED" | "BOOKING_REQUESTED" => (current.into_iter().collect(), Vec::new()),
        "BOOKING_CANCELLED" | "BOOKING_REJECTED" => (Vec::new(), current.into_iter().collect()),
        "BOOKING_RESCHEDULED" => (
            current.into_iter().collect(),
            interval("rescheduleStartTime", "rescheduleEndTime")
                .into_iter()
                .collect(),
        ),
        _ => return None,
    };
    if taken.is_empty() && freed.is_empty() {
        return None;
    }
    Some(BookingChange {
        event_type,
        taken,
        freed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_other_triggers_and_garbage() {
        assert_eq!(booking_change(&Value::Null), None);
        let body = serde_json::json!({"triggerEvent":"MEETING_ENDED","payload":{"eventTypeId":1,
            "startTime":"2026-01-06T17:00:00Z","endTime":"2026-01-06T17:30:00Z"}});
        assert_eq!(booking_change(&body), None);
        let no_times =
            serde_json::json!({"triggerEvent":"BOOKING_CREATED","payload":{"eventTypeId":1}});
        assert_eq!(booking_change(&no_times), None);
    }
}
