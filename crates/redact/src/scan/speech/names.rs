//! Personal names in running text. Rules, not a model: a cue that callers and agents use
//! (`mein Name ist`, `ich heiße`, `Herr`/`Frau`/`Dr.`, `hier spricht`, `für meine Tochter`,
//! `… mein Name`, `my name is`, `this is`) followed (or preceded) by capitalised words; and
//! first names from the shipped gazetteer (`data/first_names.txt`) anywhere, with the surname
//! that follows. German capitalises every noun, so the guards matter as much as the cues:
//! function words, weekdays, months and the common nouns of appointment calls never become
//! names, and a surname that is also a word (`Koch`, `Becker`) is taken only after a cue or a
//! first name. Rules were measured against the corpus in `tests/corpora/de-transcripts`; no
//! model is loaded at run time (see docs/redaction.md).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::words::{Word, is_capitalised, starts_word, word_at};
use crate::kind::Kind;
use crate::scan::Finding;

/// Most words a name spans (`Karl-Heinz von Schulze-Böhm` is three).
const MAX_NAME_WORDS: usize = 4;

/// The word lists, probed for most capitalised words of a transcript. Fixed at build time and
/// only looked up, never grown from input, so SipHash's resistance to chosen keys buys nothing;
/// this multiply-rotate hash (FxHash's) reads eight bytes a step.
#[derive(Debug, Default, Clone, Copy)]
struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type WordSet = HashSet<&'static str, BuildHasherDefault<WordHasher>>;

