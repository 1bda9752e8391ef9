//! Secrets live in their own crate so the tenants file (in the booking crate) can name per-tenant
//! keys the same way the policy does.

pub use frontdesk_secrets::{Secret, SecretRef};
