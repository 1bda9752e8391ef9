//! What the tenants file's `notify` and `calendar_feed` blocks compile to: the endpoint with
//! its signing keys, and the feed token, read when a policy snapshot is compiled (so
//! `frontdesk check` reports a missing or malformed secret with its position).

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_booking::TenantDirectory;

use crate::config::{Diagnostic, Secret, SourceFile};
use crate::standard_webhooks::SigningKey;

/// One tenant's event endpoint.
#[derive(Debug)]
pub struct NotifyTarget {
    pub url: reqwest::Url,
    pub keys: Vec<SigningKey>,
}

/// Shortest feed token accepted: it is the feed's only protection.
pub const MIN_FEED_TOKEN: usize = 32;

/// Endpoints and feed tokens by tenant id.
#[derive(Debug, Default)]
pub struct Outlets {
    pub notify: HashMap<String, Arc<NotifyTarget>>,
    pub feeds: HashMap<String, Secret>,
}

pub fn compile(
    source: &SourceFile,
    dir: &TenantDirectory,
    errors: &mut Vec<Diagnostic>,
) -> Outlets {
    let mut out = Outlets::default();
    for (i, tenant) in dir.tenants().enumerate() {
        if let Some(notify) = &tenant.notify {
            let at = |field: &str| format!("tenants[{i}].notify.{field}");
            let url = match reqwest::Url::parse(&notify.url) {
                Ok(url) if url.scheme() == "https" => Some(url),
                Ok(url) if url.scheme() == "http" && is_loopback(&url) => Some(url),
                Ok(_) => {
                    errors.push(source.at(
                        &at("url"),
                        "must be https:// (plain http:// only to a loopback address): the events carry patient data",
                    ));
                    None
                }
                Err(_) => {
                    errors.push(source.at(&at("url"), "not a URL"));
                    None
                }
            };
            let mut keys = Vec::new();
            for (j, secret) in notify.secret.as_slice().iter().enumerate() {
                let at = format!("tenants[{i}].notify.secret[{j}]");
                match secret.resolve() {
                    Ok(Some(value)) => match SigningKey::parse(value.expose()) {
                        Ok(key) => keys.push(key),
                        Err(reason) => {
                            errors.push(source.at(&at, format!("signing secret {reason}")))
                        }
                    },
                    Ok(None) => {}
                    Err(message) => errors.push(source.at(&at, message)),
                }
            }
            if keys.is_empty() && notify.secret.as_slice().iter().all(|s| s.optional) {
                errors.push(source.at(&at("secret"), "none of the signing secrets is set"));
            }
            let mut seen = Vec::new();
            for field in &notify.fields {
                if seen.contains(field) {
                    errors.push(source.at(&at("fields"), "a field is listed twice"));
                }
                seen.push(*field);
            }
            if let Some(url) = url.filter(|_| !keys.is_empty()) {
                out.notify
                    .insert(tenant.id.clone(), Arc::new(NotifyTarget { url, keys }));
            }
        }
        if let Some(feed) = &tenant.calendar_feed {
            let at = format!("tenants[{i}].calendar_feed.token");
            match feed.token.resolve() {
                Ok(Some(token)) if token.expose().len() >= MIN_FEED_TOKEN
                    && token.expose().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
                {
                    out.feeds.insert(tenant.id.clone(), token);
                }
                Ok(Some(_)) => errors.push(source.at(
                    &at,
                    format!("the token must be at least {MIN_FEED_TOKEN} characters of A–Z, a–z, 0–9, '-', '_' (e.g. `openssl rand -hex 24`)"),
                )),
                Ok(None) => {}
                Err(message) => errors.push(source.at(&at, message)),
            }
        }
    }
    out
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
