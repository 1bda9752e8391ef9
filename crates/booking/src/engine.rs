//! The engine's entry point: one call in (tenant, call context, function name, JSON args), one
//! reply object out — always, whatever happens.
//!
//! The engine does not know HTTP. The gateway has already verified the signature, resolved the
//! tenant with [`crate::TenantDirectory`] and validated the arguments; this layer parses them
//! into typed requests, picks the tenant's calendar provider, applies idempotency to the
//! functions that write, and dispatches to [`crate::functions`].

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_clock::Clock;
use frontdesk_store::Store;
use serde_json::{Value, json};

use crate::args::{self, FieldError};
use crate::directory::Tenant;
use crate::functions::{self, Ctx};
use crate::idempotency::{Idempotency, Outcome, PollPolicy, Reply};
use crate::messages::{MessageKey, Messages, MessagesError};
use crate::metrics::booking_outcome;
use crate::provider::CalendarProvider;
use crate::tenants::CalendarConfig;

pub use crate::call::{CallContext, Function};

/// Which backend serves a tenant's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    Local,
    Calcom,
}

impl ProviderKind {
    pub fn of(calendar: &CalendarConfig) -> Self {
        match calendar {
            CalendarConfig::Local(_) => ProviderKind::Local,
            CalendarConfig::Calcom(_) => ProviderKind::Calcom,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Messages(#[from] MessagesError),
}

pub struct Engine {
    providers: HashMap<ProviderKind, Arc<dyn CalendarProvider>>,
    idempotency: Idempotency,
    clock: Arc<dyn Clock>,
    messages: &'static Messages,
}

impl Engine {
    /// An engine without calendars; add them with [`Engine::with_provider`].
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Result<Self, EngineError> {
        crate::metrics::init();
        Ok(Self {
            providers: HashMap::new(),
            idempotency: Idempotency::new(store, PollPolicy::default()),
            clock,
            messages: Messages::embedded()?,
        })
    }

    pub fn with_provider(
        mut self,
        kind: ProviderKind,
        provider: Arc<dyn CalendarProvider>,
    ) -> Self {
        self.providers.insert(kind, provider);
        self
    }

    /// How long duplicates wait for another replica's in-flight execution.
    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.idempotency.set_poll_policy(poll);
        self
    }

    /// The message catalogue (also for the gateway's validation errors).
    pub fn messages(&self) -> &'static Messages {
        self.messages
    }

    fn ctx<'a>(
        &'a self,
        tenant: &'a Tenant,
        call: &'a CallContext,
        provider: &'a dyn CalendarProvider,
    ) -> Ctx<'a> {
        Ctx {
            tenant,
            call,
            provider,
            messages: self.messages,
            now_ms: self.clock.now_ms(),
        }
    }

    /// The call ended (a signed Retell `call_ended` event): the slots held for it are free
    /// again at once instead of when their hold runs out.
    pub async fn call_ended(&self, tenant: &Tenant, call_id: &str) {
        let Some(provider) = self.providers.get(&ProviderKind::of(&tenant.calendar)) else {
            return;
        };
        let call = CallContext {
            call_id: Some(call_id.to_owned()),
            from_number: None,
        };
        let ctx = self.ctx(tenant, &call, provider.as_ref());
        ctx.release_holds().await;
    }

    /// Runs one booking function and returns its reply object (never an error: every outcome
    /// is a reply with `success` and a speakable `message`).
    pub async fn call(
        &self,
        tenant: &Tenant,
        call: CallContext,
        function: &str,
        args: &Value,
    ) -> Value {
        let lang = tenant.language;
        let Some(function) = Function::from_name(function) else {
            return json!({
                "success": false,
                "reason": "unknown_function",
                "message": self.messages.text(lang, MessageKey::UnknownFunction, &[]),
            });
        };
        let kind = ProviderKind::of(&tenant.calendar);
        let Some(provider) = self.providers.get(&kind) else {
            tracing::error!(tenant = %tenant.id, provider = ?kind, "no calendar provider configured for tenant");
            return json!({
                "success": false,
                "reason": "configuration_error",
                "message": self.messages.text(lang, MessageKey::ConfigurationError, &[]),
            });
        };
        let ctx = self.ctx(tenant, &call, provider.as_ref());
        let caller = call.from_number.as_deref();
        match function {
            Function::CheckAvailability => match args::check_args(tenant, args) {
                Ok(a) => functions::check_availability(&ctx, &a).await,
                Err(errors) => self.invalid_input(tenant, &errors, false),
            },
            Function::BookAppointment => match args::book_args(tenant, args, caller) {
                Ok(a) => {
                    let normalised = a.normalised();
                    self.once(&ctx, &call, function, &normalised, || {
                        functions::book_appointment(&ctx, &a)
                    })
                    .await
                }
                Err(errors) => self.invalid_input(tenant, &errors, true),
            },
            Function::CancelAppointment => match args::cancel_args(tenant, args, caller) {
                Ok(a) => {
                    let normalised = a.normalised();
                    self.once(&ctx, &call, function, &normalised, || {
                        functions::cancel_appointment(&ctx, &a)
                    })
                    .await
                }
                Err(errors) => self.invalid_input(tenant, &errors, true),
            },
            Function::RescheduleAppointment => match args::reschedule_args(args) {
                Ok(a) => {
                    let normalised = a.normalised();
                    self.once(&ctx, &call, function, &normalised, || {
                        functions::reschedule_appointment(&ctx, &a)
                    })
                    .await
                }
                Err(errors) => self.invalid_input(tenant, &errors, true),
            },
        }
    }

    /// Runs a writing function at most once per (tenant, call id, function, arguments).
    async fn once<F, Fut>(
        &self,
        ctx: &Ctx<'_>,
        call: &CallContext,
        function: Function,
        normalised: &Value,
        execute: F,
    ) -> Value
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Outcome>,
    {
        let Some(call_id) = call.call_id.as_deref().filter(|c| !c.is_empty()) else {
            return match execute().await {
                Outcome::Final(v) | Outcome::Retryable(v) => v,
            };
        };
        let key = Idempotency::key(&ctx.tenant.scope, call_id, function.as_str(), normalised);
        let still_true = |reply: Value| functions::still_true(ctx, reply);
        match self.idempotency.run(key, still_true, execute).await {
            Reply::Done(v) => v,
            Reply::StillPending => json!({
                "success": false,
                "reason": "in_progress",
                "message": self.messages.text(ctx.tenant.language, MessageKey::InProgress, &[]),
            }),
        }
    }

    fn invalid_input(
        &self,
        tenant: &Tenant,
        errors: &[FieldError],
        counts_as_booking: bool,
    ) -> Value {
        if counts_as_booking {
            booking_outcome("invalid_input");
        }
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        json!({
            "success": false,
            "reason": "invalid_input",
            "errors": errors,
            "message": self.messages.invalid_input(tenant.language, &fields),
        })
    }
}
