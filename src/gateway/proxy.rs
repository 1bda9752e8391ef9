//! The HTTP application behind the traffic listener: read the request, match the route, read the
//! body under the route's limit, run the stages, then answer or forward, and log. Written on
//! Pingora's `HttpServerApp` rather than its proxy framework: frontdesk answers or forwards every
//! request itself (Pingora's proxy only replays a consumed body of up to 64 KiB), and the
//! framework's per-request state, never used here, cost a 9 KiB copy per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora::apps::{HttpPersistentSettings, HttpServerApp, HttpServerOptions, ReusedHttpStream};
use pingora::prelude::*;
use pingora::protocols::Stream;
use pingora::protocols::http::ReusableHttpStream;
use pingora::protocols::http::ServerSession as Session;
use pingora::protocols::http::v2::server::{H2Options, default_h2_options};
use pingora::server::ShutdownWatch;
use tokio::sync::Notify;

use super::bounds::{Bounds, HeadRead};
use super::forward::Forwarder;
use super::metrics::{Phase, count_aborted};
use super::reply::write_reply;
use crate::app::{App, InFlight};
use crate::policy::{Policy, Route};
use crate::stages::{self, Incoming, Outcome, Refusal, Reply};
use crate::telemetry::metrics::UNROUTED;

pub struct Gateway {
    pub app: Arc<App>,
    pub forwarder: Forwarder,
    pub bounds: Bounds,
    /// Set, and waiters woken, when the service stops: idle keep-alive connections close.
    stopping: AtomicBool,
    stopped: Notify,
    /// For HTTP/2 connections (TLS with ALPN `h2`): closed after the keep-alive timeout idle.
    h2_server: HttpServerOptions,
}

/// What becomes of a connection after a request.
pub enum Served {
    /// Ready for the next request.
    Reusable(ReusableHttpStream, HttpPersistentSettings),
    /// To be closed now.
    Close,
    /// A refusal was sent while the client may still be sending: closed after a linger.
    Refused(Stream),
}

impl Served {
    fn refused(session: Session) -> Self {
        match session {
            Session::H1(session) => Self::Refused(session.into_inner()),
            // Other protocols end the stream themselves.
            _ => Self::Close,
        }
    }
}

/// How reading a request head ended.
enum Head {
    Request,
    /// Refused, and the refusal written.
    Refused,
    /// Nothing to serve (closed, failed, or the service stops).
    None,
}

/// Per-request state.
pub struct RequestCtx {
    started: Instant,
    route: Option<Arc<Route>>,
    status: u16,
    bytes_in: usize,
    /// `false`: the answer was cut short after it started (the client sees a truncated one).
    complete: bool,
    /// A refusal went out while part of the request was still unread.
    refused_unread: bool,
    _in_flight: InFlight,
}

#[async_trait]
impl HttpServerApp for Gateway {
    /// HTTP/2 streams (HTTP/1 connections are served by [`super::connection::Frontdoor`]).
    async fn process_new_http(
        self: &Arc<Self>,
        session: Session,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        let head = HeadRead {
            deadline: Instant::now() + self.bounds.header_timeout,
            meter: None,
        };
        match self.serve_request(session, shutdown, head).await {
            Served::Reusable(reusable, settings) => {
                Some(ReusedHttpStream::from_reusable_stream(reusable, settings))
            }
            Served::Close | Served::Refused(_) => None,
        }
    }

    /// The head-size cap of HTTP/1 holds for HTTP/2 header lists too (more is refused).
    fn h2_options(&self) -> Option<H2Options> {
        let mut options = default_h2_options();
        options
            .max_header_list_size(u32::try_from(self.bounds.max_header_bytes).unwrap_or(u32::MAX));
        Some(options)
    }

    fn server_options(&self) -> Option<&HttpServerOptions> {
        Some(&self.h2_server)
    }

    async fn http_cleanup(&self) {
        self.stopping.store(true, Ordering::Release);
        self.stopped.notify_waiters();
    }
}

impl Gateway {
    pub fn new(app: Arc<App>, forwarder: Forwarder, bounds: Bounds) -> Self {
        Self {
            app,
            forwarder,
            stopping: AtomicBool::new(false),
            stopped: Notify::new(),
            h2_server: {
                let mut options = HttpServerOptions::default();
                options.h2_idle_timeout = Some(bounds.keepalive_timeout);
                options
            },
            bounds,
        }
    }

