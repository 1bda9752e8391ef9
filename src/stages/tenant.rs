//! Which tenant a request is for, and whether that choice rests on what was signed.
//!
//! A route's selectors (`agent_id`, `number`, `id`) may read the body, which the signature
//! covers, or headers and the path, which it does not. The signed body decides; an unsigned
//! selector may only agree with it. A tenant named by unsigned selectors alone is believed only
//! when the key that verified the request belongs to that tenant and no other
//! ([`Signer::exclusive`]). docs/security.md states the whole model.

use std::sync::Arc;

use frontdesk_booking::{Tenant, TenantDirectory};

use crate::policy::template::{KeyTemplate, RequestView};
use crate::policy::{Policy, TenantSource};
use crate::signature::VerifyKey;

/// What the selectors say, before the signature is checked.
#[derive(Debug, Clone)]
pub enum TenantPick {
    /// No selector has a value.
    Nothing,
    /// The signed body named a tenant (`None`: one that does not exist).
    Signed(Option<Arc<Tenant>>),
    /// Only unsigned selectors named one.
    Unsigned(Option<Arc<Tenant>>),
    /// An unsigned selector disagrees with the signed body (which named the tenant held here).
    Mismatch(Option<Arc<Tenant>>),
}

impl TenantPick {
    pub fn read(tenants: &TenantDirectory, source: &TenantSource, view: &RequestView<'_>) -> Self {
        let signed = named_by(tenants, source, view, true);
        let unsigned = named_by(tenants, source, view, false);
        match (signed, unsigned) {
            (Some(s), Some(u)) if same(&s, &u) => TenantPick::Signed(s),
            (Some(s), Some(_)) => TenantPick::Mismatch(s),
            (Some(s), None) => TenantPick::Signed(s),
            (None, Some(u)) => TenantPick::Unsigned(u),
            (None, None) => TenantPick::Nothing,
        }
    }

    /// The tenant whose keys verify the request: the signed body's choice when there is one.
    pub fn candidate(&self) -> Option<&Arc<Tenant>> {
        match self {
            TenantPick::Signed(t) | TenantPick::Unsigned(t) | TenantPick::Mismatch(t) => t.as_ref(),
            TenantPick::Nothing => None,
        }
    }
}

/// Whose key verified a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The route has no signature check: nothing was verified, nothing is claimed.
    Unchecked,
    /// A key of the policy, which every tenant without keys of its own shares.
    Shared { tenants: usize },
    /// The candidate tenant's own key.
    Tenant,
}

impl Signer {
    /// Whether the key belongs to the candidate tenant alone, so unsigned data (a tenant
    /// header, the function in the path, a call id header) can be believed for that tenant.
    pub fn exclusive(self) -> bool {
        match self {
            Signer::Unchecked | Signer::Tenant => true,
            Signer::Shared { tenants } => tenants <= 1,
        }
    }
}

/// Why a pick is not accepted after verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantRefusal {
    Mismatch,
    Unverified,
}

impl TenantRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantRefusal::Mismatch => "mismatch",
            TenantRefusal::Unverified => "unverified",
        }
    }
}

/// The tenant once the signature held: `Ok(None)` when no (known) tenant was named.
pub fn decide(pick: TenantPick, signer: Signer) -> Result<Option<Arc<Tenant>>, TenantRefusal> {
    match pick {
        TenantPick::Nothing => Ok(None),
        TenantPick::Signed(t) => Ok(t),
        TenantPick::Unsigned(t) if t.is_none() || signer.exclusive() => Ok(t),
        TenantPick::Unsigned(_) => Err(TenantRefusal::Unverified),
        TenantPick::Mismatch(_) => Err(TenantRefusal::Mismatch),
    }
}

/// Whose keys verify a request for `candidate`: its own when it has some, else the policy's.
pub fn signer_for<'p>(
    policy: &'p Policy,
    candidate: Option<&Arc<Tenant>>,
) -> (Option<&'p [VerifyKey]>, Signer) {
    match candidate.and_then(|t| policy.tenant_keys.get(&t.id)) {
        Some(keys) => (Some(keys.as_slice()), Signer::Tenant),
        None => (
            None,
            Signer::Shared {
                tenants: policy.shared_key_tenants,
            },
        ),
    }
}

/// The tenant the selectors of one origin name: `None` when none of them has a value,
/// `Some(None)` when they name no tenant or disagree among themselves.
fn named_by(
    tenants: &TenantDirectory,
    source: &TenantSource,
    view: &RequestView<'_>,
    signed: bool,
) -> Option<Option<Arc<Tenant>>> {
    let value =
        |t: &Option<KeyTemplate>| t.as_ref().and_then(|t| t.render_value_from(view, signed));
    let id = value(&source.id);
    let agent = value(&source.agent_id);
    let number = value(&source.number);
    let by_id = id.map(|id| tenants.get(&id));
    let by_call = (agent.is_some() || number.is_some())
        .then(|| tenants.resolve(agent.as_deref(), number.as_deref()));
    match (by_id, by_call) {
        (Some(a), Some(b)) => Some(if same(&a, &b) { a } else { None }),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    }
}

fn same(a: &Option<Arc<Tenant>>, b: &Option<Arc<Tenant>>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.id == b.id)
}
