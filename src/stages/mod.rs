//! The request path after the body is read, as plain functions over the compiled route and the
//! buffered request: auth → parse → tenant → limits → dedupe → validate → dispatch.
//! No Pingora types: the gateway adapts sockets to [`Incoming`] and [`Outcome`].

pub mod auth;
pub mod client_ip;
pub mod limit;
pub mod reply;

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use crate::app::App;
use crate::policy::template::{KeyTemplate, RequestView, body_value};
use crate::policy::{Dispatch, EventHook, Policy, Route, TenantSource, Validation};
use crate::telemetry::metrics::{AUTH_FAILURES, WEBHOOK_DUPLICATES};
pub use reply::{Refusal, Reply};

/// A request with its body fully read.
pub struct Incoming<'a> {
    pub headers: &'a HeaderMap,
    pub client_ip: IpAddr,
    pub params: Vec<(String, String)>,
    pub body: Bytes,
}

/// What the gateway does next.
#[derive(Debug)]
pub enum Outcome {
    Reply(Reply),
    Forward(Forward),
}

#[derive(Debug)]
pub struct Forward {
    pub upstream: String,
    pub body: Bytes,
    /// Released when the upstream fails, so the sender's retry is processed.
    pub dedupe_key: Option<String>,
    pub idempotent: bool,
}

static DEFAULT_FUNCTION: LazyLock<Option<KeyTemplate>> =
    LazyLock::new(|| KeyTemplate::parse("{param.name|body.name}").ok());
static CALL_ID: LazyLock<Option<KeyTemplate>> =
    LazyLock::new(|| KeyTemplate::parse("{body.call.call_id|header.x-retell-call-id}").ok());
static CALLER: LazyLock<Option<KeyTemplate>> = LazyLock::new(|| {
    KeyTemplate::parse("{body.call.from_number|header.x-retell-from-number}").ok()
});

/// Runs every stage of `route` over `req`. `policy` is the snapshot the route came from: a
/// request sees one snapshot from start to end, whatever reloads happen meanwhile.
pub async fn process(app: &App, policy: &Policy, route: &Route, req: &Incoming<'_>) -> Outcome {
    match run(app, policy, route, req).await {
        Ok(outcome) => outcome,
        Err(reply) => Outcome::Reply(reply),
    }
}

async fn run(
    app: &App,
    policy: &Policy,
    route: &Route,
    req: &Incoming<'_>,
) -> Result<Outcome, Reply> {
    let now_ms = app.clock.now_ms();
    let client_ip = client_ip::ip_text(req.client_ip);
    let mut view = RequestView {
        client_ip: &client_ip,
        headers: req.headers,
        body: None,
        tenant: None,
        route: &route.name,
        params: &req.params,
    };

    if let Some(auth) = &route.auth {
        authenticate(app, route, auth, req, &view, now_ms).await?;
    }

    let body = if route.json {
        Some(
            route
                .body_fields
                .parse(&req.body)
                .map_err(|_| Refusal::MalformedJson.reply())?,
        )
    } else {
        None
    };
    view.body = body.as_ref();

    let tenant = match &route.tenant {
        Some(source) => {
            let found = resolve_tenant(&policy.tenants, source, &view);
            if found.is_none() && source.required {
                tracing::warn!(route = %route.name, "request refused: unknown tenant");
                return Err(Refusal::UnknownTenant.reply());
            }
            found
        }
        None => None,
    };
    let tenant_id = tenant.as_ref().map(|t| t.id.clone());
    view.tenant = tenant_id.as_deref();

    // An address that spent its authentication-failure budget is refused even with a valid
    // signature; that check rides along with the route's limits (one store round trip).
    let failure_budget = route.auth.as_ref().and_then(|a| a.failure_limit.as_deref());
    limit::enforce(app, &route.limits, failure_budget, &view).await?;

    let dedupe_key = match &route.dedupe {
        Some(dedupe) => {
            let key = dedupe
                .key
                .render_with_prefix(&["dd", &route.name], &view, "_");
            // A store error was already absorbed by the fallback store; treat as first delivery.
            if !app
                .store
                .set_if_absent(&key, b"1", dedupe.ttl)
                .await
                .unwrap_or(true)
            {
                WEBHOOK_DUPLICATES
                    .with_label_values(&[&dedupe.source])
                    .inc();
                tracing::info!(route = %route.name, "duplicate delivery acknowledged");
                return Ok(Outcome::Reply(Reply::json(
                    dedupe.status,
                    &serde_json::json!({ "status": "duplicate" }),
                )));
            }
            Some(key)
        }
        None => None,
    };

    let validated = match (&route.validate, body.as_ref()) {
        (Some(validation), Some(body)) => match validate(validation, body, &view) {
            Ok(v) => Some(v),
            Err(errors) => {
                if let Some(key) = &dedupe_key {
                    release_dedupe(app, key).await;
                }
                frontdesk_validate::record_failures(&route.name, &errors);
                return Err(invalid_input(route, tenant.as_deref(), &errors));
            }
        },
        _ => None,
    };

    if let (Some(EventHook::CalcomInvalidate), Some(body)) = (route.on_event, body.as_ref()) {
        app.functions.on_calendar_event(&policy.tenants, body).await;
    }

    match &route.dispatch {
        Dispatch::Ack { status } => Ok(Outcome::Reply(Reply::empty(*status))),
        Dispatch::Booking => {
            let (Some(tenant), Some(body)) = (tenant, body.as_ref()) else {
                return Err(Refusal::UnknownTenant.reply());
            };
            let function = function_name(route.validate.as_ref(), &view).unwrap_or_default();
            let args = match validated {
                Some(args) => args,
                None => booking_args(route.validate.as_ref(), body),
            };
            let call = crate::functions::CallInfo {
                call_id: CALL_ID.as_ref().and_then(|t| t.render_value(&view)),
                from_number: CALLER.as_ref().and_then(|t| t.render_value(&view)),
            };
            let answer = app.functions.call(&tenant, call, &function, &args).await;
            Ok(Outcome::Reply(Reply::json(200, &answer)))
        }
        Dispatch::Forward { upstream } => {
            let body = match &route.redact {
                Some(redactor) => {
                    let rules = redactor.field_rules();
                    // A `json: true` route has parsed the body already: no second syntax pass.
                    let redacted = if body.is_some() {
                        redactor.redact_parsed_json_body(&req.body, rules)
                    } else {
                        redactor.redact_body(&req.body, rules)
                    };
                    match redacted.body {
                        std::borrow::Cow::Borrowed(_) => req.body.clone(),
                        std::borrow::Cow::Owned(redacted) => Bytes::from(redacted),
                    }
                }
                None => req.body.clone(),
            };
            Ok(Outcome::Forward(Forward {
                upstream: upstream.clone(),
                body,
                dedupe_key,
                idempotent: route.idempotent,
            }))
        }
    }
}

