//! What happened to one upstream exchange, and which of those results count as failures.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The result of one exchange with an upstream, as the caller observed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The upstream answered with a status the caller considers healthy.
    Success,
    /// No connection could be established (refused, DNS, TLS handshake).
    ConnectError,
    /// A connect, read, write or total timeout fired.
    Timeout,
    /// The upstream answered with this HTTP status.
    Status(u16),
}

impl Outcome {
    /// The configurable class this outcome belongs to, if any. Statuses outside 5xx and 429 have
    /// no class: a 4xx is the client's problem and says the upstream is alive.
    pub fn class(self) -> Option<OutcomeClass> {
        match self {
            Self::Success => None,
            Self::ConnectError => Some(OutcomeClass::ConnectError),
            Self::Timeout => Some(OutcomeClass::Timeout),
            Self::Status(429) => Some(OutcomeClass::Status429),
            Self::Status(500..=599) => Some(OutcomeClass::Status5xx),
            Self::Status(_) => None,
        }
    }

    /// A short, bounded label for metrics (`success`, `connect_error`, `timeout`, `status_5xx`,
    /// `status_429`, `status_other`).
    pub fn label(self) -> &'static str {
        match (self, self.class()) {
            (Self::Success, _) => "success",
            (_, Some(class)) => class.label(),
            (_, None) => "status_other",
        }
    }
}

/// A class of outcomes that configuration can declare a failure (or retryable).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum OutcomeClass {
    #[serde(rename = "connect_error")]
    ConnectError,
    #[serde(rename = "timeout")]
    Timeout,
    #[serde(rename = "status_5xx")]
    Status5xx,
    #[serde(rename = "status_429")]
    Status429,
}

impl OutcomeClass {
    pub fn label(self) -> &'static str {
        match self {
            Self::ConnectError => "connect_error",
            Self::Timeout => "timeout",
            Self::Status5xx => "status_5xx",
            Self::Status429 => "status_429",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Self::ConnectError => 1,
            Self::Timeout => 2,
            Self::Status5xx => 4,
            Self::Status429 => 8,
        }
    }
}

/// A set of outcome classes, compiled from configuration into a bit mask so the per-call check is
/// one AND.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutcomeSet(u8);

impl OutcomeSet {
    pub fn contains_class(self, class: OutcomeClass) -> bool {
        self.0 & class.bit() != 0
    }

    /// Whether `outcome` falls into one of the classes of this set.
    pub fn matches(self, outcome: Outcome) -> bool {
        outcome
            .class()
            .is_some_and(|class| self.contains_class(class))
    }
}

impl FromIterator<OutcomeClass> for OutcomeSet {
    fn from_iter<I: IntoIterator<Item = OutcomeClass>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |bits, class| bits | class.bit()))
    }
}

impl<'a> FromIterator<&'a OutcomeClass> for OutcomeSet {
    fn from_iter<I: IntoIterator<Item = &'a OutcomeClass>>(iter: I) -> Self {
        iter.into_iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_classes() {
        assert_eq!(Outcome::Status(503).class(), Some(OutcomeClass::Status5xx));
        assert_eq!(Outcome::Status(500).class(), Some(OutcomeClass::Status5xx));
        assert_eq!(Outcome::Status(429).class(), Some(OutcomeClass::Status429));
        assert_eq!(Outcome::Status(404).class(), None);
        assert_eq!(Outcome::Status(200).class(), None);
        assert_eq!(Outcome::Success.class(), None);
    }

    #[test]
    fn set_matches_only_its_classes() {
        let set: OutcomeSet = [OutcomeClass::ConnectError, OutcomeClass::Status5xx]
            .iter()
            .collect();
        assert!(set.matches(Outcome::ConnectError));
        assert!(set.matches(Outcome::Status(502)));
        assert!(!set.matches(Outcome::Timeout));
        assert!(!set.matches(Outcome::Status(429)));
        assert!(!set.matches(Outcome::Success));
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(Outcome::Status(418).label(), "status_other");
        assert_eq!(Outcome::Status(504).label(), "status_5xx");
        assert_eq!(Outcome::Success.label(), "success");
    }
}
