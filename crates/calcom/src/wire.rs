//! Cal.com API v2 wire shapes: the request bodies we send, the envelopes we read, and the
//! `cal-api-version` of each endpoint. Shared by the client and the fake server, so both speak
//! exactly one dialect.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `cal-api-version` of `GET /v2/slots` and of `/v2/slots/reservations`.
pub const SLOTS_API_VERSION: &str = "2024-09-04";
/// `cal-api-version` of every `/v2/bookings` endpoint: Cal.com's current version for bookings.
/// It reads the same bodies as `2024-08-13` and answers the same booking shape (a cancelled
/// seated booking also lists its attendees); [`WireBooking`] decodes both.
pub const BOOKINGS_API_VERSION: &str = "2026-02-25";
/// The bookings version before [`BOOKINGS_API_VERSION`], whose answers are still decoded.
pub const BOOKINGS_API_VERSION_2024: &str = "2024-08-13";
pub const API_VERSION_HEADER: &str = "cal-api-version";
/// The throttler's reset header: seconds until the window resets.
pub const RATE_LIMIT_RESET_HEADER: &str = "x-ratelimit-reset-default";
/// The throttler's remaining header: requests left in the key's window.
pub const RATE_LIMIT_REMAINING_HEADER: &str = "x-ratelimit-remaining-default";
/// The throttler's limit header: requests per window for the key.
pub const RATE_LIMIT_LIMIT_HEADER: &str = "x-ratelimit-limit-default";

/// `{"status":"success","data":…}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub status: String,
    pub data: T,
}

/// One slot of `format=time`: `{"start": "2026-01-06T09:00:00.000-08:00"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireSlot {
    pub start: String,
}

/// `data` of `GET /v2/slots`: slots by date (`{}` when there are none).
pub type SlotsByDate = BTreeMap<String, Vec<WireSlot>>;

/// `POST /v2/bookings` body.
/// The metadata key under which a booking's Retell call id is kept.
pub const CALL_ID_METADATA: &str = "frontdesk_call_id";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBookingBody {
    /// ISO 8601 in UTC.
    pub start: String,
    pub event_type_id: u64,
    pub attendee: WireAttendeeInput,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_in_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_fields_responses: Option<BTreeMap<String, String>>,
    /// Free key-value data kept with the booking (Cal.com: at most 50 keys, values up to 500
    /// characters); frontdesk keeps the Retell call id here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// The reservation (`POST /v2/slots/reservations`) this booking takes: Cal.com lets the
    /// booking through a slot it reserved and deletes the reservation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_slot_uid: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAttendeeInput {
    pub name: String,
    pub time_zone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    pub language: String,
}

/// `POST /v2/bookings/{uid}/cancel` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
}

/// `POST /v2/bookings/{uid}/reschedule` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RescheduleBody {
    /// ISO 8601 in UTC.
    pub start: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescheduling_reason: Option<String>,
    /// As in [`CreateBookingBody::reserved_slot_uid`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_slot_uid: Option<String>,
}

/// `POST /v2/slots/reservations` and `PATCH /v2/slots/reservations/{uid}` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveSlotBody {
    pub event_type_id: u64,
    /// ISO 8601 in UTC.
    pub slot_start: String,
    /// Minutes; only for event types with several lengths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_duration: Option<u32>,
    /// Minutes the slot stays reserved (Cal.com's default is 5; authenticated requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_duration: Option<u32>,
}

/// The parts of a reservation answer (create, update, get) we read. Cal.com sends the slot
/// back too (`eventTypeId`, `slotStart`, `slotEnd`, `slotDuration`, `reservationDuration`); its
/// own description's example has `slotDuration` as a string, so those are not decoded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireReservation {
    pub reservation_uid: String,
    /// ISO 8601 in UTC: when the reservation lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_until: Option<String>,
}

/// The parts of a v2 booking we read (Cal.com sends many more).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireBooking {
    pub id: u64,
    pub uid: String,
    /// `accepted`, `pending`, `cancelled`, `rejected`.
    pub status: String,
    pub start: String,
    pub end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<WireEventType>,
    #[serde(default)]
    pub attendees: Vec<WireAttendee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescheduled_from_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

impl WireBooking {
    /// The Retell call that made the booking, as frontdesk recorded it in the metadata.
    pub fn call_id(&self) -> Option<String> {
        self.metadata
            .as_ref()?
            .get(CALL_ID_METADATA)?
            .as_str()
            .map(str::to_owned)
    }

    pub fn event_type(&self) -> Option<u64> {
        self.event_type
            .as_ref()
            .map(|e| e.id)
            .or(self.event_type_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEventType {
    pub id: u64,
    #[serde(default)]
    pub slug: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAttendee {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub time_zone: String,
}

/// `{"status":"error","error":{"code","message",…}}`; only `message` is read (and only matched).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
}

/// `data` of a booking answer: one booking, or the occurrences of a recurring one.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(Box<WireBooking>),
    Many(Vec<WireBooking>),
}

impl OneOrMany {
    /// The booking itself, or the first occurrence of a recurring booking.
    pub fn first(self) -> Option<WireBooking> {
        match self {
            OneOrMany::One(b) => Some(*b),
            OneOrMany::Many(v) => v.into_iter().next(),
        }
    }
}
