//! A function call: which booking function, and what the engine knows about the phone call it
//! belongs to.

/// The call, as far as verified data tells (the gateway passes only what was signed, or what
/// the tenant's own key vouches for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallContext {
    /// Retell's `call.call_id`; without it, writes are not deduplicated across retries, and no
    /// booking counts as made in this call.
    pub call_id: Option<String>,
    /// The caller's number: the default for `phone`, and who may change a booking by phone.
    pub from_number: Option<String>,
}

/// The booking functions by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    CheckAvailability,
    BookAppointment,
    CancelAppointment,
    RescheduleAppointment,
}

impl Function {
    /// Resolves a Retell function name (`collect_appointment` is an alias of booking).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "check_availability" => Some(Function::CheckAvailability),
            "book_appointment" | "collect_appointment" => Some(Function::BookAppointment),
            "cancel_appointment" => Some(Function::CancelAppointment),
            "reschedule_appointment" => Some(Function::RescheduleAppointment),
            _ => None,
        }
    }

    /// Canonical name (aliases collapse, so they share idempotency keys).
    pub fn as_str(self) -> &'static str {
        match self {
            Function::CheckAvailability => "check_availability",
            Function::BookAppointment => "book_appointment",
            Function::CancelAppointment => "cancel_appointment",
            Function::RescheduleAppointment => "reschedule_appointment",
        }
    }
}
