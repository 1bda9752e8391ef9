//! The `config/tenants.yaml` model: what operators write, exactly as they write it.
//!
//! This module only describes the file (serde + JSON Schema). Checking it and turning it into
//! something requests can use is [`crate::directory`]'s job, so the file format and the compiled
//! form can evolve separately.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

/// The whole `tenants.yaml` file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantsFile {
    pub tenants: Vec<TenantConfig>,
}

impl TenantsFile {
    /// Parses the YAML text of a tenants file (structure only; see `TenantDirectory::compile`).
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }
}

/// One practice (company + branch) and how Retell traffic reaches it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Stable identifier used in logs and metrics.
    pub id: String,
    pub company_id: String,
    pub branch_id: String,
    /// Retell agent ids answering for this tenant.
    #[serde(default)]
    pub agent_ids: Vec<String>,
    /// Called numbers (E.164, e.g. `+4930123456`) that belong to this tenant.
    #[serde(default)]
    pub numbers: Vec<String>,
    /// The API key(s) of this practice's own Retell workspace, several during rotation. A
    /// request for this tenant verifies only with these; without them, with the policy's keys.
    /// Needed to pick the tenant from an unsigned header while other tenants share a key.
    #[serde(default)]
    pub retell_keys: Vec<frontdesk_secrets::SecretRef>,
    /// Country (ISO 3166 alpha-2, e.g. `DE`) in which national phone numbers are read; default:
    /// the country of the first of `numbers`.
    #[serde(default)]
    pub country: Option<String>,
    /// Forward the transcript fields of this practice's requests (the `kind: text` rules of a
    /// route's redaction profile) as spoken, without running the detectors over them. Off by
    /// default; takes effect only on routes whose tenant is decided from signed data. Logs are
    /// redacted regardless. See docs/redaction.md.
    #[serde(default)]
    pub raw_transcript: bool,
    pub calendar: CalendarConfig,
    /// Bookable services by name, each with its duration.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceConfig>,
    /// Duration used when neither a service nor a duration is given.
    #[serde(default = "default_duration", with = "humantime_serde")]
    #[schemars(with = "String")]
    pub default_duration: Duration,
    /// IANA time zone name.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    #[serde(default)]
    pub language: Language,
    /// Opening hours per weekday; when the whole block is absent: Monday–Friday 09:00–18:00.
    /// When present, a weekday that is not listed is closed.
    #[serde(default)]
    pub business_hours: Option<WeekHoursConfig>,
    /// Dates (`YYYY-MM-DD`) on which the practice is closed.
    #[serde(default)]
    pub closed_dates: Vec<String>,
    /// Distance between offered start times.
    #[serde(default = "default_granularity", with = "humantime_serde")]
    #[schemars(with = "String")]
    pub slot_granularity: Duration,
    /// How many alternatives an answer offers at most.
    #[serde(default = "default_max_alternatives")]
    pub max_alternatives: usize,
    /// How many days ahead the engine searches for free slots and alternatives.
    #[serde(default = "default_search_days")]
    pub search_days: u16,
    /// How many days ahead callers may book or ask; later dates are answered `invalid_input`
    /// with a sentence that says so.
    #[serde(default = "default_book_ahead_days")]
    pub book_ahead_days: u16,
    /// How many of a day's free times a date-only check lists in `slots` at most.
    #[serde(default = "default_max_slots")]
    pub max_slots: usize,
    /// How long a slot `check_availability` reports free stays kept for the asking call, so
    /// another call cannot take it while the caller gives their details; `0s` turns holds off.
    /// The call's booking takes it; a cancel, the end of the call or the time passing frees it.
    #[serde(default = "default_hold_for", with = "humantime_serde")]
    #[schemars(with = "String")]
    pub hold_for: Duration,
    /// Hold the alternatives a check offers too (each for `hold_for`), not only a free
    /// requested time.
    #[serde(default)]
    pub hold_alternatives: bool,
    /// Live holds the practice's calendar keeps at most, over all calls (the embedded
    /// calendar): past it, checks still answer but hold nothing, so prank calls cannot block
    /// the calendar.
    #[serde(default = "default_max_holds")]
    pub max_holds: u32,
    /// Where booking events of the embedded calendar are sent (signed per Standard Webhooks);
    /// without it none are recorded.
    #[serde(default)]
    pub notify: Option<NotifyConfig>,
    /// The practice's subscribable calendar feed (`/calendar/{id}/{token}.ics`); off without it.
    #[serde(default)]
    pub calendar_feed: Option<CalendarFeedConfig>,
}

