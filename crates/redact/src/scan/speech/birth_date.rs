//! Dates of birth: a date right after (or right before) its cue word — `geboren am
//! 12.03.1980`, `Geburtsdatum: 3. Mai 75`, `Jahrgang neunzehnhundertachtzig`, `zwölften dritten
//! achtzig`, `born on March 12, 1980`, `ich bin 1980 geboren`. Only the date is replaced; dates
//! without a cue (appointments) stay.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;

use crate::kind::Kind;
use crate::scan::Finding;

/// How far after a cue the date may start (filler words such as `ist der`).
const LOOKAHEAD: usize = 32;
/// How far before `geboren` the date may end.
const LOOKBEHIND: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// The date follows.
    Before,
    /// A year alone is enough (`Jahrgang 1980`).
    Year,
    /// `geboren`: the date may follow or precede (`am 12.03.1980 geboren`).
    Either,
}

const CUES: &[(&str, Cue)] = &[
    ("geboren am", Cue::Before),
    ("geboren", Cue::Either),
    ("geb.", Cue::Before),
    ("geburtsdatum", Cue::Before),
    ("geburtstag", Cue::Before),
    ("geburtsjahr", Cue::Year),
    ("jahrgang", Cue::Year),
    ("born on", Cue::Before),
    ("born", Cue::Either),
    ("date of birth", Cue::Before),
    ("birth date", Cue::Before),
    ("birthday", Cue::Before),
    ("dob", Cue::Before),
    ("d.o.b.", Cue::Before),
];

const MONTHS: &str = "januar|jänner|jaenner|februar|feber|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|january|february|march|may|june|july|october|december|jan|feb|mär|mrz|apr|jun|jul|aug|sept|sep|okt|oct|nov|dez|dec";
const UNITS: &str = "ein|zwei|drei|vier|fünf|fuenf|sechs|sieben|acht|neun";
const TENS: &str =
    "zwanzig|dreißig|dreissig|vierzig|fünfzig|fuenfzig|sechzig|siebzig|achtzig|neunzig";
const TEENS: &str = "zehn|elf|zwölf|zwoelf|dreizehn|vierzehn|fünfzehn|fuenfzehn|sechzehn|siebzehn|achtzehn|neunzehn";
const ORDINALS: &str = "erste|zweite|dritte|vierte|fünfte|fuenfte|sechste|siebte|siebente|achte|neunte|zehnte|elfte|zwölfte|zwoelfte|dreizehnte|vierzehnte|fünfzehnte|fuenfzehnte|sechzehnte|siebzehnte|achtzehnte|neunzehnte";
const EN_ORDINALS: &str = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth";
const EN_TENS: &str = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety";
const EN_UNITS: &str = "one|two|three|four|five|six|seven|eight|nine";

fn date_pattern() -> String {
    let spoken_two = format!("(?:(?:{UNITS})und)?(?:{TENS})|(?:{TEENS})|(?:{UNITS})s?");
    let spoken_year = format!(
        "(?:neunzehnhundert|zweitausend)(?:{spoken_two})?|(?:nineteen|twenty)[ -](?:oh[ -])?(?:{EN_TENS})(?:[ -](?:{EN_UNITS}))?|(?:(?:{UNITS})und)?(?:{TENS})"
    );
    let year = format!("[0-9]{{4}}|[0-9]{{2}}|{spoken_year}");
    let ordinal = format!(
        "(?:(?:(?:{UNITS})und)?(?:zwanzigste|dreißigste|dreissigste)|einunddreißigste|einunddreissigste|{ORDINALS})[nrms]?"
    );
    let en_ordinal = format!("(?:(?:twenty|thirty)[ -])?(?:{EN_ORDINALS})");
    let day = format!("[0-9]{{1,2}}(?:\\.|st|nd|rd|th)?|{ordinal}|{en_ordinal}");
    let month = format!("(?:{MONTHS})\\.?|{ordinal}|[0-9]{{1,2}}\\.");
    [
        // 12.03.1980, 12/03/80, 12-3-1980, 12. 03. 1980
        "[0-9]{1,2} ?[./-] ?[0-9]{1,2} ?[./-] ?(?:[0-9]{4}|[0-9]{2})".to_owned(),
        // 1980-03-12
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".to_owned(),
        // 12. März 1980, zwölften dritten achtzig, 12th of March 1980
        format!("(?:{day}) (?:of )?(?:{month}),? (?:{year})"),
        // March 12, 1980; March twelfth nineteen eighty
        format!("(?:{MONTHS}) (?:{day}),? (?:{year})"),
    ]
    .join("|")
}

/// The compiled birth-date detector.
#[derive(Debug, Clone)]
pub(crate) struct BirthDates {
    cues: AhoCorasick,
    /// A date at the start of the haystack.
    date: Regex,
    /// A year alone at the start of the haystack (after `Jahrgang`).
    year: Regex,
    /// A date ending the haystack (before `geboren`).
    date_before: Regex,
}

