//! Which Cal.com event type serves a request: the one thing both the client and the cache must
//! decide identically (the cache key names the event type the client will ask for).

use frontdesk_booking::tenants::{CalcomCalendarConfig, CalendarConfig};
use frontdesk_booking::{CalendarError, Tenant};

/// The tenant's Cal.com settings, or a configuration error for a non-Cal.com tenant.
pub fn calcom_config(tenant: &Tenant) -> Result<&CalcomCalendarConfig, CalendarError> {
    match &tenant.calendar {
        CalendarConfig::Calcom(cfg) => Ok(cfg),
        CalendarConfig::Local(_) => {
            Err(CalendarError::Config("tenant does not use Cal.com".into()))
        }
    }
}

/// The event type for `service`. Without a service: the event type whose service lasts
/// `duration_min`, else the first one by service name (the tenant file lists at least one).
pub fn resolve(
    tenant: &Tenant,
    service: Option<&str>,
    duration_min: u32,
) -> Result<u64, CalendarError> {
    let cfg = calcom_config(tenant)?;
    if let Some(service) = service {
        return cfg
            .event_types
            .get(service)
            .copied()
            .ok_or_else(|| CalendarError::Config("service has no Cal.com event type".into()));
    }
    let by_duration = cfg
        .event_types
        .iter()
        .find(|(name, _)| tenant.services.get(name.as_str()) == Some(&duration_min));
    by_duration
        .or_else(|| cfg.event_types.iter().next())
        .map(|(_, id)| *id)
        .ok_or_else(|| CalendarError::Config("tenant has no Cal.com event type".into()))
}

/// Whether `duration_min` differs from the event type's own length, so Cal.com must be told
/// (`duration` on slots, `lengthInMinutes` on bookings).
pub fn needs_explicit_duration(tenant: &Tenant, event_type: u64, duration_min: u32) -> bool {
    let Ok(cfg) = calcom_config(tenant) else {
        return false;
    };
    let service_minutes = cfg
        .event_types
        .iter()
        .find(|(_, id)| **id == event_type)
        .and_then(|(name, _)| tenant.services.get(name.as_str()));
    service_minutes != Some(&duration_min)
}

/// The service name an event type belongs to (for [`frontdesk_booking::Booking::service`]).
pub fn service_of(tenant: &Tenant, event_type: u64) -> Option<String> {
    calcom_config(tenant).ok().and_then(|cfg| {
        cfg.event_types
            .iter()
            .find(|(_, id)| **id == event_type)
            .map(|(name, _)| name.clone())
    })
}
