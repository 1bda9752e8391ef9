//! The compiled tenant directory: every tenant checked once at load, then looked up per request
//! by Retell agent id and/or called number.
//!
//! Compilation collects every problem (with the YAML path of the field) instead of stopping at
//! the first, so `frontdesk check` can list them all; nothing it accepts can fail later for a
//! configuration reason.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::hours::{BusinessHours, DayHours};
use crate::parse::{parse_date, parse_time};
use crate::tenants::{
    AttendeeField, CalendarConfig, CalendarFeedConfig, Language, NotifyConfig, TenantConfig,
    TenantsFile,
};

/// Appointment lengths the engine accepts (SPEC: 15–480 minutes).
pub const MIN_DURATION_MIN: u32 = 15;
pub const MAX_DURATION_MIN: u32 = 480;

/// One problem in the tenants file, with the path of the field (`tenants[0].time_zone`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TenantConfigError {
    pub path: String,
    pub message: String,
}

/// The storage identity of a tenant. Every stored or cached item is keyed by both parts, and
/// this type is the only way the engine and providers name a tenant's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantScope {
    pub company_id: String,
    pub branch_id: String,
}

impl TenantScope {
    /// `company:branch`, unambiguous because ids may not contain `:` (checked at compile).
    pub fn key(&self) -> String {
        format!("{}:{}", self.company_id, self.branch_id)
    }
}

/// A tenant ready for requests: time zone resolved, hours parsed, durations in minutes.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub scope: TenantScope,
    pub calendar: CalendarConfig,
    /// Service name → duration in minutes.
    pub services: BTreeMap<String, u32>,
    pub default_duration_min: u32,
    pub time_zone: TimeZone,
    pub language: Language,
    pub hours: BusinessHours,
    pub granularity_min: u32,
    pub max_alternatives: usize,
    pub search_days: u16,
    pub book_ahead_days: u16,
    pub max_slots: usize,
    /// How long a free slot is kept for the asking call (zero: never).
    pub hold_for: std::time::Duration,
    pub hold_alternatives: bool,
    pub max_holds: u32,
    /// The tenant's own Retell keys, unresolved (the gateway reads and compiles them).
    pub retell_keys: Vec<frontdesk_secrets::SecretRef>,
    /// Region national phone numbers are read in (see [`Tenant::phone`]).
    pub country: Option<String>,
    /// Forward transcript fields (`kind: text` rules) as spoken, unredacted.
    pub raw_transcript: bool,
    /// Booking events' endpoint (secrets unresolved; the gateway reads them).
    pub notify: Option<NotifyConfig>,
    /// The calendar feed's token (unresolved).
    pub calendar_feed: Option<CalendarFeedConfig>,
}

impl Tenant {
    /// Whether booking events are recorded for this tenant.
    pub fn notifies(&self) -> bool {
        self.notify.is_some() && matches!(self.calendar, CalendarConfig::Local(_))
    }

    /// Whether events, the feed and the bookings API show this attendee field: as the
    /// tenant's `notify.fields` says, else name and phone (what the practice needs to call back).
    pub fn allows(&self, field: AttendeeField) -> bool {
        match &self.notify {
            Some(notify) => notify.fields.contains(&field),
            None => matches!(field, AttendeeField::Name | AttendeeField::Phone),
        }
    }
}

impl Tenant {
    /// `text` as an E.164 number, national numbers read in the tenant's country; without a
    /// country a national number stays its digits. The one form in which the engine stores and
    /// compares phone numbers. `None` when `text` is no phone number.
    pub fn phone(&self, text: &str) -> Option<String> {
        frontdesk_validate::e164(text, self.country.as_deref())
            .or_else(|| frontdesk_validate::parse_phone(text))
    }

    /// Today in the tenant's time zone at the instant `now_ms`.
    pub fn today(&self, now_ms: u64) -> Option<Date> {
        let ts = jiff::Timestamp::from_millisecond(i64::try_from(now_ms).ok()?).ok()?;
        Some(self.time_zone.to_datetime(ts).date())
    }
}

