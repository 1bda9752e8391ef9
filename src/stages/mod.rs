//! The request path after the body is read, as plain functions over the compiled route and the
//! buffered request: auth → parse → tenant → limits → dedupe → validate → dispatch.
//! No Pingora types: the gateway adapts sockets to [`Incoming`] and [`Outcome`].

pub mod client_ip;
pub mod dedupe;
pub mod failure_budget;
pub mod limit;
pub mod reply;
pub mod tenant;

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use crate::app::App;
use crate::policy::model::AuthScheme;
use crate::policy::template::{KeyTemplate, RequestView, body_value};
use crate::policy::{Dispatch, EventHook, Policy, Route, Validation};
use crate::telemetry::metrics::{AUTH_FAILURES, TENANT_REFUSALS};
pub use dedupe::Claim;
pub use reply::{Refusal, Reply};
use tenant::{Signer, TenantPick};

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
    /// Settled when the upstream answered: `done` on success, forgotten on failure so the
    /// sender's retry is processed.
    pub dedupe: Option<Claim>,
    pub idempotent: bool,
}

/// The stages' end of a forwarded request, once the gateway knows how its answer went: a
/// webhook counts as delivered (its dedupe key kept) only when the upstream's 2xx reached the
/// client whole; otherwise the key is released so the sender's retry is processed.
pub async fn forwarded(app: &App, forward: &Forward, status: u16, complete: bool) {
    if let Some(claim) = &forward.dedupe {
        dedupe::settle(app, claim, complete && (200..300).contains(&status)).await;
    }
}

static DEFAULT_FUNCTION: LazyLock<Option<KeyTemplate>> =
    LazyLock::new(|| KeyTemplate::parse("{param.name|body.name}").ok());
static CALL_ID: LazyLock<Option<KeyTemplate>> =
    LazyLock::new(|| KeyTemplate::parse("{body.call.call_id|header.x-retell-call-id}").ok());
/// The caller's number decides which bookings a call may change, so it comes from the signed
/// body only: a header could be set by whoever replays a captured request.
static CALLER: LazyLock<Option<KeyTemplate>> =
    LazyLock::new(|| KeyTemplate::parse("{body.call.from_number}").ok());

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
    let client_net = client_ip::net_text(req.client_ip, &client_ip);
    // Parsed before the signature is checked, because the body may name the tenant and so the
    // key; a malformed body is only reported once the signature holds.
    let parsed = route.json.then(|| route.body_fields.parse(&req.body));
    let body = parsed.as_ref().and_then(|p| p.as_ref().ok());
    let mut view = RequestView {
        client_ip: &client_ip,
        client_net: &client_net,
        headers: req.headers,
        body,
        tenant: None,
        route: &route.name,
        params: &req.params,
    };

    let pick = match &route.tenant {
        Some(source) => TenantPick::read(&policy.tenants, source, &view),
        None => TenantPick::Nothing,
    };
    let signer = match &route.auth {
        Some(auth) => {
            authenticate(
                app,
                policy,
                route,
                auth,
                req,
                &view,
                pick.candidate(),
                now_ms,
            )
            .await?
        }
        None => Signer::Unchecked,
    };
    if matches!(parsed, Some(Err(_))) {
        return Err(Refusal::MalformedJson.reply());
    }

    let tenant = match tenant::decide(pick, signer) {
        Ok(found) => found,
        Err(refusal) => {
            TENANT_REFUSALS
                .with_label_values(&[&route.name, refusal.as_str()])
                .inc();
            tracing::warn!(route = %route.name, reason = refusal.as_str(), "request refused: unsigned data does not prove the tenant");
            return Err(match refusal {
                tenant::TenantRefusal::Mismatch => Refusal::TenantMismatch.reply(),
                tenant::TenantRefusal::Unverified => Refusal::TenantUnverified.reply(),
            });
        }
    };
    if tenant.is_none() && route.tenant.as_ref().is_some_and(|t| t.required) {
        tracing::warn!(route = %route.name, "request refused: unknown tenant");
        return Err(Refusal::UnknownTenant.reply());
    }
    view.tenant = tenant.as_ref().map(|t| t.id.as_str());

    limit::enforce(app, &route.limits, &view).await?;

    let claim = match &route.dedupe {
        Some(dedupe) => dedupe::claim(app, route, dedupe, &view).await?,
        None => None,
    };

    let validated = match body {
        Some(body) => match validate_body(route, body, &view, signer) {
            Ok(v) => v,
            Err(errors) => {
                if let Some(claim) = &claim {
                    dedupe::settle(app, claim, false).await;
                }
                frontdesk_validate::record_failures(&route.name, &errors);
                return Err(invalid_input(route, tenant.as_deref(), &errors));
            }
        },
        _ => None,
    };

    match (route.on_event, body) {
        (Some(EventHook::CalcomInvalidate), Some(body)) => {
            app.functions.on_calendar_event(&policy.tenants, body).await;
        }
        // Tenant and call id from the signed body only: an event cannot free another
        // practice's holds.
        (Some(EventHook::RetellCallEvents), Some(body)) => {
            if let (Some(tenant), "call_ended", Some(call_id)) = (
                tenant.as_deref(),
                body["event"].as_str().unwrap_or_default(),
                body["call"]["call_id"].as_str(),
            ) {
                app.functions.on_call_ended(tenant, call_id).await;
            }
        }
        _ => {}
    }

    match &route.dispatch {
        Dispatch::Ack { status } => {
            if let Some(claim) = &claim {
                dedupe::settle(app, claim, true).await;
            }
            Ok(Outcome::Reply(Reply::empty(*status)))
        }
        Dispatch::Booking => {
            let (Some(tenant), Some(body)) = (tenant.as_deref(), body) else {
                return Err(Refusal::UnknownTenant.reply());
            };
            let BookingCall {
                function,
                args,
                call,
            } = booking_call(route, body, &view, signer, validated);
            let answer = app.functions.call(tenant, call, &function, &args).await;
            Ok(Outcome::Reply(Reply::json(200, &answer)))
        }
        Dispatch::Forward { upstream } => {
            // Only a tenant decided from signed data can ask for its raw transcript.
            let redact = match (&tenant, &route.redact_raw_transcript) {
                (Some(t), Some(raw)) if t.raw_transcript => Some(raw),
                _ => route.redact.as_ref(),
            };
            let body = match redact {
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
                dedupe: claim,
                idempotent: route.idempotent,
            }))
        }
    }
}

