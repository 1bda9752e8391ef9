//! The server configuration file (`config/frontdesk.yaml`): listeners, store, upstreams, where
//! policies and tenants live. Loaded once at startup; policies reload separately.

mod booking_events;
pub mod diagnostics;
pub mod locate;
pub mod secrets;
pub mod units;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;

pub use booking_events::BookingEventsConfig;
pub use diagnostics::{Diagnostic, SourceFile};
pub use secrets::{Secret, SecretRef};
pub use units::{ByteSize, RateSpec};

/// `config/frontdesk.yaml` as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub admin: AdminSection,
    #[serde(default)]
    pub logging: LoggingSection,
    /// Shared state: `memory` (default) or `redis`.
    #[serde(default)]
    pub store: Option<frontdesk_store::config::StoreConfig>,
    /// The Cal.com client and slot cache, for tenants whose calendar is on Cal.com.
    #[serde(default)]
    pub calcom: frontdesk_calcom::CalcomConfig,
    /// Named upstreams that routes forward to, e.g. `app` (the practice backend).
    #[serde(default)]
    pub upstreams: BTreeMap<String, UpstreamDef>,
    /// Directory of policy files (`*.yaml`), relative to this file.
    #[serde(default = "default_policy_dir")]
    pub policy_dir: PathBuf,
    /// The tenants file, relative to this file.
    #[serde(default = "default_tenants_file")]
    pub tenants_file: PathBuf,
    /// Where the embedded calendar keeps its SQLite database, relative to this file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Which database holds the embedded calendar: `sqlite` (default, in `data_dir`) or
    /// `postgres` (for several replicas).
    #[serde(default)]
    pub calendar_store: frontdesk_booking::CalendarStoreConfig,
    /// How booking events are delivered to the tenants' `notify` endpoints.
    #[serde(default)]
    pub booking_events: BookingEventsConfig,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Traffic listener address.
    pub listen: String,
    /// Worker threads for the traffic listener; 0 = one per core.
    pub threads: usize,
    /// How long SIGTERM waits for in-flight requests before exiting.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub grace_period: Duration,
    /// Peers whose `X-Forwarded-For` is trusted (CIDR list).
    pub trusted_proxies: Vec<String>,
    /// Reload policies when their files change (SIGHUP and the admin API always work).
    pub watch_policies: bool,
    /// How long an idle keep-alive connection waits for its next request.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub keepalive_timeout: Duration,
    /// Deadline for a whole request head (request line and headers): from the connection's
    /// start for its first request, from the first byte for later ones.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub header_timeout: Duration,
    /// Longest pause while a request body is read.
    #[serde(with = "humantime_serde")]
    #[schemars(with = "String")]
    pub body_timeout: Duration,
    /// Slowest body upload accepted, in bytes per second, counted after `body_timeout`.
    pub body_min_rate: ByteSize,
    /// Requests served on one keep-alive connection before it is closed.
    pub max_requests_per_connection: u32,
    /// Largest request head (request line and headers); larger is refused with 431.
    pub max_header_bytes: ByteSize,
    /// Most header fields in one request; more is refused with 431.
    pub max_headers: usize,
    /// Open traffic connections; 0 = as many as the descriptor limit allows (see README).
    pub max_connections: usize,
    /// Open traffic connections from one client address.
    pub max_connections_per_client: usize,
    /// Serve the traffic listener over TLS (HTTP/2 and HTTP/1.1 by ALPN) with these PEM files.
    pub tls: Option<TlsSection>,
}

/// `server.tls`: the certificate chain and its private key, PEM, relative to this file.
/// Replaced files are picked up by the next handshake (docs/operations.md).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The TLS files with their paths resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            threads: 0,
            grace_period: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
            watch_policies: true,
            keepalive_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            body_min_rate: ByteSize(1024),
            max_requests_per_connection: 1000,
            max_header_bytes: ByteSize(32 * 1024),
            max_headers: 100,
            max_connections: 0,
            max_connections_per_client: 256,
            tls: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSection {
    /// Admin listener address (health, metrics, reload). Loopback by default.
    pub listen: String,
    /// Bearer token for mutating admin requests.
    pub token: Option<SecretRef>,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9090".into(),
            token: Some(SecretRef::env("FRONTDESK_ADMIN_TOKEN", true)),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingSection {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `frontdesk=debug,info`. `RUST_LOG` overrides it.
    pub level: String,
    /// Log-redaction rules; the built-in detectors when omitted.
    pub redaction: Option<frontdesk_redact::RedactionConfig>,
}

impl Default for LoggingSection {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            level: "info".into(),
            redaction: None,
        }
    }
}

/// An upstream HTTP/1.1 server that routes may forward to.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamDef {
    /// `host:port`.
    pub address: String,
    /// The Host header sent upstream; defaults to the address.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub timeouts: frontdesk_resilience::Timeouts,
    #[serde(default)]
    pub breaker: frontdesk_resilience::BreakerConfig,
    #[serde(default)]
    pub retry: frontdesk_resilience::RetryPolicy,
}

