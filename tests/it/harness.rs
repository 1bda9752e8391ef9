//! Starts the real server in-process on ephemeral ports, waits until a probe that only frontdesk
//! answers succeeds, and shuts it down fast on drop.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use frontdesk::app::App;
use frontdesk::config::Config;
use frontdesk::gateway::StartError;
use frontdesk::gateway::signals::{Control, Signals};
use frontdesk::server::{self, BootError, Options};
use frontdesk_clock::{Clock, ManualClock};
use tokio::sync::mpsc;

pub const RETELL_KEY: &str = "test-api-key";
pub const CALCOM_SECRET: &str = "cal_webhook_secret_test";
/// The `demo` test tenant's own Retell key (tests/fixtures/tenants.yaml names it).
pub const DEMO_RETELL_KEY: &str = "demo-own-retell-key";
/// The timestamp the shipped fixtures were signed at.
pub const FIXTURE_MS: u64 = 1_767_355_200_000;

/// POSTs `body` signed the way Retell signs, at the fixtures' signing time.
pub fn post_retell(base: &str, path: &str, body: &[u8]) -> std::io::Result<crate::http::Response> {
    post_signed(base, path, RETELL_KEY, FIXTURE_MS, body)
}

/// POSTs `body` signed with `key` as Retell would at `at_ms`.
pub fn post_signed(
    base: &str,
    path: &str,
    key: &str,
    at_ms: u64,
    body: &[u8],
) -> std::io::Result<crate::http::Response> {
    let signature = frontdesk::signature::sign_retell(key, body, at_ms);
    crate::http::post(base, path, &[("x-retell-signature", &signature)], body)
}

/// The Redis the tests share (`make test` finds or starts one and sets `REDIS_URL`).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .expect("REDIS_URL must name a Redis for these tests: run `make test`, or export it")
}

/// A port for a server a test starts: free now, and below the kernel's ephemeral range
/// (32768 and up on Linux), so no `bind(0)` or outgoing connection of a parallel test can take
/// it before the server binds it — a port taken that way once sent one test's probes to another
/// test's upstream. Random, so parallel test processes rarely pick the same one; the harness
/// retries when they do.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let port = 10_000 + u16::try_from(hasher.finish() % 22_000).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Captured log output shared by every server in this test process.
pub mod logs {
    use std::io::Write;
    use std::sync::{Mutex, OnceLock};

    static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

    fn buffer() -> &'static Mutex<Vec<u8>> {
        BUFFER.get_or_init(|| Mutex::new(Vec::new()))
    }

    #[derive(Clone)]
    pub struct Capture;

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            buffer().lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    pub fn install() {
        frontdesk::telemetry::init_logging_sync(
            frontdesk::config::LogFormat::Json,
            "info",
            Capture,
        );
    }

    pub fn text() -> String {
        String::from_utf8_lossy(&buffer().lock().unwrap()).into_owned()
    }
}

/// A config directory with policies and tenants, written to a temp dir.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config_extra: String,
    /// Lines added to the `server:` section (each indented two spaces).
    pub server_extra: String,
    pub watch_policies: bool,
    pub clock: ManualClock,
}

impl Setup {
    /// The shipped policies and tenants, secrets from files, an optional `app` upstream.
    pub fn shipped(upstream: Option<SocketAddr>) -> Self {
        let setup = Self::empty();
        for entry in std::fs::read_dir(repo_path("policies")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            setup.write(
                &format!("policies/{}", path.file_name().unwrap().to_string_lossy()),
                &setup.with_secret_files(&text),
            );
        }
        let mut setup = setup;
        if let Some(addr) = upstream {
            setup.config_extra = format!(
                "upstreams:\n  app:\n    address: {addr}\n    timeouts: {{ connect: 1s, read: 5s, write: 5s, total: 10s }}\n"
            );
        }
        setup
    }

