//! The bodies of the fuzz targets in `fuzz/fuzz_targets/`, one function per target, each taking
//! the fuzzer's bytes and panicking when a property the gateway relies on does not hold.
//!
//! They live here, in the workspace, rather than in the fuzz crate (which libFuzzer's build
//! flags keep outside it) so that `make test` builds them with everything else and runs each of
//! them over its committed seed corpus (`tests/corpus.rs`): a target that no longer compiles, or
//! a seed that crashes again, fails the ordinary test run.
#![allow(clippy::unwrap_used)] // a panic is how a fuzz target reports a finding

mod body_fields;
mod key_template;
mod policy_load;
mod redact_json;
mod request_head;
mod retell_booking;
mod shipped;
mod signature_header;
mod validate;

/// A target's body: the fuzzer's bytes in, a panic out when a property fails.
pub type Target = fn(&[u8]);

/// Every target by name (the names of `fuzz/fuzz_targets/*.rs` and `fuzz/corpus/*`).
pub const TARGETS: &[(&str, Target)] = &[
    ("body_fields", body_fields::run),
    ("key_template", key_template::run),
    ("policy_load", policy_load::run),
    ("redact_json", redact_json::run),
    ("request_head", request_head::run),
    ("retell_booking", retell_booking::run),
    ("signature_header", signature_header::run),
    ("validate", validate::run),
];

pub use body_fields::run as body_fields;
pub use key_template::run as key_template;
pub use policy_load::run as policy_load;
pub use redact_json::run as redact_json;
pub use request_head::run as request_head;
pub use retell_booking::run as retell_booking;
pub use signature_header::run as signature_header;
pub use validate::run as validate;

/// How far an input got, for the test that the seeds reach what their targets are about.
pub mod reach {
    pub use crate::request_head::reach as request_head;
    pub use crate::retell_booking::reach as retell_booking;
}
