//! Authentication-failure budgets: failed verifications spend a budget per auth scheme and
//! client network (an IPv6 client's /64); once it is spent, failures are answered 429 instead of
//! 401. Only failures ever touch it: a request whose signature verifies is never refused for
//! someone else's failures, from any address — Retell sends every practice's calls from a few
//! shared addresses, so a budget that refused good traffic would let anyone silence all tenants.
//!
//! A tripped budget is mirrored in this replica's memory until it refills, so a flood of failures
//! costs no store round trip (and missing, malformed or stale signatures no HMAC work either).

use std::time::Duration;

use super::limit;
use super::reply::Reply;
use crate::app::App;
use crate::policy::template::RequestView;
use crate::policy::{AuthStage, Limit, LimitMode, LimitScope};
use crate::telemetry::metrics::{AUTH_BUDGET_TRIPS, LimitOutcome};

/// Charges one failure to `auth`'s budget; `Err(429)` when the budget is spent.
pub async fn charge(app: &App, auth: &AuthStage, view: &RequestView<'_>) -> Result<(), Reply> {
    let Some(budget) = auth.failure_limit.as_deref() else {
        return Ok(());
    };
    let key = key(budget, auth, view);
    let tripped = tripped_key(&key);
    if let Ok(Some(until)) = app.local.get(&tripped).await {
        let retry_after = retry_after_from(&until, app.clock.now_ms());
        budget.series.count(&budget.name, LimitOutcome::Denied);
        return Err(refusal(budget, retry_after));
    }
    let store = match budget.scope {
        LimitScope::Shared => app.store.as_ref(),
        LimitScope::Local => app.local.as_ref(),
    };
    let Ok(decision) = store.gcra(&key, budget.rate, 1).await else {
        // The shared store's fallback already decided what an outage means; a local failure
        // cannot happen. Either way this request is refused 401 anyway.
        return Ok(());
    };
    if !decision.allowed && budget.mode == LimitMode::Enforce {
        AUTH_BUDGET_TRIPS.with_label_values(&[&auth.name]).inc();
        tracing::warn!(auth = %auth.name, route = view.route, limit = %budget.name, "authentication failure budget spent: further failures from this network are answered 429");
        let wait = decision.retry_after.max(Duration::from_secs(1));
        let until = app.clock.now_ms() + u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let _ = app
            .local
            .set(&tripped, until.to_string().as_bytes(), wait)
            .await;
    }
    limit::record(budget, &decision, view)
}

/// `<limit>:<auth>:<key>`: one budget per auth scheme, so Cal.com failures never spend Retell's.
fn key(budget: &Limit, auth: &AuthStage, view: &RequestView<'_>) -> String {
    budget
        .key
        .render_key(
            &[&budget.name, &auth.name],
            view,
            Some(&[&budget.fallback, view.client_net]),
        )
        .unwrap_or_default()
}

fn tripped_key(key: &str) -> String {
    format!("tripped:{key}")
}

fn retry_after_from(until: &[u8], now_ms: u64) -> Duration {
    let until: u64 = std::str::from_utf8(until)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(now_ms);
    Duration::from_millis(until.saturating_sub(now_ms))
}

fn refusal(budget: &Limit, retry_after: Duration) -> Reply {
    let decision = frontdesk_store::Decision {
        allowed: false,
        limit: budget.rate.burst,
        remaining: 0,
        retry_after,
        reset_after: retry_after,
    };
    limit::too_many_requests(&budget.name, &decision)
}