/// `notify`: the practice's endpoint for booking events.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `https://…` (plain `http://` only for a loopback address).
    pub url: String,
    /// The signing secret (`whsec_` + base64), or a list of them during rotation: each event
    /// is signed with every one that is set.
    pub secret: SecretRefs,
    /// Attendee fields the events and the feed carry (`name`, `phone`, `email`, `notes`).
    #[serde(default = "default_notify_fields")]
    pub fields: Vec<AttendeeField>,
}

/// One secret or several (rotation).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SecretRefs {
    One(frontdesk_secrets::SecretRef),
    Many(Vec<frontdesk_secrets::SecretRef>),
}

impl SecretRefs {
    pub fn as_slice(&self) -> &[frontdesk_secrets::SecretRef] {
        match self {
            SecretRefs::One(one) => std::slice::from_ref(one),
            SecretRefs::Many(many) => many,
        }
    }
}

/// Attendee details a practice may receive about a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttendeeField {
    Name,
    Phone,
    Email,
    Notes,
}

/// `calendar_feed`: the secret token in the feed's address.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarFeedConfig {
    /// At least 32 characters; anyone who knows it can read the practice's appointments.
    pub token: frontdesk_secrets::SecretRef,
}

fn default_notify_fields() -> Vec<AttendeeField> {
    // The practice has to reach the patient: name and phone. E-mail and notes only on request.
    vec![AttendeeField::Name, AttendeeField::Phone]
}

/// The language answers are spoken in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    De,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::De => "de",
            Language::En => "en",
        }
    }
}

/// Which calendar holds the tenant's appointments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum CalendarConfig {
    /// The embedded SQLite calendar.
    Local(LocalCalendarConfig),
    /// Cal.com API v2.
    Calcom(CalcomCalendarConfig),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalCalendarConfig {
    /// Resources that can each hold one appointment at a time (rooms, practitioners).
    /// A slot is free while at least one resource is free.
    #[serde(default = "default_resources")]
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalcomCalendarConfig {
    /// Name of the environment variable that holds the tenant's Cal.com API key.
    pub api_key_env: String,
    /// Cal.com event type id per service name.
    pub event_types: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub duration: Duration,
}

/// Opening hours of one week; an absent day is closed.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeekHoursConfig {
    pub monday: Option<DayHoursConfig>,
    pub tuesday: Option<DayHoursConfig>,
    pub wednesday: Option<DayHoursConfig>,
    pub thursday: Option<DayHoursConfig>,
    pub friday: Option<DayHoursConfig>,
    pub saturday: Option<DayHoursConfig>,
    pub sunday: Option<DayHoursConfig>,
}

impl WeekHoursConfig {
    /// The days in Monday-first order with their YAML field names.
    pub fn days(&self) -> [(&'static str, Option<&DayHoursConfig>); 7] {
        [
            ("monday", self.monday.as_ref()),
            ("tuesday", self.tuesday.as_ref()),
            ("wednesday", self.wednesday.as_ref()),
            ("thursday", self.thursday.as_ref()),
            ("friday", self.friday.as_ref()),
            ("saturday", self.saturday.as_ref()),
            ("sunday", self.sunday.as_ref()),
        ]
    }
}

/// `open`/`close` as `HH:MM` in the tenant's time zone.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayHoursConfig {
    pub open: String,
    pub close: String,
}

fn default_duration() -> Duration {
    Duration::from_secs(30 * 60)
}

fn default_time_zone() -> String {
    "Europe/Berlin".to_owned()
}

fn default_granularity() -> Duration {
    // 15 minutes: the finest grid callers name in practice ("viertel nach"), and coarse enough
    // that a day's list of free times stays speakable.
    Duration::from_secs(15 * 60)
}

fn default_max_alternatives() -> usize {
    3
}

fn default_search_days() -> u16 {
    14
}

fn default_book_ahead_days() -> u16 {
    365
}

fn default_max_slots() -> usize {
    48
}

fn default_max_holds() -> u32 {
    20
}

fn default_hold_for() -> Duration {
    Duration::from_secs(5 * 60)
}

fn default_resources() -> Vec<String> {
    vec!["default".to_owned()]
}
