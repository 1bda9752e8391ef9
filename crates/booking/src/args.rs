//! Function arguments: from the JSON a voice agent sends to typed requests, collecting every
//! field problem (`errors: [{field, code}]`) instead of stopping at the first.
//!
//! Each typed request also has a normalised JSON form (canonical dates, trimmed and lower-cased
//! contact data) that feeds the idempotency key, so "06.01.2026" and "2026-01-06" are one
//! request.

use jiff::civil::{Date, Time};
use serde::Serialize;
use serde_json::{Value, json};

use crate::directory::{MAX_DURATION_MIN, MIN_DURATION_MIN, Tenant};
use crate::parse::{
    DayPart, format_date, format_time, parse_date, parse_day_part, parse_duration_minutes,
    parse_time,
};

const MAX_NAME_CHARS: usize = 150;
const MAX_EMAIL_CHARS: usize = 255;
const MAX_NOTES_CHARS: usize = 2000;

/// One field problem, as the reply's `errors` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    /// `required`, `invalid`, `too_long`, `out_of_range`, `unknown`.
    pub code: &'static str,
}

/// `check_availability` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckArgs {
    pub date: Date,
    pub time: Option<Time>,
    /// A part of the day asked about instead of a time ("nachmittags", "nach 16 Uhr").
    pub part: Option<DayPart>,
    pub duration_min: u32,
    pub service: Option<String>,
}

/// `book_appointment` arguments (phone already defaulted to the caller's number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookArgs {
    pub date: Date,
    pub time: Time,
    pub duration_min: u32,
    pub service: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

/// `cancel_appointment` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelArgs {
    ById(String),
    ByContact {
        date: Date,
        time: Option<Time>,
        phone: Option<String>,
        email: Option<String>,
    },
}

/// `reschedule_appointment` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescheduleArgs {
    pub booking_id: String,
    pub date: Date,
    pub time: Time,
}

impl BookArgs {
    pub fn normalised(&self) -> Value {
        json!({
            "date": format_date(self.date),
            "time": format_time(self.time),
            "duration": self.duration_min,
            "service": self.service,
            "name": self.name.to_lowercase(),
            "email": self.email,
            "phone": self.phone,
            "notes": self.notes,
        })
    }
}

impl CancelArgs {
    pub fn normalised(&self) -> Value {
        match self {
            CancelArgs::ById(id) => json!({ "booking_id": id }),
            CancelArgs::ByContact {
                date,
                time,
                phone,
                email,
            } => json!({
                "date": format_date(*date),
                "time": time.map(format_time),
                "phone": phone,
                "email": email,
            }),
        }
    }
}

impl RescheduleArgs {
    pub fn normalised(&self) -> Value {
        json!({
            "booking_id": self.booking_id,
            "date": format_date(self.date),
            "time": format_time(self.time),
        })
    }
}

/// Reads fields from an argument object and remembers what was wrong.
pub struct ArgReader<'a> {
    args: &'a Value,
    errors: Vec<FieldError>,
}

