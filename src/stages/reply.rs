//! Responses the stages produce, and the one table of error statuses and bodies.
//! Error bodies name the class of problem only: never a secret, a value or which check failed.

use bytes::Bytes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

/// Client-visible failures, each with its status and machine code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NoRoute,
    MalformedJson,
    BodyTooLarge,
    AmbiguousLength,
    UnreadableBody,
    Unauthorized,
    UnknownTenant,
    /// An unsigned selector named another tenant than the signed body.
    TenantMismatch,
    /// Only an unsigned selector named the tenant, and the key that signed is not its own.
    TenantUnverified,
    /// A retry of a delivery still being processed: the sender retries non-2xx answers.
    DeliveryInProgress,
    UpstreamUnavailable,
    UpstreamFailed,
    UpstreamTimeout,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::NoRoute => 404,
            Refusal::MalformedJson | Refusal::AmbiguousLength | Refusal::UnreadableBody => 400,
            Refusal::BodyTooLarge => 413,
            Refusal::Unauthorized => 401,
            Refusal::UnknownTenant | Refusal::TenantMismatch | Refusal::TenantUnverified => 403,
            Refusal::DeliveryInProgress => 409,
            Refusal::UpstreamUnavailable => 503,
            Refusal::UpstreamFailed => 502,
            Refusal::UpstreamTimeout => 504,
        }
    }

    fn code_and_message(self) -> (&'static str, &'static str) {
        match self {
            Refusal::NoRoute => ("no_route", "no route matches this request"),
            Refusal::MalformedJson => ("malformed_json", "the request body is not valid JSON"),
            Refusal::BodyTooLarge => (
                "body_too_large",
                "the request body exceeds this route's limit",
            ),
            Refusal::AmbiguousLength => (
                "bad_request",
                "a request may not carry both Content-Length and Transfer-Encoding",
            ),
            Refusal::UnreadableBody => ("bad_request", "the request body could not be read"),
            Refusal::Unauthorized => ("unauthorized", "the request is not authenticated"),
            Refusal::UnknownTenant => (
                "unknown_tenant",
                "the request does not belong to a known tenant",
            ),
            Refusal::TenantMismatch => (
                "tenant_mismatch",
                "the request's headers name another tenant than its signed body",
            ),
            Refusal::TenantUnverified => (
                "tenant_unverified",
                "the tenant named by this request's headers is not the one its key belongs to",
            ),
            Refusal::DeliveryInProgress => (
                "delivery_in_progress",
                "an earlier delivery of this event is still being processed; retry later",
            ),
            Refusal::UpstreamUnavailable => (
                "upstream_unavailable",
                "the upstream is temporarily unavailable",
            ),
            Refusal::UpstreamFailed => ("upstream_failed", "the upstream could not be reached"),
            Refusal::UpstreamTimeout => ("upstream_timeout", "the upstream did not answer in time"),
        }
    }

    pub fn reply(self) -> Reply {
        let (code, message) = self.code_and_message();
        Reply::json(
            self.status(),
            &serde_json::json!({ "error": code, "message": message }),
        )
    }
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: Some("application/json"),
            headers: Vec::new(),
            body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// RFC 9457 problem details.
    pub fn problem(status: u16, title: &str, extra: serde_json::Value) -> Self {
        let mut body =
            serde_json::json!({ "type": "about:blank", "title": title, "status": status });
        if let (Some(map), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
            map.extend(extra);
        }
        let mut reply = Self::json(status, &body);
        reply.content_type = Some("application/problem+json");
        reply
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}
