//! Forwarding a fully buffered request to an upstream with Pingora's pooled connector, guarded by
//! the target's circuit breaker and timeouts, retried only when that is safe.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use frontdesk_resilience::{
    Outcome as Observed, RetryBudget, RetryContext, RetryDecision, RetryPolicy, Timeouts,
};
use frontdesk_store::Clock;
use pingora::connectors::http::Connector;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::protocols::http::client::HttpSession;
use pingora::protocols::http::v1::client::{HttpSession as Http1Session, http_req_header_to_wire};
use tokio::io::AsyncWriteExt;

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

/// How one attempt ended.
enum Attempt {
    /// The answer (of this status) went to the client.
    Answered(u16),
    /// Failed in a way the retry policy allows repeating, after this pause.
    Retry {
        observed: Observed,
        after: std::time::Duration,
    },
    /// Failed for good. `started_answer`: part of the answer already reached the client.
    Failed {
        observed: Observed,
        started_answer: bool,
    },
}

impl Forwarder {
    pub fn new(
        upstreams: &std::collections::BTreeMap<String, UpstreamDef>,
        clock: Arc<dyn Clock>,
    ) -> Self {
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
                let budget = def.retry.budget(clock.clone()).unwrap_or_else(|_| {
                    RetryPolicy::default()
                        .budget(clock.clone())
                        .unwrap_or_else(|_| unreachable!("default budget is valid"))
                });
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
        let mut attempts_made = 0u32;
        loop {
            attempts_made += 1;
            let permit = match breaker.as_ref().map(|b| b.try_acquire()) {
                Some(Err(rejected)) => {
                    UPSTREAM_REQUESTS
                        .with_label_values(&[name, "rejected"])
                        .inc();
                    return refuse(
                        session,
                        Refusal::UpstreamUnavailable,
                        Some(rejected.retry_after_secs()),
                    )
                    .await;
                }
                Some(Ok(permit)) => Some(permit),
                None => None,
            };
            let retry_after = |observed: Observed| {
                let context = RetryContext {
                    method: &method,
                    route_idempotent: forward.idempotent,
                    attempts_made,
                    outcome: observed,
                    time_left: deadline.saturating_duration_since(Instant::now()),
                };
                match target.retry.decide(&context, &target.budget) {
                    RetryDecision::Retry { after } => Some(after),
                    RetryDecision::Stop(_) => None,
                }
            };
            let started = Instant::now();
            let remaining = deadline.saturating_duration_since(started);
            let attempt = self.attempt(target, session, &forward.body, &retry_after);
            // Pingora's timer, not tokio's: registering a tokio timer earlier than any other
            // unparks the runtime (an eventfd write) on every request.
            let result = pingora::prelude::timeout(remaining, attempt)
                .await
                .unwrap_or(Attempt::Failed {
                    observed: Observed::Timeout,
                    started_answer: false,
                });
            let elapsed = started.elapsed();
            UPSTREAM_DURATION
                .with_label_values(&[name])
                .observe(elapsed.as_secs_f64());
            let observed = match &result {
                Attempt::Answered(status) if *status >= 500 || *status == 429 => {
                    Observed::Status(*status)
                }
                Attempt::Answered(_) => Observed::Success,
                Attempt::Retry { observed, .. } | Attempt::Failed { observed, .. } => *observed,
            };
            if let Some(permit) = permit {
                permit.record(observed, elapsed);
            }
            let outcome = match observed {
                Observed::Success => "success",
                Observed::Timeout => "timeout",
                _ => "error",
            };
            UPSTREAM_REQUESTS.with_label_values(&[name, outcome]).inc();
            match result {
                Attempt::Answered(status) => return status,
                Attempt::Retry { after, .. } => {
                    tracing::warn!(
                        upstream = name,
                        attempts_made,
                        outcome,
                        "upstream attempt failed; retrying"
                    );
                    tokio::time::sleep(after).await;
                }
                Attempt::Failed {
                    started_answer: true,
                    ..
                } => {
                    // Part of the answer already went out: all that is left is to cut it.
                    tracing::warn!(upstream = name, outcome, "upstream failed mid-answer");
                    session.set_keepalive(None);
                    return 502;
                }
                Attempt::Failed { observed, .. } => {
                    tracing::warn!(
                        upstream = name,
                        attempts_made,
                        outcome,
                        "upstream exchange failed"
                    );
                    let refusal = if observed == Observed::Timeout {
                        Refusal::UpstreamTimeout
                    } else {
                        Refusal::UpstreamFailed
                    };
                    return refuse(session, refusal, None).await;
                }
            }
        }
    }

