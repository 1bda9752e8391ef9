//! Policy files (`policies/*.yaml`) as written. Every file may hold any of the sections; the
//! compiler merges them and refuses a name defined twice.

use std::collections::BTreeMap;
use std::time::Duration;

pub use crate::signature::AuthScheme;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::config::{ByteSize, RateSpec, SecretRef};

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Routes, matched on method and path.
    #[serde(default)]
    pub routes: Vec<RouteDef>,
    /// Named rate limits that routes refer to.
    #[serde(default)]
    pub limits: BTreeMap<String, LimitDef>,
    /// Named authentication schemes that routes refer to.
    #[serde(default)]
    pub auth: BTreeMap<String, AuthDef>,
    /// Named body-redaction profiles that routes refer to.
    #[serde(default)]
    pub redaction: BTreeMap<String, frontdesk_redact::RedactionConfig>,
    /// Named validation schemas that routes refer to.
    #[serde(default)]
    pub schemas: BTreeMap<String, frontdesk_validate::SchemaDef>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteDef {
    /// Unique route name; used in metrics labels and logs.
    pub name: String,
    #[serde(rename = "match")]
    pub matcher: MatchDef,
    /// Largest accepted request body (default 1MiB).
    #[serde(default)]
    pub body_limit: Option<ByteSize>,
    /// The body must be a JSON document (malformed JSON is answered 400).
    #[serde(default)]
    pub json: bool,
    /// Name of an `auth` entry; omitted means no authentication.
    #[serde(default)]
    pub auth: Option<String>,
    /// How the request's tenant is found; omitted means the route is not tenant-scoped.
    #[serde(default)]
    pub tenant: Option<TenantSourceDef>,
    /// Names of `limits` entries; all must pass.
    #[serde(default)]
    pub limits: Vec<String>,
    /// Which schema validates the body.
    #[serde(default)]
    pub validate: Option<ValidateDef>,
    /// Drop repeated deliveries of the same event.
    #[serde(default)]
    pub dedupe: Option<DedupeDef>,
    /// Name of a `redaction` profile applied to the forwarded body.
    #[serde(default)]
    pub redact: Option<String>,
    /// In-process handler that answers the request.
    #[serde(default)]
    pub handler: Option<HandlerKind>,
    /// Side effect run before forwarding or acknowledging.
    #[serde(default)]
    pub on_event: Option<EventHook>,
    /// Upstream (from the config file's `upstreams`) that receives the request.
    #[serde(default)]
    pub upstream: Option<String>,
    /// Without that upstream configured, acknowledge instead of failing `check`.
    #[serde(default)]
    pub upstream_optional: bool,
    /// Status of the acknowledgement when nothing is forwarded (default 204).
    #[serde(default)]
    pub ack_status: Option<u16>,
    /// Requests on this route may be retried upstream even when their method is not idempotent.
    #[serde(default)]
    pub idempotent: bool,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchDef {
    /// HTTP method(s); omitted matches any.
    #[serde(default)]
    pub method: Option<MethodList>,
    /// `/exact`, `/with/{param}`, or `/prefix/*` (the rest of the path).
    pub path: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MethodList {
    One(String),
    Many(Vec<String>),
}

impl MethodList {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            MethodList::One(m) => vec![m.clone()],
            MethodList::Many(ms) => ms.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSourceDef {
    /// Key template giving the Retell agent id, e.g. `{body.call.agent_id|header.x-retell-agent-id}`.
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Key template giving the called number, e.g. `{body.call.to_number}`.
    #[serde(default)]
    pub number: Option<String>,
    /// Key template giving a tenant id directly, e.g. `{header.x-frontdesk-tenant}`.
    #[serde(default)]
    pub id: Option<String>,
    /// Refuse (403) a request whose tenant is unknown. Default true.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitDef {
    /// Key template, e.g. `{body.call.call_id|header.x-retell-call-id}`, `{tenant}`, `{client_ip}`,
    /// `{client_net}` (the address, or its /64 for IPv6).
    pub key: String,
    /// Sustained rate, e.g. `30/min`.
    pub rate: RateSpec,
    /// Requests that may pass at once (default: the rate's count).
    #[serde(default)]
    pub burst: Option<u32>,
    #[serde(default)]
    pub scope: LimitScope,
    #[serde(default)]
    pub mode: LimitMode,
    /// Label of the bucket for a request that lacks a key part (default `missing`). Such
    /// requests never share one bucket: theirs is keyed by this label, the tenant and the
    /// client address.
    #[serde(default)]
    pub fallback: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LimitScope {
    /// Per replica, in process.
    Local,
    /// Through the store: exact across replicas sharing Redis.
    #[default]
    Shared,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LimitMode {
    #[default]
    Enforce,
    /// Count and log would-be denials, let everything pass.
    Shadow,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthDef {
    pub scheme: AuthScheme,
    /// Valid keys; several at once during rotation.
    #[serde(default)]
    pub keys: Vec<SecretRef>,
    /// Accepted clock difference for timestamped signatures (default 5m).
    #[serde(default, with = "humantime_serde::option")]
    #[schemars(with = "Option<String>")]
    pub tolerance: Option<Duration>,
    /// A limit charged for each failed attempt and checked before any signature work.
    #[serde(default)]
    pub failure_limit: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateDef {
    /// One schema for every request.
    #[serde(default)]
    pub schema: Option<String>,
    /// Schema per Retell function name.
    #[serde(default)]
    pub by_function: BTreeMap<String, String>,
    /// Where the function name comes from (default `{param.name|body.name}`).
    #[serde(default)]
    pub function: Option<String>,
    /// Body path that is validated, e.g. `args`; omitted means the whole body.
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DedupeDef {
    /// Key template, e.g. `{body.event}:{body.call.call_id}`.
    pub key: String,
    /// How long a processed delivery is remembered.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub ttl: Duration,
    /// How long a delivery still being processed makes its retries wait (answered 409, which
    /// senders retry) before a retry is processed afresh; longer than forwarding may take
    /// (default 2m).
    #[serde(default, with = "humantime_serde::option")]
    #[schemars(with = "Option<String>")]
    pub pending_ttl: Option<Duration>,
    /// Status answered to a duplicate (default 200).
    #[serde(default)]
    pub status: Option<u16>,
    /// Source label for `frontdesk_webhook_duplicates_total`.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    /// Retell custom functions answered by the booking engine.
    Booking,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventHook {
    /// A Cal.com booking webhook invalidates the tenant's cached slots.
    CalcomInvalidate,
    /// A Retell call event: `call_ended` frees the slots held for the call.
    RetellCallEvents,
}
