//! The record a tripped breaker writes to the store so other replicas honour the trip, and the
//! key it lives under.
//!
//! Only trips are shared: each replica heals on its own probes, and admin modes stay local to the
//! replica that was told. A replica that reads a record whose open period is still running opens
//! its own breaker until the same instant.

use serde::{Deserialize, Serialize};

/// A trip as other replicas see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SharedTrip {
    /// Milliseconds since the Unix epoch at which probes may start.
    pub(crate) open_until_ms: u64,
    /// Trips of the incident so far, so the next trip anywhere lengthens the open time.
    pub(crate) trips: u32,
}

impl SharedTrip {
    pub(crate) fn encode(&self) -> Vec<u8> {
        // Serialising two integers cannot fail; an empty value would only be ignored by readers.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

/// The store key of `target`'s trip record; `namespace` separates deployments sharing a store.
pub(crate) fn key(namespace: &str, target: &str) -> String {
    if namespace.is_empty() {
        format!("breaker:{target}")
    } else {
        format!("{namespace}:breaker:{target}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let trip = SharedTrip {
            open_until_ms: 1_700_000_060_000,
            trips: 3,
        };
        assert_eq!(SharedTrip::decode(&trip.encode()), Some(trip));
        assert_eq!(SharedTrip::decode(b"not json"), None);
        assert_eq!(SharedTrip::decode(b""), None);
    }

    #[test]
    fn keys_carry_the_namespace() {
        assert_eq!(key("", "calcom"), "breaker:calcom");
        assert_eq!(key("t1", "calcom"), "t1:breaker:calcom");
    }
}
