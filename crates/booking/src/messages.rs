//! The speakable message catalogue (`messages.yaml`, German and English) and the spoken forms
//! of dates, times and lists.
//!
//! The catalogue is embedded at compile time and parsed once; parsing checks that every key the
//! code uses exists in both languages, so a successfully loaded catalogue can render every
//! message. Sentences live only in the YAML file, where a non-programmer can review them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use jiff::civil::{Date, DateTime, Time};
use serde::Deserialize;

use crate::hours::weekday_index;
use crate::tenants::Language;

const EMBEDDED: &str = include_str!("../messages.yaml");

/// Fields a caller can be asked to repeat (`fields:` in the catalogue).
pub const FIELD_NAMES: &[&str] = &[
    "name",
    "email",
    "phone",
    "date",
    "time",
    "duration",
    "notes",
    "service",
    "booking_id",
    "input",
];

macro_rules! message_keys {
    ($($variant:ident => $key:literal,)*) => {
        /// Every sentence the engine speaks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum MessageKey { $($variant,)* }

        impl MessageKey {
            pub const ALL: &'static [MessageKey] = &[$(MessageKey::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(MessageKey::$variant => $key,)* }
            }
        }
    };
}

message_keys! {
    Available => "available",
    Unavailable => "unavailable",
    UnavailableNoAlternatives => "unavailable_no_alternatives",
    DayAvailable => "day_available",
    DayUnavailable => "day_unavailable",
    DayUnavailableNoAlternatives => "day_unavailable_no_alternatives",
    PartUnavailable => "part_unavailable",
    AdjustedBeforeOpening => "adjusted_before_opening",
    AdjustedAfterClosing => "adjusted_after_closing",
    AdjustedWeekend => "adjusted_weekend",
    AdjustedClosedDate => "adjusted_closed_date",
    Booked => "booked",
    BookingPending => "booking_pending",
    SlotUnavailable => "slot_unavailable",
    SlotUnavailableNoAlternatives => "slot_unavailable_no_alternatives",
    OutsideHours => "outside_hours",
    Cancelled => "cancelled",
    Rescheduled => "rescheduled",
    NotFound => "not_found",
    Ambiguous => "ambiguous",
    InvalidInput => "invalid_input",
    BeyondHorizon => "beyond_horizon",
    CalendarUnavailable => "calendar_unavailable",
    CalendarBusy => "calendar_busy",
    ConfigurationError => "configuration_error",
    UnknownFunction => "unknown_function",
    InProgress => "in_progress",
}