/// All tenants, indexed by agent id and called number.
#[derive(Debug, Clone, Default)]
pub struct TenantDirectory {
    tenants: Vec<Arc<Tenant>>,
    by_id: HashMap<String, usize>,
    by_agent: HashMap<String, usize>,
    by_number: HashMap<String, usize>,
}

impl TenantDirectory {
    /// Checks and compiles the file; on failure, every problem found.
    pub fn compile(file: &TenantsFile) -> Result<Self, Vec<TenantConfigError>> {
        let mut errors = Vec::new();
        let mut dir = TenantDirectory::default();
        let mut scopes: HashMap<TenantScope, usize> = HashMap::new();
        for (i, cfg) in file.tenants.iter().enumerate() {
            let base = format!("tenants[{i}]");
            let mut err = |field: &str, message: String| {
                errors.push(TenantConfigError {
                    path: format!("{base}.{field}"),
                    message,
                });
            };
            if let Some(first) = dir.by_id.insert(cfg.id.clone(), i) {
                err("id", format!("duplicate tenant id (also tenants[{first}])"));
            }
            for (j, agent) in cfg.agent_ids.iter().enumerate() {
                if agent.trim().is_empty() {
                    err(&format!("agent_ids[{j}]"), "empty agent id".into());
                } else if let Some(first) = dir.by_agent.insert(agent.clone(), i) {
                    err(
                        &format!("agent_ids[{j}]"),
                        format!("agent id already belongs to tenants[{first}]"),
                    );
                }
            }
            for (j, number) in cfg.numbers.iter().enumerate() {
                if !is_e164(number) {
                    err(
                        &format!("numbers[{j}]"),
                        "not an E.164 number (+ and 7 to 15 digits)".into(),
                    );
                } else if let Some(first) = dir.by_number.insert(number.clone(), i) {
                    err(
                        &format!("numbers[{j}]"),
                        format!("number already belongs to tenants[{first}]"),
                    );
                }
            }
            if cfg.agent_ids.is_empty() && cfg.numbers.is_empty() {
                err(
                    "agent_ids",
                    "no agent id and no number: no call could ever reach this tenant".into(),
                );
            }
            let scope = TenantScope {
                company_id: cfg.company_id.clone(),
                branch_id: cfg.branch_id.clone(),
            };
            if let Some(first) = scopes.insert(scope.clone(), i) {
                err(
                    "branch_id",
                    format!(
                        "company_id + branch_id already used by tenants[{first}]; tenants would share data"
                    ),
                );
            }
            match compile_tenant(cfg, scope) {
                Ok(tenant) => dir.tenants.push(Arc::new(tenant)),
                Err(problems) => {
                    for (field, message) in problems {
                        err(&field, message);
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(dir)
        } else {
            Err(errors)
        }
    }

    /// The tenant a call belongs to. When both the agent id and the called number are known
    /// and point at different tenants the call is refused (`None`): guessing would risk
    /// booking into another practice's calendar.
    pub fn resolve(&self, agent_id: Option<&str>, to_number: Option<&str>) -> Option<Arc<Tenant>> {
        let by_agent = agent_id.and_then(|a| self.by_agent.get(a.trim()).copied());
        let by_number = to_number
            .and_then(frontdesk_validate::parse_phone)
            .and_then(|n| self.by_number.get(&n).copied());
        let index = match (by_agent, by_number) {
            (Some(a), Some(n)) if a != n => return None,
            (Some(a), _) => a,
            (None, Some(n)) => n,
            (None, None) => return None,
        };
        self.tenants.get(index).cloned()
    }

    pub fn get(&self, id: &str) -> Option<Arc<Tenant>> {
        self.by_id
            .get(id)
            .and_then(|&i| self.tenants.get(i))
            .cloned()
    }

    pub fn tenants(&self) -> impl Iterator<Item = &Arc<Tenant>> {
        self.tenants.iter()
    }

    pub fn len(&self) -> usize {
        self.tenants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tenants.is_empty()
    }
}

type FieldProblems = Vec<(String, String)>;

fn compile_tenant(cfg: &TenantConfig, scope: TenantScope) -> Result<Tenant, FieldProblems> {
    let mut problems: FieldProblems = Vec::new();
    let mut bad =
        |field: &str, message: &str| problems.push((field.to_owned(), message.to_owned()));

    for (field, value) in [
        ("id", &cfg.id),
        ("company_id", &cfg.company_id),
        ("branch_id", &cfg.branch_id),
    ] {
        if !is_identifier(value) {
            bad(
                field,
                "must be 1–64 characters of A–Z, a–z, 0–9, '_', '-', '.'",
            );
        }
    }

    let time_zone = match TimeZone::get(&cfg.time_zone) {
        Ok(tz) => Some(tz),
        Err(_) => {
            bad("time_zone", "unknown IANA time zone");
            None
        }
    };

    let mut services = BTreeMap::new();
    for (name, service) in &cfg.services {
        match duration_minutes(service.duration) {
            Some(m) if (MIN_DURATION_MIN..=MAX_DURATION_MIN).contains(&m) => {
                services.insert(name.clone(), m);
            }
            _ => bad(
                &format!("services.{name}.duration"),
                "must be whole minutes between 15m and 8h",
            ),
        }
    }
    let default_duration_min = match duration_minutes(cfg.default_duration) {
        Some(m) if (MIN_DURATION_MIN..=MAX_DURATION_MIN).contains(&m) => m,
        _ => {
            bad(
                "default_duration",
                "must be whole minutes between 15m and 8h",
            );
            MIN_DURATION_MIN
        }
    };
    let granularity_min = match duration_minutes(cfg.slot_granularity) {
        Some(m) if (5..=240).contains(&m) && (60 % m == 0 || m % 60 == 0) => m,
        _ => {
            bad(
                "slot_granularity",
                "must be 5m to 4h and divide an hour (5m, 10m, 15m, 20m, 30m) or be whole hours",
            );
            15
        }
    };
    if cfg.max_alternatives == 0 || cfg.max_alternatives > 10 {
        bad("max_alternatives", "must be between 1 and 10");
    }
    if cfg.search_days == 0 || cfg.search_days > 92 {
        bad("search_days", "must be between 1 and 92");
    }
    if cfg.max_slots == 0 || cfg.max_slots > 288 {
        bad("max_slots", "must be between 1 and 288");
    }
    if cfg.max_holds == 0 || cfg.max_holds > 1000 {
        bad("max_holds", "must be between 1 and 1000");
    }
    if cfg.hold_for > std::time::Duration::from_secs(30 * 60) {
        bad("hold_for", "must be at most 30m (0s turns holds off)");
    }
    if cfg.book_ahead_days == 0 || cfg.book_ahead_days > 3650 {
        bad("book_ahead_days", "must be between 1 and 3650");
    }

    match &cfg.calendar {
        CalendarConfig::Local(local) => {
            if local.resources.is_empty() {
                bad("calendar.resources", "at least one resource is needed");
            }
            let mut seen = BTreeSet::new();
            for (j, r) in local.resources.iter().enumerate() {
                if !is_identifier(r) || !seen.insert(r) {
                    bad(
                        &format!("calendar.resources[{j}]"),
                        "must be a unique identifier (A–Z, a–z, 0–9, '_', '-', '.')",
                    );
                }
            }
        }
        CalendarConfig::Calcom(calcom) => {
            if calcom.api_key_env.trim().is_empty() {
                bad(
                    "calendar.api_key_env",
                    "name of the API key variable is empty",
                );
            }
            if calcom.event_types.is_empty() {
                bad("calendar.event_types", "at least one event type is needed");
            }
            for name in calcom.event_types.keys() {
                if !cfg.services.contains_key(name) {
                    bad(
                        &format!("calendar.event_types.{name}"),
                        "no service of this name in services",
                    );
                }
            }
        }
    }

    let week = match &cfg.business_hours {
        None => BusinessHours::default_week(),
        Some(week_cfg) => {
            let mut week: [Option<DayHours>; 7] = [None; 7];
            for (slot, (name, day)) in week.iter_mut().zip(week_cfg.days()) {
                let Some(day) = day else { continue };
                let open = parse_clock(&day.open);
                let close = parse_clock(&day.close);
                match (open, close) {
                    (Some(open), Some(close)) if close > open => {
                        *slot = Some(DayHours { open, close });
                    }
                    (Some(_), Some(_)) => bad(
                        &format!("business_hours.{name}.close"),
                        "closing time must be after opening time",
                    ),
                    (o, c) => {
                        if o.is_none() {
                            bad(&format!("business_hours.{name}.open"), "not a time (HH:MM)");
                        }
                        if c.is_none() {
                            bad(
                                &format!("business_hours.{name}.close"),
                                "not a time (HH:MM)",
                            );
                        }
                    }
                }
            }
            if week_cfg.days().iter().all(|(_, d)| d.is_none()) {
                bad("business_hours", "no open weekday");
            }
            week
        }
    };
    let mut closed = BTreeSet::new();
    for (j, text) in cfg.closed_dates.iter().enumerate() {
        match parse_date(text) {
            Some(d) => {
                closed.insert(d);
            }
            None => bad(&format!("closed_dates[{j}]"), "not a date (YYYY-MM-DD)"),
        }
    }

    let country = match &cfg.country {
        Some(code) => {
            let upper = code.to_ascii_uppercase();
            if !frontdesk_validate::is_region(&upper) {
                bad("country", "not an ISO 3166 alpha-2 country code (e.g. DE)");
            }
            Some(upper)
        }
        None => cfg
            .numbers
            .first()
            .and_then(|n| frontdesk_validate::region_of(n)),
    };

    if let Some(notify) = &cfg.notify {
        if !(notify.url.starts_with("https://") || notify.url.starts_with("http://")) {
            bad("notify.url", "must be an https:// URL");
        }
        if notify.secret.as_slice().is_empty() {
            bad("notify.secret", "at least one signing secret is needed");
        }
        if matches!(cfg.calendar, CalendarConfig::Calcom(_)) {
            bad(
                "notify",
                "booking events come from the embedded calendar; Cal.com sends its own",
            );
        }
    }

    match time_zone {
        Some(time_zone) if problems.is_empty() => Ok(Tenant {
            id: cfg.id.clone(),
            scope,
            calendar: cfg.calendar.clone(),
            services,
            default_duration_min,
            time_zone,
            language: cfg.language,
            hours: BusinessHours::new(week, closed),
            granularity_min,
            max_alternatives: cfg.max_alternatives,
            search_days: cfg.search_days,
            book_ahead_days: cfg.book_ahead_days,
            max_slots: cfg.max_slots,
            hold_for: cfg.hold_for,
            hold_alternatives: cfg.hold_alternatives,
            max_holds: cfg.max_holds,
            retell_keys: cfg.retell_keys.clone(),
            country,
            raw_transcript: cfg.raw_transcript,
            notify: cfg.notify.clone(),
            calendar_feed: cfg.calendar_feed.clone(),
        }),
        _ => Err(problems),
    }
}

/// Hours in the config are strict `HH:MM` (the lenient parser is for callers, not operators).
fn parse_clock(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    parse_time(s)
}

fn duration_minutes(d: Duration) -> Option<u32> {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 || !secs.is_multiple_of(60) {
        return None;
    }
    u32::try_from(secs / 60).ok()
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}
