//! The `frontdesk_validation_failures_total{route,field}` counter.

use std::sync::LazyLock;

use prometheus::{IntCounterVec, Opts};

use crate::error::FieldError;

/// Registered in the default registry on first use. `None` only if registration failed
/// (a name clash in the registry): metrics then go uncounted rather than failing requests.
static VALIDATION_FAILURES: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    let counter = IntCounterVec::new(
        Opts::new(
            "frontdesk_validation_failures_total",
            "Input fields refused by validation, by route and declared field path",
        ),
        &["route", "field"],
    )
    .ok()?;
    prometheus::default_registry()
        .register(Box::new(counter.clone()))
        .ok()?;
    Some(counter)
});

/// Counts each error under `{route, field}`. The field label is the error's
/// [`FieldError::metric_label`]: a path declared in the schema, `_unknown` for undeclared keys
/// or `_root` for the whole input, so label values stay bounded by the policy. `route` must be
/// the configured route name, not the request path.
pub fn record_failures(route: &str, errors: &[FieldError]) {
    let Some(counter) = VALIDATION_FAILURES.as_ref() else {
        return;
    };
    for error in errors {
        counter
            .with_label_values(&[route, error.metric_label()])
            .inc();
    }
}
