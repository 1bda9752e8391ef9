//! Millisecond conversions: every clock reading and deadline in this crate is whole milliseconds
//! since the Unix epoch, as `frontdesk_clock::Clock` gives them.

use std::time::Duration;

/// Whole milliseconds of `duration`, saturating at `u64::MAX` (about 584 million years).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