    /// Serves one request: reads its head within the head deadline, answers it, logs it.
    /// Says what is to become of the connection.
    pub async fn serve_request(
        self: &Arc<Self>,
        session: Session,
        shutdown: &ShutdownWatch,
        head: HeadRead<'_>,
    ) -> Served {
        // On the heap, as in Pingora's own proxy: the session is large, and the futures below
        // hold it across their await points.
        let mut session = Box::new(session);
        // Requests that arrive together are answered in order (RFC 9112 §9.3.2).
        session.set_pipelining_enabled(true);
        match self.read_head(&mut session, head).await {
            Head::Request => {}
            Head::Refused => return Served::refused(*session),
            Head::None => {
                session.shutdown().await;
                return Served::Close;
            }
        }
        if session.req_header().method == http::Method::CONNECT {
            // Tunnels change how the exchange is framed; frontdesk serves none.
            let _ = session.respond_error(405).await;
            return Served::refused(*session);
        }
        if *shutdown.borrow()
            || self.stopping.load(Ordering::Acquire)
            || self.app.lifecycle.is_draining()
        {
            // Finish this request, then close: clients reconnect to a replica that stays.
            session.set_keepalive(None);
        }
        let mut ctx = RequestCtx {
            started: Instant::now(),
            route: None,
            status: 0,
            bytes_in: 0,
            complete: true,
            refused_unread: false,
            _in_flight: self.app.lifecycle.track(),
        };
        let result = self.serve(&mut session, &mut ctx).await;
        self.log(&session, result.as_ref().err().map(|e| &**e), &ctx);
        // After a failed write the connection's state is unknown, and after a cut answer the
        // client must see the cut: neither is reused, and the session is dropped unfinished.
        if result.is_err() || !ctx.complete {
            return Served::Close;
        }
        if ctx.refused_unread {
            return Served::refused(*session);
        }
        let settings = HttpPersistentSettings::for_session(&session);
        match session.finish().await {
            Ok(Some(reusable)) => Served::Reusable(reusable, settings),
            _ => Served::Close,
        }
    }

    /// Reads the request head within its deadline and size bounds, answering the client when
    /// it is refused.
    async fn read_head(&self, session: &mut Session, head: HeadRead<'_>) -> Head {
        if let Some(meter) = head.meter {
            meter.arm(self.bounds.max_header_bytes);
        }
        let time_left = head.deadline.saturating_duration_since(Instant::now());
        let read = tokio::select! {
            // Biased: a request already buffered is served before a stop is noticed.
            biased;
            read = pingora::prelude::timeout(time_left, session.read_request()) => read,
            () = self.until_stopping() => return Head::None,
        };
        let too_large = head.meter.is_some_and(|m| m.exhausted());
        if let Some(meter) = head.meter {
            meter.disarm();
        }
        let refusal = match read {
            Ok(Ok(true)) => check_head(session.req_header(), &self.bounds),
            // The client closed the connection between requests.
            Ok(Ok(false)) => return Head::None,
            Ok(Err(e)) => match unparsable_head(&e, too_large) {
                Some(reply) => Some(reply),
                None => return Head::None,
            },
            Err(_elapsed) => {
                Phase::Header.count();
                Some(wire_reply(
                    408,
                    "request_timeout",
                    "the request head did not arrive in time",
                ))
            }
        };
        let Some(reply) = refusal else {
            return Head::Request;
        };
        session.set_keepalive(None);
        match write_reply(session, reply).await {
            Ok(()) => Head::Refused,
            Err(_) => Head::None,
        }
    }

    /// Resolves once the service is stopping (at once if it already is).
    pub async fn until_stopping(&self) {
        // Made before the flag is read, so a stop between the two still wakes it.
        let stopped = self.stopped.notified();
        if !self.stopping.load(Ordering::Acquire) {
            stopped.await;
        }
    }