    /// One exchange. A failure before anything reached the client may be retried; a 5xx or 429
    /// answer is retried (and not passed on) only when the retry policy allows another attempt.
    async fn attempt(
        &self,
        target: &Target,
        session: &mut Session,
        body: &Bytes,
        retry_after: &(dyn Fn(Observed) -> Option<std::time::Duration> + Sync),
    ) -> Attempt {
        let before_answer = |observed: Observed| match retry_after(observed) {
            Some(after) => Attempt::Retry { observed, after },
            None => Attempt::Failed {
                observed,
                started_answer: false,
            },
        };
        let classify = |e: &pingora::Error| match e.etype() {
            ErrorType::ReadTimedout | ErrorType::WriteTimedout | ErrorType::ConnectTimedout => {
                Observed::Timeout
            }
            _ => Observed::ConnectError,
        };
        let upstream = match self.connector.get_http_session(&target.peer).await {
            Ok((upstream, _reused)) => upstream,
            Err(e) => return before_answer(classify(&e)),
        };
        let sent = async {
            let request = upstream_request(session, &target.host, body.len())?;
            let mut upstream = send_request(upstream, request, body, target).await?;
            upstream.read_response_header().await?;
            Ok::<_, Box<pingora::Error>>(upstream)
        };
        let mut upstream = match sent.await {
            Ok(upstream) => upstream,
            Err(e) => return before_answer(classify(&e)),
        };
        let Some(response) = upstream.response_header() else {
            return before_answer(Observed::ConnectError);
        };
        let status = response.status.as_u16();
        if (status >= 500 || status == 429)
            && let Some(after) = retry_after(Observed::Status(status))
        {
            // This answer is dropped with its connection; the retry's answer goes out instead.
            return Attempt::Retry {
                observed: Observed::Status(status),
                after,
            };
        }
        let response = downstream_response(response);
        let streamed = async {
            session
                .write_response_header(Box::new(response), false)
                .await?;
            while let Some(chunk) = upstream.read_response_body().await? {
                session.write_response_body(Some(chunk), false).await?;
            }
            session.write_response_body(None, true).await
        };
        match streamed.await {
            Ok(()) => {
                self.release(upstream, target).await;
                Attempt::Answered(status)
            }
            Err(e) => Attempt::Failed {
                observed: classify(&e),
                started_answer: true,
            },
        }
    }

    async fn release(&self, upstream: HttpSession, target: &Target) {
        self.connector
            .release_http_session(upstream, &target.peer, Some(target.timeouts.idle))
            .await;
    }
}

/// Largest body sent in the same write as the request header.
const COALESCED_BODY: usize = 16 * 1024;

/// Sends the request. Pingora flushes the header on its own, then the body: two packets and two
/// wake-ups of the upstream per request. For an HTTP/1.1 request with a small body, header and
/// body go out in one write instead, and the session is rebuilt on the same connection to read
/// the answer. (HEAD keeps Pingora's path: reading its bodiless answer needs the request.)
async fn send_request(
    upstream: HttpSession,
    request: RequestHeader,
    body: &Bytes,
    target: &Target,
) -> Result<HttpSession> {
    let mut upstream = match upstream {
        HttpSession::H1(h1)
            if !body.is_empty()
                && body.len() <= COALESCED_BODY
                && request.method != http::Method::HEAD =>
        {
            let mut wire = http_req_header_to_wire(&request).ok_or_else(|| {
                Error::explain(ErrorType::InvalidHTTPHeader, "request line cannot be sent")
            })?;
            wire.extend_from_slice(body);
            let mut stream = h1.into_inner();
            let write = async {
                stream.write_all(&wire).await?;
                stream.flush().await
            };
            match pingora::prelude::timeout(target.timeouts.write, write).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Error::e_because(ErrorType::WriteError, "sending request", e),
                Err(_) => return Error::e_explain(ErrorType::WriteTimedout, "sending request"),
            }
            HttpSession::H1(Http1Session::new_with_options(stream, &target.peer))
        }
        mut other => {
            other.set_write_timeout(Some(target.timeouts.write));
            other.write_request_header(Box::new(request)).await?;
            if !body.is_empty() {
                other.write_request_body(body.clone(), true).await?;
            }
            other.finish_request_body().await?;
            other
        }
    };
    upstream.set_read_timeout(Some(target.timeouts.read));
    upstream.set_write_timeout(Some(target.timeouts.write));
    Ok(upstream)
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
        let xff = match original
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
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
