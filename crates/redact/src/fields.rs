//! Field paths into JSON bodies (`payload.attendees[*].email`) and the compiled rule set that
//! maps a position in a document to a [`FieldKind`].
//!
//! Syntax: segments separated by `.`; a segment is an object key, `*` (any key), or `**` (any
//! number of levels, including none). A key may be followed by `[*]` (every array element) or
//! `[N]` (element N), repeatable: `matrix[*][0]`. A path may start with `[*]` for top-level
//! arrays. Keys containing `.`, `[`, `]` or `*` cannot be addressed.

use crate::config::{FieldKind, FieldRuleConfig};
use crate::error::ConfigError;

/// One step in a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    AnyKey,
    Index(usize),
    AnyIndex,
    AnyDepth,
}

/// One step of the position of a value inside a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    segments: Vec<Segment>,
    kind: FieldKind,
}

/// Compiled field rules; cheap to share, matched in the order they were written (first wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRules {
    rules: Vec<Rule>,
}

impl FieldRules {
    /// No field rules (detectors only).
    pub fn none() -> Self {
        Self::default()
    }

    /// Compiles rules, rejecting malformed and duplicate paths with an error naming the rule.
    pub fn compile(configs: &[FieldRuleConfig]) -> Result<Self, ConfigError> {
        let mut rules: Vec<Rule> = Vec::with_capacity(configs.len());
        for (index, config) in configs.iter().enumerate() {
            let segments = parse_path(&config.path).map_err(|reason| ConfigError::InvalidPath {
                index,
                path: config.path.clone(),
                reason,
            })?;
            if rules.iter().any(|r| r.segments == segments) {
                return Err(ConfigError::DuplicatePath {
                    index,
                    path: config.path.clone(),
                });
            }
            rules.push(Rule {
                segments,
                kind: config.kind,
            });
        }
        Ok(Self { rules })
    }