static FIRST_NAMES: LazyLock<WordSet> = LazyLock::new(|| {
    include_str!("../../../data/first_names.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// First names that are also ordinary words: a name only with a surname after them.
const AMBIGUOUS: &[&str] = &[
    "August", "Ernst", "Grace", "Hope", "Horst", "Iris", "Jack", "Jan", "Kai", "Mai", "Mark",
    "Max", "May", "Rose", "Will", "Wolf", "Linda", "Carmen", "Gül",
];

/// Capitalised words that are never part of a name: function words (capitalised at a sentence
/// start or as the formal `Sie`), greetings, weekdays, months, titles.
const STOP: &[&str] = &[
    "Ich",
    "Sie",
    "Ihr",
    "Ihre",
    "Ihren",
    "Ihrem",
    "Ihrer",
    "Ihnen",
    "Er",
    "Es",
    "Wir",
    "Mein",
    "Meine",
    "Meinen",
    "Der",
    "Die",
    "Das",
    "Den",
    "Dem",
    "Des",
    "Ein",
    "Eine",
    "Einen",
    "Und",
    "Oder",
    "Aber",
    "Also",
    "Ja",
    "Nein",
    "Nee",
    "Doch",
    "Gut",
    "Genau",
    "Gerne",
    "Gern",
    "Danke",
    "Bitte",
    "Hallo",
    "Guten",
    "Tag",
    "Morgen",
    "Abend",
    "Tschüss",
    "Wiederhören",
    "Okay",
    "Prima",
    "Super",
    "Alles",
    "Klar",
    "Moment",
    "Mal",
    "Dann",
    "Wann",
    "Wie",
    "Was",
    "Wo",
    "Warum",
    "Welche",
    "Welcher",
    "Welchen",
    "Wer",
    "Hier",
    "Da",
    "Dort",
    "Heute",
    "Gestern",
    "Übermorgen",
    "Nur",
    "Noch",
    "Schon",
    "Sehr",
    "Vielen",
    "Dank",
    "Herzlich",
    "Willkommen",
    "Entschuldigung",
    "Kann",
    "Können",
    "Könnte",
    "Hätte",
    "Haben",
    "Habe",
    "Hat",
    "Ist",
    "Bin",
    "Sind",
    "War",
    "Wäre",
    "Würde",
    "Soll",
    "Muss",
    "Möchte",
    "Gibt",
    "Geht",
    "Wenn",
    "Weil",
    "Dass",
    "Ob",
    "Auch",
    "Nicht",
    "Kein",
    "Keine",
    "Am",
    "Im",
    "In",
    "An",
    "Auf",
    "Mit",
    "Von",
    "Vom",
    "Zu",
    "Zum",
    "Zur",
    "Für",
    "Bei",
    "Nach",
    "Vor",
    "Um",
    "Ab",
    "Bis",
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonnabend",
    "Sonntag",
    "Januar",
    "Jänner",
    "Februar",
    "März",
    "April",
    "Juni",
    "Juli",
    "September",
    "Oktober",
    "November",
    "Dezember",
    "Herr",
    "Herrn",
    "Frau",
    "Doktor",
    "Dr",
    "Prof",
    "Professor",
    "Med",
    "The",
    "A",
    "An",
    "I",
    "You",
    "He",
    "She",
    "We",
    "They",
    "It",
    "My",
    "Your",
    "Our",
    "This",
    "That",
    "Yes",
    "No",
    "Hello",
    "Hi",
    "Thanks",
    "Thank",
    "Please",
    "Sorry",
    "Sure",
    "Great",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "July",
    "October",
    "December",
    "Mr",
    "Mrs",
    "Ms",
    "Miss",
    "Doctor",
    "Agent",
    "User",
    "Anrufer",
    "Anruferin",
    "Caller",
    "Assistant",
    "Praxis",
    "Team",
    "Zahnarztpraxis",
];

/// Common nouns of appointment calls: after a weak cue or as a surname after a first name they
/// end the name. (Strong cues such as `mein Name ist` take any capitalised word.)
const COMMON_NOUNS: &[&str] = &[
    "Termin",
    "Termine",
    "Terminen",
    "Zahnreinigung",
    "Überweisung",
    "Rezept",
    "Rezepte",
    "Untersuchung",
    "Behandlung",
    "Kontrolle",
    "Impfung",
    "Blutabnahme",
    "Befund",
    "Befunde",
    "Krankenkasse",
    "Kasse",
    "Versicherung",
    "Versichertenkarte",
    "Karte",
    "Nummer",
    "Telefonnummer",
    "Rückruf",
    "Uhr",
    "Woche",
    "Wochen",
    "Tage",
    "Monat",
    "Monate",
    "Jahr",
    "Jahre",
    "Zeit",
    "Minute",
    "Minuten",
    "Stunde",
    "Stunden",
    "Vormittag",
    "Nachmittag",
    "Mittag",
    "Mittagspause",
    "Frage",
    "Fragen",
    "Schmerzen",
    "Zahnschmerzen",
    "Rückenschmerzen",
    "Kopfschmerzen",
    "Fieber",
    "Husten",
    "Grippe",
    "Erkältung",
    "Zahn",
    "Zähne",
    "Rücken",
    "Kopf",
    "Knie",
    "Bein",
    "Arm",
    "Hals",
    "Auge",
    "Augen",
    "Ohr",
    "Arzt",
    "Ärztin",
    "Zahnarzt",
    "Zahnärztin",
    "Hausarzt",
    "Hausärztin",
    "Facharzt",
    "Rezeption",
    "Empfang",
    "Patient",
    "Patientin",
    "Kind",
    "Kinder",
    "Sohn",
    "Tochter",
    "Mann",
    "Familie",
    "Eltern",
    "Mutter",
    "Vater",
    "Oma",
    "Opa",
    "Adresse",
    "Straße",
    "Strasse",
    "Mail",
    "Name",
    "Namen",
    "Vorname",
    "Nachname",
    "Geburtsdatum",
    "Geburtstag",
    "Sprechstunde",
    "Notfall",
    "Akutsprechstunde",
    "Vorsorge",
    "Check",
    "Ultraschall",
    "Röntgen",
    "Labor",
    "Ergebnis",
    "Ergebnisse",
    "Bescheid",
    "Info",
    "Information",
    "Informationen",
    "Nachricht",
    "Absage",
    "Verschiebung",
    "Bestätigung",
    "Erinnerung",
    "Wartezeit",
    "Wartezimmer",
    "Parkplatz",
    "Bus",
    "Bahn",
    "Auto",
    "Arbeit",
    "Beruf",
    "Urlaub",
    "Schule",
    "Kindergarten",
    "Kita",
    "Bein",
    "Füllung",
    "Krone",
    "Implantat",
    "Prothese",
    "Brille",
    "Physiotherapie",
    "Massage",
    "Krankengymnastik",
    "Krankschreibung",
    "Attest",
    "Bescheinigung",
    "Formular",
    "Unterlagen",
    "Ordnung",
    "Anfang",
    "Ende",
    "Mitte",
    "Problem",
    "Probleme",
    "Hilfe",
    "Wunsch",
    "Grund",
    "Fall",
    "Sache",
    "Weg",
    "Hause",
    "Zuhause",
    "Lehrer",
    "Lehrerin",
    "Appointment",
    "Cleaning",
    "Checkup",
    "Prescription",
    "Referral",
    "Insurance",
    "Number",
    "Week",
    "Morning",
    "Afternoon",
    "Evening",
    "Today",
    "Tomorrow",
    "Time",
    "Doctor's",
];

/// German noun endings no name has; guards weak cues and surnames after a first name.
const NOUN_SUFFIXES: &[&str] = &[
    "ung",
    "heit",
    "keit",
    "schaft",
    "tion",
    "ität",
    "ismus",
    "praxis",
    "termin",
    "zentrum",
    "klinik",
    "nummer",
    "karte",
    "straße",
    "strasse",
    "weg",
    "platz",
    "schmerzen",
    "chen",
    "ment",
    "nis",
    "tum",
];

/// Particles inside a surname (`von der Heide`, `van Dijk`, `Abu Bakr`).
const PARTICLES: &[&str] = &[
    "von", "van", "de", "der", "den", "zu", "da", "di", "del", "della", "dos", "du", "le", "la",
    "al", "el", "bin", "ibn", "ter", "ten",
];

/// Titles that may sit between a cue and the name (`Frau Dr. med. Schulz`).
const TITLES: &[&str] = &["Dr", "Prof", "Professor", "Doktor", "med", "dent", "Dipl"];

/// How a cue relates to the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// The name follows; any capitalised word but a stop word (`mein Name ist`).
    Strong,
    /// The name follows, but common nouns end it (`hier ist`, `this is`).
    Weak,
    /// A title: only as written, capitalised (`Frau` is also a noun: `eine Frau hat …`).
    Title,
    /// The name precedes (`Richter mein Name`, `Finn Richter am Apparat`, `Sarah speaking`).
    Before,
}

const CUES: &[(&str, Cue)] = &[
    ("mein name ist", Cue::Strong),
    ("mein name lautet", Cue::Strong),
    ("mein vorname ist", Cue::Strong),
    ("mein nachname ist", Cue::Strong),
    ("der name ist", Cue::Strong),
    ("der name lautet", Cue::Strong),
    ("ich heiße", Cue::Strong),
    ("ich heisse", Cue::Strong),
    ("heiße ich", Cue::Strong),
    ("name:", Cue::Strong),
    ("vorname:", Cue::Strong),
    ("nachname:", Cue::Strong),
    ("my name is", Cue::Strong),
    ("my name's", Cue::Strong),
    ("the name is", Cue::Strong),
    ("patient:", Cue::Strong),
    ("patientin:", Cue::Strong),
    ("hier ist", Cue::Weak),
    ("hier spricht", Cue::Weak),
    ("am apparat ist", Cue::Weak),
    ("für meinen sohn", Cue::Weak),
    ("für meine tochter", Cue::Weak),
    ("für meinen mann", Cue::Weak),
    ("für meine frau", Cue::Weak),
    ("mein sohn", Cue::Weak),
    ("meine tochter", Cue::Weak),
    ("mein mann", Cue::Weak),
    ("meine frau", Cue::Weak),
    ("this is", Cue::Weak),
    ("i'm", Cue::Weak),
    ("i am", Cue::Weak),
    ("for my son", Cue::Weak),
    ("for my daughter", Cue::Weak),
    ("my son", Cue::Weak),
    ("my daughter", Cue::Weak),
    ("my wife", Cue::Weak),
    ("my husband", Cue::Weak),
    ("call me", Cue::Weak),
    ("Herr", Cue::Title),
    ("Herrn", Cue::Title),
    ("Frau", Cue::Title),
    ("Dr.", Cue::Title),
    ("Dr", Cue::Title),
    ("Prof.", Cue::Title),
    ("Mr.", Cue::Title),
    ("Mr", Cue::Title),
    ("Mrs.", Cue::Title),
    ("Mrs", Cue::Title),
    ("Ms.", Cue::Title),
    ("Ms", Cue::Title),
    ("mein name", Cue::Before),
    ("hier,", Cue::Before),
    ("hier.", Cue::Before),
    ("hier am telefon", Cue::Before),
    ("am apparat", Cue::Before),
    ("speaking", Cue::Before),
];

/// The compiled name detector.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    cues: AhoCorasick,
    stop: WordSet,
    nouns: WordSet,
    ambiguous: WordSet,
}

impl Names {
    pub(crate) fn new() -> Option<Self> {
        let cues = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // Case-insensitive cues starting with common letters defeat the prefilters: a
            // full DFA is the fastest plain scan (a few KiB of tables).
            .kind(Some(AhoCorasickKind::DFA))
            .build(CUES.iter().map(|(p, _)| *p))
            .ok()?;
        LazyLock::force(&FIRST_NAMES);
        Some(Self {
            cues,
            stop: STOP.iter().copied().collect(),
            nouns: COMMON_NOUNS.iter().copied().collect(),
            ambiguous: AMBIGUOUS.iter().copied().collect(),
        })
    }

    /// Appends the names in `text` (offsets shifted by `base`).
    pub(crate) fn scan(&self, text: &str, base: usize, out: &mut Vec<Finding>) {
        // Every name starts with a capital, an ASCII one or a multi-byte letter: text with
        // neither (a role, a lower-case word of a transcript's word list) has none.
        if !text.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
            return;
        }
        let mut spans: Vec<(usize, usize)> = Vec::new();
        self.cued(text, &mut spans);
        let cued = spans.clone();
        self.gazetteer(text, &cued, &mut spans);
        // `Frau Dr. X` is found from both titles.
        spans.sort_unstable();
        spans.dedup();
        out.extend(spans.into_iter().map(|(start, end)| Finding {
            start: base + start,
            end: base + end,
            kind: Kind::Name,
        }));
    }

    fn cued(&self, text: &str, spans: &mut Vec<(usize, usize)>) {
        for m in self.cues.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let (pattern, cue) = CUES[m.pattern().as_usize()];
            // Whole words only (`Frauke` is no `Frau`, `Mrs` no `Mr`).
            if !starts_word(text, start)
                || text[end..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric)
                    && !pattern.ends_with([':', '.'])
            {
                continue;
            }
            if cue == Cue::Title && &text[start..end] != pattern {
                continue;
            }
            if cue == Cue::Before {
                if let Some(span) = self.name_before(text, start) {
                    spans.push(span);
                }
                continue;
            }
            let strict = cue == Cue::Strong || cue == Cue::Title;
            if let Some(span) = self.name_after(text, end, strict, true) {
                spans.push(span);
            }
        }
    }

    /// First names anywhere, plus the surname after them.
    fn gazetteer(&self, text: &str, taken: &[(usize, usize)], spans: &mut Vec<(usize, usize)>) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Word by word: skip to the next word start, then past the word unless it may be a
            // name (a capital: ASCII, or a multi-byte letter such as `Ö`, `Ł`, `İ`).
            let b = bytes[i];
            if !(b.is_ascii_alphabetic() || b >= 0xC3) || !text.is_char_boundary(i) {
                i += 1;
                continue;
            }
            // `\nAnna`: the escape letter is no word start, the name after it is.
            if i > 0 && bytes[i - 1] == b'\\' && matches!(b, b'n' | b't' | b'r') {
                i += 1;
                continue;
            }
            if !starts_word(text, i) || b.is_ascii_lowercase() {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                continue;
            }
            let (word, next) = word_at(text, i);
            let Some(word) = word.filter(|w| w.text.len() <= 40 && is_capitalised(w.text)) else {
                i = next;
                continue;
            };
            i = next;
            if taken
                .iter()
                .any(|&(s, e)| s <= word.start && word.start < e)
            {
                continue;
            }
            let first_part = word.text.split(['-', '\'', '’']).next().unwrap_or("");
            if !FIRST_NAMES.contains(word.text) && !FIRST_NAMES.contains(first_part) {
                continue;
            }
            if word.text.contains('-') && self.compound_place(word.text) {
                continue;
            }
            let ambiguous = self.ambiguous.contains(word.text);
            let end = self.surname_after(text, word.end, MAX_NAME_WORDS - 1);
            if ambiguous && end == word.end {
                continue;
            }
            spans.push((word.start, end));
            i = end.max(i);
        }
    }

    /// `Karl-Marx-Straße`, `Anna-Klinik`: a first name inside a place or institution name.
    fn compound_place(&self, word: &str) -> bool {
        let last = word.rsplit('-').next().unwrap_or("");
        word.matches('-').count() >= 2 || self.is_noun(last) || self.stop.contains(last)
    }

    fn is_noun(&self, word: &str) -> bool {
        if self.nouns.contains(word) {
            return true;
        }
        if word.is_ascii() {
            // As below, without lowering a copy: an ASCII word has one byte per character,
            // and the non-ASCII suffixes cannot match it.
            return word.len() > 4
                && NOUN_SUFFIXES.iter().any(|s| {
                    word.len() > s.len() + 1
                        && word.as_bytes()[word.len() - s.len()..]
                            .eq_ignore_ascii_case(s.as_bytes())
                });
        }
        let lower = word.to_lowercase();
        lower.chars().count() > 4
            && NOUN_SUFFIXES
                .iter()
                .any(|s| lower.ends_with(s) && lower.len() > s.len() + 1)
    }

    /// Whether `word` may be part of a name; `strict`: only stop words end it.
    fn name_word(&self, word: &Word<'_>, strict: bool) -> bool {
        is_capitalised(word.text)
            && !self.stop.contains(word.text)
            && (strict || !self.is_noun(word.text))
    }

    /// The name after a cue ending at `from`: titles skipped, then up to [`MAX_NAME_WORDS`]
    /// name words (particles inside).
    fn name_after(
        &self,
        text: &str,
        from: usize,
        strict: bool,
        skip_titles: bool,
    ) -> Option<(usize, usize)> {
        let mut i = skip_gap(text, from, true)?;
        if skip_titles {
            while let (Some(w), _) = word_at(text, i) {
                if !TITLES.contains(&w.text) {
                    break;
                }
                let mut j = w.end;
                if text[j..].starts_with('.') {
                    j += 1;
                }
                match skip_gap(text, j, false) {
                    Some(k) => i = k,
                    None => return None,
                }
            }
        }
        let (Some(first), _) = word_at(text, i) else {
            return None;
        };
        if !self.name_word(&first, strict) {
            return None;
        }
        let end = self.surname_after(text, first.end, MAX_NAME_WORDS - 1);
        Some((first.start, end))
    }

    /// Extends a name ending at `end` over following surname words (weak guard).
    fn surname_after(&self, text: &str, mut end: usize, mut budget: usize) -> usize {
        while budget > 0 {
            let Some(i) = skip_gap(text, end, false) else {
                break;
            };
            let (Some(w), _) = word_at(text, i) else {
                break;
            };
            if PARTICLES.contains(&w.text) {
                let Some(j) = skip_gap(text, w.end, false) else {
                    break;
                };
                let (Some(next), _) = word_at(text, j) else {
                    break;
                };
                if !self.name_word(&next, false) {
                    break;
                }
                end = next.end;
            } else if self.name_word(&w, false) {
                end = w.end;
            } else {
                break;
            }
            budget -= 1;
        }
        end
    }

    /// The name right before a cue starting at `cue_start` (`Finn Richter, mein Name`).
    fn name_before(&self, text: &str, cue_start: usize) -> Option<(usize, usize)> {
        let before = text[..cue_start].trim_end_matches([' ', ',']);
        let mut start = None;
        let end = before.len();
        let mut cursor = end;
        for _ in 0..MAX_NAME_WORDS - 1 {
            let Some(word_start) = before[..cursor]
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_alphabetic() || matches!(c, '-' | '\''))
                .last()
                .map(|(i, _)| i)
            else {
                break;
            };
            if !starts_word(text, word_start) {
                break;
            }
            let (Some(w), _) = word_at(text, word_start) else {
                break;
            };
            if w.end != cursor || !self.name_word(&w, false) {
                break;
            }
            start = Some(w.start);
            match before[..w.start].strip_suffix(' ') {
                Some(rest) if !rest.is_empty() => cursor = rest.len(),
                _ => break,
            }
        }
        start.map(|s| (s, end))
    }
}

