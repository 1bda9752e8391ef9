//! Policy and tenants YAML through the policy compiler. The input is NUL-separated: policy
//! files, then the tenants file (one part alone: a policy file, with the fixture tenants);
//! `SECRETS_DIR` names the harness's key files, as in the tests.
//! No input may panic; every refusal has a position and a message and names no secret;
//! a compiled policy yields its warnings.

use frontdesk::config::SourceFile;
use frontdesk::policy::compile::{compile_sources, warnings};

use crate::shipped::{SHIPPED, fixture_tenants, root, with_keys};

/// The values in `keys/`, which `SECRETS_DIR/policy` and `SECRETS_DIR/demo-retell` name.
const KEYS: [&str; 2] = ["k3y-f0r-fuzz1ng", "k3y-0f-the-dem0-tenant"];

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Secrets may be read from files: never from a device that blocks or never ends.
    if ["/dev", "/proc", "/sys"].iter().any(|p| text.contains(p)) {
        return;
    }
    let text = with_keys(text);
    let mut parts: Vec<&str> = text.split('\0').collect();
    let tenants_path = root().join("tests/fixtures/fuzz-tenants.yaml");
    let tenants = if parts.len() > 1 {
        let last = parts.pop().unwrap_or_default();
        SourceFile::from_text(&tenants_path, last.to_string())
    } else {
        fixture_tenants()
    };
    let sources: Vec<SourceFile> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let path = root().join(format!("policies/fuzz-{i}.yaml"));
            SourceFile::from_text(&path, part.to_string())
        })
        .collect();
    let config = &SHIPPED.config;
    match compile_sources(config, &sources, tenants) {
        Ok(policy) => {
            let _ = warnings(config, &policy);
            assert!(
                !policy.routes.is_empty(),
                "a policy without routes compiled"
            );
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            for e in &errors {
                assert!(e.line >= 1 && e.col >= 1, "{e}: no position");
                assert!(!e.message.is_empty(), "{e}: no message");
                for key in KEYS {
                    if !text.contains(key) {
                        assert!(!e.message.contains(key), "a diagnostic shows a secret");
                    }
                }
            }
        }
    }
}
