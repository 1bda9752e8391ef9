//! One load run from start to end: find the tools, prepare bodies, start the upstream, then per
//! scenario start the systems, check each answers as expected, warm up, measure peaks and
//! latencies (systems interleaved, repetitions rotated), read frontdesk's peak RSS, stop.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::cli::{Options, Plan};
use crate::error::{Error, Result};
use crate::frontdesk::{self, Frontdesk, Store};
use crate::nginx::Nginx;
use crate::oha::{self, Load, Measurement};
use crate::report::{
    Baseline, LatencyPoint, Machine, Peak, Results, ScenarioResult, Settings, Versions,
};
use crate::scenario::{self, Body, Scenario, StoreKind, System};
use crate::{payload, probe, redis, tools, upstream::Upstream};

/// Everything shared by the scenarios of a run.
struct Context {
    opts: Options,
    plan: Plan,
    frontdesk: PathBuf,
    /// The second frontdesk (`--baseline`), if any.
    baseline: Option<PathBuf>,
    frontdesk_server: String,
    baseline_server: String,
    nginx: PathBuf,
    oha: PathBuf,
    policies: Vec<(String, String)>,
    tenants: String,
    bodies: BTreeMap<&'static str, (PathBuf, Vec<u8>)>,
    upstream: Upstream,
    stamp: String,
    _scratch: tempfile::TempDir,
}

/// A started system: where to send requests; dropping it stops the process.
enum Running {
    Direct(SocketAddr),
    Nginx(Nginx),
    Frontdesk(Frontdesk),
}

impl Context {
    /// The systems of `sc`: its own, plus the baseline beside frontdesk when one is asked for.
    fn systems(&self, sc: &Scenario) -> Vec<System> {
        let mut systems = sc.systems.to_vec();
        if self.baseline.is_some() && systems.contains(&System::Frontdesk) {
            systems.push(System::Baseline);
            systems.sort_unstable();
        }
        systems
    }
}

impl Running {
    fn addr(&self) -> SocketAddr {
        match self {
            Running::Direct(a) => *a,
            Running::Nginx(n) => n.listen,
            Running::Frontdesk(f) => f.listen,
        }
    }
}

pub fn run(opts: &Options) -> Result<Results> {
    let started_at = stamp();
    let load_before = load_average();
    let ctx = prepare(opts, &started_at)?;
    let versions = Versions {
        frontdesk: frontdesk::version(&ctx.frontdesk),
        nginx: crate::nginx::version(&ctx.nginx),
        oha: oha::version(&ctx.oha),
        baseline: ctx.baseline.as_deref().map(frontdesk::version),
    };
    let mut scenarios = Vec::new();
    for sc in scenario::all().into_iter().filter(|s| opts.wants(s.number)) {
        eprintln!("loadrun: scenario {}: {}", sc.number, sc.title);
        scenarios.push(run_scenario(&ctx, &sc)?);
    }
    Ok(Results {
        started_at,
        finished_at: stamp(),
        quick: opts.quick,
        machine: Machine {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu_model: cpu_model(),
            load_before,
            load_after: load_average(),
        },
        settings: Settings {
            threads: opts.threads,
            connections: opts.connections,
            oha_threads: opts.oha_threads,
            upstream_threads: opts.upstream_threads,
            repetitions: ctx.plan.repetitions,
            peak_seconds: ctx.plan.peak.as_secs_f64(),
            latency_seconds: ctx.plan.latency.as_secs_f64(),
            warmup_seconds: ctx.plan.warmup.as_secs_f64(),
            latency_points: !opts.no_latency,
            baseline: ctx.baseline.as_ref().map(|b| Baseline {
                label: opts.baseline_label.clone(),
                binary_is_frontdesk: *b == ctx.frontdesk,
                server: ctx.baseline_server.clone(),
                frontdesk_server: ctx.frontdesk_server.clone(),
            }),
        },
        versions,
        scenarios,
    })
}