#[derive(Debug, thiserror::Error)]
pub enum MessagesError {
    #[error("message catalogue is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("message catalogue: {0}")]
    Incomplete(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    de: LanguageCatalogue,
    en: LanguageCatalogue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageCatalogue {
    format: Format,
    fields: BTreeMap<String, String>,
    text: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Format {
    weekdays: Vec<String>,
    months: Vec<String>,
    date: String,
    time: String,
    datetime: String,
    and: String,
    or: String,
}

/// The parsed catalogue.
#[derive(Debug)]
pub struct Messages {
    de: LanguageCatalogue,
    en: LanguageCatalogue,
}

static EMBEDDED_MESSAGES: LazyLock<Result<Messages, String>> =
    LazyLock::new(|| Messages::parse(EMBEDDED).map_err(|e| e.to_string()));

impl Messages {
    /// The catalogue shipped in the binary, parsed on first use.
    pub fn embedded() -> Result<&'static Messages, MessagesError> {
        EMBEDDED_MESSAGES
            .as_ref()
            .map_err(|e| MessagesError::Incomplete(e.clone()))
    }

    /// Parses and checks a catalogue: both languages complete, identical key sets.
    pub fn parse(yaml: &str) -> Result<Messages, MessagesError> {
        let file: CatalogueFile = serde_yaml::from_str(yaml)?;
        for (lang, cat) in [("de", &file.de), ("en", &file.en)] {
            if cat.format.weekdays.len() != 7 {
                return Err(MessagesError::Incomplete(format!(
                    "{lang}.format.weekdays needs 7 names"
                )));
            }
            if cat.format.months.len() != 12 {
                return Err(MessagesError::Incomplete(format!(
                    "{lang}.format.months needs 12 names"
                )));
            }
            for key in MessageKey::ALL {
                if !cat.text.contains_key(key.as_str()) {
                    return Err(MessagesError::Incomplete(format!(
                        "{lang}.text.{} is missing",
                        key.as_str()
                    )));
                }
            }
            for field in FIELD_NAMES {
                if !cat.fields.contains_key(*field) {
                    return Err(MessagesError::Incomplete(format!(
                        "{lang}.fields.{field} is missing"
                    )));
                }
            }
        }
        let keys = |c: &LanguageCatalogue| {
            (
                c.text.keys().cloned().collect::<Vec<_>>(),
                c.fields.keys().cloned().collect::<Vec<_>>(),
            )
        };
        if keys(&file.de) != keys(&file.en) {
            return Err(MessagesError::Incomplete(
                "de and en have different keys".into(),
            ));
        }
        Ok(Messages {
            de: file.de,
            en: file.en,
        })
    }

    fn lang(&self, lang: Language) -> &LanguageCatalogue {
        match lang {
            Language::De => &self.de,
            Language::En => &self.en,
        }
    }

    /// A sentence with its `{placeholders}` filled in.
    pub fn text(&self, lang: Language, key: MessageKey, vars: &[(&str, &str)]) -> String {
        let template = self
            .lang(lang)
            .text
            .get(key.as_str())
            .map(String::as_str)
            // Unreachable after `parse`; the key name is a better answer than a panic.
            .unwrap_or(key.as_str());
        fill(template, vars)
    }

    /// "Dienstag, 6. Januar" / "Tuesday, January 6".
    pub fn date(&self, lang: Language, date: Date) -> String {
        let f = &self.lang(lang).format;
        let weekday = f
            .weekdays
            .get(weekday_index(date.weekday()))
            .map(String::as_str)
            .unwrap_or("");
        let month = usize::try_from(date.month() - 1)
            .ok()
            .and_then(|m| f.months.get(m))
            .map(String::as_str)
            .unwrap_or("");
        fill(
            &f.date,
            &[
                ("weekday", weekday),
                ("day", itoa::Buffer::new().format(date.day())),
                ("month", month),
                ("year", itoa::Buffer::new().format(date.year())),
            ],
        )
    }

    /// "14:30" / "2:30 PM".
    pub fn time(&self, lang: Language, time: Time) -> String {
        let f = &self.lang(lang).format;
        let hour = time.hour();
        let hour12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        fill(
            &f.time,
            &[
                ("hour", itoa::Buffer::new().format(hour)),
                ("hour12", itoa::Buffer::new().format(hour12)),
                ("minute", &two_digits(time.minute())),
                ("ampm", if hour < 12 { "AM" } else { "PM" }),
            ],
        )
    }

    /// "Dienstag, 6. Januar um 14:30 Uhr" / "Tuesday, January 6 at 2:30 PM".
    pub fn when(&self, lang: Language, at: DateTime) -> String {
        let f = &self.lang(lang).format;
        fill(
            &f.datetime,
            &[
                ("date", &self.date(lang, at.date())),
                ("time", &self.time(lang, at.time())),
            ],
        )
    }

    /// "A, B oder C" / "A, B or C".
    pub fn list_or(&self, lang: Language, items: &[String]) -> String {
        join(items, &self.lang(lang).format.or)
    }

    /// "A, B und C" / "A, B and C".
    pub fn list_and(&self, lang: Language, items: &[String]) -> String {
        join(items, &self.lang(lang).format.and)
    }

    /// The sentence asking the caller to repeat `fields` (names from [`FIELD_NAMES`]; unknown
    /// names fall back to a generic "your details"), e.g. "Könnten Sie bitte Ihren Namen und
    /// Ihre E-Mail-Adresse noch einmal nennen?".
    pub fn invalid_input(&self, lang: Language, fields: &[&str]) -> String {
        let cat = self.lang(lang);
        let mut spoken: Vec<String> = Vec::new();
        for field in fields {
            let name = cat.fields.get(*field).or_else(|| cat.fields.get("input"));
            if let Some(name) = name
                && !spoken.contains(name)
            {
                spoken.push(name.clone());
            }
        }
        if spoken.is_empty() {
            spoken.extend(cat.fields.get("input").cloned());
        }
        let fields = self.list_and(lang, &spoken);
        self.text(lang, MessageKey::InvalidInput, &[("fields", &fields)])
    }
}

fn join(items: &[String], last_sep: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {last_sep} {last}", init.join(", ")),
    }
}

/// `n` (0-99) as two digits, "05": `format!("{:02}")` costs about a thousand instructions, and
/// every availability answer speaks a time or three.
fn two_digits(n: i8) -> String {
    let n = n.unsigned_abs();
    [b'0' + n / 10 % 10, b'0' + n % 10]
        .into_iter()
        .map(char::from)
        .collect()
}

/// Replaces `{name}` with its value; unknown placeholders stay as written, so a typo in the
/// catalogue is audible in review rather than silently dropped.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn embedded_catalogue_has_every_key_in_both_languages() {
        let m = Messages::embedded().expect("catalogue parses");
        for lang in [Language::De, Language::En] {
            for key in MessageKey::ALL {
                let text = m.text(lang, *key, &[]);
                assert_ne!(text, key.as_str(), "{lang:?}.{} missing", key.as_str());
                assert!(!text.trim().is_empty());
            }
            for field in FIELD_NAMES {
                assert!(
                    m.lang(lang).fields.contains_key(*field),
                    "{lang:?}.fields.{field}"
                );
            }
        }
        assert_eq!(m.de.text.len(), m.en.text.len());
    }

    #[test]
    fn catalogue_missing_a_key_is_rejected() {
        let broken = EMBEDDED.replacen(
            "    booked: \"Your appointment",
            "    bookedx: \"Your appointment",
            1,
        );
        assert!(Messages::parse(&broken).is_err());
    }

    #[test]
    fn spoken_dates_and_times() {
        let m = Messages::embedded().unwrap();
        let at = date(2026, 1, 6).at(14, 30, 0, 0);
        assert_eq!(m.when(Language::De, at), "Dienstag, 6. Januar um 14:30 Uhr");
        assert_eq!(m.when(Language::En, at), "Tuesday, January 6 at 2:30 PM");
        let morning = date(2026, 1, 6).at(9, 5, 0, 0);
        assert_eq!(
            m.when(Language::En, morning),
            "Tuesday, January 6 at 9:05 AM"
        );
        assert_eq!(
            m.time(Language::En, jiff::civil::time(0, 15, 0, 0)),
            "12:15 AM"
        );
    }

    #[test]
    fn invalid_input_names_the_fields() {
        let m = Messages::embedded().unwrap();
        assert_eq!(
            m.invalid_input(Language::De, &["name", "email"]),
            "Könnten Sie bitte Ihren Namen und Ihre E-Mail-Adresse noch einmal nennen?"
        );
        assert_eq!(
            m.invalid_input(Language::En, &["date", "time", "phone"]),
            "Could you please tell me the date, the time and your phone number again?"
        );
        assert_eq!(
            m.invalid_input(Language::De, &["frobnicate"]),
            "Könnten Sie bitte Ihre Angaben noch einmal nennen?"
        );
    }

    #[test]
    fn two_digits_pads_like_format() {
        for n in [0, 5, 9, 10, 30, 59] {
            assert_eq!(two_digits(n), format!("{n:02}"));
        }
    }

    #[test]
    fn fill_keeps_unknown_placeholders() {
        assert_eq!(fill("a {x} b {y}", &[("x", "1")]), "a 1 b {y}");
        assert_eq!(fill("open {brace", &[]), "open {brace");
    }
}
