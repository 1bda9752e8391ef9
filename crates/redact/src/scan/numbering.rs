//! Numbering plans from libphonenumber's metadata (the `phonenumber` crate), compiled once.
//!
//! `phonenumber::parse` is correct but slow for a scanner: every call walks a nom parser and
//! fetches its regexes from a global, mutex-guarded cache of 100 entries that the metadata's
//! thousands of patterns keep evicting, so every check recompiles and parallel threads serialise.
//! The two questions the detector asks need far less: does a known country calling code lead
//! this number, and is this national number valid in one region. Both are answered here from
//! the same metadata, with the patterns compiled up front; the verdicts match
//! `phonenumber::parse(…)` / `is_valid` (checked in the tests below).

use std::sync::LazyLock;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::bytes::{Regex, RegexBuilder};

/// Regions whose national numbers the detector confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Region {
    De,
    At,
    Ch,
    /// Any member of the North American Numbering Plan (country code 1).
    Nanp,
}

/// Longest national significant number libphonenumber accepts.
const MAX_NSN: usize = 17;

struct Plans {
    /// `known_code[c]`: `c` is an assigned country calling code.
    known_code: [bool; 1000],
    de: Vec<Plan>,
    at: Vec<Plan>,
    ch: Vec<Plan>,
    nanp: Vec<Plan>,
}

static PLANS: LazyLock<Plans> = LazyLock::new(Plans::load);

/// Compiles the metadata now instead of on the first phone-like number.
pub(super) fn warm_up() {
    LazyLock::force(&PLANS);
}

/// Whether `digits` (no `+`, no `00`) start with an assigned country calling code, the way
/// libphonenumber extracts one: the first of the 1-, 2- and 3-digit prefixes that is assigned.
/// No country code starts with `0`.
pub(super) fn has_country_code(digits: &[u8]) -> bool {
    if digits.first().is_none_or(|&d| d == b'0') {
        return false;
    }
    let mut code = 0usize;
    for &d in digits.iter().take(3) {
        code = code * 10 + usize::from(d - b'0');
        if PLANS.known_code[code] {
            return true;
        }
    }
    false
}

/// Whether the national significant number `nsn` (trunk prefix removed) is valid in `region`.
pub(super) fn is_valid_in(region: Region, nsn: &[u8]) -> bool {
    let plans = match region {
        Region::De => &PLANS.de,
        Region::At => &PLANS.at,
        Region::Ch => &PLANS.ch,
        Region::Nanp => &PLANS.nanp,
    };
    nsn.len() <= MAX_NSN && plans.iter().any(|plan| plan.is_valid(nsn))
}

impl Plans {
    fn load() -> Self {
        // By code, not by region: the non-geographic codes (800, 882, …) share one region id.
        let mut known_code = [false; 1000];
        for (code, known) in (0u16..).zip(known_code.iter_mut()) {
            *known = DATABASE.region(&code).is_some();
        }
        let region = |id: &str| DATABASE.by_id(id).map(Plan::new).into_iter().collect();
        let nanp = DATABASE
            .iter()
            .filter(|meta| meta.country_code() == 1)
            .map(Plan::new)
            .collect();
        Self {
            known_code,
            de: region("DE"),
            at: region("AT"),
            ch: region("CH"),
            nanp,
        }
    }
}

/// One region's plan: the general pattern, and per number length the union of the number-type
/// patterns (fixed line, mobile, toll free, …) that allow that length — so a check is two regex
/// matches instead of one per type.
struct Plan {
    general: Pattern,
    by_length: Vec<Option<Regex>>,
}

impl Plan {
    fn new(meta: &Metadata) -> Self {
        let d = meta.descriptors();
        let types: Vec<&Descriptor> = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let by_length = (0..=MAX_NSN)
            .map(|len| {
                let alternatives: Vec<&str> = types
                    .iter()
                    .filter(|t| allows_length(t.possible_length(), len))
                    .map(|t| t.national_number().as_str())
                    .collect();
                (!alternatives.is_empty()).then(|| prefix_regex(&alternatives))
            })
            .collect();
        Self {
            general: Pattern::new(d.general()),
            by_length,
        }
    }

