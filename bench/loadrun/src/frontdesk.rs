//! frontdesk as a system under test: a scratch config directory (bench policy, the shipped
//! booking schemas, the bench tenant), `frontdesk check`, the release binary as a supervised
//! child with logs to /dev/null, readiness, peak RSS, and `frontdesk sign` for request headers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::children::{self, Supervised};
use crate::error::{Error, Result};
use crate::probe;

/// Environment variable holding the bench key, for the server and for `frontdesk sign`.
pub const KEY_ENV: &str = "FRONTDESK_BENCH_RETELL_KEY";
/// Not a secret: it only signs load-run requests to a server on 127.0.0.1.
pub const KEY: &str = "bench-only-retell-key";

/// Where limiter and breaker state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    Memory,
    /// Redis at the URL (passed as `REDIS_URL`), keys under `prefix`.
    Redis {
        url: String,
        prefix: String,
    },
}

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    pub binary: PathBuf,
    pub threads: usize,
    pub upstream: SocketAddr,
    pub store: Store,
    /// `(file name, contents)` of the policy directory.
    pub policies: Vec<(String, String)>,
    pub tenants: String,
    /// Extra keys of the `server:` section, YAML lines (indented here).
    pub server_extra: String,
}

/// A running frontdesk; stopped (SIGINT: exit at once) and its scratch directory removed on drop.
pub struct Frontdesk {
    pub listen: SocketAddr,
    admin: SocketAddr,
    process: Supervised,
    _dir: tempfile::TempDir,
}

impl Frontdesk {
    pub fn start(spec: &Spec) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("loadrun-frontdesk-")
            .tempdir()
            .map_err(Error::io("scratch directory"))?;
        children::remove_on_interrupt(dir.path().to_owned());
        let listen = SocketAddr::from(([127, 0, 0, 1], probe::free_port()?));
        let admin = SocketAddr::from(([127, 0, 0, 1], probe::free_port()?));
        let config = write_config_dir(dir.path(), spec, listen, admin)?;

        let check = command(spec, &config, "check")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|source| Error::Spawn {
                program: "frontdesk check".to_owned(),
                source,
            })?;
        if !check.status.success() {
            return Err(Error::Tool {
                what: "frontdesk check of the bench config".to_owned(),
                detail: String::from_utf8_lossy(&check.stderr).trim().to_owned(),
            });
        }

        // Access logs are written (and redacted) as in production, into /dev/null — the same sink
        // nginx's access log gets, so neither pays for a disk the other does not.
        let mut run = command(spec, &config, "run");
        run.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let process = Supervised::spawn("frontdesk", &mut run, Signal::SIGINT)?;
        let frontdesk = Self {
            listen,
            admin,
            process,
            _dir: dir,
        };
        probe::wait_until(
            "frontdesk",
            Duration::from_secs(30),
            || identified(admin, listen),
            || {
                frontdesk.process.exited().map(|s| {
                    format!("exited with {s} (run `frontdesk run -c` on the config to see why)")
                })
            },
        )?;
        Ok(frontdesk)
    }

    /// The sum of `frontdesk_store_errors_total` over its labels, from the admin listener.
    pub fn store_errors(&self) -> Option<f64> {
        let reply = probe::request(self.admin, "GET", "/metrics", &[], b"").ok()?;
        Some(metric_sum(
            &String::from_utf8_lossy(&reply.body),
            "frontdesk_store_errors_total",
        ))
    }

    /// Peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        peak_rss_kib(self.process.pid())
    }
}

fn command(spec: &Spec, config: &Path, subcommand: &str) -> Command {
    let mut command = Command::new(&spec.binary);
    command
        .arg(subcommand)
        .arg("-c")
        .arg(config)
        .env(KEY_ENV, KEY)
        .env_remove("RUST_LOG");
    if let Store::Redis { url, .. } = &spec.store {
        command.env("REDIS_URL", url);
    }
    command
}

/// Ready when the admin listener says it is frontdesk and the traffic listener answers a route
/// miss with frontdesk's 404 — a port taken by some other server fails both.
fn identified(admin: SocketAddr, listen: SocketAddr) -> bool {
    let admin_ok = probe::request(admin, "GET", "/health", &[], b"")
        .map(|r| r.status == 200 && r.header("x-frontdesk-version").is_some())
        .unwrap_or(false);
    admin_ok
        && probe::request(listen, "GET", "/__probe", &[], b"")
            .map(|r| r.status == 404 && r.body_contains("no_route"))
            .unwrap_or(false)
}

/// Writes `config/frontdesk.yaml`, `config/tenants.yaml` and `policies/*` under `dir`.
fn write_config_dir(
    dir: &Path,
    spec: &Spec,
    listen: SocketAddr,
    admin: SocketAddr,
) -> Result<PathBuf> {
    for sub in ["config", "policies", "var"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(Error::file("create", path))?;
    }
    for (name, text) in &spec.policies {
        let path = dir.join("policies").join(name);
        std::fs::write(&path, text).map_err(Error::file("write", path))?;
    }
    let tenants = dir.join("config/tenants.yaml");
    std::fs::write(&tenants, &spec.tenants).map_err(Error::file("write", tenants))?;
    let path = dir.join("config/frontdesk.yaml");
    std::fs::write(&path, render_config(spec, listen, admin))
        .map_err(Error::file("write", &path))?;
    Ok(path)
}

