//! The shipped configuration and policy, compiled once per process, with the tenants of the
//! test fixtures (their agent ids and numbers are the ones the Retell fixtures carry).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use frontdesk::config::{Config, SourceFile};
use frontdesk::policy::Policy;

pub struct Shipped {
    pub config: Config,
    pub policy: Policy,
}

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// This crate's key files: `policy` (the shipped policy's keys) and `demo-retell` (the fixture
/// tenant's own). Nothing is verified with them; the policy only needs them set.
pub fn keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keys")
}

/// `text` with the tests' `SECRETS_DIR` placeholder naming [`keys_dir`].
pub fn with_keys(text: &str) -> String {
    text.replace("SECRETS_DIR", &keys_dir().display().to_string())
}

/// The fixture tenants (`tests/fixtures/tenants.yaml`), their key files in [`keys_dir`].
pub fn fixture_tenants() -> SourceFile {
    let path = root().join("tests/fixtures/tenants.yaml");
    let text = std::fs::read_to_string(&path).expect("fixture tenants");
    SourceFile::from_text(&path, with_keys(&text))
}

/// The shipped policy files, their required keys read from [`keys_dir`] instead of the
/// environment.
pub fn policy_sources() -> Vec<SourceFile> {
    let key = format!("file: {}\n", keys_dir().join("policy").display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
        .expect("policies directory")
        .map(|e| e.expect("policies entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .expect("policy file")
                .replace("env: RETELL_API_KEY\n", &key)
                .replace("env: CALCOM_WEBHOOK_SECRET\n", &key);
            SourceFile::from_text(&path, text)
        })
        .collect()
}

pub static SHIPPED: LazyLock<Shipped> = LazyLock::new(|| {
    let root = root();
    let mut config = Config::load(&root.join("config/frontdesk.yaml")).expect("shipped config");
    config.tenants_file = root.join("tests/fixtures/tenants.yaml");
    let policy =
        frontdesk::policy::compile::compile_sources(&config, &policy_sources(), fixture_tenants())
            .expect("shipped policy compiles");
    Shipped { config, policy }
});
