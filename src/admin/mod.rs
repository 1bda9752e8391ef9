//! The admin listener: health, readiness, detailed health, Prometheus metrics, policy reload and
//! breaker controls. Reads are open; every `POST` needs the admin bearer token, or, when none is
//! configured, a request that can only have come from this host: a loopback peer on a loopback
//! listener, a loopback `Host`, and no `Origin` but the admin listener's own — so neither a web
//! page in a browser on the host nor a DNS-rebound name can reach the controls.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use http::{Response, StatusCode};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::app::App;

mod bookings;

/// Header on every admin answer, so probes know they reached frontdesk and not some other server.
pub const IDENTITY_HEADER: &str = "x-frontdesk-version";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub struct Admin {
    pub app: Arc<App>,
}

/// One admin request, as the gateway read it.
pub struct AdminRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub peer_is_loopback: bool,
}

impl Admin {
    /// The answer to one admin request.
    pub async fn answer(&self, request: AdminRequest<'_>) -> Response<Vec<u8>> {
        let AdminRequest {
            method,
            path,
            query,
            headers,
            peer_is_loopback,
        } = request;
        let authorized = self.authorized(headers, peer_is_loopback);
        match (method, path) {
            ("GET", "/health") => reply(200, json!({ "status": "ok" })),
            ("GET", "/health/ready") => {
                let ready = self.app.lifecycle.is_ready();
                reply(
                    if ready { 200 } else { 503 },
                    json!({ "ready": ready, "draining": self.app.lifecycle.is_draining() }),
                )
            }
            ("GET", "/health/detailed") => {
                let detail = detailed(&self.app).await;
                let status = if detail["healthy"].as_bool() == Some(true) {
                    200
                } else {
                    503
                };
                reply(status, detail)
            }
            ("GET", "/metrics") => text(
                200,
                "text/plain; version=0.0.4",
                crate::telemetry::metrics::render(),
            ),
            ("GET", "/admin/breakers") => {
                reply(200, json!({ "breakers": self.app.breakers.snapshots() }))
            }
            // Bookings name patients: read only with the admin token (or locally without one).
            ("GET", p)
                if authorized && p.starts_with("/admin/tenants/") && p.ends_with("/bookings") =>
            {
                let id = &p["/admin/tenants/".len()..p.len() - "/bookings".len()];
                let (status, body) = bookings::list(&self.app, id, query).await;
                reply(status, body)
            }
            ("GET" | "POST", p)
                if !authorized
                    && self.app.admin_token.is_some()
                    && (method == "POST" || p.ends_with("/bookings")) =>
            {
                reply(401, json!({ "error": "unauthorized" }))
            }
            ("GET", p) if !authorized && p.ends_with("/bookings") => reply(
                403,
                json!({ "error": "forbidden", "message": "without an admin token, only a local request may read bookings" }),
            ),
            ("POST", _) if !authorized && self.app.admin_token.is_some() => {
                reply(401, json!({ "error": "unauthorized" }))
            }
            ("POST", _) if !authorized => reply(
                403,
                json!({ "error": "forbidden", "message": "without an admin token, only a local request (loopback Host, no foreign Origin) may change state" }),
            ),
            ("POST", "/admin/reload") => match self.app.policy.reload("admin") {
                Ok(policy) => reply(
                    200,
                    json!({ "result": "success", "hash": policy.hash, "routes": policy.routes.len() }),
                ),
                Err(errors) => reply(
                    422,
                    json!({ "result": "error", "errors": errors.iter().map(|e| e.to_string()).collect::<Vec<_>>() }),
                ),
            },
            ("POST", p) if p.starts_with("/admin/tenants/") && p.ends_with("/events/retry") => {
                let id = &p["/admin/tenants/".len()..p.len() - "/events/retry".len()];
                self.retry_events(id).await
            }
            ("POST", p) if p.starts_with("/admin/breakers/") => {
                let target = &p["/admin/breakers/".len()..];
                let mode = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("mode="))
                    .unwrap_or("");
                let Some(mode) = parse_mode(mode) else {
                    return reply(
                        400,
                        json!({ "error": "mode must be forced_open, disabled or auto" }),
                    );
                };
                match self.app.breakers.force(target, mode) {
                    Ok(snapshot) => {
                        tracing::warn!(target, ?mode, "breaker mode set by admin");
                        reply(200, json!({ "breaker": snapshot }))
                    }
                    Err(_) => reply(404, json!({ "error": "unknown breaker target" })),
                }
            }
            _ => reply(404, json!({ "error": "not_found" })),
        }
    }

    /// Re-queues a tenant's dead booking events (due now, with a fresh retry window).
    async fn retry_events(&self, id: &str) -> Response<Vec<u8>> {
        let Some(tenant) = self.app.policy.current().tenants.get(id) else {
            return reply(404, json!({ "error": "unknown tenant" }));
        };
        match self.app.calendar.requeue_dead_events(&tenant).await {
            Ok(n) => {
                crate::events::metrics::EVENTS
                    .with_label_values(&["requeued"])
                    .inc_by(n);
                tracing::warn!(tenant = %tenant.id, requeued = n, "dead booking events re-queued by admin");
                reply(200, json!({ "tenant": tenant.id, "requeued": n }))
            }
            Err(e) => reply(
                503,
                json!({ "error": "calendar_unavailable", "message": e.to_string() }),
            ),
        }
    }

    fn authorized(&self, headers: &http::HeaderMap, peer_is_loopback: bool) -> bool {
        match &self.app.admin_token {
            Some(token) => headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))),
            None => {
                let listen = self.app.config().admin_listen;
                listen.ip().is_loopback()
                    && peer_is_loopback
                    && local_only(headers, &format!("http://{listen}"))
            }
        }
    }
}

