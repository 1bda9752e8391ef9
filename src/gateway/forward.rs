//! Forwarding a fully buffered request to an upstream over a pooled HTTP/1 connection, guarded
//! by the target's circuit breaker and timeouts, retried only when that is safe.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use frontdesk_clock::Clock;
use frontdesk_resilience::{
    Outcome as Observed, RetryBudget, RetryContext, RetryDecision, RetryPolicy, Timeouts,
};
use pingora::connectors::TransportConnector;
use pingora::http::{HeaderNameVariant, ResponseHeader};
use pingora::prelude::*;
use pingora::protocols::Stream;
use pingora::protocols::http::ServerSession as Session;
use pingora::protocols::http::v1::client::HttpSession as UpstreamSession;
use tokio::io::AsyncWriteExt;

use super::pool::{IdlePool, MAX_IDLE};
use super::reply::write_reply;
use crate::app::App;
use crate::config::UpstreamDef;
use crate::stages::client_ip::ip_text;
use crate::stages::{self, Forward, Refusal};
use crate::telemetry::metrics::{UpstreamOutcome, UpstreamSeries};

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
    idle: Arc<IdlePool>,
    series: UpstreamSeries,
}

pub struct Forwarder {
    connector: TransportConnector,
    targets: HashMap<String, Target>,
}

/// What the client got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub status: u16,
    /// `false`: the answer started and was then cut; the connection must close unfinished.
    pub complete: bool,
}

