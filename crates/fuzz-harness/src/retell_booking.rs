//! A Retell function call's body through what the gateway does before the booking engine runs:
//! the partial body parse of the shipped `retell_function` route (or, for a body without a
//! `call`, the args-only route with the function in the path), the tenant pick, the validation
//! stage, the function name and arguments, then the engine's argument readers. No input may
//! panic; every refusal names its fields once; accepted arguments are within the engine's bounds.

use std::collections::HashSet;

use frontdesk::policy::template::RequestView;
use frontdesk::stages::tenant::{TenantPick, decide, signer_for};
use frontdesk::stages::{booking_call, validate_body};
use frontdesk_booking::Function;
use frontdesk_booking::args::{self, FieldError};
use frontdesk_booking::directory::{MAX_DURATION_MIN, MIN_DURATION_MIN};

use crate::shipped::SHIPPED;

const FUNCTIONS: [&str; 5] = [
    "check_availability",
    "book_appointment",
    "collect_appointment",
    "cancel_appointment",
    "reschedule_appointment",
];

/// Asserts a refusal names each field once; `false` (not accepted).
fn fields_once(errors: &[FieldError]) -> bool {
    assert!(!errors.is_empty(), "refused without a field");
    let mut seen = HashSet::new();
    for e in errors {
        assert!(
            seen.insert(e.field),
            "field {} reported twice: {errors:?}",
            e.field
        );
    }
    false
}

pub fn run(data: &[u8]) {
    let _ = reach(data);
}

/// How far `data` got: the engine's reader that accepted its arguments (`Ok`) or refused them
/// (`Err`), or `None` when it stopped before (malformed, no tenant, refused by validation).
pub fn reach(data: &[u8]) -> Option<Result<Function, Function>> {
    let policy = &SHIPPED.policy;
    let has_call = memchr_call(data);
    let path = if has_call {
        "/retell/function".to_string()
    } else {
        format!(
            "/retell/function/{}",
            FUNCTIONS[data.len() % FUNCTIONS.len()]
        )
    };
    let (route, params) = policy
        .routes
        .find(&http::Method::POST, &path)
        .expect("the shipped policy routes Retell function calls");
    let Ok(body) = route.body_fields.parse(data) else {
        return None;
    };
    let mut headers = http::HeaderMap::new();
    if !has_call {
        headers.insert(
            "x-frontdesk-tenant",
            http::HeaderValue::from_static("fixture"),
        );
    }
    let mut view = RequestView {
        client_ip: "203.0.113.9",
        client_net: "203.0.113.9",
        headers: &headers,
        body: Some(&body),
        tenant: None,
        route: &route.name,
        params: &params,
    };
    let source = route.tenant.as_ref().expect("Retell routes pick a tenant");
    let pick = TenantPick::read(&policy.tenants, source, &view);
    // As if the signature held with the key `signer_for` names.
    let (_, signer) = signer_for(policy, pick.candidate());
    let Ok(Some(tenant)) = decide(pick, signer) else {
        return None;
    };
    view.tenant = Some(&tenant.id);
    let validated = match validate_body(route, &body, &view, signer) {
        Ok(validated) => validated,
        Err(errors) => {
            assert!(!errors.is_empty(), "validation refused without a field");
            return None;
        }
    };
    let call = booking_call(route, &body, &view, signer, validated);
    let caller = call.call.from_number.as_deref();
    let function = Function::from_name(&call.function)?;
    let accepted = match function {
        Function::CheckAvailability => match args::check_args(&tenant, &call.args) {
            Ok(a) => {
                assert!((MIN_DURATION_MIN..=MAX_DURATION_MIN).contains(&a.duration_min));
                true
            }
            Err(errors) => fields_once(&errors),
        },
        Function::BookAppointment => match args::book_args(&tenant, &call.args, caller) {
            Ok(a) => {
                assert!((MIN_DURATION_MIN..=MAX_DURATION_MIN).contains(&a.duration_min));
                assert!(!a.name.trim().is_empty(), "booked without a name");
                let _ = a.normalised();
                true
            }
            Err(errors) => fields_once(&errors),
        },
        Function::CancelAppointment => match args::cancel_args(&tenant, &call.args, caller) {
            Ok(a) => {
                let _ = a.normalised();
                true
            }
            Err(errors) => fields_once(&errors),
        },
        Function::RescheduleAppointment => match args::reschedule_args(&call.args) {
            Ok(a) => {
                assert!(!a.booking_id.is_empty());
                let _ = a.normalised();
                true
            }
            Err(errors) => fields_once(&errors),
        },
    };
    Some(if accepted {
        Ok(function)
    } else {
        Err(function)
    })
}

/// Whether the body mentions a `call` key (then it is the full Retell payload).
fn memchr_call(data: &[u8]) -> bool {
    data.windows(6).any(|w| w == b"\"call\"")
}