    pub fn empty() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("policies")).unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/retell"), RETELL_KEY).unwrap();
        std::fs::write(dir.path().join("secrets/calcom"), CALCOM_SECRET).unwrap();
        std::fs::write(dir.path().join("secrets/demo-retell"), DEMO_RETELL_KEY).unwrap();
        let setup = Self {
            dir,
            config_extra: String::new(),
            server_extra: String::new(),
            watch_policies: true,
            clock: ManualClock::new(FIXTURE_MS),
        };
        setup.write_tenants(
            &std::fs::read_to_string(repo_path("tests/fixtures/tenants.yaml")).unwrap(),
        );
        setup
    }

    /// Writes the tenants file; `SECRETS_DIR` in it names this setup's secrets directory.
    pub fn write_tenants(&self, yaml: &str) {
        let secrets = self.dir.path().join("secrets");
        self.write(
            "config/tenants.yaml",
            &yaml.replace("SECRETS_DIR", &secrets.display().to_string()),
        );
    }

    /// Appends tenants (YAML list items) to the tenants file.
    pub fn add_tenants(&self, items: &str) {
        let current = std::fs::read_to_string(self.path("config/tenants.yaml")).unwrap();
        self.write_tenants(&format!("{}\n{items}", current.trim_end()));
    }

    /// Replaces `env: X` secret references of the shipped policy with files in the temp dir, so
    /// tests never depend on (or race over) process environment variables.
    fn with_secret_files(&self, text: &str) -> String {
        let secrets = self.dir.path().join("secrets");
        text.replace(
            "- env: RETELL_API_KEY\n",
            &format!("- file: {}\n", secrets.join("retell").display()),
        )
        .replace(
            "- env: CALCOM_WEBHOOK_SECRET\n",
            &format!("- file: {}\n", secrets.join("calcom").display()),
        )
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.dir.path().join(rel);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    /// Edits a written file in place (e.g. to lift a shipped limit for a test about something else).
    pub fn replace(&self, rel: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path(rel)).unwrap();
        assert!(text.contains(from), "{rel} has no `{from}`");
        self.write(rel, &text.replacen(from, to, 1));
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes the config file for the given ports and returns its path.
    pub fn config_file(&self, listen: u16, admin: u16) -> PathBuf {
        let text = format!(
            "server:\n  listen: 127.0.0.1:{listen}\n  threads: 2\n  grace_period: 5s\n  watch_policies: {}\n{}admin:\n  listen: 127.0.0.1:{admin}\n  token: {{ file: {}, optional: true }}\nlogging: {{ format: json, level: info }}\npolicy_dir: ../policies\ntenants_file: tenants.yaml\ndata_dir: ../var\n{}",
            self.watch_policies,
            self.server_extra,
            self.path("secrets/admin").display(),
            self.config_extra
        );
        let path = self.path("config/frontdesk.yaml");
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn start(self) -> TestServer {
        TestServer::start(self)
    }
}

pub struct TestServer {
    pub base: String,
    pub admin: String,
    pub app: Arc<App>,
    setup: Option<Setup>,
    control: mpsc::Sender<Control>,
    thread: Option<std::thread::JoinHandle<Result<(), BootError>>>,
}

impl TestServer {
    pub fn start(setup: Setup) -> Self {
        Self::start_with(setup, true)
    }

    pub fn start_with(setup: Setup, watch_policies: bool) -> Self {
        logs::install();
        let mut setup = Some(setup);
        for _ in 0..5 {
            let (listen, admin) = (free_port(), free_port());
            let current = setup.take().expect("setup kept for the next attempt");
            let mut config = Config::load(&current.config_file(listen, admin))
                .unwrap_or_else(|e| panic!("config: {e:?}"));
            config.file.server.watch_policies = watch_policies;
            let options = Options {
                clock: Arc::new(current.clock.clone()) as Arc<dyn Clock>,
            };
            let prepared =
                server::prepare(config, options).unwrap_or_else(|e| panic!("prepare: {e}"));
            let app = prepared.app.clone();
            let (tx, rx) = mpsc::channel(4);
            let thread = std::thread::spawn(move || prepared.serve(Signals::Controlled(rx)));
            let scheme = if current.server_extra.contains("  tls:") {
                "https"
            } else {
                "http"
            };
            let mut server = Self {
                base: format!("{scheme}://127.0.0.1:{listen}"),
                admin: format!("http://127.0.0.1:{admin}"),
                app,
                setup: Some(current),
                control: tx,
                thread: None,
            };
            let up = wait_until(Duration::from_secs(20), || {
                thread.is_finished() || probe(&server.admin, &server.base)
            });
            if !thread.is_finished() {
                assert!(up, "server did not become ready");
                server.thread = Some(thread);
                return server;
            }
            // Another test bound one of the ports between choosing and binding: try others.
            match thread.join().expect("serve thread") {
                Err(e @ BootError::Start(StartError::Bind { .. })) => {
                    eprintln!("retrying on other ports: {e}");
                    setup = server.setup.take();
                }
                other => panic!("serve ended before ready: {other:?}"),
            }
        }
        panic!("no free ports after 5 attempts");
    }

    pub fn setup(&self) -> &Setup {
        self.setup.as_ref().expect("running")
    }

    /// Stops the server (like SIGINT) and starts a new one on the same files.
    pub fn restart(mut self) -> TestServer {
        let _ = self.control.blocking_send(Control::Stop);
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread").expect("serve");
        }
        let setup = self.setup.take().expect("running");
        TestServer::start(setup)
    }

    pub fn control(&self, control: Control) {
        self.control.blocking_send(control).expect("server running");
    }

    /// Graceful stop (like SIGTERM); returns when the server thread ended.
    pub fn drain(mut self) {
        let _ = self.control.blocking_send(Control::Drain);
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread").expect("serve");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.control.try_send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Ready when the admin listener identifies itself as frontdesk and the traffic listener
/// answers a route miss with our 404 (a port taken by another server fails both).
fn probe(admin: &str, base: &str) -> bool {
    let identified = crate::http::get(admin, "/health")
        .map(|r| r.status == 200 && r.header("x-frontdesk-version").is_some())
        .unwrap_or(false);
    if let Some(addr) = base.strip_prefix("https://") {
        // TLS: the admin identified this server; its traffic port accepting is enough.
        return identified && std::net::TcpStream::connect(addr).is_ok();
    }
    identified
        && crate::http::get(base, "/__probe")
            .map(|r| r.status == 404 && r.text().contains("no_route"))
            .unwrap_or(false)
}

/// Polls `condition` until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::park_timeout(Duration::from_millis(10));
    }
    condition()
}