fn render_config(spec: &Spec, listen: SocketAddr, admin: SocketAddr) -> String {
    let store = match &spec.store {
        Store::Memory => "store:\n  backend: memory\n".to_owned(),
        Store::Redis { prefix, .. } => {
            format!(
                "store:\n  backend: redis\n  redis:\n    url_env: REDIS_URL\n    prefix: \"{prefix}\"\n"
            )
        }
    };
    let server_extra: String = spec
        .server_extra
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| format!("  {}\n", l.trim_start()))
        .collect();
    format!(
        "# Written by the load run.\n\
         server:\n  listen: {listen}\n  threads: {threads}\n  grace_period: 1s\n  watch_policies: false\n{server_extra}\
         admin:\n  listen: {admin}\n  token: {{ env: FRONTDESK_BENCH_ADMIN_TOKEN, optional: true }}\n\
         logging:\n  format: json\n  level: info\n\
         {store}\
         upstreams:\n  app:\n    address: {upstream}\n\
         policy_dir: ../policies\ntenants_file: tenants.yaml\ndata_dir: ../var\n",
        threads = spec.threads,
        upstream = spec.upstream,
    )
}

/// `VmHWM` of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(Error::file("read", &path))?;
    parse_vm_hwm(&status).ok_or_else(|| Error::Answer {
        what: path,
        detail: "no VmHWM line".to_owned(),
    })
}

/// Sum of every sample of `name` in a Prometheus text exposition.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with([' ', '{']))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The `x-retell-signature` value for `body` at the current time, from `frontdesk sign`.
pub fn sign(binary: &Path, body: &[u8]) -> Result<String> {
    use std::io::Write;
    let mut child = Command::new(binary)
        .args(["sign", "--key-env", KEY_ENV])
        .env(KEY_ENV, KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: "frontdesk sign".to_owned(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(body).map_err(Error::io("frontdesk sign"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(Error::io("frontdesk sign"))?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || !value.starts_with("v=") {
        return Err(Error::Tool {
            what: "frontdesk sign".to_owned(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(value)
}

/// `frontdesk --version`, for the results.
pub fn version(binary: &Path) -> String {
    crate::tools::first_line_of(Command::new(binary).arg("--version"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(store: Store) -> Spec {
        Spec {
            binary: PathBuf::from("frontdesk"),
            threads: 2,
            upstream: "127.0.0.1:4000".parse().unwrap(),
            store,
            policies: vec![],
            tenants: String::new(),
            server_extra: String::new(),
        }
    }

    #[test]
    fn the_config_names_threads_upstream_and_store() {
        let listen = "127.0.0.1:1".parse().unwrap();
        let admin = "127.0.0.1:2".parse().unwrap();
        let memory = render_config(&spec(Store::Memory), listen, admin);
        assert!(memory.contains("threads: 2\n"));
        assert!(memory.contains("address: 127.0.0.1:4000\n"));
        assert!(memory.contains("backend: memory"));
        let bounds = render_config(
            &Spec {
                server_extra:
                    "# far\nkeepalive_timeout: 1h\n\n  max_requests_per_connection: 4000000000\n"
                        .into(),
                ..spec(Store::Memory)
            },
            listen,
            admin,
        );
        assert!(
            bounds.contains("watch_policies: false\n  keepalive_timeout: 1h\n  max_requests_per_connection: 4000000000\nadmin:"),
            "{bounds}"
        );
        let redis = render_config(
            &spec(Store::Redis {
                url: "redis://127.0.0.1:6379".into(),
                prefix: "bench:1:".into(),
            }),
            listen,
            admin,
        );
        assert!(redis.contains(
            "backend: redis\n  redis:\n    url_env: REDIS_URL\n    prefix: \"bench:1:\""
        ));
        // The URL itself is passed in the environment, never written into the file.
        assert!(!redis.contains("redis://"));
    }

    #[test]
    fn sums_a_metric_over_its_labels() {
        let text = "# HELP frontdesk_store_errors_total x\nfrontdesk_store_errors_total{backend=\"redis\"} 3\n\
                    frontdesk_store_errors_total{backend=\"memory\"} 1\nfrontdesk_store_errors_totally 9\n";
        assert_eq!(metric_sum(text, "frontdesk_store_errors_total"), 4.0);
        assert_eq!(metric_sum("", "frontdesk_store_errors_total"), 0.0);
    }

    #[test]
    fn reads_the_high_water_mark() {
        assert_eq!(
            parse_vm_hwm("Name:\tx\nVmHWM:\t   21344 kB\nVmRSS:\t 1 kB\n"),
            Some(21344)
        );
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
        assert!(peak_rss_kib(std::process::id()).unwrap() > 0);
    }
}
