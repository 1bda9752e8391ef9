//! The shipped alert rules and dashboard only name metrics that frontdesk exports.

use std::collections::BTreeSet;

use crate::harness::{Setup, fixture, post_retell, repo_path};
use crate::http;
use crate::upstream::Upstream;

fn referenced_metrics() -> BTreeSet<String> {
    let mut text = std::fs::read_to_string(repo_path("deploy/prometheus/alerts.yaml")).unwrap();
    text.push_str(&std::fs::read_to_string(repo_path("deploy/grafana/frontdesk.json")).unwrap());
    let names = regex::Regex::new(r"\bfrontdesk_[a-z0-9_]+\b").unwrap();
    names
        .find_iter(&text)
        .map(|m| {
            let name = m.as_str();
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name)
                .to_string()
        })
        .collect()
}

#[test]
fn every_metric_in_alerts_and_dashboard_is_exported() {
    let upstream = Upstream::start();
    let server = Setup::shipped(Some(upstream.addr)).start();
    // A little of every kind of traffic.
    let body = fixture("retell_call_ended.json");
    post_retell(&server.base, "/retell/webhook", &body).unwrap();
    post_retell(&server.base, "/retell/webhook", &body).unwrap();
    let call = fixture("retell_fn_check_availability.json");
    post_retell(&server.base, "/retell/function", &call).unwrap();
    let invalid = br#"{"name":"check_availability","args":{"date":"someday"},"call":{"call_id":"c","agent_id":"oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD"}}"#;
    post_retell(&server.base, "/retell/function", invalid).unwrap();
    http::post(&server.admin, "/admin/reload", &[], b"").unwrap();

    let exported: BTreeSet<String> = http::get(&server.admin, "/metrics")
        .unwrap()
        .text()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let mut referenced = referenced_metrics();
    // Exported only with `server.tls` (absent rather than 0, so its alert cannot fire without
    // TLS); tests/it/tls.rs reads it from a TLS server's /metrics.
    assert!(referenced.remove("frontdesk_tls_certificate_expiry_seconds"));
    // Labelled by the tenants that have `notify`; the shipped tenant has none. tests/it/events.rs
    // reads it from a server whose tenant notifies.
    assert!(referenced.remove("frontdesk_booking_events_queued"));
    assert!(referenced.len() >= 10, "{referenced:?}");
    let missing: Vec<&String> = referenced.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "referenced but not exported: {missing:?}\nexported: {exported:?}"
    );
}