    async fn serve(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<()> {
        let outcome = self.handle(session, ctx).await;
        match outcome {
            Ok(Outcome::Reply(reply)) => {
                ctx.status = reply.status;
                write_reply(session, reply).await?;
            }
            Ok(Outcome::Forward(forward)) => {
                let sent = self.forwarder.forward(&self.app, session, forward).await;
                ctx.status = sent.status;
                ctx.complete = sent.complete;
            }
            Err(reply) => {
                // Refused before the body was read completely: the rest of it is unread.
                session.set_keepalive(None);
                ctx.status = reply.status;
                write_reply(session, reply).await?;
                ctx.refused_unread = true;
            }
        }
        Ok(())
    }

    fn log(&self, session: &Session, error: Option<&pingora::Error>, ctx: &RequestCtx) {
        let (route, series) = match &ctx.route {
            Some(route) => (route.name.as_str(), &route.series),
            None => ("none", &UNROUTED),
        };
        let status = if ctx.status == 0 {
            session
                .response_written()
                .map(|r| r.status.as_u16())
                .unwrap_or(0)
        } else {
            ctx.status
        };
        let elapsed = ctx.started.elapsed();
        series.record(route, status, elapsed);
        if !ctx.complete {
            count_aborted(route);
        }
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
            outcome = if ctx.complete { "complete" } else { "aborted" },
            "request"
        );
    }

    async fn handle(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> std::result::Result<Outcome, Reply> {
        if has_ambiguous_length(session) {
            return Err(Refusal::AmbiguousLength.reply());
        }
        let is_feed = session.req_header().method == http::Method::GET
            && session
                .req_header()
                .uri
                .path()
                .starts_with(crate::feed::PREFIX);
        if is_feed && session.is_body_empty() {
            let header = session.req_header();
            let client_ip = stages::client_ip::client_ip(
                peer_ip(session),
                &header.headers,
                &self.app.config().trusted_proxies,
            );
            let path = header.uri.path().to_owned();
            let reply = crate::feed::serve(&self.app, &path, &header.headers, client_ip).await;
            return Ok(Outcome::Reply(reply));
        }
        let header = session.req_header();
        let policy = self.app.policy.current();
        let Some((route, params)) = policy.routes.find(&header.method, header.uri.path()) else {
            // The unread body (if any) makes the connection unusable: Err closes it.
            return if session.is_body_empty() {
                Ok(Outcome::Reply(Refusal::NoRoute.reply()))
            } else {
                Err(Refusal::NoRoute.reply())
            };
        };
        ctx.route = Some(route.clone());

        if declared_length(header).is_some_and(|n| n > route.body_limit) {
            return Err(Refusal::BodyTooLarge.reply());
        }
        let body = read_body(session, route.body_limit, &self.bounds).await?;
        ctx.bytes_in = body.len();

        let peer = peer_ip(session);
        let headers = &session.req_header().headers;
        let client_ip =
            stages::client_ip::client_ip(peer, headers, &self.app.config().trusted_proxies);
        let incoming = Incoming {
            headers,
            client_ip,
            params,
            body,
        };
        Ok(stages::process(&self.app, &policy, route, &incoming).await)
    }
}

fn peer_ip(session: &Session) -> std::net::IpAddr {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]))
}

/// What a parsed head may not be: too many fields, or HTTP/1.1 without exactly one Host.
fn check_head(header: &RequestHeader, bounds: &Bounds) -> Option<Reply> {
    if header.headers.len() > bounds.max_headers {
        return Some(wire_reply(
            431,
            "header_too_large",
            "the request has too many header fields",
        ));
    }
    let hosts = header.headers.get_all(http::header::HOST).iter().count();
    let needs_host = header.version == http::Version::HTTP_11;
    if hosts > 1 || (needs_host && hosts == 0) {
        return Some(wire_reply(
            400,
            "bad_request",
            "an HTTP/1.1 request needs exactly one Host header",
        ));
    }
    None
}

/// The answer to a head Pingora could not parse (`None`: close without one).
fn unparsable_head(e: &pingora::Error, too_large: bool) -> Option<Reply> {
    if too_large || is_too_many_headers(e) {
        Some(wire_reply(
            431,
            "header_too_large",
            "the request head is too large",
        ))
    } else if e.etype() == &ErrorType::InvalidHTTPHeader {
        Some(wire_reply(
            400,
            "bad_request",
            "the request head is malformed",
        ))
    } else {
        None
    }
}

