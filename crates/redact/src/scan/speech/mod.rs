//! Detectors for what callers say rather than type: names in running text and dates of birth.
//! They read words, so they run over the valid UTF-8 stretches of the text; their findings
//! start and end on character boundaries.

mod birth_date;
mod names;
mod words;

use super::Finding;

pub(super) use birth_date::BirthDates;
pub(super) use names::Names;

/// Runs the enabled speech detectors over `text`.
pub(super) fn scan(
    text: &[u8],
    names: Option<&Names>,
    dates: Option<&BirthDates>,
    out: &mut Vec<Finding>,
) {
    // Redacted text is nearly always valid UTF-8 as a whole: one check, one pass per detector.
    if let Ok(valid) = std::str::from_utf8(text) {
        if let Some(dates) = dates {
            dates.scan(valid, 0, out);
        }
        if let Some(names) = names {
            names.scan(valid, 0, out);
        }
        return;
    }
    let mut base = 0;
    for chunk in text.utf8_chunks() {
        let valid = chunk.valid();
        if let Some(dates) = dates {
            dates.scan(valid, base, out);
        }
        if let Some(names) = names {
            names.scan(valid, base, out);
        }
        base += valid.len() + chunk.invalid().len();
    }
}
