//! Idempotent execution of mutating functions (book, cancel, reschedule).
//!
//! Retell retries a function call when it does not get an answer in time, and a voice agent can
//! fire the same call twice. The key is tenant + call id + function + normalised arguments; the
//! first execution's reply is kept in the [`Store`] for a day and returned to every repeat.
//!
//! Two layers make concurrent duplicates execute once:
//! - in-process single-flight: duplicates on this replica await the same future;
//! - across replicas: the first writer stores a pending marker with `set_if_absent`; the others
//!   poll (bounded) until the final reply appears, or take over if the marker expires.
//!
//! Replies that say "try again" (calendar down) are not kept, so a retry really retries. A kept
//! reply is returned only while it is still true: the caller's `still_true` re-reads what the
//! reply states (the booking it names) from the calendar, and a reply that no longer holds is
//! forgotten and the call executed afresh.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use frontdesk_resilience::singleflight::SingleFlight;
use frontdesk_store::Store;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::directory::TenantScope;

/// How long a final reply is returned to repeats.
pub const REPLY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a pending marker blocks other replicas; longer than any calendar call may take, so
/// a crashed replica delays duplicates by at most this much.
pub const PENDING_TTL: Duration = Duration::from_secs(30);

/// What an execution produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Kept and returned to every repeat.
    Final(Value),
    /// Returned to the callers waiting now, but not kept (the next retry executes again).
    Retryable(Value),
}

/// The reply for a key, or the news that another replica is still working on it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Done(Value),
    StillPending,
}

/// Options for waiting on another replica's pending marker.
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    pub interval: Duration,
    pub attempts: u32,
}

impl Default for PollPolicy {
    fn default() -> Self {
        // 40 × 100 ms = 4 s: under Retell's function timeout, long enough for a calendar write.
        Self {
            interval: Duration::from_millis(100),
            attempts: 40,
        }
    }
}

pub struct Idempotency {
    store: Arc<dyn Store>,
    /// One execution per key on this replica; the store covers the others.
    flights: SingleFlight<Reply>,
    poll: PollPolicy,
}

impl Idempotency {
    pub fn new(store: Arc<dyn Store>, poll: PollPolicy) -> Self {
        Self {
            store,
            flights: SingleFlight::default(),
            poll,
        }
    }

    pub fn set_poll_policy(&mut self, poll: PollPolicy) {
        self.poll = poll;
    }

    /// The store key. Call id and arguments are hashed: keys may show up in Redis tooling and
    /// must not carry caller data.
    pub fn key(
        scope: &TenantScope,
        call_id: &str,
        function: &str,
        normalised_args: &Value,
    ) -> String {
        let mut h = Sha256::new();
        for part in [
            call_id.as_bytes(),
            function.as_bytes(),
            normalised_args.to_string().as_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        format!(
            "booking:idem:v1:{}:{}",
            scope.key(),
            hex::encode(h.finalize())
        )
    }

    /// Runs `execute` at most once per key (within the TTL) and returns its reply to everyone,
    /// as long as `still_true` confirms the kept reply against the calendar.
    pub async fn run<F, Fut, C, CFut>(&self, key: String, still_true: C, execute: F) -> Reply
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
        C: Fn(Value) -> CFut,
        CFut: Future<Output = bool>,
    {
        self.flights
            .run(&key, || self.execute_once(&key, still_true, execute))
            .await
    }

    async fn execute_once<F, Fut, C, CFut>(&self, key: &str, still_true: C, execute: F) -> Reply
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
        C: Fn(Value) -> CFut,
        CFut: Future<Output = bool>,
    {
        let mut attempts = 0;
        loop {
            match self.read(key).await {
                Ok(Some(Stored::Done(reply))) => {
                    if still_true(reply.clone()).await {
                        return Reply::Done(reply);
                    }
                    // The calendar moved on (the booking was cancelled, say): the kept reply
                    // would be a lie. Forget it and execute as a first call.
                    if let Err(e) = self.store.delete(key).await {
                        return Reply::Done(self.unguarded(e, execute).await);
                    }
                    continue;
                }
                Ok(Some(Stored::Pending)) => {}
                Ok(None) => match self.store.set_if_absent(key, PENDING, PENDING_TTL).await {
                    Ok(true) => return Reply::Done(self.execute_and_record(key, execute).await),
                    Ok(false) => {}
                    Err(e) => return Reply::Done(self.unguarded(e, execute).await),
                },
                Err(e) => return Reply::Done(self.unguarded(e, execute).await),
            }
            // Another replica holds the pending marker: wait for its reply.
            if attempts >= self.poll.attempts {
                return Reply::StillPending;
            }
            attempts += 1;
            tokio::time::sleep(self.poll.interval).await;
        }
    }

    async fn execute_and_record<F, Fut>(&self, key: &str, execute: F) -> Value
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        match execute().await {
            Outcome::Final(reply) => {
                let stored = json!({ "state": "done", "reply": reply }).to_string();
                if let Err(e) = self.store.set(key, stored.as_bytes(), REPLY_TTL).await {
                    tracing::warn!(error = %e, "idempotency: could not store reply; a retry may execute again");
                }
                reply
            }
            Outcome::Retryable(reply) => {
                if let Err(e) = self.store.delete(key).await {
                    tracing::warn!(error = %e, "idempotency: could not clear pending marker");
                }
                reply
            }
        }
    }

    /// The store is down: executing anyway beats refusing the caller (SPEC: no request fails
    /// for the store); single-flight still covers duplicates on this replica.
    async fn unguarded<F, Fut>(&self, error: frontdesk_store::StoreError, execute: F) -> Value
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        tracing::warn!(error = %error, "idempotency store unavailable; executing without cross-replica guard");
        match execute().await {
            Outcome::Final(v) | Outcome::Retryable(v) => v,
        }
    }

    async fn read(&self, key: &str) -> Result<Option<Stored>, frontdesk_store::StoreError> {
        let Some(bytes) = self.store.get(key).await? else {
            return Ok(None);
        };
        let parsed: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            // Unreadable record: treat as absent rather than failing the call.
            Err(_) => return Ok(None),
        };
        Ok(match parsed.get("state").and_then(Value::as_str) {
            Some("done") => Some(Stored::Done(
                parsed.get("reply").cloned().unwrap_or(Value::Null),
            )),
            Some("pending") => Some(Stored::Pending),
            _ => None,
        })
    }
}

const PENDING: &[u8] = br#"{"state":"pending"}"#;

enum Stored {
    Pending,
    Done(Value),
}
