//! Command-line interface: `run`, `check`, `redact`, `sign`, `schema`.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line prints its results"
)]

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Config;
use crate::gateway::signals::Signals;
use crate::server::{self, Options};

#[derive(Debug, Parser)]
#[command(
    name = "frontdesk",
    version,
    about = "Policy-enforcing front door for AI phone receptionists"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve traffic and admin listeners.
    Run {
        #[arg(short, long, default_value = "config/frontdesk.yaml")]
        config: PathBuf,
    },
    /// Validate config, policies and tenants; print a summary or every error as file:line:col.
    Check {
        #[arg(short, long, default_value = "config/frontdesk.yaml")]
        config: PathBuf,
    },
    /// Create or migrate the embedded calendar's database (SQLite or PostgreSQL, as configured)
    /// and exit; `run` does the same at start.
    Migrate {
        #[arg(short, long, default_value = "config/frontdesk.yaml")]
        config: PathBuf,
    },
    /// Redact PII from stdin to stdout, line by line (for existing log files).
    Redact {
        /// Use this config's log-redaction rules instead of the built-in defaults.
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// Print a signature header value for the body on stdin.
    Sign {
        /// Environment variable holding the key.
        #[arg(long)]
        key_env: String,
        #[arg(long, value_enum, default_value_t = Scheme::Retell)]
        scheme: Scheme,
        /// Timestamp in milliseconds (default: now).
        #[arg(long)]
        at: Option<u64>,
    },
    /// Print the JSON Schema of the config, policy and tenants files.
    Schema,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scheme {
    /// `x-retell-signature: v=<ms>,d=<hex>`
    Retell,
    /// `X-Cal-Signature-256: <hex>`
    Calcom,
}

pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run { config } => run(&config),
        Command::Check { config } => check(&config),
        Command::Migrate { config } => migrate(&config),
        Command::Redact { config } => redact(config.as_deref()),
        Command::Sign {
            key_env,
            scheme,
            at,
        } => sign(&key_env, scheme, at),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::schema::all()).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
    }
}

fn print_errors(errors: &[crate::config::Diagnostic]) {
    let mut stderr = std::io::stderr().lock();
    for e in errors {
        let _ = writeln!(stderr, "{e}");
    }
}

fn run(path: &Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(errors) => {
            print_errors(&errors);
            return ExitCode::FAILURE;
        }
    };
    // Cal.com is reached over TLS; one process-wide crypto provider (ring) serves it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let logging = &config.file.logging;
    let _log_writer =
        match crate::telemetry::init_logging(logging.format, &logging.level, std::io::stderr()) {
            Ok(guard) => guard,
            Err(e) => {
                eprintln!("frontdesk cannot start its log writer: {e}");
                return ExitCode::FAILURE;
            }
        };
    crate::telemetry::install_panic_hook();
    let prepared = match server::prepare(config, Options::default()) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "frontdesk cannot start");
            eprintln!("frontdesk cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match prepared.serve(Signals::Process) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "frontdesk stopped with an error");
            eprintln!("frontdesk: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(path: &Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(errors) => {
            print_errors(&errors);
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("frontdesk migrate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clock: std::sync::Arc<dyn frontdesk_clock::Clock> =
        std::sync::Arc::new(frontdesk_clock::SystemClock);
    match runtime.block_on(crate::booking::open_calendar(&config, clock)) {
        Ok(calendar) => {
            println!("calendar database ({}) is up to date", calendar.backend());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("frontdesk migrate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(path: &Path) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(errors) => {
            print_errors(&errors);
            return ExitCode::FAILURE;
        }
    };
    let policy = match crate::policy::compile::compile(&config) {
        Ok(p) => p,
        Err(errors) => {
            print_errors(&errors);
            return ExitCode::FAILURE;
        }
    };
    for warning in crate::policy::compile::warnings(&config, &policy) {
        eprintln!("warning: {warning}");
    }
    let tls = match &config.tls {
        Some(files) => match check_tls(files) {
            Ok(summary) => summary,
            Err(error) => {
                eprintln!("{}: server.tls: {error}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => String::new(),
    };
    println!(
        "ok: {} routes, {} tenants, {} upstreams, policy {} ({} files){tls}",
        policy.routes.len(),
        policy.tenants.len(),
        config.file.upstreams.len(),
        policy.hash,
        policy.files.len()
    );
    ExitCode::SUCCESS
}

/// The certificate pair loads, and is valid now; warns when it expires within
/// [`crate::tls::WARN_DAYS`]. The summary is appended to the `ok:` line.
fn check_tls(files: &crate::config::TlsFiles) -> Result<String, String> {
    use crate::tls::{Expiry, WARN_DAYS, certificate};
    let loaded = certificate::load(files)?;
    let now = jiff::Timestamp::now().as_second();
    let until = certificate::format_time(loaded.not_after);
    match loaded.expiry(now) {
        Expiry::Expired => Err(format!(
            "the certificate in {} expired at {until}",
            files.cert.display()
        )),
        Expiry::NotYetValid => Err(format!(
            "the certificate in {} is not valid before {}",
            files.cert.display(),
            certificate::format_time(loaded.not_before)
        )),
        Expiry::Valid { days_left } => {
            if days_left < WARN_DAYS {
                eprintln!(
                    "warning: the TLS certificate in {} expires in {days_left} days ({until}); renew it",
                    files.cert.display()
                );
            }
            Ok(format!(", TLS certificate valid until {until}"))
        }
    }
}

fn redact(config: Option<&Path>) -> ExitCode {
    let redactor = match config {
        None => crate::telemetry::log_redactor(),
        Some(path) => match Config::load(path) {
            Ok(c) => match c
                .file
                .logging
                .redaction
                .as_ref()
                .map(frontdesk_redact::Redactor::new)
            {
                Some(Ok(r)) => Arc::new(r),
                Some(Err(e)) => {
                    eprintln!("{}: logging.redaction: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                None => crate::telemetry::log_redactor(),
            },
            Err(errors) => {
                print_errors(&errors);
                return ExitCode::FAILURE;
            }
        },
    };
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut reader = std::io::BufReader::new(stdin);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                if out
                    .write_all(redactor.redact_text(&text).as_bytes())
                    .is_err()
                {
                    return ExitCode::FAILURE;
                }
            }
            Err(e) => {
                eprintln!("frontdesk redact: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if out.flush().is_err() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn sign(key_env: &str, scheme: Scheme, at: Option<u64>) -> ExitCode {
    let Some(key) = std::env::var(key_env).ok().filter(|k| !k.is_empty()) else {
        eprintln!("frontdesk sign: environment variable {key_env} is not set");
        return ExitCode::FAILURE;
    };
    let mut body = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut body) {
        eprintln!("frontdesk sign: {e}");
        return ExitCode::FAILURE;
    }
    let value = match scheme {
        Scheme::Retell => {
            let now =
                at.unwrap_or_else(|| frontdesk_clock::Clock::now_ms(&frontdesk_clock::SystemClock));
            crate::signature::sign_retell(&key, &body, now)
        }
        Scheme::Calcom => crate::signature::sign_calcom(&key, &body),
    };
    println!("{value}");
    ExitCode::SUCCESS
}