impl<'a> ArgReader<'a> {
    pub fn new(args: &'a Value) -> Self {
        Self {
            args,
            errors: Vec::new(),
        }
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    /// Records a field's first problem (an invalid field is not also "required").
    fn fail(&mut self, field: &'static str, code: &'static str) {
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError { field, code });
        }
    }

    /// A non-empty string (numbers are accepted and rendered, e.g. a numeric booking id). Text
    /// with control characters (NUL and the like; tabs and line breaks are fine) is `invalid`:
    /// nobody says them, and a database may refuse them.
    fn text(&mut self, field: &'static str) -> Option<String> {
        match self.args.get(field)? {
            Value::String(s)
                if s.chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
            {
                self.fail(field, "invalid");
                None
            }
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn present(&self, field: &str) -> bool {
        self.args
            .get(field)
            .is_some_and(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
    }

    pub fn date(&mut self, required: bool) -> Option<Date> {
        self.parsed("date", required, parse_date)
    }

    pub fn time(&mut self, required: bool) -> Option<Time> {
        self.parsed("time", required, parse_time)
    }

    /// An optional `time` that may also name a part of the day (the gateway's schema keeps
    /// `time` a clock time; agents send the part in `part_of_day`).
    pub fn time_or_part(&mut self) -> (Option<Time>, Option<DayPart>) {
        let Some(text) = self.text("time") else {
            return (None, None);
        };
        if let Some(time) = parse_time(&text) {
            return (Some(time), None);
        }
        let part = parse_day_part(&text);
        if part.is_none() {
            self.fail("time", "invalid");
        }
        (None, part)
    }

    /// A text field parsed with `parse`: `invalid` when it does not parse (or is not text),
    /// `required` when it is missing and needed.
    fn parsed<T>(
        &mut self,
        field: &'static str,
        required: bool,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        match self.text(field) {
            Some(s) => {
                let parsed = parse(&s);
                if parsed.is_none() {
                    self.fail(field, "invalid");
                }
                parsed
            }
            None if self.present(field) => {
                self.fail(field, "invalid");
                None
            }
            None => {
                if required {
                    self.fail(field, "required");
                }
                None
            }
        }
    }

    /// Retell's documented example tool sends one RFC 3339 `start` instead of `date` and `time`;
    /// it is read in the tenant's zone. `None` when absent or when `date`/`time` are given.
    pub fn start(&mut self, tenant: &Tenant) -> Option<(Date, Time)> {
        if self.present("date") || self.present("time") {
            return None;
        }
        let text = self.text("start")?;
        match text.parse::<jiff::Timestamp>() {
            Ok(ts) => {
                let local = tenant.time_zone.to_datetime(ts);
                Some((local.date(), local.time()))
            }
            Err(_) => {
                self.fail("start", "invalid");
                None
            }
        }
    }

    /// The service name as configured (matched case-insensitively), when one was given.
    pub fn service(&mut self, tenant: &Tenant) -> Option<String> {
        let wanted = self.text("service")?;
        if tenant.services.is_empty() {
            return Some(wanted);
        }
        let found = tenant
            .services
            .keys()
            .find(|name| name.eq_ignore_ascii_case(&wanted))
            .cloned();
        if found.is_none() {
            self.fail("service", "unknown");
        }
        found
    }

    /// Explicit duration, else the service's, else the tenant's default.
    pub fn duration(&mut self, tenant: &Tenant, service: Option<&str>) -> u32 {
        let fallback = service
            .and_then(|s| tenant.services.get(s).copied())
            .unwrap_or(tenant.default_duration_min);
        let Some(raw) = self.args.get("duration").filter(|v| !v.is_null()) else {
            return fallback;
        };
        match parse_duration_minutes(raw) {
            Some(m) if (MIN_DURATION_MIN..=MAX_DURATION_MIN).contains(&m) => m,
            Some(_) => {
                self.fail("duration", "out_of_range");
                fallback
            }
            None => {
                self.fail("duration", "invalid");
                fallback
            }
        }
    }

    pub fn name(&mut self) -> Option<String> {
        match self.text("name") {
            Some(name) if name.chars().count() > MAX_NAME_CHARS => {
                self.fail("name", "too_long");
                None
            }
            Some(name) => Some(name),
            None => {
                self.fail("name", "required");
                None
            }
        }
    }

    pub fn email(&mut self) -> Option<String> {
        let email = self.text("email")?.to_lowercase();
        if email.chars().count() > MAX_EMAIL_CHARS {
            self.fail("email", "too_long");
            return None;
        }
        if !plausible_email(&email) {
            self.fail("email", "invalid");
            return None;
        }
        Some(email)
    }

    /// The phone given in the arguments, else the caller's number; as E.164 where the tenant's
    /// country makes that possible, so bookings and callers compare as one number.
    pub fn phone(&mut self, caller: Option<&str>, tenant: &Tenant) -> Option<String> {
        let given = self.text("phone");
        let from_args = given.is_some();
        let raw = given.or_else(|| caller.map(str::to_owned))?;
        let normalised = tenant
            .phone(&raw)
            .filter(|p| p.trim_start_matches('+').len() >= 6);
        if normalised.is_some() {
            normalised
        } else {
            // A malformed caller id (anonymous, SIP URI) is not the caller's fault: drop it.
            if from_args {
                self.fail("phone", "invalid");
            }
            None
        }
    }

    pub fn notes(&mut self) -> Option<String> {
        let notes = self.text("notes")?;
        if notes.chars().count() > MAX_NOTES_CHARS {
            self.fail("notes", "too_long");
            return None;
        }
        Some(notes)
    }

    pub fn booking_id(&mut self, required: bool) -> Option<String> {
        let id = self.text("booking_id");
        if id.is_none() && required {
            self.fail("booking_id", "required");
        }
        id
    }
}

/// A light check; the gateway's validation stage applies the full RFC rules.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// Parses `check_availability` arguments.
pub fn check_args(tenant: &Tenant, args: &Value) -> Result<CheckArgs, Vec<FieldError>> {
    let mut r = ArgReader::new(args);
    let date = r.date(true);
    let (time, part_in_time) = r.time_or_part();
    let part = part_in_time.or_else(|| r.parsed("part_of_day", false, parse_day_part));
    let service = r.service(tenant);
    let duration_min = r.duration(tenant, service.as_deref());
    match date {
        Some(date) if r.errors.is_empty() => Ok(CheckArgs {
            date,
            time,
            part,
            duration_min,
            service,
        }),
        _ => Err(r.into_errors()),
    }
}

/// Parses `book_appointment` arguments.
pub fn book_args(
    tenant: &Tenant,
    args: &Value,
    caller: Option<&str>,
) -> Result<BookArgs, Vec<FieldError>> {
    let mut r = ArgReader::new(args);
    let (date, time) = match r.start(tenant) {
        Some((date, time)) => (Some(date), Some(time)),
        None => (r.date(true), r.time(true)),
    };
    let service = r.service(tenant);
    let duration_min = r.duration(tenant, service.as_deref());
    let name = r.name();
    let email = r.email();
    let phone = r.phone(caller, tenant);
    let notes = r.notes();
    match (date, time, name) {
        (Some(date), Some(time), Some(name)) if r.errors.is_empty() => Ok(BookArgs {
            date,
            time,
            duration_min,
            service,
            name,
            email,
            phone,
            notes,
        }),
        _ => Err(r.into_errors()),
    }
}

/// Parses `cancel_appointment` arguments: a booking id, or a date plus phone or e-mail.
pub fn cancel_args(
    tenant: &Tenant,
    args: &Value,
    caller: Option<&str>,
) -> Result<CancelArgs, Vec<FieldError>> {
    let mut r = ArgReader::new(args);
    if let Some(id) = r.booking_id(false) {
        return Ok(CancelArgs::ById(id));
    }
    let date = r.date(true);
    let time = r.time(false);
    let email = r.email();
    let phone = r.phone(caller, tenant);
    if phone.is_none()
        && email.is_none()
        && !r
            .errors
            .iter()
            .any(|e| e.field == "phone" || e.field == "email")
    {
        r.fail("phone", "required");
    }
    match date {
        Some(date) if r.errors.is_empty() => Ok(CancelArgs::ByContact {
            date,
            time,
            phone,
            email,
        }),
        _ => Err(r.into_errors()),
    }
}

/// Parses `reschedule_appointment` arguments.
pub fn reschedule_args(args: &Value) -> Result<RescheduleArgs, Vec<FieldError>> {
    let mut r = ArgReader::new(args);
    let booking_id = r.booking_id(true);
    let date = r.date(true);
    let time = r.time(true);
    match (booking_id, date, time) {
        (Some(booking_id), Some(date), Some(time)) if r.errors.is_empty() => Ok(RescheduleArgs {
            booking_id,
            date,
            time,
        }),
        _ => Err(r.into_errors()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        let yaml = "tenants:\n  - id: t\n    company_id: c\n    branch_id: b\n    agent_ids: [a]\n    numbers: [\"+4930123456789\"]\n    calendar: { provider: local, resources: [r] }\n";
        let file = crate::TenantsFile::from_yaml(yaml).unwrap();
        let dir = crate::TenantDirectory::compile(&file).unwrap();
        dir.tenants().next().unwrap().as_ref().clone()
    }

    #[test]
    fn phones_become_e164_in_the_tenants_country() {
        let by_contact = cancel_args(
            &tenant(),
            &json!({"date": "2026-01-06", "phone": "030 1234567"}),
            None,
        )
        .unwrap();
        assert!(
            matches!(&by_contact, CancelArgs::ByContact { phone: Some(p), .. } if p == "+49301234567"),
            "{by_contact:?}"
        );
    }

    #[test]
    fn phones_without_a_country_keep_their_digits() {
        let mut tenant = tenant();
        tenant.country = None;
        for (given, want) in [
            ("+49 30 1234-567", Some("+49301234567")),
            ("0049 30 1234567", Some("+49301234567")),
            ("030 1234567", Some("0301234567")),
            ("anonymous", None),
        ] {
            assert_eq!(tenant.phone(given).as_deref(), want, "{given}");
        }
    }

    #[test]
    fn reschedule_reports_every_missing_field() {
        let errors = reschedule_args(&json!({"time": "25:99"})).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            fields,
            [
                ("booking_id", "required"),
                ("date", "required"),
                ("time", "invalid")
            ]
        );
    }

    #[test]
    fn cancel_needs_a_contact_without_id() {
        let errors = cancel_args(&tenant(), &json!({"date": "2026-01-06"}), None).unwrap_err();
        assert_eq!(
            errors,
            [FieldError {
                field: "phone",
                code: "required"
            }]
        );
        let ok = cancel_args(
            &tenant(),
            &json!({"date": "06.01.2026"}),
            Some("+49301234567"),
        )
        .unwrap();
        assert!(matches!(ok, CancelArgs::ByContact { phone: Some(_), .. }));
        let by_id = cancel_args(&tenant(), &json!({"booking_id": 17}), None).unwrap();
        assert_eq!(by_id, CancelArgs::ById("17".into()));
    }
}
