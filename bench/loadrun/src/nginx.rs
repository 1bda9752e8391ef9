//! nginx as the baseline "what ops would otherwise deploy": Debian's nginx run as a supervised
//! child with its own prefix and config, `worker_processes` equal to frontdesk's threads,
//! `proxy_pass` with keep-alive to the same upstream and `limit_req` keyed on the call-id header.
//! It cannot verify HMAC signatures, resolve tenants, validate arguments or redact bodies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::children::{self, Supervised};
use crate::error::{Error, Result};
use crate::probe;

/// A running nginx; stopped (SIGTERM: fast shutdown of master and workers) on drop.
pub struct Nginx {
    pub listen: SocketAddr,
    process: Supervised,
    _dir: tempfile::TempDir,
}

impl Nginx {
    pub fn start(binary: &Path, workers: usize, upstream: SocketAddr) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("loadrun-nginx-")
            .tempdir()
            .map_err(Error::io("scratch directory"))?;
        children::remove_on_interrupt(dir.path().to_owned());
        let prefix = dir.path().to_owned();
        for sub in ["logs", "tmp"] {
            let path = prefix.join(sub);
            std::fs::create_dir_all(&path).map_err(Error::file("create", path))?;
        }
        // Started as root, nginx runs its workers as an unprivileged user: they must be able to
        // reach the prefix (only the master opens files there).
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&prefix, std::fs::Permissions::from_mode(0o755))
            .map_err(Error::file("chmod", &prefix))?;
        let listen = SocketAddr::from(([127, 0, 0, 1], probe::free_port()?));
        let config = prefix.join("nginx.conf");
        std::fs::write(&config, render_config(&prefix, workers, listen, upstream))
            .map_err(Error::file("write", &config))?;

        let error_log = prefix.join("logs/error.log");
        let mut command = Command::new(binary);
        command
            .arg("-p")
            .arg(&prefix)
            .arg("-e")
            .arg(&error_log)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let process = Supervised::spawn("nginx", &mut command, Signal::SIGTERM)?;
        let nginx = Self {
            listen,
            process,
            _dir: dir,
        };
        probe::wait_until(
            "nginx",
            Duration::from_secs(15),
            || probe::request(listen, "GET", "/__probe", &[], b"").is_ok_and(|r| r.status == 404),
            || {
                nginx.process.exited().map(|status| {
                    let log = std::fs::read_to_string(&error_log).unwrap_or_default();
                    format!("exited with {status}: {}", log.trim())
                })
            },
        )?;
        Ok(nginx)
    }
}

/// The nginx configuration: everything under `prefix`, daemon off, access log (unbuffered, like
/// frontdesk's) into /dev/null, request bodies buffered in memory up to 4 MiB.
pub fn render_config(
    prefix: &Path,
    workers: usize,
    listen: SocketAddr,
    upstream: SocketAddr,
) -> String {
    let p = |rel: &str| -> PathBuf { prefix.join(rel) };
    format!(
        r#"# Written by the load run.
daemon off;
master_process on;
worker_processes {workers};
pid {pid};
error_log {error_log} warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log /dev/null combined;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 4m;
    client_body_buffer_size 4m;
    keepalive_requests 1000000;
    keepalive_timeout 60s;

    # The same limit frontdesk applies per call id, keyed on the same header.
    limit_req_zone $http_x_retell_call_id zone=per_call:10m rate=1000000r/s;
    limit_req_status 429;

    upstream app {{
        server {upstream};
        keepalive 64;
        keepalive_requests 1000000;
    }}

    server {{
        listen {listen};
        location / {{
            limit_req zone=per_call burst=1000000 nodelay;
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_request_buffering on;
        }}
        location = /__probe {{
            return 404;
        }}
    }}
}}
"#,
        pid = p("logs/nginx.pid").display(),
        error_log = p("logs/error.log").display(),
        tmp = p("tmp").display(),
    )
}

/// `nginx -v` (printed on stderr), for the results.
pub fn version(binary: &Path) -> String {
    crate::tools::first_line_of(Command::new(binary).arg("-v"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_matches_frontdesks_job_as_far_as_nginx_can() {
        let text = render_config(
            Path::new("/scratch"),
            2,
            "127.0.0.1:8000".parse().unwrap(),
            "127.0.0.1:9000".parse().unwrap(),
        );
        assert!(text.contains("worker_processes 2;"));
        assert!(text.contains("listen 127.0.0.1:8000;"));
        assert!(text.contains("server 127.0.0.1:9000;"));
        assert!(text.contains("keepalive 64;"));
        assert!(text.contains("limit_req_zone $http_x_retell_call_id"));
        assert!(text.contains("pid /scratch/logs/nginx.pid;"));
        // Balanced braces: nginx would refuse the file otherwise.
        assert_eq!(text.matches('{').count(), text.matches('}').count());
    }

    #[test]
    fn serves_through_to_the_upstream_when_installed() {
        // The load run installs nginx (bench/run.sh); a machine without it has nothing to test.
        let Some(binary) = crate::tools::locate("nginx") else {
            return;
        };
        let upstream = crate::upstream::Upstream::start(1).unwrap();
        let nginx = Nginx::start(&binary, 1, upstream.addr).unwrap();
        let reply = probe::request(nginx.listen, "POST", "/bench/forward", &[], b"{}").unwrap();
        assert_eq!(reply.status, 200);
        assert!(reply.body_contains(r#"{"ok":true}"#));
    }
}
