//! The binary as operators run it: `check`, `run` with signals, `sign`, `redact`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{Setup, free_port, repo_path, wait_until};
use crate::http;
use crate::upstream::Upstream;

fn frontdesk() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    cmd.env_remove("RUST_LOG");
    cmd
}

#[test]
fn check_accepts_the_shipped_files() {
    // The repository's config, and the image's and the pods' as they lie in the repository.
    for config in [
        "config/frontdesk.yaml",
        "deploy/docker/frontdesk.yaml",
        "deploy/kubernetes/frontdesk.yaml",
    ] {
        let out = frontdesk()
            .args(["check", "-c"])
            .arg(repo_path(config))
            .env("RETELL_API_KEY", "k")
            .env("CALCOM_WEBHOOK_SECRET", "s")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{config}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
    }
}

#[test]
fn check_reports_a_missing_secret_and_an_unknown_limit_with_positions() {
    let setup = Setup::shipped(None);
    setup.write(
        "policies/zz-broken.yaml",
        "routes:\n  - name: broken\n    match: { path: /broken }\n    limits: [ip_ceiling, no_such_limit]\n",
    );
    let config = setup.config_file(free_port(), free_port());
    let out = frontdesk()
        .args(["check", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "{}:4:26: unknown limit `no_such_limit`",
        setup.path("policies/zz-broken.yaml").display()
    );
    assert!(stderr.contains(&expected), "{stderr}");

    // The shipped config with its keys unset names each missing variable.
    let out = frontdesk()
        .args(["check", "-c"])
        .arg(repo_path("config/frontdesk.yaml"))
        .env_remove("RETELL_API_KEY")
        .env_remove("CALCOM_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("RETELL_API_KEY") && stderr.contains("CALCOM_WEBHOOK_SECRET"),
        "{stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.contains("default.yaml:")),
        "{stderr}"
    );
}

#[test]
fn a_port_in_use_is_a_clear_startup_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let setup = Setup::shipped(None);
    let config = setup.config_file(port, free_port());
    let out = frontdesk()
        .args(["run", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[test]
fn sigterm_drains_in_flight_requests_then_exits() {
    let upstream = Upstream::start();
    let mut setup = Setup::shipped(Some(upstream.addr));
    setup.write(
        "policies/zz-test.yaml",
        "routes:\n  - name: echo\n    match: { path: \"/echo/*\" }\n    upstream: app\n",
    );
    setup.config_extra.push_str("");
    let (listen, admin) = (free_port(), free_port());
    let config = setup.config_file(listen, admin);
    let mut child = frontdesk()
        .args(["run", "-c"])
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{listen}");
    let admin = format!("http://127.0.0.1:{admin}");
    assert!(wait_until(Duration::from_secs(30), || {
        http::get(&admin, "/health").is_ok_and(|r| r.header("x-frontdesk-version").is_some())
            && http::get(&base, "/__probe").is_ok_and(|r| r.status == 404)
    }));

    upstream.hold();
    let clients: Vec<_> = (0..3)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || {
                http::post(&base, &format!("/echo/{i}"), &[], b"slow").map(|r| r.status)
            })
        })
        .collect();
    assert!(wait_until(Duration::from_secs(10), || upstream.held() == 3));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(wait_until(Duration::from_secs(5), || http::get(
        &admin,
        "/health/ready"
    )
    .is_ok_and(|r| r.status == 503)));
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with requests in flight"
    );
    upstream.release();
    for c in clients {
        assert_eq!(c.join().unwrap().unwrap(), 200);
    }
    // Grace is 5 s; an idle server exits as soon as the last request is done.
    let mut status = None;
    assert!(wait_until(Duration::from_secs(5), || {
        status = child.try_wait().unwrap();
        status.is_some()
    }));
    assert!(status.unwrap().success());
}

#[test]
fn sign_prints_the_sdk_test_vector() {
    let mut child = frontdesk()
        .args(["sign", "--key-env", "FD_TEST_KEY", "--at", "1700000000000"])
        .env("FD_TEST_KEY", "test-api-key")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"event":"call_ended"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e"
    );
}

#[test]
fn redact_scrubs_stdin_line_by_line() {
    let mut child = frontdesk()
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = "mail max.mustermann@example.de now\nplain line\ncall +49 30 12345678 back\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3);
    assert!(
        !text.contains("max.mustermann") && !text.contains("12345678"),
        "{text}"
    );
    assert!(
        text.contains("[EMAIL_REDACTED]") && text.contains("[PHONE_REDACTED]"),
        "{text}"
    );
    assert!(text.contains("plain line"));
}

#[test]
fn sighup_reloads_the_policy() {
    let mut setup = Setup::empty();
    setup.watch_policies = false;
    setup.write(
        "policies/p.yaml",
        "routes:\n  - name: a\n    match: { path: /a }\n",
    );
    let (listen, admin) = (free_port(), free_port());
    let config = setup.config_file(listen, admin);
    let mut child = frontdesk()
        .args(["run", "-c"])
        .arg(&config)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (base, admin) = (
        format!("http://127.0.0.1:{listen}"),
        format!("http://127.0.0.1:{admin}"),
    );
    assert!(wait_until(Duration::from_secs(30), || http::get(
        &base, "/a"
    )
    .is_ok_and(|r| r.status == 204)));
    setup.write(
        "policies/p.yaml",
        "routes:\n  - name: b\n    match: { path: /b }\n",
    );
    assert_eq!(
        http::get(&base, "/b").unwrap().status,
        404,
        "not watched: nothing changes by itself"
    );
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(wait_until(Duration::from_secs(5), || http::get(
        &base, "/b"
    )
    .is_ok_and(|r| r.status == 204)));
    assert_eq!(http::get(&base, "/a").unwrap().status, 404);
    let detail = http::get(&admin, "/health/detailed").unwrap().json();
    assert_eq!(detail["policy"]["routes"], serde_json::json!(["b"]));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn check_warns_when_a_shared_store_meets_the_per_process_calendar() {
    let mut setup = Setup::shipped(None);
    setup.config_extra =
        "store:\n  backend: redis\n  redis: { url: \"redis://127.0.0.1:1\" }\n".into();
    let config = setup.config_file(1, 2);
    let out = frontdesk()
        .args(["check", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: tenants demo, fixture use the embedded calendar"),
        "{stderr}"
    );
}
