//! What the engine knows about the phone call a function call belongs to.

/// The call, as far as verified data tells (the gateway passes only what was signed, or what
/// the tenant's own key vouches for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallContext {
    /// Retell's `call.call_id`; without it, writes are not deduplicated across retries, and no
    /// booking counts as made in this call.
    pub call_id: Option<String>,
    /// The caller's number: the default for `phone`, and who may change a booking by phone.
    pub from_number: Option<String>,
}
