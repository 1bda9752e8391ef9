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
