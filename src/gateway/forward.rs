//! Forwarding a fully buffered request to an upstream with Pingora's pooled connector, guarded by
//! the target's circuit breaker and timeouts, retried only when that is safe.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use frontdesk_resilience::{Outcome as Observed, RetryBudget, RetryContext, RetryDecision, RetryPolicy, Timeouts};
use frontdesk_store::Clock;

use super::proxy::write_reply;
use crate::app::App;
use crate::config::UpstreamDef;
use crate::stages::{Forward, Refusal, release_dedupe};
use crate::telemetry::metrics::{UPSTREAM_DURATION, UPSTREAM_REQUESTS};

/// Headers that describe one hop and are never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

struct Target {
    peer: HttpPeer,
    timeouts: Timeouts,
    retry: RetryPolicy,
    budget: RetryBudget,
    host: String,
}

pub struct Forwarder {
    connector: Connector,
    targets: HashMap<String, Target>,
}

/// Why one attempt failed, and whether another attempt may follow.
struct AttemptError {
    observed: Observed,
    /// Nothing reached the client yet, so a retry is still possible.
    retryable: bool,
}

impl Forwarder {
    pub fn new(upstreams: &std::collections::BTreeMap<String, UpstreamDef>, clock: Arc<dyn Clock>) -> Self {
        let targets = upstreams
            .iter()
            .map(|(name, def)| {
                let mut peer = HttpPeer::new(def.address.as_str(), false, String::new());
                let t = def.timeouts;
                peer.options.connection_timeout = Some(t.connect);
                peer.options.total_connection_timeout = Some(t.connect);
                peer.options.read_timeout = Some(t.read);
                peer.options.write_timeout = Some(t.write);
                peer.options.idle_timeout = Some(t.idle);
                // Checked by `Config::load`, so the default budget is only a formality here.
                let budget = def
                    .retry
                    .budget(clock.clone())
                    .unwrap_or_else(|_| RetryPolicy::default().budget(clock.clone()).unwrap_or_else(|_| unreachable!("default budget is valid")));
                let target = Target {
                    peer,
                    timeouts: t,
                    retry: def.retry.clone(),
                    budget,
                    host: def.host.clone().unwrap_or_else(|| def.address.clone()),
                };
                (name.clone(), target)
            })
            .collect();
        Self {
            connector: Connector::new(None),
            targets,
        }
    }

    /// Forwards and streams the answer back; returns the status the client got.
    pub async fn forward(&self, app: &App, session: &mut Session, forward: Forward) -> u16 {
        let status = self.exchange(app, session, &forward).await;
        if !(200..300).contains(&status)
            && let Some(key) = &forward.dedupe_key
        {
            release_dedupe(app, key).await;
        }
        status
    }