impl Sent {
    fn whole(status: u16) -> Self {
        Self {
            status,
            complete: true,
        }
    }
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
                    idle: Arc::new(IdlePool::new(t.idle, MAX_IDLE)),
                    series: UpstreamSeries::new(name),
                };
                (name.clone(), target)
            })
            .collect();
        Self {
            connector: TransportConnector::new(None),
            targets,
        }
    }

    /// Every upstream's idle connections, for the sweep.
    pub fn idle_pools(&self) -> Vec<Arc<IdlePool>> {
        self.targets.values().map(|t| t.idle.clone()).collect()
    }

    /// Forwards and streams the answer back; returns what the client got.
    pub async fn forward(&self, app: &App, session: &mut Session, forward: Forward) -> Sent {
        let sent = self.exchange(app, session, &forward).await;
        stages::forwarded(app, &forward, sent.status, sent.complete).await;
        sent
    }

    async fn exchange(&self, app: &App, session: &mut Session, forward: &Forward) -> Sent {
        let name = forward.upstream.as_str();
        let Some(target) = self.targets.get(name) else {
            return Sent::whole(refuse(session, Refusal::UpstreamUnavailable, None).await);
        };
        let breaker = app.breakers.get(name);
        let method = session.req_header().method.clone();
        target.budget.record_request();
        let deadline = Instant::now() + target.timeouts.total;
        let mut attempts_made = 0u32;
        let forwarding = ForwardingHeaders::of(session, &app.config().trusted_proxies);
        loop {
            attempts_made += 1;
            let permit = match breaker.as_ref().map(|b| b.try_acquire()) {
                Some(Err(rejected)) => {
                    target.series.count(UpstreamOutcome::Rejected);
                    let status = refuse(
                        session,
                        Refusal::UpstreamUnavailable,
                        Some(rejected.retry_after_secs()),
                    )
                    .await;
                    return Sent::whole(status);
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
            // Pingora's timer, not tokio's: registering a tokio timer earlier than any other
            // unparks the runtime (an eventfd write) on every request. The attempt is made inside
            // the call: bound to a name, it would keep a second slot of its size (2.5 KiB) in
            // this future's state, which every open connection's task carries.
            let result = pingora::prelude::timeout(
                remaining,
                self.attempt(target, session, &forward.body, &forwarding, &retry_after),
            )
            .await
            .unwrap_or_else(|_| Attempt::Failed {
                observed: Observed::Timeout,
                // The deadline may strike while the answer streams: then it is cut, not replaced.
                started_answer: session.response_written().is_some(),
            });
            let elapsed = started.elapsed();
            target.series.duration.observe(elapsed.as_secs_f64());
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
                Observed::Success => UpstreamOutcome::Success,
                Observed::Timeout => UpstreamOutcome::Timeout,
                _ => UpstreamOutcome::Error,
            };
            target.series.count(outcome);
            let outcome = outcome.as_str();
            match result {
                Attempt::Answered(status) => return Sent::whole(status),
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
                    let status = session
                        .response_written()
                        .map_or(502, |r| r.status.as_u16());
                    return Sent {
                        status,
                        complete: false,
                    };
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
                    return Sent::whole(refuse(session, refusal, None).await);
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
        forwarding: &ForwardingHeaders,
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
        let stream = match target.idle.take() {
            Some(stream) => stream,
            None => match self.connector.new_stream(&target.peer).await {
                Ok(stream) => stream,
                Err(e) => return before_answer(classify(&e)),
            },
        };
        let sent = async {
            let head = request_head(session, &target.host, body.len(), forwarding)?;
            let mut upstream = send_request(stream, head, body, target).await?;
            upstream.read_response().await?;
            Ok::<_, Box<pingora::Error>>(upstream)
        };
        let mut upstream = match sent.await {
            Ok(upstream) => upstream,
            Err(e) => return before_answer(classify(&e)),
        };
        let Some(response) = upstream.resp_header() else {
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
        // The answer to HEAD has no body whatever its Content-Length says. The upstream session
        // was not told the method, so it sees an unfinished answer and closes the connection.
        let bodiless = session.req_header().method == http::Method::HEAD;
        let streamed = async {
            session.write_response_header(Box::new(response)).await?;
            if bodiless {
                return Ok(());
            }
            while let Some(chunk) = upstream.read_body_bytes().await? {
                session.write_response_body(chunk, false).await?;
            }
            session.write_response_body(Bytes::new(), true).await
        };
        match streamed.await {
            Ok(()) => {
                release(upstream, target).await;
                Attempt::Answered(status)
            }
            Err(e) => Attempt::Failed {
                observed: classify(&e),
                started_answer: true,
            },
        }
    }
}

/// Returns the connection to the pool when its exchange left it reusable (answer read to its
/// end, keep-alive on both sides); otherwise it is closed.
async fn release(mut upstream: UpstreamSession, target: &Target) {
    upstream.respect_keepalive();
    if let Some(stream) = upstream.reuse().await {
        target.idle.put(stream);
    }
}

/// Largest body sent in the same write as the request header.
const COALESCED_BODY: usize = 16 * 1024;

/// Sends the request: header and a small body in one write (one packet, one wake-up of the
/// upstream), a larger body in a second. The session that reads the answer is made afterwards.
async fn send_request(
    mut stream: Stream,
    mut head: BytesMut,
    body: &Bytes,
    target: &Target,
) -> Result<UpstreamSession> {
    let write = async {
        if body.len() <= COALESCED_BODY {
            head.extend_from_slice(body);
            stream.write_all(&head).await?;
        } else {
            stream.write_all(&head).await?;
            stream.write_all(body).await?;
        }
        stream.flush().await
    };
    match pingora::prelude::timeout(target.timeouts.write, write).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Error::e_because(ErrorType::WriteError, "sending request", e),
        Err(_) => return Error::e_explain(ErrorType::WriteTimedout, "sending request"),
    }
    let mut upstream = UpstreamSession::new_with_options(stream, &target.peer);
    upstream.read_timeout = Some(target.timeouts.read);
    upstream.write_timeout = Some(target.timeouts.write);
    Ok(upstream)
}

/// Request headers that frontdesk sets itself (after the hop-by-hop ones, never passed on).
const REPLACED: &[&str] = &[
    "host",
    "content-length",
    "x-forwarded-for",
    "x-forwarded-proto",
];

/// The request line and headers sent upstream, in HTTP/1.1 wire format: the client's, header
/// case kept, minus hop-by-hop headers, with Host, Content-Length and X-Forwarded-* set here.
/// Written straight from the client's header: cloning it and editing the copy was a visible
/// part of a forwarded request's cost (docs/benchmarks.md).
fn request_head(
    session: &Session,
    host: &str,
    body_len: usize,
    forwarding: &ForwardingHeaders,
) -> Result<BytesMut> {
    let original = session.req_header();
    let target = original.raw_path();
    // Pingora's own check: these bytes would split the request line.
    if target
        .iter()
        .any(|&b| matches!(b, 0 | b'\n' | b'\r' | b' '))
    {
        return Error::e_explain(
            ErrorType::InvalidHTTPHeader,
            "request target cannot be sent",
        );
    }
    let mut wire = BytesMut::with_capacity(512 + target.len());
    for part in [
        original.method.as_str().as_bytes(),
        b" ",
        target,
        b" HTTP/1.1\r\n",
    ] {
        wire.extend_from_slice(part);
    }
    let nominated = connection_nominated(&original.headers);
    original.map(|name, value| {
        let name = match name {
            HeaderNameVariant::Case(name) => name.as_slice(),
            HeaderNameVariant::Titled(name) => name.as_bytes(),
        };
        let ours = HOP_BY_HOP
            .iter()
            .chain(REPLACED)
            .any(|n| name.eq_ignore_ascii_case(n.as_bytes()))
            || nominated
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n.as_bytes()));
        if !ours {
            put_header(&mut wire, name, value.as_bytes());
        }
        Ok(())
    })?;
    put_header(&mut wire, b"Host", host.as_bytes());
    put_header(
        &mut wire,
        b"Content-Length",
        itoa::Buffer::new().format(body_len).as_bytes(),
    );
    if let Some(xff) = &forwarding.forwarded_for {
        put_header(&mut wire, b"X-Forwarded-For", xff.as_bytes());
    }
    put_header(&mut wire, b"X-Forwarded-Proto", forwarding.proto.as_bytes());
    wire.extend_from_slice(b"\r\n");
    Ok(wire)
}