    fn is_valid(&self, nsn: &[u8]) -> bool {
        self.general.is_match(nsn)
            && self
                .by_length
                .get(nsn.len())
                .and_then(Option::as_ref)
                .is_some_and(|re| re.is_match(nsn))
    }
}

struct Pattern {
    lengths: Vec<u16>,
    regex: Regex,
}

impl Pattern {
    fn new(d: &Descriptor) -> Self {
        Self {
            lengths: d.possible_length().to_vec(),
            regex: prefix_regex(&[d.national_number().as_str()]),
        }
    }

    fn is_match(&self, value: &[u8]) -> bool {
        allows_length(&self.lengths, value.len()) && self.regex.is_match(value)
    }
}

/// libphonenumber's rule: an empty length list allows any length.
fn allows_length(lengths: &[u16], len: usize) -> bool {
    lengths.is_empty() || lengths.iter().any(|&l| usize::from(l) == len)
}

/// A regex matching at the start of the value, as libphonenumber's `Descriptor::is_match` does;
/// the metadata patterns are written in extended (whitespace-ignoring) syntax.
fn prefix_regex(alternatives: &[&str]) -> Regex {
    let body: Vec<String> = alternatives.iter().map(|a| format!("(?:{a}\n)")).collect();
    RegexBuilder::new(&format!("^(?:{})", body.join("|")))
        .ignore_whitespace(true)
        .unicode(false)
        .build()
        // The metadata ships inside the `phonenumber` crate and compiles there with the same
        // syntax; the tests below load every plan.
        .unwrap_or_else(|e| panic!("libphonenumber metadata pattern does not compile: {e}"))
}

#[cfg(test)]
mod tests {
    use phonenumber::country::Id;

    use super::*;

    fn reference_valid(region: Id, national: &str) -> bool {
        phonenumber::parse(Some(region), national).is_ok_and(|n| n.is_valid())
    }

    #[test]
    fn country_codes_match_the_parser() {
        for digits in [
            "4930123456",
            "14155550123",
            "447700900123",
            "80012345678",
            "99912345678",
            "28123456789",
            "0123456789",
            "3851234567",
        ] {
            let reference = phonenumber::parse(None, format!("+{digits}")).is_ok();
            assert_eq!(has_country_code(digits.as_bytes()), reference, "{digits}");
        }
    }

    #[test]
    fn national_verdicts_match_libphonenumber() {
        let cases = [
            (Region::De, Id::DE, "01711234567"),
            (Region::De, Id::DE, "030123456"),
            (Region::De, Id::DE, "03012345678"),
            (Region::De, Id::DE, "0891234567"),
            (Region::De, Id::DE, "0123456789"),
            (Region::De, Id::DE, "0800123456"),
            (Region::De, Id::DE, "0999999999999"),
            (Region::At, Id::AT, "015880000"),
            (Region::At, Id::AT, "06641234567"),
            (Region::Ch, Id::CH, "0446681800"),
            (Region::Ch, Id::CH, "0791234567"),
            (Region::Ch, Id::CH, "0123456789"),
        ];
        for (region, id, national) in cases {
            let nsn = &national.as_bytes()[1..];
            assert_eq!(
                is_valid_in(region, nsn),
                reference_valid(id, national),
                "{national} in {id:?}"
            );
        }
        for national in ["2015550123", "4155550123", "6502530000", "1234567890"] {
            assert_eq!(
                is_valid_in(Region::Nanp, national.as_bytes()),
                reference_valid(Id::US, national),
                "{national}"
            );
        }
    }

    #[test]
    fn every_plan_compiles() {
        warm_up();
        assert!(PLANS.known_code[49] && PLANS.known_code[1] && !PLANS.known_code[0]);
        assert!(PLANS.nanp.len() > 10);
    }
}