fn default_policy_dir() -> PathBuf {
    "../policies".into()
}
fn default_tenants_file() -> PathBuf {
    "tenants.yaml".into()
}
fn default_data_dir() -> PathBuf {
    "../var".into()
}

/// Collapses `.` and `..` lexically, so messages name `policies/x.yaml`, not `config/../policies`.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The configuration with paths resolved against the config file's directory.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: ConfigFile,
    pub path: PathBuf,
    pub policy_dir: PathBuf,
    pub tenants_file: PathBuf,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `server.tls`, resolved: the traffic listener speaks TLS when set.
    pub tls: Option<TlsFiles>,
}

impl Config {
    /// Loads and checks the config file; every problem found is returned, not only the first.
    pub fn load(path: &Path) -> Result<Self, Vec<Diagnostic>> {
        let source = SourceFile::read(path).map_err(|d| vec![d])?;
        let file: ConfigFile = source.parse().map_err(|d| vec![d])?;
        Self::from_file(file, &source)
    }

    pub fn from_file(file: ConfigFile, source: &SourceFile) -> Result<Self, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let base = source.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                normalize(&base.join(p))
            }
        };

        let mut addr = |field: &str, value: &str| match value.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                errors.push(source.at(
                    field,
                    format!("invalid listen address `{value}`: expected IP:PORT"),
                ));
                None
            }
        };
        let listen = addr("server.listen", &file.server.listen);
        let admin_listen = addr("admin.listen", &file.admin.listen);

        let mut trusted_proxies = Vec::new();
        for (i, cidr) in file.server.trusted_proxies.iter().enumerate() {
            let parsed = cidr
                .parse::<ipnet::IpNet>()
                .or_else(|_| cidr.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
            match parsed {
                Ok(net) => trusted_proxies.push(net),
                Err(_) => errors.push(source.at(
                    &format!("server.trusted_proxies[{i}]"),
                    format!("invalid CIDR `{cidr}`"),
                )),
            }
        }
        for (name, upstream) in &file.upstreams {
            if upstream.address.parse::<SocketAddr>().is_err() && !upstream.address.contains(':') {
                errors.push(source.at(
                    &format!("upstreams.{name}.address"),
                    format!(
                        "invalid upstream address `{}`: expected HOST:PORT",
                        upstream.address
                    ),
                ));
            }
        }
        let server = &file.server;
        for (field, value) in [
            ("server.keepalive_timeout", server.keepalive_timeout),
            ("server.header_timeout", server.header_timeout),
            ("server.body_timeout", server.body_timeout),
        ] {
            if value.is_zero() {
                errors.push(source.at(field, format!("{field} must be more than 0s")));
            }
        }
        for (field, zero) in [
            ("server.body_min_rate", server.body_min_rate.0 == 0),
            (
                "server.max_requests_per_connection",
                server.max_requests_per_connection == 0,
            ),
            ("server.max_headers", server.max_headers == 0),
            (
                "server.max_connections_per_client",
                server.max_connections_per_client == 0,
            ),
        ] {
            if zero {
                errors.push(source.at(field, format!("{field} must be at least 1")));
            }
        }
        if server.max_header_bytes.0 < 1024 {
            errors.push(source.at(
                "server.max_header_bytes",
                "server.max_header_bytes must be at least 1KiB",
            ));
        }
        if let Err((field, reason)) = file.calendar_store.validate() {
            errors.push(source.at(
                &format!("calendar_store.{field}"),
                format!("calendar_store.{field} {reason}"),
            ));
        }
        if let Err((field, reason)) = file.booking_events.validate() {
            errors.push(source.at(
                &format!("booking_events.{field}"),
                format!("booking_events.{field} {reason}"),
            ));
        }
        if let Err(e) = file.calcom.validate() {
            errors.push(source.at(&format!("calcom.{}", e.field), e.to_string()));
        }
        if file.server.grace_period > Duration::from_secs(3600) {
            errors.push(source.at("server.grace_period", "grace_period must be at most 1h"));
        }

        match (listen, admin_listen) {
            (Some(listen), Some(admin_listen)) if errors.is_empty() => {
                if listen == admin_listen && listen.port() != 0 {
                    return Err(vec![source.at(
                        "admin.listen",
                        "admin.listen must differ from server.listen",
                    )]);
                }
                Ok(Self {
                    policy_dir: resolve(&file.policy_dir),
                    tenants_file: resolve(&file.tenants_file),
                    data_dir: resolve(&file.data_dir),
                    tls: file.server.tls.as_ref().map(|t| TlsFiles {
                        cert: resolve(&t.cert),
                        key: resolve(&t.key),
                    }),
                    path: source.path.clone(),
                    listen,
                    admin_listen,
                    trusted_proxies,
                    file,
                })
            }
            _ => Err(errors),
        }
    }

    pub fn threads(&self) -> usize {
        match self.file.server.threads {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n,
        }
    }
}
