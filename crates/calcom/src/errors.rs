//! The one table that turns a Cal.com answer (or the lack of one) into a [`CalendarError`].
//!
//! | answer | operation | becomes | the caller hears |
//! |---|---|---|---|
//! | 400, 409 or 422 saying the slot is taken ("already has booking", "not available", "already reserved", "someone else reserved", a conflict) | any | `SlotTaken` | `slot_unavailable` + alternatives |
//! | 409, anything else | any | `SlotTaken` | `slot_unavailable` + alternatives |
//! | 400 / 422, anything else (booking window, past start, validation) | any | `Rejected` | `slot_unavailable` + alternatives |
//! | 401 / 403 | any | `Unauthorized` (+ error log without the key, `kind="unauthorized"`) | `configuration_error` |
//! | 404 | slots, create, reserve | `Config` (the tenant's event type does not exist) | `configuration_error` |
//! | 404 | get / cancel / reschedule / list / update or delete a reservation | `NotFound` | `not_found` (a reservation: already gone) |
//! | 429 | any | `RateLimited` until `X-RateLimit-Reset-Default` seconds | `calendar_unavailable` (busy) |
//! | 5xx, timeout, connection error, unreadable 2xx body | any | `Unavailable` | `calendar_unavailable` |
//! | breaker open | any | `Unavailable` (without touching Cal.com) | `calendar_unavailable` |
//! | other status | any | `Rejected` | `slot_unavailable` |
//!
//! Error texts are fixed strings: Cal.com's messages can echo request values (names, e-mail
//! addresses), so none of their text ever reaches a log line or a reply.

use std::time::Duration;

use frontdesk_booking::CalendarError;

/// Which Cal.com call failed; a 404 means different things for different calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Slots,
    Create,
    GetBooking,
    Cancel,
    Reschedule,
    ListBookings,
    /// `POST /v2/slots/reservations`.
    Reserve,
    /// `PATCH /v2/slots/reservations/{uid}`.
    ExtendReservation,
    /// `DELETE /v2/slots/reservations/{uid}`.
    DeleteReservation,
}

impl Operation {
    /// A bounded label for logs.
    pub fn label(self) -> &'static str {
        match self {
            Operation::Slots => "slots",
            Operation::Create => "create_booking",
            Operation::GetBooking => "get_booking",
            Operation::Cancel => "cancel_booking",
            Operation::Reschedule => "reschedule_booking",
            Operation::ListBookings => "list_bookings",
            Operation::Reserve => "reserve_slot",
            Operation::ExtendReservation => "extend_reservation",
            Operation::DeleteReservation => "delete_reservation",
        }
    }
}

/// What went wrong with the transport itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Timeout,
    Connect,
    /// The answer arrived but could not be read or parsed.
    Body,
}

/// Maps an HTTP error answer. `message` is Cal.com's `error.message` (only matched, never
/// repeated); `reset` is `X-RateLimit-Reset-Default` already parsed.
pub fn from_status(
    operation: Operation,
    status: u16,
    message: &str,
    reset: Option<Duration>,
    fallback_wait: Duration,
) -> CalendarError {
    match status {
        400 | 409 | 422 if says_slot_taken(message) => CalendarError::SlotTaken,
        409 => CalendarError::SlotTaken,
        400 | 422 => CalendarError::Rejected("Cal.com refused the request".into()),
        401 | 403 => CalendarError::Unauthorized,
        404 => match operation {
            Operation::Slots | Operation::Create | Operation::Reserve => {
                CalendarError::Config("Cal.com does not know the tenant's event type".into())
            }
            _ => CalendarError::NotFound,
        },
        429 => CalendarError::RateLimited {
            retry_after: Some(reset.unwrap_or(fallback_wait)),
        },
        500..=599 => CalendarError::Unavailable(format!("Cal.com answered {status}")),
        _ => CalendarError::Rejected(format!("Cal.com answered {status}")),
    }
}

/// Maps a failed exchange that produced no usable answer.
pub fn from_transport(transport: Transport) -> CalendarError {
    CalendarError::Unavailable(
        match transport {
            Transport::Timeout => "Cal.com did not answer in time",
            Transport::Connect => "Cal.com could not be reached",
            Transport::Body => "Cal.com sent an unreadable answer",
        }
        .into(),
    )
}

/// The breaker refused the call: Cal.com is not touched.
pub fn breaker_open() -> CalendarError {
    CalendarError::Unavailable("Cal.com circuit breaker is open".into())
}

