//! Rate limits: every limit a route lists must pass. `local` limits are checked first, in this
//! replica's memory (no round trip, so floods are cut off cheaply); then the `shared` ones go
//! through the store together — one Redis round trip per request, exact across replicas.
//! Shadow limits count would-be denials and let the request pass.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_store::{Decision, GcraCheck, Store};

use super::reply::Reply;
use crate::app::App;
use crate::policy::template::RequestView;
use crate::policy::{Limit, LimitMode, LimitScope};
use crate::telemetry::metrics::LimitOutcome;

/// Checks `limits` (local ones first, then shared ones); the first enforced denial answers 429.
pub async fn enforce(
    app: &App,
    limits: &[Arc<Limit>],
    view: &RequestView<'_>,
) -> Result<(), Reply> {
    for scope in [LimitScope::Local, LimitScope::Shared] {
        let in_scope: Vec<&Limit> = limits
            .iter()
            .map(Arc::as_ref)
            .filter(|l| l.scope == scope)
            .collect();
        if in_scope.is_empty() {
            continue;
        }
        let keys: Vec<String> = in_scope.iter().map(|l| store_key(l, view)).collect();
        let checks: Vec<GcraCheck<'_>> = in_scope
            .iter()
            .zip(&keys)
            .map(|(limit, key)| GcraCheck {
                key,
                rate: limit.rate,
                cost: 1,
                stops: limit.mode == LimitMode::Enforce,
            })
            .collect();
        let decisions = store_for(app, scope)
            .gcra_all(&checks)
            .await
            .unwrap_or_else(|_| checks.iter().map(|c| allow_on_error(c.rate)).collect());
        for (limit, decision) in in_scope.iter().zip(&decisions) {
            record(limit, decision, view)?;
        }
    }
    Ok(())
}

/// Counts one decision; an enforced denial becomes the 429 answer.
pub fn record(limit: &Limit, decision: &Decision, view: &RequestView<'_>) -> Result<(), Reply> {
    let outcome = match (decision.allowed, limit.mode) {
        (true, _) => LimitOutcome::Allowed,
        (false, LimitMode::Shadow) => {
            tracing::info!(limit = %limit.name, route = view.route, "shadow limit would deny");
            LimitOutcome::ShadowDenied
        }
        (false, LimitMode::Enforce) => LimitOutcome::Denied,
    };
    limit.series.count(&limit.name, outcome);
    if outcome == LimitOutcome::Denied {
        return Err(too_many_requests(&limit.name, decision));
    }
    Ok(())
}

/// `<limit name>:<rendered key>`. A request that lacks a key part is never put in one bucket
/// with every other such request: its bucket is named by the fallback label, the tenant and the
/// client's address.
fn store_key(limit: &Limit, view: &RequestView<'_>) -> String {
    let missing = [
        limit.fallback.as_str(),
        view.tenant.unwrap_or(""),
        view.client_ip,
    ];
    limit
        .key
        .render_key(&[&limit.name], view, Some(&missing))
        .unwrap_or_default()
}

fn store_for(app: &App, scope: LimitScope) -> &dyn Store {
    match scope {
        LimitScope::Shared => app.store.as_ref(),
        LimitScope::Local => app.local.as_ref(),
    }
}

/// The shared store already applies its configured fallback; a failure reaching here comes
/// from the local store, which cannot fail: let the request pass.
fn allow_on_error(rate: frontdesk_store::Rate) -> Decision {
    Decision {
        allowed: true,
        limit: rate.burst,
        remaining: 0,
        retry_after: Duration::ZERO,
        reset_after: Duration::ZERO,
    }
}

pub fn too_many_requests(limit: &str, d: &Decision) -> Reply {
    let secs = |t: Duration| t.as_millis().div_ceil(1000).max(1).to_string();
    Reply::json(
        429,
        &serde_json::json!({
            "error": "rate_limited",
            "message": "too many requests; retry later",
            "limit": limit,
            "retry_after_seconds": d.retry_after.as_millis().div_ceil(1000).max(1),
        }),
    )
    .with_header("retry-after", secs(d.retry_after))
    .with_header("ratelimit-limit", d.limit.to_string())
    .with_header("ratelimit-remaining", d.remaining.to_string())
    .with_header("ratelimit-reset", secs(d.reset_after))
}