    async fn exchange(&self, app: &App, session: &mut Session, forward: &Forward) -> u16 {
        let name = forward.upstream.as_str();
        let Some(target) = self.targets.get(name) else {
            return refuse(session, Refusal::UpstreamUnavailable, None).await;
        };
        let breaker = app.breakers.get(name);
        let method = session.req_header().method.clone();
        target.budget.record_request();
        let deadline = Instant::now() + target.timeouts.total;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let permit = match breaker.as_ref().map(|b| b.try_acquire()) {
                Some(Err(rejected)) => {
                    UPSTREAM_REQUESTS.with_label_values(&[name, "rejected"]).inc();
                    return refuse(session, Refusal::UpstreamUnavailable, Some(rejected.retry_after_secs())).await;
                }
                Some(Ok(permit)) => Some(permit),
                None => None,
            };
            let started = Instant::now();
            let remaining = deadline.saturating_duration_since(started);
            let result = match tokio::time::timeout(remaining, self.attempt(target, session, &forward.body)).await {
                Ok(result) => result,
                Err(_) => Err(AttemptError {
                    observed: Observed::Timeout,
                    retryable: false,
                }),
            };
            let elapsed = started.elapsed();
            UPSTREAM_DURATION.with_label_values(&[name]).observe(elapsed.as_secs_f64());
            match result {
                Ok(status) => {
                    let observed = if status >= 500 || status == 429 { Observed::Status(status) } else { Observed::Success };
                    if let Some(p) = permit {
                        p.record(observed, elapsed);
                    }
                    UPSTREAM_REQUESTS.with_label_values(&[name, if status >= 500 { "error" } else { "success" }]).inc();
                    return status;
                }
                Err(error) => {
                    if let Some(p) = permit {
                        p.record(error.observed, elapsed);
                    }
                    let outcome = if error.observed == Observed::Timeout { "timeout" } else { "error" };
                    UPSTREAM_REQUESTS.with_label_values(&[name, outcome]).inc();
                    let decision = if error.retryable {
                        let context = RetryContext {
                            method: &method,
                            route_idempotent: forward.idempotent,
                            attempts_made: attempt,
                            outcome: error.observed,
                            time_left: deadline.saturating_duration_since(Instant::now()),
                        };
                        target.retry.decide(&context, &target.budget)
                    } else {
                        RetryDecision::Stop(frontdesk_resilience::StopReason::NotRetryable)
                    };
                    tracing::warn!(upstream = name, attempt, outcome, decision = ?decision, "upstream exchange failed");
                    let RetryDecision::Retry { after } = decision else {
                        if !error.retryable {
                            // Part of the answer already went out: all we can do is cut it.
                            session.set_keepalive(None);
                            return 502;
                        }
                        let refusal = if error.observed == Observed::Timeout { Refusal::UpstreamTimeout } else { Refusal::UpstreamFailed };
                        return refuse(session, refusal, None).await;
                    };
                    tokio::time::sleep(after).await;
                }
            }
        }
    }

    /// One exchange. Errors before the response header reached the client are retryable.
    async fn attempt(&self, target: &Target, session: &mut Session, body: &Bytes) -> Result<u16, AttemptError> {
        let connect_failed = |_| AttemptError {
            observed: Observed::ConnectError,
            retryable: true,
        };
        let before_response = |e: Box<pingora::Error>| AttemptError {
            observed: if matches!(e.etype(), ErrorType::ReadTimedout | ErrorType::WriteTimedout) {
                Observed::Timeout
            } else {
                Observed::ConnectError
            },
            retryable: true,
        };
        let (mut upstream, _reused) = self.connector.get_http_session(&target.peer).await.map_err(connect_failed)?;
        upstream.set_read_timeout(Some(target.timeouts.read));
        upstream.set_write_timeout(Some(target.timeouts.write));

        let request = upstream_request(session, &target.host, body.len()).map_err(before_response)?;
        upstream.write_request_header(Box::new(request)).await.map_err(before_response)?;
        if !body.is_empty() {
            upstream.write_request_body(body.clone(), true).await.map_err(before_response)?;
        }
        upstream.finish_request_body().await.map_err(before_response)?;
        upstream.read_response_header().await.map_err(before_response)?;
        let Some(response) = upstream.response_header() else {
            return Err(AttemptError {
                observed: Observed::ConnectError,
                retryable: true,
            });
        };
        let response = downstream_response(response);
        let status = response.status.as_u16();

        let streamed = async {
            session.write_response_header(Box::new(response), false).await?;
            while let Some(chunk) = upstream.read_response_body().await? {
                session.write_response_body(Some(chunk), false).await?;
            }
            session.write_response_body(None, true).await
        };
        match streamed.await {
            Ok(()) => {
                self.release(upstream, target).await;
                Ok(status)
            }
            Err(e) => Err(AttemptError {
                observed: if matches!(e.etype(), ErrorType::ReadTimedout) { Observed::Timeout } else { Observed::ConnectError },
                retryable: false,
            }),
        }
    }

    async fn release(&self, upstream: HttpSession, target: &Target) {
        self.connector.release_http_session(upstream, &target.peer, Some(target.timeouts.idle)).await;
    }
}

fn upstream_request(session: &Session, host: &str, body_len: usize) -> Result<RequestHeader> {
    let original = session.req_header();
    let mut request = original.clone();
    for name in HOP_BY_HOP {
        request.remove_header(*name);
    }
    request.insert_header("content-length", body_len.to_string())?;
    request.insert_header("host", host)?;
    if let Some(peer) = session.client_addr().and_then(|a| a.as_inet()) {
        let xff = match original.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(prior) => format!("{prior}, {}", peer.ip()),
            None => peer.ip().to_string(),
        };
        request.insert_header("x-forwarded-for", xff)?;
    }
    request.insert_header("x-forwarded-proto", "http")?;
    Ok(request)
}

fn downstream_response(upstream: &ResponseHeader) -> ResponseHeader {
    let mut response = upstream.clone();
    for name in HOP_BY_HOP.iter().filter(|n| **n != "transfer-encoding") {
        response.remove_header(*name);
    }
    response
}

async fn refuse(session: &mut Session, refusal: Refusal, retry_after: Option<u64>) -> u16 {
    let mut reply = refusal.reply();
    if let Some(secs) = retry_after {
        reply = reply.with_header("retry-after", secs.max(1).to_string());
    }
    let status = reply.status;
    if write_reply(session, reply).await.is_err() {
        session.set_keepalive(None);
    }
    status
}
