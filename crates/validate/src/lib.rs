//! Declarative input validation and normalisation for frontdesk.
//!
//! What a voice agent heard and passed on is untrusted: names with HTML in them, misspelled
//! e-mail addresses, durations out of range. A policy declares named schemas ([`SchemaDef`],
//! parsed by the policy loader from YAML); [`Schema::compile`] checks each one once, at load
//! time; [`Schema::validate`] then turns a request's arguments into normalised values or the
//! complete list of [`FieldError`]s, which the gateway turns into a reply.
//!
//! This crate knows nothing of HTTP, routes or languages.
//!
//! ```
//! use frontdesk_validate::{Schema, SchemaDef};
//! let def: SchemaDef = serde_json::from_value(serde_json::json!({
//!     "fields": {
//!         "date": {"type": "date", "required": true},
//!         "duration": {"type": "integer", "min": 15, "max": 480, "default": 30}
//!     }
//! })).unwrap();
//! let schema = Schema::compile("check_availability", &def, std::path::Path::new(".")).unwrap();
//! let clean = schema.validate(&serde_json::json!({"date": "06.01.2026"})).unwrap();
//! assert_eq!(clean, serde_json::json!({"date": "2026-01-06", "duration": 30}));
//! ```

mod check;
mod compile;
mod contact;
mod def;
mod error;
mod html;
mod json_schema;
mod metrics;
mod normalize;
mod rules;
mod temporal;

pub use compile::Schema;
pub use contact::{e164, is_region, parse_phone, region_of};
pub use def::{FieldDef, FieldType, NormalizeStep, SchemaDef, UnknownFields};
pub use error::{
    ErrorCode, FieldError, ROOT_FIELD_LABEL, SchemaError, SchemaErrorKind, UNKNOWN_FIELD_LABEL,
};
pub use html::strip_html;
pub use metrics::record_failures;
pub use normalize::normalize;
pub use temporal::{parse_date, parse_time};