/// A tokenless mutating request: `Host` names a loopback address (or `localhost`), and there is
/// no `Origin`, or only the admin listener's own.
fn local_only(headers: &http::HeaderMap, own_origin: &str) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    let host_ok = text(http::header::HOST).is_some_and(is_loopback_host);
    let origin_ok = match text(http::header::ORIGIN) {
        None => true,
        Some(origin) => origin.eq_ignore_ascii_case(own_origin),
    };
    host_ok && origin_ok
}

fn is_loopback_host(host: &str) -> bool {
    // `[::1]:9090`, `127.0.0.1:9090`, `localhost:9090`, each with or without the port.
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn parse_mode(mode: &str) -> Option<frontdesk_resilience::Mode> {
    use frontdesk_resilience::Mode;
    match mode {
        "forced_open" => Some(Mode::ForcedOpen),
        "disabled" => Some(Mode::Disabled),
        "auto" => Some(Mode::Auto),
        _ => None,
    }
}

async fn detailed(app: &App) -> Value {
    let policy = app.policy.current();
    let status = app.policy.status();
    let since_epoch = |t: std::time::SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    let store = app.store_handle.health();
    let store_ok = !store.degraded;
    let breakers = app.breakers.snapshots();
    let booking_events = booking_events(app).await;
    json!({
        "healthy": app.lifecycle.is_ready(),
        "status": if !app.lifecycle.is_ready() { "unavailable" } else if store_ok { "ok" } else { "degraded" },
        "store": store,
        "calendar": app.functions.health(),
        "breakers": breakers,
        "booking_events": booking_events,
        "tls": app.tls.as_ref().map(|tls| {
            let current = tls.current();
            let now = since_epoch(std::time::SystemTime::now());
            json!({
                "not_after": crate::tls::certificate::format_time(current.not_after),
                "not_after_unix": current.not_after,
                "days_left": (current.not_after - i64::try_from(now).unwrap_or(i64::MAX)) / 86_400,
            })
        }),
        "policy": {
            "hash": policy.hash,
            "loaded_at": since_epoch(status.loaded_at),
            "last_attempt": since_epoch(status.last_attempt),
            "routes": policy.routes.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            "files": policy.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "last_reload_error": status.last_error,
        },
        "system": {
            "version": VERSION,
            "uptime_seconds": app.lifecycle.uptime().as_secs(),
            "in_flight": app.lifecycle.in_flight(),
            "draining": app.lifecycle.is_draining(),
            "memory_rss_bytes": rss_bytes(),
            "threads": thread_count(),
        },
    })
}

/// Undelivered booking events per tenant: pending (with the next attempt) and dead letters.
async fn booking_events(app: &App) -> Value {
    let stats = match app.calendar.outbox_stats().await {
        Ok(stats) => stats,
        Err(e) => return json!({ "error": e.to_string() }),
    };
    let policy = app.policy.current();
    let tenants: Vec<Value> = policy
        .tenants
        .tenants()
        .filter_map(|tenant| {
            let s = stats.iter().find(|s| s.scope == tenant.scope);
            if s.is_none() && !tenant.notifies() {
                return None;
            }
            Some(json!({
                "tenant": tenant.id,
                "pending": s.map_or(0, |s| s.pending),
                "dead": s.map_or(0, |s| s.dead),
                "attempts": s.map_or(0, |s| s.max_attempts),
                "next_attempt_ms": s.and_then(|s| s.next_attempt_ms),
            }))
        })
        .collect();
    json!({ "tenants": tenants })
}

/// Resident memory from /proc (Linux); `null` elsewhere.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn thread_count() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))?
        .trim()
        .parse()
        .ok()
}

fn reply(status: u16, body: Value) -> Response<Vec<u8>> {
    text(status, "application/json", body.to_string())
}

fn text(status: u16, content_type: &str, body: String) -> Response<Vec<u8>> {
    let body = body.into_bytes();
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .header("content-length", body.len())
        .header("cache-control", "no-store")
        .header(IDENTITY_HEADER, VERSION)
        .body(body)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1:9090",
            "localhost",
            "LOCALHOST:1",
            "[::1]:9090",
            "127.1.2.3",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:9090",
            "10.0.0.1:9090",
            "[2001:db8::1]:80",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
