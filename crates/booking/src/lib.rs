//! frontdesk booking engine: tenants, business hours, alternatives, calendars, idempotency