async fn authenticate(
    app: &App,
    route: &Route,
    auth: &crate::policy::AuthStage,
    req: &Incoming<'_>,
    view: &RequestView<'_>,
    now_ms: u64,
) -> Result<(), Reply> {
    let signature = auth
        .verifier
        .header()
        .and_then(|h| req.headers.get(h))
        .and_then(|v| v.to_str().ok());
    match auth.verifier.verify(signature, &req.body, now_ms) {
        Ok(()) => Ok(()),
        Err(failure) => {
            AUTH_FAILURES
                .with_label_values(&[&route.name, failure.as_str()])
                .inc();
            tracing::warn!(route = %route.name, reason = failure.as_str(), "authentication refused");
            // Each failure spends the address's budget; once it is spent, 429 instead of 401.
            if let Some(limit) = &auth.failure_limit {
                let decision = limit::check(app, limit, view, 1).await;
                if !decision.allowed {
                    limit::record(limit, &decision, view)?;
                }
            }
            Err(Refusal::Unauthorized.reply())
        }
    }
}

fn resolve_tenant(
    tenants: &frontdesk_booking::TenantDirectory,
    source: &TenantSource,
    view: &RequestView<'_>,
) -> Option<Arc<frontdesk_booking::Tenant>> {
    let value = |t: &Option<KeyTemplate>| t.as_ref().and_then(|t| t.render_value(view));
    if let Some(id) = value(&source.id) {
        return tenants.get(&id);
    }
    let agent = value(&source.agent_id);
    let number = value(&source.number);
    if agent.is_none() && number.is_none() {
        return None;
    }
    tenants.resolve(agent.as_deref(), number.as_deref())
}

fn function_name(validation: Option<&Validation>, view: &RequestView<'_>) -> Option<String> {
    validation
        .and_then(|v| v.function.as_ref())
        .or(DEFAULT_FUNCTION.as_ref())
        .and_then(|t| t.render_value(view))
}

fn booking_args(validation: Option<&Validation>, body: &Value) -> Value {
    match validation.and_then(|v| v.at.as_ref()) {
        Some(path) => body_value(body, path).cloned().unwrap_or(Value::Null),
        None => body.get("args").cloned().unwrap_or_else(|| body.clone()),
    }
}

/// Picks the schema (per function on Retell routes) and returns the normalised arguments.
fn validate(
    validation: &Validation,
    body: &Value,
    view: &RequestView<'_>,
) -> Result<Value, Vec<frontdesk_validate::FieldError>> {
    let target = match &validation.at {
        Some(path) => body_value(body, path).unwrap_or(&Value::Null),
        None => body,
    };
    let by_function =
        function_name(Some(validation), view).and_then(|f| validation.by_function.get(&f));
    match by_function.or(validation.schema.as_ref()) {
        Some(schema) => schema.validate(target),
        // A function without a schema is passed through as is; the engine answers unknown ones.
        None => Ok(target.clone()),
    }
}

fn invalid_input(
    route: &Route,
    tenant: Option<&frontdesk_booking::Tenant>,
    errors: &[frontdesk_validate::FieldError],
) -> Reply {
    let listed: Vec<Value> = errors
        .iter()
        .map(|e| serde_json::json!({ "field": e.field, "code": e.code }))
        .collect();
    if route.dispatch == Dispatch::Booking {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let language = tenant.map(|t| t.language).unwrap_or_default();
        let message = frontdesk_booking::Messages::embedded()
            .map(|m| m.invalid_input(language, &fields))
            .unwrap_or_default();
        Reply::json(
            200,
            &serde_json::json!({ "success": false, "reason": "invalid_input", "errors": listed, "message": message }),
        )
    } else {
        Reply::problem(
            422,
            "Invalid input",
            serde_json::json!({ "errors": listed }),
        )
    }
}

/// Forgets a delivery whose processing failed, so the sender's retry is processed.
pub async fn release_dedupe(app: &App, key: &str) {
    let _ = app.store.delete(key).await;
}