impl BirthDates {
    pub(crate) fn new() -> Option<Self> {
        let cues = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // Case-insensitive cues starting with common letters defeat the prefilters: a
            // full DFA is the fastest plain scan (a few KiB of tables).
            .kind(Some(AhoCorasickKind::DFA))
            .prefilter(false)
            .build(CUES.iter().map(|(p, _)| *p))
            .ok()?;
        let date = date_pattern();
        let spoken_year = format!(
            "[0-9]{{4}}|[0-9]{{2}}|(?:neunzehnhundert|zweitausend)(?:(?:(?:{UNITS})und)?(?:{TENS})|(?:{TEENS})|(?:{UNITS})s?)?|(?:(?:{UNITS})und)?(?:{TENS})"
        );
        let word_end = "(?:$|[^\\w])";
        Some(Self {
            cues,
            date: Regex::new(&format!("(?i)^(?:{date})(?-u:\\b|$)")).ok()?,
            year: Regex::new(&format!("(?i)^(?:{spoken_year}){word_end}")).ok()?,
            date_before: Regex::new(&format!(
                "(?i)(?:^|[^\\w])((?:{date}|[0-9]{{4}})) *(?:,|am)? *$"
            ))
            .ok()?,
        })
    }

    /// Appends the dates of birth in `text` (offsets shifted by `base`).
    pub(crate) fn scan(&self, text: &str, base: usize, out: &mut Vec<Finding>) {
        // Every cue but `jahrgang` has a `b` (the automaton folds ASCII case only): most
        // utterances and the words of a transcript's word list have neither, and two memchr
        // passes cost less than the automaton's byte-by-byte walk.
        let bytes = text.as_bytes();
        if memchr::memchr2(b'b', b'B', bytes).is_none()
            && memchr::memchr2(b'j', b'J', bytes).is_none()
        {
            return;
        }
        for m in self.cues.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let cue = CUES[m.pattern().as_usize()].1;
            let before_ok = text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let after_ok = text[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
                || text[start..end].ends_with('.');
            if !before_ok || !after_ok {
                continue;
            }
            let mut push = |s: usize, e: usize| {
                out.push(Finding {
                    start: base + s,
                    end: base + e,
                    kind: Kind::BirthDate,
                });
            };
            if let Some(at) = date_start(text, end)
                && let Some(m) = self.date.find(&text[at..])
            {
                push(at, at + m.end());
                continue;
            }
            // `Jahrgang 62`; after `geboren`, only a four-digit or spoken year (`geboren 1980`).
            if cue != Cue::Before
                && let Some(at) = date_start(text, end)
                && let Some(m) = self.year.find(&text[at..])
            {
                let len = m
                    .as_str()
                    .trim_end_matches(|c: char| !c.is_alphanumeric())
                    .len();
                if cue == Cue::Year || len >= 4 {
                    push(at, at + len);
                    continue;
                }
            }
            if cue == Cue::Either {
                let from = floor_boundary(text, start.saturating_sub(LOOKBEHIND));
                if let Some(c) = self.date_before.captures(&text[from..start])
                    && let Some(g) = c.get(1)
                {
                    push(from + g.start(), from + g.end());
                }
            }
        }
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where the date after a cue ending at `end` starts: past spaces, `:`/`,` and filler words.
fn date_start(text: &str, end: usize) -> Option<usize> {
    const FILLER: &[&str] = &[
        "ist", "is", "der", "den", "am", "on", "the", "lautet", "wäre", "im", "in", "was", "war",
        "ja", "also", "äh", "ähm", "von", "vom", "mein", "meine", "meinem", "meiner", "meines",
        "ihr", "ihre", "ihrem", "ihrer", "sohn", "sohnes", "tochter", "mann", "frau", "kind",
        "kindes", "my", "his", "her", "son", "daughter",
    ];
    let mut i = end;
    let limit = (end + LOOKAHEAD).min(text.len());
    while i < limit {
        let rest = &text[i..];
        let c = rest.chars().next()?;
        if c == ' ' || c == ':' || c == ',' {
            i += 1;
            continue;
        }
        let word_len = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let word = &rest[..word_len];
        if word_len > 0 && FILLER.iter().any(|f| f.eq_ignore_ascii_case(word)) {
            i += word_len;
            continue;
        }
        return Some(i);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        BirthDates::new().unwrap().scan(text, 0, &mut out);
        out.iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn dates_after_cues() {
        assert_eq!(dates("geboren am 12.03.1980, ja"), ["12.03.1980"]);
        assert_eq!(dates("Geburtsdatum ist der 3. Mai 1975."), ["3. Mai 1975"]);
        assert_eq!(
            dates("Jahrgang neunzehnhundertachtzig"),
            ["neunzehnhundertachtzig"]
        );
        assert_eq!(dates("Jahrgang 62, bitte"), ["62"]);
        assert_eq!(
            dates("geboren am zwölften dritten achtzig"),
            ["zwölften dritten achtzig"]
        );
        assert_eq!(dates("I was born on March 12, 1980"), ["March 12, 1980"]);
        assert_eq!(dates("ich bin am 01.02.1990 geboren"), ["01.02.1990"]);
        assert_eq!(dates("date of birth: 1980-03-12"), ["1980-03-12"]);
    }

    #[test]
    fn every_cue_has_the_letters_of_the_prefilter() {
        for (cue, _) in CUES {
            assert!(cue.contains('b') || cue.contains('j'), "{cue}");
        }
    }

    #[test]
    fn other_dates_stay() {
        assert!(dates("Termin am 12.03.2026 um 10 Uhr").is_empty());
        assert!(dates("Geburtstagsfeier am 12.03.").is_empty());
        assert!(dates("geboren? Das weiß ich nicht").is_empty());
    }
}
