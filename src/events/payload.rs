//! The JSON body of a booking event (schema in docs/booking.md): the Standard Webhooks
//! envelope `{type, timestamp, data}`, times in the tenant's zone with their offset, attendee
//! details only as far as the tenant's `notify.fields` allows.

use frontdesk_booking::local::events::OutboxEvent;
use frontdesk_booking::tenants::AttendeeField;
use frontdesk_booking::{BookingStatus, Tenant};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

pub fn body(tenant: &Tenant, event: &OutboxEvent) -> Vec<u8> {
    let local = |ms: i64| {
        Timestamp::from_millisecond(ms)
            .map(|t| {
                t.display_with_offset(tenant.time_zone.to_offset(t))
                    .to_string()
            })
            .unwrap_or_default()
    };
    let mut attendee = Map::new();
    let a = &event.attendee;
    for (field, key, value) in [
        (AttendeeField::Name, "name", &a.name),
        (AttendeeField::Phone, "phone", &a.phone),
        (AttendeeField::Email, "email", &a.email),
        (AttendeeField::Notes, "notes", &a.notes),
    ] {
        if tenant.allows(field) {
            attendee.insert(key.into(), value.clone().map_or(Value::Null, Value::String));
        }
    }
    let created = Timestamp::from_millisecond(event.created_ms)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let value = json!({
        "type": event.kind.as_str(),
        "timestamp": created,
        "data": {
            "tenant": tenant.id,
            "sequence": event.seq,
            "booking": {
                "uid": event.booking_uid,
                "start": local(event.start_ms),
                "end": local(event.end_ms),
                "time_zone": tenant.time_zone.iana_name(),
                "service": event.service,
                "status": match event.status {
                    BookingStatus::Cancelled => "cancelled",
                    _ => "accepted",
                },
                "attendee": attendee,
            },
        },
    });
    serde_json::to_vec(&value).unwrap_or_default()
}
