//! Rate limits: every limit a route lists must pass. `shared` limits go through the store (exact
//! across replicas sharing Redis), `local` ones through this replica's memory. Shadow limits
//! count would-be denials and let the request pass.

use std::time::Duration;

use frontdesk_store::{Decision, Store};

use super::reply::Reply;
use crate::app::App;
use crate::policy::template::RequestView;
use crate::policy::{Limit, LimitMode, LimitScope};
use crate::telemetry::metrics::RATELIMIT_DECISIONS;

/// Checks `limits` in order; the first enforced denial answers 429.
pub async fn enforce(
    app: &App,
    limits: &[std::sync::Arc<Limit>],
    view: &RequestView<'_>,
) -> Result<(), Reply> {
    for limit in limits {
        let decision = check(app, limit, view, 1).await;
        if decision.allowed {
            RATELIMIT_DECISIONS
                .with_label_values(&[&limit.name, "allowed"])
                .inc();
            continue;
        }
        match limit.mode {
            LimitMode::Shadow => {
                RATELIMIT_DECISIONS
                    .with_label_values(&[&limit.name, "shadow_denied"])
                    .inc();
                tracing::info!(limit = %limit.name, route = view.route, "shadow limit would deny");
            }
            LimitMode::Enforce => {
                RATELIMIT_DECISIONS
                    .with_label_values(&[&limit.name, "denied"])
                    .inc();
                return Err(too_many_requests(&limit.name, &decision));
            }
        }
    }
    Ok(())
}

/// One GCRA decision for `limit`, charging `cost` (0 only peeks).
pub async fn check(app: &App, limit: &Limit, view: &RequestView<'_>, cost: u32) -> Decision {
    let key = format!(
        "rl:{}:{}",
        limit.name,
        limit.key.render(view, &limit.fallback)
    );
    let store: &dyn Store = match limit.scope {
        LimitScope::Shared => app.store.as_ref(),
        LimitScope::Local => app.local.as_ref(),
    };
    match store.gcra(&key, limit.rate, cost).await {
        Ok(decision) => decision,
        // The shared store already applies its configured fallback; a failure reaching here
        // comes from the local store, which cannot fail: let the request pass.
        Err(_) => Decision {
            allowed: true,
            limit: limit.rate.burst,
            remaining: 0,
            retry_after: Duration::ZERO,
            reset_after: Duration::ZERO,
        },
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
