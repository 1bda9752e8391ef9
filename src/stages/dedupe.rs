//! Exactly-once webhook processing that never drops an event.
//!
//! A delivery's key moves through three states in the store: absent → `pending` (set if absent,
//! with the short `pending_ttl`) → `done` (kept for `ttl`). Only a `done` delivery is
//! acknowledged as a duplicate. A retry that arrives while the first is still `pending` is
//! answered 409, which Retell and Cal.com retry, so if the first fails (its `pending` is
//! deleted) the retry is processed. A delivery whose key cannot be built completely (a key
//! part is missing) is not deduplicated at all: processed, and counted as `unkeyed`.

use super::reply::{Refusal, Reply};
use crate::app::App;
use crate::policy::template::RequestView;
use crate::policy::{Dedupe, Route};
use crate::telemetry::metrics::{WEBHOOK_DEDUPE, WEBHOOK_DUPLICATES};

const PENDING: &[u8] = b"pending";
const DONE: &[u8] = b"done";

/// A delivery claimed for processing; settle it with [`settle`] when processing ends.
#[derive(Debug, Clone)]
pub struct Claim {
    key: String,
    ttl: std::time::Duration,
}

/// Claims this delivery, or answers the retry: `Ok(None)` when the delivery has no complete key.
pub async fn claim(
    app: &App,
    route: &Route,
    dedupe: &Dedupe,
    view: &RequestView<'_>,
) -> Result<Option<Claim>, Reply> {
    let Some(key) = dedupe.key.render_key(&["dd", &route.name], view, None) else {
        WEBHOOK_DEDUPE
            .with_label_values(&[&dedupe.source, "unkeyed"])
            .inc();
        tracing::info!(route = %route.name, "delivery without a complete dedupe key: processed without deduplication");
        return Ok(None);
    };
    // A store error was already absorbed by the fallback store; treat as a first delivery.
    let first = app
        .store
        .set_if_absent(&key, PENDING, dedupe.pending_ttl)
        .await
        .unwrap_or(true);
    if first {
        return Ok(Some(Claim {
            key,
            ttl: dedupe.ttl,
        }));
    }
    let done = matches!(app.store.get(&key).await, Ok(Some(v)) if v == DONE);
    if done {
        WEBHOOK_DUPLICATES
            .with_label_values(&[&dedupe.source])
            .inc();
        WEBHOOK_DEDUPE
            .with_label_values(&[&dedupe.source, "duplicate"])
            .inc();
        tracing::info!(route = %route.name, "duplicate delivery acknowledged");
        return Err(Reply::json(
            dedupe.status,
            &serde_json::json!({ "status": "duplicate" }),
        ));
    }
    WEBHOOK_DEDUPE
        .with_label_values(&[&dedupe.source, "in_progress"])
        .inc();
    tracing::info!(route = %route.name, "retry of a delivery still in progress: answered 409");
    Err(Refusal::DeliveryInProgress
        .reply()
        .with_header("retry-after", "5"))
}

/// Ends processing: a success is remembered as `done`; a failure forgets the delivery, so the
/// sender's retry is processed.
pub async fn settle(app: &App, claim: &Claim, succeeded: bool) {
    let result = if succeeded {
        app.store.set(&claim.key, DONE, claim.ttl).await
    } else {
        app.store.delete(&claim.key).await
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "dedupe state could not be recorded");
    }
}
