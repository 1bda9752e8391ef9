//! The descriptor limit: raised to its hard maximum at start, and the share of it the traffic
//! listener may use, so the admin listener, upstream connections and files always find one.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors kept back for everything that is not a traffic connection or its upstream
/// connection: listeners, runtimes, the store, policy files, logs, the admin listener's clients.
pub const RESERVED: u64 = 128;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit now in force (`None`
/// where it cannot be read).
pub fn raise() -> Option<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft < hard
        && let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::warn!(soft, hard, error = %e, "could not raise the open-file limit");
        return Some(soft);
    }
    Some(hard.max(soft))
}

/// Traffic connections that fit under `limit` descriptors: each may hold one upstream
/// connection too, and [`RESERVED`] stay free.
pub fn traffic_share(limit: u64) -> usize {
    usize::try_from(limit.saturating_sub(RESERVED) / 2)
        .unwrap_or(usize::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traffic_share_leaves_the_reserve_and_a_descriptor_per_upstream_connection() {
        assert_eq!(traffic_share(600), 236);
        assert_eq!(traffic_share(1024), 448);
        assert_eq!(traffic_share(10), 1);
    }
}
