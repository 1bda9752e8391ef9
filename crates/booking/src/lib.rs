//! frontdesk booking engine: tenants, business hours, alternatives, calendars, idempotency.
//!
//! The request path through this crate:
//! [`TenantDirectory::resolve`] (which practice is this call for) →
//! [`Engine::call`] (parse arguments, idempotency, dispatch) → a [`CalendarProvider`]
//! ([`LocalCalendar`] here; Cal.com and a slot cache plug in behind the same trait) →
//! business hours and the alternative finder → a reply with a sentence from [`Messages`].
//!
//! Module map:
//! - [`tenants`] — the `tenants.yaml` model; [`directory`] — compiled tenants and lookup;
//! - [`hours`] — business hours and adjustment; [`alternatives`] — what to offer instead;
//! - [`provider`] — the calendar trait; [`local`] — the embedded calendar (SQLite, PostgreSQL);
//! - [`args`] / [`parse`] — lenient argument parsing; [`messages`] — the catalogue;
//! - [`idempotency`] — run-once for writes; [`engine`] — the entry point.

#![forbid(unsafe_code)]

pub mod alternatives;
pub mod args;
mod call;
pub mod directory;
pub mod engine;
mod functions;
pub mod hours;
pub mod idempotency;
pub mod local;
pub mod messages;
mod metrics;
pub use metrics::{HoldEvent, count_holds};
pub mod parse;
pub mod provider;
pub mod tenants;

pub use directory::{Tenant, TenantConfigError, TenantDirectory, TenantScope};
pub use engine::{CallContext, Engine, EngineError, Function, ProviderKind};
pub use hours::{AdjustReason, BusinessHours, Placement};
pub use local::{
    CalendarBackend, CalendarStoreConfig, LocalCalendar, LocalCalendarError, PostgresError,
};
pub use messages::{MessageKey, Messages};
pub use provider::{
    Attendee, Booking, BookingStatus, CalendarError, CalendarProvider, ContactQuery, HoldOutcome,
    HoldRequest, NewBooking, Slot, SlotQuery,
};
pub use tenants::{Language, TenantsFile};
