//! The `ProxyHttp` implementation. Everything happens in `request_filter`: match the route, read
//! the body under the route's limit, run the stages, then answer or forward. Forwarding is done
//! here with Pingora's pooled connector because Pingora only replays a consumed body of up to
//! 64 KiB; owning the exchange makes every size byte-identical.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::prelude::*;

use super::forward::Forwarder;
use crate::app::{App, InFlight};
use crate::stages::{self, Incoming, Outcome, Refusal, Reply};
use crate::telemetry::metrics::{REQUEST_DURATION, REQUESTS};

pub struct Gateway {
    pub app: Arc<App>,
    pub forwarder: Forwarder,
}

/// Per-request state.
pub struct RequestCtx {
    started: Instant,
    route: Option<String>,
    status: u16,
    bytes_in: usize,
    _in_flight: Option<InFlight>,
}

#[async_trait]
impl ProxyHttp for Gateway {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> Self::CTX {
        RequestCtx {
            started: Instant::now(),
            route: None,
            status: 0,
            bytes_in: 0,
            _in_flight: Some(self.app.lifecycle.track()),
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut Self::CTX) -> Result<bool> {
        if self.app.lifecycle.is_draining() {
            // Finish this request, then close: clients reconnect to a replica that stays.
            session.set_keepalive(None);
        }
        let outcome = self.handle(session, ctx).await;
        match outcome {
            Ok(Outcome::Reply(reply)) => {
                ctx.status = reply.status;
                write_reply(session, reply).await?;
            }
            Ok(Outcome::Forward(forward)) => {
                ctx.status = self.forwarder.forward(&self.app, session, forward).await;
            }
            Err(reply) => {
                // Refused before the body was read completely: the rest of it is unread.
                session.set_keepalive(None);
                ctx.status = reply.status;
                write_reply(session, reply).await?;
            }
        }
        Ok(true)
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        _ctx: &mut Self::CTX,
    ) -> Result<Box<HttpPeer>> {
        // Every request is answered or forwarded in `request_filter`.
        Err(Error::explain(
            ErrorType::InternalError,
            "no upstream selection outside request_filter",
        ))
    }

    async fn logging(
        &self,
        session: &mut Session,
        error: Option<&pingora::Error>,
        ctx: &mut Self::CTX,
    ) {
        let route = ctx.route.as_deref().unwrap_or("none");
        let status = if ctx.status == 0 {
            session
                .response_written()
                .map(|r| r.status.as_u16())
                .unwrap_or(0)
        } else {
            ctx.status
        };
        let elapsed = ctx.started.elapsed();
        let status_label = http::StatusCode::from_u16(status);
        REQUESTS
            .with_label_values(&[route, status_label.as_ref().map_or("0", |s| s.as_str())])
            .inc();
        REQUEST_DURATION
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
        tracing::info!(
            target: "access",
            route,
            method = session.req_header().method.as_str(),
            status,
            // Whole microseconds: a shorter line to format and to scan for PII.
            duration_ms = elapsed.as_micros() as f64 / 1000.0,
            bytes_in = ctx.bytes_in,
            bytes_out = session.body_bytes_sent(),
            error = error.map(|e| e.etype().as_str()),
            "request"
        );
    }
}

impl Gateway {
    async fn handle(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> std::result::Result<Outcome, Reply> {
        if has_ambiguous_length(session) {
            return Err(Refusal::AmbiguousLength.reply());
        }
        let header = session.req_header();
        let policy = self.app.policy.current();
        let method = header.method.clone();
        let path = header.uri.path().to_string();
        let Some((route, params)) = policy.routes.find(&method, &path) else {
            // The unread body (if any) makes the connection unusable: Err closes it.
            return if session.is_body_empty() {
                Ok(Outcome::Reply(Refusal::NoRoute.reply()))
            } else {
                Err(Refusal::NoRoute.reply())
            };
        };
        let route = route.clone();
        ctx.route = Some(route.name.clone());

        let declared = header
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > route.body_limit) {
            return Err(Refusal::BodyTooLarge.reply());
        }
        let body = read_body(session, route.body_limit, declared).await?;
        ctx.bytes_in = body.len();

        let peer = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip())
            .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        let headers = session.req_header().headers.clone();
        let client_ip =
            stages::client_ip::client_ip(peer, &headers, &self.app.config().trusted_proxies);
        let incoming = Incoming {
            method,
            path,
            headers,
            client_ip,
            params,
            body,
        };
        Ok(stages::process(&self.app, &policy, &route, &incoming).await)
    }
}

/// Both Content-Length and Transfer-Encoding: the classic request-smuggling shape, refused.
/// Pingora drops Content-Length in that case, so the raw header is consulted.
fn has_ambiguous_length(session: &Session) -> bool {
    let headers = &session.req_header().headers;
    if !headers.contains_key(http::header::TRANSFER_ENCODING) {
        return false;
    }
    headers.contains_key(http::header::CONTENT_LENGTH)
        || session
            .to_h1_raw()
            .split(|b| *b == b'\n')
            .any(|line| line.len() > 15 && line[..15].eq_ignore_ascii_case(b"content-length:"))
}

/// Reads the whole body, refusing it with 413 as soon as it crosses `limit`.
async fn read_body(
    session: &mut Session,
    limit: u64,
    declared: Option<u64>,
) -> std::result::Result<Bytes, Reply> {
    let capacity = declared.unwrap_or(0).min(limit) as usize;
    let mut body = BytesMut::with_capacity(capacity);
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(Refusal::BodyTooLarge.reply());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.freeze()),
            Err(e) => {
                tracing::info!(error = %e.etype().as_str(), "request body could not be read");
                return Err(Refusal::UnreadableBody.reply());
            }
        }
    }
}

pub async fn write_reply(session: &mut Session, reply: Reply) -> Result<()> {
    let mut header = ResponseHeader::build(reply.status, Some(4 + reply.headers.len()))?;
    if let Some(ct) = reply.content_type {
        header.insert_header("content-type", ct)?;
    }
    header.insert_header("content-length", reply.body.len().to_string())?;
    header.insert_header("cache-control", "no-store")?;
    for (name, value) in reply.headers {
        header.insert_header(name, value)?;
    }
    let empty = reply.body.is_empty();
    session
        .write_response_header(Box::new(header), empty)
        .await?;
    if !empty {
        session.write_response_body(Some(reply.body), true).await?;
    }
    Ok(())
}
