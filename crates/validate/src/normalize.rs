//! Text normalisation pipelines (trim, strip_html, collapse_whitespace, NFC) and the defaults
//! each field type gets.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::def::NormalizeStep;
use crate::html::{blunt_fallback, strip_html};

/// Bound on repeated passes; ordinary text settles after one.
const MAX_PASSES: usize = 8;

/// A compiled set of normalisation steps. Steps run in a fixed order — strip_html, nfc,
/// collapse_whitespace, trim — whatever order the policy lists them in: each later step cannot
/// undo an earlier one in that order, which makes the pipeline idempotent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pipeline {
    strip_html: bool,
    nfc: bool,
    collapse_whitespace: bool,
    trim: bool,
}

impl Pipeline {
    /// The default for text fields: trim and NFC.
    pub const DEFAULT: Self = Self {
        strip_html: false,
        nfc: true,
        collapse_whitespace: false,
        trim: true,
    };

    /// The pipeline named by `steps` (duplicates are harmless).
    pub fn from_steps(steps: &[NormalizeStep]) -> Self {
        Self {
            strip_html: steps.contains(&NormalizeStep::StripHtml),
            nfc: steps.contains(&NormalizeStep::Nfc),
            collapse_whitespace: steps.contains(&NormalizeStep::CollapseWhitespace),
            trim: steps.contains(&NormalizeStep::Trim),
        }
    }

    /// Applies the pipeline. With `strip_html`, whole passes repeat until one changes nothing:
    /// a later step can expose something an earlier one removes (NFC maps U+037E to `;`,
    /// which can complete an entity such as `&lt;`).
    pub fn apply(&self, input: &str) -> String {
        let mut text = self.one_pass(input);
        if !self.strip_html {
            return text;
        }
        for _ in 0..MAX_PASSES {
            let next = self.one_pass(&text);
            if next == text {
                return text;
            }
            text = next;
        }
        // Adversarial input that keeps changing: drop markup characters outright, then settle.
        let plain = Self {
            strip_html: false,
            ..*self
        };
        for _ in 0..MAX_PASSES {
            let next = blunt_fallback(&plain.one_pass(&text));
            if next == text {
                break;
            }
            text = next;
        }
        text
    }

    fn one_pass(&self, input: &str) -> String {
        let mut text = if self.strip_html {
            strip_html(input)
        } else {
            input.to_owned()
        };
        // The checks first: nearly all text is already in form, and they cost no allocation.
        if self.nfc && !is_nfc(&text) {
            text = text.nfc().collect();
        }
        if self.collapse_whitespace && !is_collapsed(&text) {
            text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        if self.trim {
            let trimmed = text.trim();
            if trimmed.len() != text.len() {
                text = trimmed.to_owned();
            }
        }
        text
    }
}

fn is_nfc(text: &str) -> bool {
    text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes
}

/// Whether collapsing whitespace would leave `text` as it is: single spaces between words only.
fn is_collapsed(text: &str) -> bool {
    let mut previous = ' ';
    for c in text.chars() {
        if c.is_whitespace() && (c != ' ' || previous == ' ') {
            return false;
        }
        previous = c;
    }
    previous != ' ' || text.is_empty()
}

/// Normalises `input` with `steps` (see [`Pipeline`]); for tests, fuzzing and callers that
/// want the same cleaning outside a schema.
pub fn normalize(input: &str, steps: &[NormalizeStep]) -> String {
    Pipeline::from_steps(steps).apply(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_already_in_form_checks_agree_with_the_steps() {
        for text in [
            "",
            " ",
            "a",
            "a b",
            " a",
            "a ",
            "a  b",
            "a\tb",
            "a\u{a0}b",
            "Müller",
            "Mu\u{308}ller",
            "\u{37e}",
            "a b c",
            "  ",
        ] {
            let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(is_collapsed(text), collapsed == text, "{text:?}");
            let composed: String = text.nfc().collect();
            if is_nfc(text) {
                assert_eq!(composed, text, "{text:?}");
            }
        }
        assert!(!is_nfc("Mu\u{308}ller"));
    }

    #[test]
    fn default_trims_and_composes() {
        assert_eq!(Pipeline::DEFAULT.apply("  Mu\u{308}ller  "), "Müller");
    }

    #[test]
    fn steps_run_in_canonical_order() {
        let all = [
            NormalizeStep::Trim,
            NormalizeStep::CollapseWhitespace,
            NormalizeStep::Nfc,
            NormalizeStep::StripHtml,
        ];
        assert_eq!(normalize("  <b>Jane</b>\n\t Doe ", &all), "Jane Doe");
    }

    #[test]
    fn nfc_completing_an_entity_is_caught() {
        // U+037E GREEK QUESTION MARK normalises to `;` and completes the entity after stripping.
        let steps = [NormalizeStep::StripHtml, NormalizeStep::Nfc];
        for input in [
            "&hellip\u{37e}",
            "&lt\u{37e}script&gt\u{37e}x",
            "&#x3c\u{37e}b&#x3e\u{37e}y",
        ] {
            let once = normalize(input, &steps);
            assert_eq!(normalize(&once, &steps), once, "{input:?}");
            assert!(
                !once.contains('<') && !once.contains('&'),
                "{input:?} -> {once:?}"
            );
        }
    }

    #[test]
    fn collapse_without_trim_keeps_one_space_inside() {
        assert_eq!(
            normalize("a  \n b", &[NormalizeStep::CollapseWhitespace]),
            "a b"
        );
    }
}
