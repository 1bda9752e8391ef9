//! JSON Schemas of the files operators write, for editors and CI (`frontdesk schema`).

use serde_json::{Value, json};

pub fn all() -> Value {
    json!({
        "config": schemars::schema_for!(crate::config::ConfigFile),
        "policy": schemars::schema_for!(crate::policy::model::PolicyFile),
        "tenants": schemars::schema_for!(frontdesk_booking::TenantsFile),
    })
}