/// Skips the spaces (and, after a cue, one `:` or `,`) before the next word; `None` at a line
/// or sentence end.
fn skip_gap(text: &str, mut i: usize, after_cue: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut punct = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' => i += 1,
            b':' | b',' if after_cue && !punct => {
                punct = true;
                i += 1;
            }
            _ => break,
        }
    }
    (i < bytes.len()).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Names::new().unwrap().scan(text, 0, &mut out);
        out.sort_by_key(|f| f.start);
        out.iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn cues_find_names() {
        assert_eq!(names("Mein Name ist Finn Richter."), ["Finn Richter"]);
        assert_eq!(names("Vielen Dank, Frau Müller"), ["Müller"]);
        assert_eq!(names("ja, Schulze-Böhm mein Name"), ["Schulze-Böhm"]);
        assert_eq!(names("Hier spricht Özlem Yılmaz"), ["Özlem Yılmaz"]);
        assert_eq!(names("bei Frau Dr. med. Dąbrowski"), ["Dąbrowski"]);
        assert_eq!(
            names("Karl-Heinz von Weizsäcker hat angerufen"),
            ["Karl-Heinz von Weizsäcker"]
        );
        assert_eq!(names("hi, my name is Sarah O'Connor"), ["Sarah O'Connor"]);
        assert_eq!(
            names("Agent: Hallo\\nUser: Anna Weber hier"),
            ["Anna Weber"]
        );
    }

    #[test]
    fn nouns_and_words_stay() {
        for text in [
            "Ich bin Koch von Beruf.",
            "Hier ist Ihre Überweisung für Montag.",
            "eine Frau hat angerufen wegen der Zahnreinigung",
            "Im Ernst, der Termin passt nicht.",
            "Will you call me back?",
            "beim Frauenarzt",
            "Die Karl-Marx-Straße ist gesperrt.",
            "INFO request completed",
        ] {
            assert!(names(text).is_empty(), "{text}: {:?}", names(text));
        }
    }
}