    /// Field rules for the Retell and Cal.com bodies frontdesk sees (caller numbers, attendee
    /// names, e-mails and phones, booking-function arguments, transcripts).
    pub fn retell_calcom_defaults() -> Self {
        let configs: Vec<FieldRuleConfig> = DEFAULT_RULES
            .iter()
            .map(|(path, kind)| FieldRuleConfig {
                path: (*path).to_owned(),
                kind: *kind,
            })
            .collect();
        // The table is a compile-time constant covered by a unit test; an error here would be a
        // programming mistake, and failing closed (no rules) is still safe because detectors run.
        Self::compile(&configs).unwrap_or_default()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether some rule could match `path` or a position below it: a walker skips the
    /// lookups of a subtree no rule reaches (the word lists of a transcript, say).
    pub(crate) fn reaches(&self, path: &[Step<'_>]) -> bool {
        self.rules
            .iter()
            .any(|rule| matches_prefix(&rule.segments, path))
    }

    /// The kind of the first rule matching the position `path`, if any.
    pub(crate) fn lookup(&self, path: &[Step<'_>]) -> Option<FieldKind> {
        self.rules
            .iter()
            .find(|rule| matches(&rule.segments, path))
            .map(|rule| rule.kind)
    }
}

const DEFAULT_RULES: &[(&str, FieldKind)] = &[
    ("call.from_number", FieldKind::Phone),
    ("call.transcript", FieldKind::Text),
    ("call.transcript_object[*].content", FieldKind::Text),
    (
        "call.transcript_with_tool_calls[*].content",
        FieldKind::Text,
    ),
    ("transcript", FieldKind::Text),
    ("transcript_object[*].content", FieldKind::Text),
    ("args.name", FieldKind::Name),
    ("args.email", FieldKind::Email),
    ("args.phone", FieldKind::Phone),
    ("attendee.name", FieldKind::Name),
    ("attendee.email", FieldKind::Email),
    ("attendee.phoneNumber", FieldKind::Phone),
    ("attendees[*].name", FieldKind::Name),
    ("attendees[*].email", FieldKind::Email),
    ("payload.attendees[*].name", FieldKind::Name),
    ("payload.attendees[*].firstName", FieldKind::Name),
    ("payload.attendees[*].lastName", FieldKind::Name),
    ("payload.attendees[*].email", FieldKind::Email),
    ("payload.attendees[*].phoneNumber", FieldKind::Phone),
    ("payload.responses.name.value", FieldKind::Name),
    ("payload.responses.email.value", FieldKind::Email),
    (
        "payload.responses.attendeePhoneNumber.value",
        FieldKind::Phone,
    ),
];

fn parse_path(path: &str) -> Result<Vec<Segment>, &'static str> {
    if path.is_empty() {
        return Err("path is empty");
    }
    let mut segments = Vec::new();
    for part in path.split('.') {
        if part.is_empty() {
            return Err("empty segment (doubled or trailing `.`)");
        }
        let (key, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        match key {
            "" if segments.is_empty() && !rest.is_empty() => {}
            "" => return Err("`[` must follow a key"),
            "*" => segments.push(Segment::AnyKey),
            "**" => segments.push(Segment::AnyDepth),
            k if k.contains(['*', ']']) => return Err("`*` and `]` are not allowed inside a key"),
            k => segments.push(Segment::Key(k.to_owned())),
        }
        while !rest.is_empty() {
            let close = rest.find(']').ok_or("unclosed `[`")?;
            let inner = rest.get(1..close).ok_or("unclosed `[`")?;
            segments.push(match inner {
                "*" => Segment::AnyIndex,
                n => Segment::Index(n.parse().map_err(|_| "index must be `*` or a number")?),
            });
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err("unexpected text after `]`");
            }
        }
    }
    Ok(segments)
}

/// Whether `pattern` matches the whole of `path`.
fn matches(pattern: &[Segment], path: &[Step<'_>]) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        return path.is_empty();
    };
    if *first == Segment::AnyDepth {
        // `**` absorbs zero or more steps; paths are shallow (JSON depth is capped), so trying
        // each split point is cheap.
        return (0..=path.len()).any(|skip| matches(rest, &path[skip..]));
    }
    let Some((step, path_rest)) = path.split_first() else {
        return false;
    };
    step_matches(first, step) && matches(rest, path_rest)
}

/// Whether `pattern` matches `path` followed by some (possibly no) further steps.
fn matches_prefix(pattern: &[Segment], path: &[Step<'_>]) -> bool {
    let Some((step, path_rest)) = path.split_first() else {
        return true;
    };
    match pattern.split_first() {
        None => false,
        Some((Segment::AnyDepth, _)) => true,
        Some((first, rest)) => step_matches(first, step) && matches_prefix(rest, path_rest),
    }
}

fn step_matches(segment: &Segment, step: &Step<'_>) -> bool {
    match (segment, step) {
        (Segment::Key(k), Step::Key(s)) => k == s,
        (Segment::AnyKey, Step::Key(_)) => true,
        (Segment::Index(i), Step::Index(j)) => i == j,
        (Segment::AnyIndex, Step::Index(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaches_only_subtrees_a_rule_can_match() {
        use Step::{Index, Key};
        let r = rules(&[
            ("call.transcript_object[*].content", FieldKind::Text),
            ("meta.**.secret", FieldKind::Token),
        ])
        .unwrap();
        assert!(r.reaches(&[]));
        assert!(r.reaches(&[Key("call"), Key("transcript_object"), Index(4)]));
        assert!(r.reaches(&[
            Key("call"),
            Key("transcript_object"),
            Index(4),
            Key("content")
        ]));
        assert!(!r.reaches(&[
            Key("call"),
            Key("transcript_object"),
            Index(4),
            Key("words")
        ]));
        assert!(!r.reaches(&[Key("call"), Key("agent_id")]));
        assert!(r.reaches(&[Key("meta"), Key("a"), Key("b"), Index(0)]));
        assert!(!r.reaches(&[Key("other")]));
    }

    fn rules(paths: &[(&str, FieldKind)]) -> Result<FieldRules, ConfigError> {
        let configs: Vec<_> = paths
            .iter()
            .map(|(p, k)| FieldRuleConfig {
                path: (*p).into(),
                kind: *k,
            })
            .collect();
        FieldRules::compile(&configs)
    }

    #[test]
    fn paths_match_keys_indices_and_wildcards() {
        let r = rules(&[
            ("call.from_number", FieldKind::Phone),
            ("payload.attendees[*].email", FieldKind::Email),
            ("list[1]", FieldKind::Name),
            ("**.iban", FieldKind::Iban),
            ("meta.*.secret", FieldKind::Token),
            ("[*].name", FieldKind::Name),
        ])
        .unwrap();
        use Step::*;
        assert_eq!(
            r.lookup(&[Key("call"), Key("from_number")]),
            Some(FieldKind::Phone)
        );
        assert_eq!(r.lookup(&[Key("call"), Key("to_number")]), None);
        assert_eq!(
            r.lookup(&[Key("payload"), Key("attendees"), Index(3), Key("email")]),
            Some(FieldKind::Email)
        );
        assert_eq!(
            r.lookup(&[Key("payload"), Key("attendees"), Key("email")]),
            None
        );
        assert_eq!(r.lookup(&[Key("list"), Index(1)]), Some(FieldKind::Name));
        assert_eq!(r.lookup(&[Key("list"), Index(2)]), None);
        assert_eq!(r.lookup(&[Key("iban")]), Some(FieldKind::Iban));
        assert_eq!(
            r.lookup(&[Key("a"), Index(0), Key("iban")]),
            Some(FieldKind::Iban)
        );
        assert_eq!(
            r.lookup(&[Key("meta"), Key("x"), Key("secret")]),
            Some(FieldKind::Token)
        );
        assert_eq!(r.lookup(&[Index(0), Key("name")]), Some(FieldKind::Name));
    }

    #[test]
    fn bad_paths_are_named_in_the_error() {
        for bad in ["", "a..b", "a.", "a[", "a[x]", "a[*]b", "a*b", "[*"] {
            let err = rules(&[("ok", FieldKind::Name), (bad, FieldKind::Name)]).unwrap_err();
            match &err {
                ConfigError::InvalidPath { index, path, .. } => {
                    assert_eq!((*index, path.as_str()), (1, bad));
                }
                other => panic!("{bad}: unexpected {other:?}"),
            }
            assert!(err.to_string().contains("#1"), "{err}");
        }
        let err = rules(&[("a.b", FieldKind::Name), ("a.b", FieldKind::Email)]).unwrap_err();
        assert!(matches!(err, ConfigError::DuplicatePath { index: 1, .. }));
    }

    #[test]
    fn defaults_compile() {
        let r = FieldRules::retell_calcom_defaults();
        assert_eq!(r.rules.len(), DEFAULT_RULES.len());
        assert_eq!(
            r.lookup(&[Step::Key("call"), Step::Key("from_number")]),
            Some(FieldKind::Phone)
        );
    }
}
