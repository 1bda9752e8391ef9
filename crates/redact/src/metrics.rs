//! Per-kind redaction counts and the `frontdesk_redactions_total{kind}` counter.

use std::sync::LazyLock;

use prometheus::{IntCounter, IntCounterVec, Opts};

use crate::kind::Kind;

/// Counters pre-resolved per kind so recording is one atomic add. `None` when registration
/// failed (a name clash in the default registry): redaction itself must never fail on metrics.
static REDACTIONS: LazyLock<Option<[IntCounter; Kind::COUNT]>> = LazyLock::new(|| {
    let vec = IntCounterVec::new(
        Opts::new(
            "frontdesk_redactions_total",
            "Values redacted from logs and forwarded bodies, by kind of personal data",
        ),
        &["kind"],
    )
    .ok()?;
    prometheus::default_registry()
        .register(Box::new(vec.clone()))
        .ok()?;
    Some(Kind::ALL.map(|kind| vec.with_label_values(&[kind.label()])))
});

/// How many values of each kind one call redacted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedactionCounts {
    counts: [u64; Kind::COUNT],
}

impl RedactionCounts {
    /// Count for one kind.
    pub fn get(&self, kind: Kind) -> u64 {
        self.counts[kind.index()]
    }

    /// Sum over all kinds.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Non-zero counts, in [`Kind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Kind, u64)> + '_ {
        Kind::ALL
            .into_iter()
            .map(|k| (k, self.get(k)))
            .filter(|(_, n)| *n > 0)
    }

    pub(crate) fn add(&mut self, kind: Kind) {
        self.counts[kind.index()] += 1;
    }

    /// Adds `other` into these counts (aggregating several calls).
    pub fn merge(&mut self, other: &RedactionCounts) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
    }

    /// Adds these counts to `frontdesk_redactions_total`.
    pub(crate) fn record(&self) {
        if let Some(counters) = REDACTIONS.as_ref() {
            for (counter, &n) in counters.iter().zip(&self.counts) {
                if n > 0 {
                    counter.inc_by(n);
                }
            }
        }
    }
}

/// Current value of `frontdesk_redactions_total{kind}` (for tests and diagnostics).
pub fn redactions_total(kind: Kind) -> u64 {
    REDACTIONS
        .as_ref()
        .map_or(0, |counters| counters[kind.index()].get())
}