/// What a `handler: booking` route hands the engine.
#[derive(Debug)]
pub struct BookingCall {
    pub function: String,
    pub args: Value,
    pub call: crate::functions::CallInfo,
}

/// The function, its arguments (`validated`: what [`validate_body`] returned) and who is
/// calling, for a route with `handler: booking`. Public for the booking fuzz target.
#[doc(hidden)]
pub fn booking_call(
    route: &Route,
    body: &Value,
    view: &RequestView<'_>,
    signer: Signer,
    validated: Option<Value>,
) -> BookingCall {
    let function = function_name(route.validate.as_ref(), view, signer).unwrap_or_default();
    let args = match validated {
        Some(args) => args,
        None => booking_args(route.validate.as_ref(), body),
    };
    // Who is calling decides which bookings the call may change: from the signed body, or
    // from headers only when the key is the tenant's alone.
    let call = crate::functions::CallInfo {
        call_id: trusted_value(CALL_ID.as_ref(), view, signer),
        from_number: CALLER
            .as_ref()
            .and_then(|t| t.render_value_from(view, true)),
    };
    BookingCall {
        function,
        args,
        call,
    }
}

/// The validation stage: the route's schema applied to `body` (`None`: the route validates
/// nothing). Public for the booking fuzz target.
#[doc(hidden)]
pub fn validate_body(
    route: &Route,
    body: &Value,
    view: &RequestView<'_>,
    signer: Signer,
) -> Result<Option<Value>, Vec<frontdesk_validate::FieldError>> {
    match &route.validate {
        Some(validation) => validate(validation, body, view, signer).map(Some),
        None => Ok(None),
    }
}

/// Verifies the signature with the candidate tenant's own keys when it has some, else with the
/// route's; returns whose key it was. Failures spend the address's failure budget.
#[allow(clippy::too_many_arguments)]
async fn authenticate(
    app: &App,
    policy: &Policy,
    route: &Route,
    auth: &crate::policy::AuthStage,
    req: &Incoming<'_>,
    view: &RequestView<'_>,
    candidate: Option<&Arc<frontdesk_booking::Tenant>>,
    now_ms: u64,
) -> Result<Signer, Reply> {
    let signature = auth
        .verifier
        .header()
        .and_then(|h| req.headers.get(h))
        .and_then(|v| v.to_str().ok());
    let (keys, signer) = match auth.verifier.scheme {
        AuthScheme::Retell => tenant::signer_for(policy, candidate),
        // Only Retell keys can be a tenant's own; any other scheme's keys serve every tenant.
        AuthScheme::Calcom => (
            None,
            Signer::Shared {
                tenants: policy.tenants.len(),
            },
        ),
        AuthScheme::None => (None, Signer::Unchecked),
    };
    let keys = keys.unwrap_or(&auth.verifier.keys);
    match auth
        .verifier
        .verify_with(keys, signature, &req.body, now_ms)
    {
        Ok(()) => Ok(signer),
        Err(failure) => {
            AUTH_FAILURES
                .with_label_values(&[&route.name, failure.as_str()])
                .inc();
            tracing::warn!(route = %route.name, reason = failure.as_str(), "authentication refused");
            failure_budget::charge(app, auth, view).await?;
            Err(Refusal::Unauthorized.reply())
        }
    }
}

/// The template's value from the signed body, or also from headers and the path when the key
/// that signed is the tenant's alone (alternatives in the template's order).
fn trusted_value(
    template: Option<&KeyTemplate>,
    view: &RequestView<'_>,
    signer: Signer,
) -> Option<String> {
    let unsigned_ok = signer.exclusive();
    template?.render_value_where(view, |signed| signed || unsigned_ok)
}

/// The function to run; a name from the path or a header counts only when the key is the
/// tenant's alone (`check` refuses routes where it could come from nowhere else otherwise).
fn function_name(
    validation: Option<&Validation>,
    view: &RequestView<'_>,
    signer: Signer,
) -> Option<String> {
    let template = validation
        .and_then(|v| v.function.as_ref())
        .or(DEFAULT_FUNCTION.as_ref());
    trusted_value(template, view, signer)
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
    signer: Signer,
) -> Result<Value, Vec<frontdesk_validate::FieldError>> {
    let target = match &validation.at {
        Some(path) => body_value(body, path).unwrap_or(&Value::Null),
        None => body,
    };
    let by_function =
        function_name(Some(validation), view, signer).and_then(|f| validation.by_function.get(&f));
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