/// The metric `kind` of an error (bounded set).
pub fn kind(error: &CalendarError) -> &'static str {
    match error {
        CalendarError::SlotTaken => "slot_taken",
        CalendarError::NotFound => "not_found",
        CalendarError::Unauthorized => "unauthorized",
        CalendarError::RateLimited { .. } => "rate_limited",
        CalendarError::Unavailable(_) => "unavailable",
        CalendarError::Config(_) => "config",
        CalendarError::Rejected(_) => "rejected",
    }
}

/// Cal.com reports a conflict as 400 or 409 depending on code path and version; its texts
/// ("User either already has booking at this time or is not available", "One of the hosts
/// either already has booking…", `no_available_users_found_error`, booking conflicts) are
/// matched loosely. A reservation refused because the slot is booked or reserved is a 422
/// ("Can't reserve a slot if the event is already booked.", "This time slot is already reserved
/// by another user…"); a booking of a slot someone else reserved is a 400 or 409 ("Someone else
/// reserved this booking time slot before you…").
fn says_slot_taken(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "already has booking",
        "not available",
        "no_available_users",
        "no available users",
        "booking conflict",
        "bookingconflict",
        "seats full",
        "already exists",
        "already booked",
        "already reserved",
        "someone else reserved",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Parses `X-RateLimit-Reset-Default`: seconds until the window resets (Cal.com's throttler
/// sends seconds; an epoch-looking value is treated as an epoch for robustness).
pub fn parse_reset(value: &str, now_unix_secs: u64) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    // Anything beyond a day cannot be "seconds until reset"; it is a Unix timestamp.
    let secs = if secs > 86_400.0 {
        let epoch = secs as u64;
        epoch.saturating_sub(now_unix_secs) as f64
    } else {
        secs
    };
    Some(Duration::from_secs_f64(secs.max(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(60);

    #[test]
    fn slot_taken_by_message_or_409() {
        let msg = "User either already has booking at this time or is not available";
        assert_eq!(
            from_status(Operation::Create, 400, msg, None, WAIT),
            CalendarError::SlotTaken
        );
        assert_eq!(
            from_status(Operation::Create, 409, "whatever", None, WAIT),
            CalendarError::SlotTaken
        );
        assert!(matches!(
            from_status(
                Operation::Create,
                400,
                "Attempting to book a meeting in the past.",
                None,
                WAIT
            ),
            CalendarError::Rejected(_)
        ));
    }

    #[test]
    fn reservation_conflicts_are_slot_taken() {
        for (op, status, msg) in [
            (
                Operation::Reserve,
                422,
                "This time slot is already reserved by another user. Please choose a different time.",
            ),
            (
                Operation::Reserve,
                422,
                "Can't reserve a slot if the event is already booked.",
            ),
            (
                Operation::Create,
                400,
                "Someone else reserved this booking time slot before you. This time slot will be freed up in 212 seconds.",
            ),
            (
                Operation::Reschedule,
                409,
                "Someone else reserved this booking time slot before you. This time slot will be freed up in 5 seconds.",
            ),
        ] {
            assert_eq!(
                from_status(op, status, msg, None, WAIT),
                CalendarError::SlotTaken,
                "{msg}"
            );
        }
        assert!(matches!(
            from_status(Operation::Reserve, 422, "Invalid request", None, WAIT),
            CalendarError::Rejected(_)
        ));
        assert_eq!(
            from_status(Operation::DeleteReservation, 404, "", None, WAIT),
            CalendarError::NotFound
        );
    }

    #[test]
    fn not_found_depends_on_operation() {
        assert_eq!(
            from_status(Operation::Cancel, 404, "", None, WAIT),
            CalendarError::NotFound
        );
        assert!(matches!(
            from_status(Operation::Slots, 404, "", None, WAIT),
            CalendarError::Config(_)
        ));
    }

    #[test]
    fn reset_header_seconds_and_epoch() {
        assert_eq!(parse_reset("7", 0), Some(Duration::from_secs(7)));
        assert_eq!(parse_reset("0", 0), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_reset("1767355260", 1_767_355_200),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_reset("soon", 0), None);
        assert_eq!(
            from_status(Operation::Slots, 429, "", None, WAIT),
            CalendarError::RateLimited {
                retry_after: Some(WAIT)
            }
        );
    }
}