/// The body length the client announced, when it is a number.
fn declared_length(header: &RequestHeader) -> Option<u64> {
    header
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// What became of a request head in [`route_head`].
#[doc(hidden)]
#[derive(Debug, PartialEq, Eq)]
pub enum HeadRoute {
    /// Nothing to answer: the connection is closed.
    Closed,
    /// Refused with this status before any route was looked for.
    Refused(u16),
    /// No route matches (404).
    NoRoute,
    /// The route's name and path parameters, and the client's address; `too_large` when the
    /// announced body exceeds the route's limit (413).
    Route {
        name: String,
        params: Vec<(String, String)>,
        client_ip: std::net::IpAddr,
        too_large: bool,
    },
}

/// The first request head in `bytes`, read by Pingora's HTTP/1 parser, checked and routed with
/// the functions the gateway uses (without deadlines or the size meter): the entry of the
/// request-head fuzz target.
#[doc(hidden)]
pub async fn route_head(
    bytes: Vec<u8>,
    peer: std::net::IpAddr,
    trusted_proxies: &[ipnet::IpNet],
    bounds: &Bounds,
    policy: &Policy,
) -> HeadRoute {
    let mut session = Session::new_http1(Box::new(std::io::Cursor::new(bytes)));
    match session.read_request().await {
        Ok(true) => {}
        Ok(false) => return HeadRoute::Closed,
        Err(e) => {
            return match unparsable_head(&e, false) {
                Some(reply) => HeadRoute::Refused(reply.status),
                None => HeadRoute::Closed,
            };
        }
    }
    if let Some(reply) = check_head(session.req_header(), bounds) {
        return HeadRoute::Refused(reply.status);
    }
    let header = session.req_header();
    if header.method == http::Method::CONNECT {
        return HeadRoute::Refused(405);
    }
    if has_ambiguous_length(&session) {
        return HeadRoute::Refused(Refusal::AmbiguousLength.status());
    }
    match policy.routes.find(&header.method, header.uri.path()) {
        Some((route, params)) => HeadRoute::Route {
            name: route.name.clone(),
            params,
            client_ip: stages::client_ip::client_ip(peer, &header.headers, trusted_proxies),
            too_large: declared_length(header).is_some_and(|n| n > route.body_limit),
        },
        None => HeadRoute::NoRoute,
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

/// Reads the whole body, refusing it with 413 as soon as it crosses `limit`, and with 408 when
/// the client pauses longer than `body_timeout` or sends slower than `body_min_rate` (after a
/// first `body_timeout` of grace). The buffer grows with the bytes received, whatever length the
/// client announced.
async fn read_body(
    session: &mut Session,
    limit: u64,
    bounds: &Bounds,
) -> std::result::Result<Bytes, Reply> {
    let started = Instant::now();
    let mut body = BytesMut::new();
    loop {
        // The rate floor: `n` bytes buy `n / body_min_rate` seconds past the grace period.
        let earned = Duration::from_secs_f64(body.len() as f64 / bounds.body_min_rate as f64);
        let due = started + bounds.body_timeout + earned;
        let wait = due
            .saturating_duration_since(Instant::now())
            .min(bounds.body_timeout);
        match pingora::prelude::timeout(wait, session.read_request_body()).await {
            Ok(Ok(Some(chunk))) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(Refusal::BodyTooLarge.reply());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Ok(None)) => return Ok(body.freeze()),
            Ok(Err(e)) => {
                tracing::info!(error = %e.etype().as_str(), "request body could not be read");
                return Err(Refusal::UnreadableBody.reply());
            }
            Err(_elapsed) => {
                Phase::Body.count();
                return Err(wire_reply(
                    408,
                    "request_timeout",
                    "the request body did not arrive in time",
                ));
            }
        }
    }
}

/// Refusals of the wire itself (not of a route's stages), in the same JSON shape.
fn wire_reply(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &serde_json::json!({ "error": code, "message": message }),
    )
}

/// Pingora's parser stops at its own field limit (256) with this error.
fn is_too_many_headers(e: &pingora::Error) -> bool {
    e.root_cause().to_string() == "too many headers"
}