/// The `X-Forwarded-*` values sent upstream, worked out once per request.
struct ForwardingHeaders {
    /// Every `X-Forwarded-For` value the client sent, in order, then the peer.
    forwarded_for: Option<String>,
    /// The listener's scheme, or the one a trusted proxy in front of it reports.
    proto: &'static str,
}

impl ForwardingHeaders {
    fn of(session: &Session, trusted_proxies: &[ipnet::IpNet]) -> Self {
        let headers = &session.req_header().headers;
        let peer = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip());
        let peer_text = peer.map(ip_text);
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .chain(peer_text.as_deref())
            .collect();
        let forwarded_for = (!hops.is_empty()).then(|| hops.join(", "));
        let listener = if session
            .digest()
            .and_then(|d| d.ssl_digest.as_ref())
            .is_some()
        {
            "https"
        } else {
            "http"
        };
        let trusted = peer.is_some_and(|ip| trusted_proxies.iter().any(|net| net.contains(&ip)));
        let reported = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let proto = match reported {
            Some(p) if trusted && p.eq_ignore_ascii_case("https") => "https",
            Some(p) if trusted && p.eq_ignore_ascii_case("http") => "http",
            _ => listener,
        };
        Self {
            forwarded_for,
            proto,
        }
    }
}

/// The header names a message's `Connection` header lists: they describe this hop only.
fn connection_nominated(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty() && t != "close" && t != "keep-alive")
        .collect()
}

fn put_header(wire: &mut BytesMut, name: &[u8], value: &[u8]) {
    for part in [name, b": ", value, b"\r\n"] {
        wire.extend_from_slice(part);
    }
}

fn downstream_response(upstream: &ResponseHeader) -> ResponseHeader {
    let mut response = upstream.clone();
    let nominated = connection_nominated(&response.headers);
    // Looked for among the few headers present rather than removed one by one by name.
    let hop_by_hop: Vec<_> = response
        .headers
        .keys()
        .filter(|n| {
            *n != http::header::TRANSFER_ENCODING
                && (HOP_BY_HOP.contains(&n.as_str()) || nominated.iter().any(|m| m == n.as_str()))
        })
        .cloned()
        .collect();
    for name in &hop_by_hop {
        response.remove_header(name);
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