fn missing(what: &str, hint: &str) -> Error {
    Error::Tool {
        what: what.to_owned(),
        detail: format!("not found; {hint}"),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(Error::file("read", path))
}

fn prepare(opts: &Options, stamp: &str) -> Result<Context> {
    let frontdesk = opts.frontdesk_binary();
    if !frontdesk.is_file() {
        return Err(missing(
            &frontdesk.display().to_string(),
            "build it with `cargo build --release -p frontdesk`",
        ));
    }
    let nginx = tools::locate(&opts.nginx)
        .ok_or_else(|| missing("nginx", "bench/run.sh installs the Debian package"))?;
    let baseline = opts.baseline_binary();
    if let Some(binary) = baseline.as_ref().filter(|b| !b.is_file()) {
        return Err(missing(
            &binary.display().to_string(),
            "build the baseline first",
        ));
    }
    let server_keys = |path: &Option<PathBuf>| path.as_deref().map(read).transpose();
    let frontdesk_server = server_keys(&opts.frontdesk_server)?.unwrap_or_default();
    let baseline_server = server_keys(&opts.baseline_server)?.unwrap_or_default();
    let oha = tools::locate(&opts.oha)
        .ok_or_else(|| missing("oha", "bench/run.sh runs `cargo install oha --locked`"))?;

    let repo = &opts.repo;
    let policies = vec![
        (
            "bench.yaml".to_owned(),
            read(&repo.join("bench/policy/bench.yaml"))?,
        ),
        (
            "booking-schemas.yaml".to_owned(),
            read(&repo.join("policies/booking-schemas.yaml"))?,
        ),
    ];
    let tenants = read(&repo.join("bench/config/tenants.yaml"))?;
    let fixture_path = repo.join("tests/fixtures/retell_call_ended.json");
    let fixture = std::fs::read(&fixture_path).map_err(Error::file("read", &fixture_path))?;

    let scratch = tempfile::Builder::new()
        .prefix("loadrun-")
        .tempdir()
        .map_err(Error::io("scratch directory"))?;
    crate::children::remove_on_interrupt(scratch.path().to_owned());
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let mut bodies = BTreeMap::new();
    for (name, bytes) in [
        (
            "function_call",
            payload::check_availability(payload::bench_date(today)),
        ),
        ("webhook", payload::call_ended_webhook(&fixture)?),
    ] {
        let path = scratch.path().join(format!("{name}.json"));
        std::fs::write(&path, &bytes).map_err(Error::file("write", &path))?;
        bodies.insert(name, (path, bytes));
    }
    Ok(Context {
        opts: opts.clone(),
        plan: opts.plan(),
        frontdesk,
        baseline,
        frontdesk_server,
        baseline_server,
        nginx,
        oha,
        policies,
        tenants,
        bodies,
        upstream: Upstream::start(opts.upstream_threads)?,
        stamp: stamp.to_owned(),
        _scratch: scratch,
    })
}

fn skipped(sc: &Scenario, body_len: usize, reason: String) -> ScenarioResult {
    eprintln!("loadrun: scenario {} skipped: {reason}", sc.number);
    ScenarioResult {
        number: sc.number,
        title: sc.title.to_owned(),
        baseline_note: sc.baseline_note.to_owned(),
        request_bytes: body_len,
        skipped: Some(reason),
        systems: sc.systems.to_vec(),
        peaks: vec![],
        latency: vec![],
        frontdesk_peak_rss_kib: None,
        baseline_peak_rss_kib: None,
        redis_commands: None,
        store_errors: None,
    }
}

fn run_scenario(ctx: &Context, sc: &Scenario) -> Result<ScenarioResult> {
    let body_key = match sc.body {
        Body::FunctionCall => "function_call",
        Body::Webhook => "webhook",
    };
    let Some((body_path, body)) = ctx.bodies.get(body_key) else {
        return Err(Error::Answer {
            what: "the load run".to_owned(),
            detail: format!("no body `{body_key}`"),
        });
    };
    let redis_prefix = format!("frontdesk-bench:{}:", ctx.stamp);
    let store = match sc.store {
        StoreKind::Memory => Store::Memory,
        StoreKind::Redis => {
            if !redis::reachable(&ctx.opts.redis_url)
                && !redis::has_credentials(&ctx.opts.redis_url)
            {
                return Ok(skipped(
                    sc,
                    body.len(),
                    "Redis is not reachable at REDIS_URL".to_owned(),
                ));
            }
            Store::Redis {
                url: ctx.opts.redis_url.clone(),
                prefix: redis_prefix.clone(),
            }
        }
    };

    let systems = ctx.systems(sc);
    let frontdesk_spec = |binary: &Path, server_extra: &str| frontdesk::Spec {
        binary: binary.to_owned(),
        threads: ctx.opts.threads,
        upstream: ctx.upstream.addr,
        store: store.clone(),
        policies: ctx.policies.clone(),
        tenants: ctx.tenants.clone(),
        server_extra: server_extra.to_owned(),
    };
    let mut running = BTreeMap::new();
    for &system in &systems {
        let started = match system {
            System::Direct => Running::Direct(ctx.upstream.addr),
            System::Nginx => Running::Nginx(Nginx::start(
                &ctx.nginx,
                ctx.opts.threads,
                ctx.upstream.addr,
            )?),
            System::Frontdesk => Running::Frontdesk(Frontdesk::start(&frontdesk_spec(
                &ctx.frontdesk,
                &ctx.frontdesk_server,
            ))?),
            System::Baseline => {
                let binary = ctx.baseline.as_deref().unwrap_or(&ctx.frontdesk);
                Running::Frontdesk(Frontdesk::start(&frontdesk_spec(
                    binary,
                    &ctx.baseline_server,
                ))?)
            }
        };
        running.insert(system, started);
    }

    // One request per system first: a wrong answer would make every number below meaningless.
    for (&system, target) in &running {
        let headers = headers(ctx, body)?;
        let reply = probe::request(target.addr(), "POST", sc.path, &headers, body)?;
        if reply.status != 200 {
            let reason = format!(
                "{} answered {} to the first request",
                system.label(),
                reply.status
            );
            if sc.needs_booking {
                return Ok(skipped(sc, body.len(), reason));
            }
            return Err(Error::Answer {
                what: system.label().to_owned(),
                detail: reason,
            });
        }
        if sc.needs_booking && system.is_frontdesk() && !reply.body_contains("\"success\":true") {
            let text = String::from_utf8_lossy(&reply.body);
            let code = text
                .split("\"error\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("no success");
            return Ok(skipped(
                sc,
                body.len(),
                format!("the booking engine answered `{code}`, not success"),
            ));
        }
    }

    let load = |system: System, rate: Option<u32>, duration| -> Result<Measurement> {
        let target = running
            .get(&system)
            .map(Running::addr)
            .unwrap_or(ctx.upstream.addr);
        let load = Load {
            url: format!("http://{target}{}", sc.path),
            headers: headers(ctx, body)?,
            body: body_path.clone(),
            connections: ctx.opts.connections,
            threads: ctx.opts.oha_threads,
            duration,
            rate,
        };
        oha::measure(&ctx.oha, &load, 200)
    };

    for &system in &systems {
        load(system, None, ctx.plan.warmup)?;
    }
    let commands_before = match sc.store {
        StoreKind::Redis => redis::commands_processed(&ctx.opts.redis_url).ok(),
        StoreKind::Memory => None,
    };
    let mut peak_runs: BTreeMap<System, Vec<Measurement>> = BTreeMap::new();
    for rep in 0..ctx.plan.repetitions {
        for system in scenario::rotated(&systems, rep) {
            let m = load(system, None, ctx.plan.peak)?;
            eprintln!(
                "loadrun:   peak {}/{} {:<9} {:>8.0} req/s  p99 {:>7.2} ms  unexpected {}",
                rep + 1,
                ctx.plan.repetitions,
                system.label(),
                m.rps,
                m.p99_ms.unwrap_or(f64::NAN),
                m.unexpected
            );
            peak_runs.entry(system).or_default().push(m);
        }
    }
    let peaks: Vec<Peak> = peak_runs
        .into_iter()
        .map(|(s, runs)| Peak::new(s, runs))
        .collect();
    let peak_of = |s: System| {
        peaks
            .iter()
            .find(|p| p.system == s)
            .and_then(|p| p.median_rps)
    };
    let rates = if ctx.opts.no_latency {
        Vec::new()
    } else {
        sc.rates.resolve(peak_of, System::Frontdesk)
    };

    let mut point_runs: BTreeMap<(System, u32), Vec<Measurement>> = BTreeMap::new();
    for rep in 0..ctx.plan.repetitions {
        for &rate in &rates {
            for system in scenario::rotated(&systems, rep) {
                let m = load(system, Some(rate), ctx.plan.latency)?;
                eprintln!(
                    "loadrun:   rate {}/{} {:<9} {:>8} offered {:>8.0} served  p50 {:>6.2}  p99 {:>7.2}  p99.9 {:>7.2} ms",
                    rep + 1,
                    ctx.plan.repetitions,
                    system.label(),
                    rate,
                    m.rps,
                    m.p50_ms.unwrap_or(f64::NAN),
                    m.p99_ms.unwrap_or(f64::NAN),
                    m.p999_ms.unwrap_or(f64::NAN)
                );
                point_runs.entry((system, rate)).or_default().push(m);
            }
        }
    }
    let latency = point_runs
        .into_iter()
        .map(|((system, rate), runs)| LatencyPoint::new(system, rate, runs))
        .collect();

    let (frontdesk_peak_rss_kib, store_errors) = match running.get(&System::Frontdesk) {
        Some(Running::Frontdesk(f)) => (Some(f.peak_rss_kib()?), f.store_errors()),
        _ => (None, None),
    };
    let baseline_peak_rss_kib = match running.get(&System::Baseline) {
        Some(Running::Frontdesk(f)) => Some(f.peak_rss_kib()?),
        _ => None,
    };
    let redis_commands = match (sc.store, commands_before) {
        (StoreKind::Redis, Some(before)) => redis::commands_processed(&ctx.opts.redis_url)
            .ok()
            .map(|after| after.saturating_sub(before)),
        _ => None,
    };
    if let Some(errors) = store_errors.filter(|e| *e > 0.0) {
        eprintln!(
            "loadrun: warning: {errors} store operations failed in scenario {}: the local fallback answered",
            sc.number
        );
    }
    drop(running);
    Ok(ScenarioResult {
        number: sc.number,
        title: sc.title.to_owned(),
        baseline_note: sc.baseline_note.to_owned(),
        request_bytes: body.len(),
        skipped: None,
        systems,
        peaks,
        latency,
        frontdesk_peak_rss_kib,
        baseline_peak_rss_kib,
        redis_commands,
        store_errors,
    })
}

/// Request headers with a signature made now: every oha run is far shorter than the 5-minute
/// signature tolerance, the whole load run is not.
fn headers(ctx: &Context, body: &[u8]) -> Result<Vec<(String, String)>> {
    Ok(vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        (
            "x-retell-signature".to_owned(),
            frontdesk::sign(&ctx.frontdesk, body)?,
        ),
        ("x-retell-call-id".to_owned(), payload::CALL_ID.to_owned()),
    ])
}

/// UTC timestamp for file names, e.g. `20261125T193000Z`.
pub fn stamp() -> String {
    jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
