//! Live policy reload: all or nothing, under load, from every trigger.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use frontdesk::gateway::signals::Control;

use crate::harness::{Setup, TestServer, wait_until};
use crate::http;

fn policy(burst: u32) -> String {
    format!(
        "limits:\n  per_key: {{ key: \"{{header.x-key}}\", rate: {burst}/h, burst: {burst} }}\nroutes:\n  - name: limited\n    match: {{ path: /limited }}\n    limits: [per_key]\n  - name: open\n    match: {{ path: /open }}\n"
    )
}

const BROKEN: &str = "limits: {}\nroutes:\n  - name: limited\n    match: { path: /limited }\n    limits: [per_key_that_does_not_exist]\n";

/// How many requests of a fresh key pass: the burst of the policy in force.
fn burst_in_force(server: &TestServer, key: &str) -> usize {
    (0..10)
        .map(|_| {
            http::request(&server.base, "GET", "/limited", &[("x-key", key)], b"")
                .unwrap()
                .status
        })
        .take_while(|s| *s == 204)
        .count()
}

fn reload_state(server: &TestServer) -> (String, bool) {
    let detail = http::get(&server.admin, "/health/detailed").unwrap().json();
    (
        detail["policy"]["hash"].as_str().unwrap().to_string(),
        !detail["policy"]["last_reload_error"].is_null(),
    )
}

#[test]
fn twenty_reloads_under_load_alternating_good_and_broken() {
    let setup = Setup::empty();
    setup.write("policies/p.yaml", &policy(3));
    let server = setup.start();
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (base, stop, failures, served) = (
                server.base.clone(),
                stop.clone(),
                failures.clone(),
                served.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match http::get(&base, "/open") {
                        Ok(r) if r.status == 204 => served.fetch_add(1, Ordering::Relaxed),
                        _ => failures.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();

    let mut key = 0;
    for round in 0..10 {
        let burst = if round % 2 == 0 { 5 } else { 3 };
        // Synchronised on the reload itself (its counter), not on how fast a busy machine
        // notices the file: the timeout only bounds a hang.
        let (hash_before, _) = reload_state(&server);
        let reloads_before = reloads(&server, "success");
        server.setup().write("policies/p.yaml", &policy(burst));
        assert!(
            wait_until(Duration::from_secs(60), || reloads(&server, "success")
                > reloads_before
                && reload_state(&server).0 != hash_before),
            "round {round}: the new policy was never reloaded"
        );
        key += 1;
        assert_eq!(
            burst_in_force(&server, &format!("k{key}")),
            burst as usize,
            "round {round}: the reloaded policy is in force"
        );
        let (good_hash, _) = reload_state(&server);

        let errors_before = reloads(&server, "error");
        server.setup().write("policies/p.yaml", BROKEN);
        assert!(
            wait_until(Duration::from_secs(60), || reloads(&server, "error")
                > errors_before),
            "round {round}: broken file not seen"
        );
        assert!(reload_state(&server).1, "the error is reported");
        key += 1;
        assert_eq!(
            burst_in_force(&server, &format!("k{key}")),
            burst as usize,
            "the broken policy never serves"
        );
        assert_eq!(reload_state(&server).0, good_hash);
    }
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    assert!(served.load(Ordering::Relaxed) > 20);
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    let errors = metric_value(&metrics, "frontdesk_policy_reloads_total{result=\"error\"}");
    assert!(errors >= 10.0, "{errors}");
}

/// Reloads so far with `result` (`success`, `error`).
fn reloads(server: &TestServer, result: &str) -> f64 {
    let metrics = http::get(&server.admin, "/metrics").unwrap().text();
    metric_value(
        &metrics,
        &format!("frontdesk_policy_reloads_total{{result=\"{result}\"}}"),
    )
}

fn metric_value(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn admin_reload_answers_with_the_errors_and_keeps_serving() {
    let mut setup = Setup::empty();
    setup.write("policies/p.yaml", &policy(3));
    setup.config_extra = String::new();
    // Without file watching, only explicit triggers reload.
    let server = start_unwatched(setup);
    server.setup().write("policies/p.yaml", BROKEN);
    let r = http::post(&server.admin, "/admin/reload", &[], b"").unwrap();
    assert_eq!(r.status, 422);
    let errors = r.json()["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 1);
    let expected = format!(
        "{}:5:14: unknown limit `per_key_that_does_not_exist`",
        server.setup().path("policies/p.yaml").display()
    );
    assert!(
        errors[0].as_str().unwrap().starts_with(&expected),
        "{errors:?}"
    );
    assert_eq!(burst_in_force(&server, "a"), 3);

    server.setup().write("policies/p.yaml", &policy(4));
    let r = http::post(&server.admin, "/admin/reload", &[], b"").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(burst_in_force(&server, "b"), 4);

    // A reload signal gives the same result.
    server.setup().write("policies/p.yaml", &policy(6));
    server.control(Control::Reload);
    assert!(wait_until(Duration::from_secs(5), || burst_in_force(
        &server,
        &format!("c{}", rand_key())
    ) == 6));
}

fn rand_key() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn start_unwatched(setup: Setup) -> TestServer {
    TestServer::start_with(setup, false)
}
