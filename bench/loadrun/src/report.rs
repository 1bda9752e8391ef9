//! What a load run found: the results document written to `bench/results/<timestamp>.json`, and
//! its rendering as the markdown section of `docs/benchmarks.md` (tables, ratios, goals).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::oha::Measurement;
use crate::scenario::System;
use crate::stats::median;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub started_at: String,
    pub finished_at: String,
    pub quick: bool,
    pub machine: Machine,
    pub settings: Settings,
    pub versions: Versions,
    pub scenarios: Vec<ScenarioResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    /// 1-minute load average before and after the run: well above 0 before means other work was
    /// competing for the cores.
    pub load_before: f64,
    pub load_after: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// frontdesk worker threads = nginx worker processes.
    pub threads: usize,
    pub connections: usize,
    pub oha_threads: usize,
    pub upstream_threads: usize,
    pub repetitions: usize,
    pub peak_seconds: f64,
    pub latency_seconds: f64,
    pub warmup_seconds: f64,
    /// Whether open-loop latency points were measured (`--no-latency`: peaks only).
    #[serde(default = "yes")]
    pub latency_points: bool,
    /// The second frontdesk beside the first, if there was one.
    #[serde(default)]
    pub baseline: Option<Baseline>,
}

fn yes() -> bool {
    true
}

/// What the `baseline` system was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    pub label: String,
    /// The same binary as frontdesk (then only the `server:` keys differ).
    pub binary_is_frontdesk: bool,
    /// Extra `server:` keys of the baseline's config.
    pub server: String,
    /// Extra `server:` keys of frontdesk's config.
    pub frontdesk_server: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Versions {
    pub frontdesk: String,
    pub nginx: String,
    pub oha: String,
    #[serde(default)]
    pub baseline: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub number: u8,
    pub title: String,
    pub baseline_note: String,
    pub request_bytes: usize,
    /// Why the scenario was not measured, when it was not.
    pub skipped: Option<String>,
    pub systems: Vec<System>,
    pub peaks: Vec<Peak>,
    pub latency: Vec<LatencyPoint>,
    pub frontdesk_peak_rss_kib: Option<u64>,
    #[serde(default)]
    pub baseline_peak_rss_kib: Option<u64>,
    /// Scenario 4: commands Redis processed while the scenario ran (all clients).
    pub redis_commands: Option<u64>,
    /// `frontdesk_store_errors_total` at the end: store operations the fallback had to answer.
    pub store_errors: Option<f64>,
}

/// Closed-loop runs of one system.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Peak {
    pub system: System,
    pub runs: Vec<Measurement>,
    pub median_rps: Option<f64>,
}

/// Open-loop runs of one system at one offered rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyPoint {
    pub system: System,
    pub offered_rps: u32,
    pub runs: Vec<Measurement>,
    pub achieved_rps: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
}

impl Peak {
    pub fn new(system: System, runs: Vec<Measurement>) -> Self {
        let median_rps = median(runs.iter().map(|m| m.rps));
        Self {
            system,
            runs,
            median_rps,
        }
    }
}

impl LatencyPoint {
    pub fn new(system: System, offered_rps: u32, runs: Vec<Measurement>) -> Self {
        Self {
            system,
            offered_rps,
            achieved_rps: median(runs.iter().map(|m| m.rps)),
            p50_ms: median(runs.iter().filter_map(|m| m.p50_ms)),
            p99_ms: median(runs.iter().filter_map(|m| m.p99_ms)),
            p999_ms: median(runs.iter().filter_map(|m| m.p999_ms)),
            runs,
        }
    }
}

/// Runs whose share of unexpected answers is above this are flagged in the tables.
const UNEXPECTED_FLAG: f64 = 0.001;

impl ScenarioResult {
    pub fn peak(&self, system: System) -> Option<f64> {
        self.peaks
            .iter()
            .find(|p| p.system == system)
            .and_then(|p| p.median_rps)
    }

    pub fn point(&self, system: System, rate: u32) -> Option<&LatencyPoint> {
        self.latency
            .iter()
            .find(|p| p.system == system && p.offered_rps == rate)
    }

    /// Offered rates in increasing order.
    pub fn rates(&self) -> Vec<u32> {
        let mut rates: Vec<u32> = self.latency.iter().map(|p| p.offered_rps).collect();
        rates.sort_unstable();
        rates.dedup();
        rates
    }

    fn flagged(&self, system: System) -> bool {
        let peaks = self
            .peaks
            .iter()
            .filter(|p| p.system == system)
            .flat_map(|p| &p.runs);
        let points = self
            .latency
            .iter()
            .filter(|p| p.system == system)
            .flat_map(|p| &p.runs);
        peaks
            .chain(points)
            .any(|m| m.unexpected_share() > UNEXPECTED_FLAG)
    }
}

fn rps(v: Option<f64>) -> String {
    match v {
        Some(v) => {
            let n = v.round() as u64;
            if n >= 1000 {
                format!("{} {:03}", n / 1000, n % 1000)
            } else {
                n.to_string()
            }
        }
        None => "—".to_owned(),
    }
}

fn ms(v: Option<f64>) -> String {
    v.map(|v| {
        if v < 10.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.1}")
        }
    })
    .unwrap_or_else(|| "—".to_owned())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "—".to_owned(),
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "—".to_owned())
}

/// One measured goal from issue 11, evaluated (never asserted).
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub text: String,
    pub measured: String,
    pub met: Option<bool>,
}

/// The goals of issue 11 against these results.
pub fn goals(results: &Results) -> Vec<Goal> {
    let mut goals = Vec::new();
    let find = |n: u8| {
        results
            .scenarios
            .iter()
            .find(|s| s.number == n && s.skipped.is_none())
    };
    if let Some(s1) = find(1) {
        let (fd, ng) = (s1.peak(System::Frontdesk), s1.peak(System::Nginx));
        let r = fd.zip(ng).map(|(a, b)| a / b);
        goals.push(Goal {
            text: "Scenario 1 peak throughput ≥ 1.0× nginx".to_owned(),
            measured: ratio(fd, ng),
            met: r.map(|r| r >= 1.0),
        });
        // 50 % of nginx's peak is the middle offered rate.
        let rates = s1.rates();
        let mid = rates.get(rates.len() / 2).copied();
        let p99 = |s| mid.and_then(|r| s1.point(s, r)).and_then(|p| p.p99_ms);
        let (a, b) = (p99(System::Frontdesk), p99(System::Nginx));
        goals.push(Goal {
            text: "Scenario 1 p99 ≤ nginx p99 + 0.5 ms at 50 % of nginx's peak".to_owned(),
            measured: format!(
                "{} ms vs {} ms at {} req/s",
                ms(a),
                ms(b),
                mid.map(|r| rps(Some(f64::from(r)))).unwrap_or_default()
            ),
            met: a.zip(b).map(|(a, b)| a <= b + 0.5),
        });
    }
    if let Some(s3) = find(3) {
        let peak = s3.peak(System::Frontdesk);
        let at = s3.point(System::Frontdesk, 20_000);
        let p99 = at.and_then(|p| p.p99_ms);
        let achieved = at.and_then(|p| p.achieved_rps);
        goals.push(Goal {
            text: "Scenario 3 ≥ 20 000 req/s with p99 < 2 ms".to_owned(),
            measured: format!(
                "peak {} req/s; at 20 000 offered: {} req/s served, p99 {} ms",
                rps(peak),
                rps(achieved),
                ms(p99)
            ),
            met: peak.zip(p99).map(|(peak, p99)| {
                peak >= 20_000.0 && p99 < 2.0 && achieved.is_some_and(|a| a >= 19_000.0)
            }),
        });
    } else if let Some(s3) = results.scenarios.iter().find(|s| s.number == 3) {
        goals.push(Goal {
            text: "Scenario 3 ≥ 20 000 req/s with p99 < 2 ms".to_owned(),
            measured: format!(
                "not measured: {}",
                s3.skipped.as_deref().unwrap_or("skipped")
            ),
            met: None,
        });
    }
    let rss = results
        .scenarios
        .iter()
        .filter_map(|s| s.frontdesk_peak_rss_kib)
        .max();
    if rss.is_some() {
        goals.push(Goal {
            text: "frontdesk peak RSS < 64 MiB".to_owned(),
            measured: format!("{} (largest over all scenarios)", mib(rss)),
            met: rss.map(|k| k < 64 * 1024),
        });
    }
    goals
}

/// The table of frontdesk against the second frontdesk of the same run, every run listed.
fn beside_baseline(md: &mut String, results: &Results, baseline: &Baseline) {
    let _ = writeln!(
        md,
        "#### frontdesk beside the baseline ({}), closed loop\n",
        baseline.label
    );
    let differs = |label: &str, keys: &str| {
        if keys.trim().is_empty() {
            None
        } else {
            let keys: Vec<&str> = keys
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            Some(format!("{label}'s `server:` adds `{}`", keys.join("`, `")))
        }
    };
    let mut notes: Vec<String> = vec![if baseline.binary_is_frontdesk {
        "same binary".to_owned()
    } else {
        format!(
            "baseline binary: {}",
            results.versions.baseline.as_deref().unwrap_or("?")
        )
    }];
    notes.extend(differs("frontdesk", &baseline.frontdesk_server));
    notes.extend(differs("the baseline", &baseline.server));
    let _ = writeln!(md, "{}.\n", notes.join("; "));
    let _ = writeln!(
        md,
        "| scenario | nginx req/s | baseline req/s (runs) | frontdesk req/s (runs) | frontdesk ÷ baseline | baseline ÷ nginx | frontdesk ÷ nginx | peak RSS baseline / frontdesk |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for sc in results
        .scenarios
        .iter()
        .filter(|s| s.skipped.is_none() && s.systems.contains(&System::Baseline))
    {
        let runs = |sys: System| {
            let list: Vec<String> = sc
                .peaks
                .iter()
                .filter(|p| p.system == sys)
                .flat_map(|p| &p.runs)
                .map(|m| rps(Some(m.rps)))
                .collect();
            format!("{} ({})", rps(sc.peak(sys)), list.join(" / "))
        };
        let (fd, bl, ng) = (
            sc.peak(System::Frontdesk),
            sc.peak(System::Baseline),
            sc.peak(System::Nginx),
        );
        let _ = writeln!(
            md,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} / {} |",
            sc.number,
            sc.title,
            rps(ng),
            runs(System::Baseline),
            runs(System::Frontdesk),
            ratio(fd, bl),
            ratio(bl, ng),
            ratio(fd, ng),
            mib(sc.baseline_peak_rss_kib),
            mib(sc.frontdesk_peak_rss_kib)
        );
    }
    let _ = writeln!(md);
}

/// The markdown section for `docs/benchmarks.md`.
pub fn markdown(results: &Results, plots: &[(u8, String)]) -> String {
    let mut md = String::new();
    let s = &results.settings;
    // Named like its files (`bench/results/<started_at>*`), so the two are easy to match.
    let _ = writeln!(
        md,
        "### Load run {} (finished {})\n",
        results.started_at, results.finished_at
    );
    let _ = writeln!(
        md,
        "{} CPU(s) ({}), 1-minute load average {:.2} before and {:.2} after the run. \
         {} threads for frontdesk = {} nginx worker processes; oha with {} connections and {} worker thread(s); \
         upstream with {} thread(s). Medians of {} repetition(s); closed loop {:.0} s, open loop {:.0} s per point{}.\n",
        results.machine.cpus,
        results.machine.cpu_model,
        results.machine.load_before,
        results.machine.load_after,
        s.threads,
        s.threads,
        s.connections,
        s.oha_threads,
        s.upstream_threads,
        s.repetitions,
        s.peak_seconds,
        s.latency_seconds,
        if results.quick {
            " (quick mode: a smoke test, not a measurement)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        md,
        "Versions: {}; {}; {}.\n",
        results.versions.frontdesk, results.versions.nginx, results.versions.oha
    );

    let _ = writeln!(md, "#### Peak throughput (closed loop)\n");
    let _ = writeln!(
        md,
        "| scenario | direct req/s | nginx req/s | frontdesk req/s | frontdesk ÷ nginx | frontdesk ÷ direct | frontdesk peak RSS |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    for sc in &results.scenarios {
        if let Some(reason) = &sc.skipped {
            let _ = writeln!(
                md,
                "| {} {} | skipped: {reason} | | | | | |",
                sc.number, sc.title
            );
            continue;
        }
        let cell = |sys: System| {
            if !sc.systems.contains(&sys) {
                "n/a".to_owned()
            } else {
                format!(
                    "{}{}",
                    rps(sc.peak(sys)),
                    if sc.flagged(sys) { " ⚠" } else { "" }
                )
            }
        };
        let fd = sc.peak(System::Frontdesk);
        let _ = writeln!(
            md,
            "| {} {} | {} | {} | {} | {} | {} | {} |",
            sc.number,
            sc.title,
            cell(System::Direct),
            cell(System::Nginx),
            cell(System::Frontdesk),
            ratio(fd, sc.peak(System::Nginx)),
            ratio(fd, sc.peak(System::Direct)),
            mib(sc.frontdesk_peak_rss_kib)
        );
    }
    let _ = writeln!(md);
    if let Some(baseline) = &s.baseline {
        beside_baseline(&mut md, results, baseline);
    }
    for sc in results.scenarios.iter().filter(|s| s.skipped.is_none()) {
        let _ = writeln!(md, "- Scenario {}: {}.", sc.number, sc.baseline_note);
        if let Some(commands) = sc.redis_commands {
            let requests: u64 = sc
                .peaks
                .iter()
                .filter(|p| p.system == System::Frontdesk)
                .flat_map(|p| &p.runs)
                .chain(
                    sc.latency
                        .iter()
                        .filter(|p| p.system == System::Frontdesk)
                        .flat_map(|p| &p.runs),
                )
                .map(|m| m.expected + m.unexpected)
                .sum();
            let _ = writeln!(
                md,
                "  Redis processed {commands} commands during the scenario (≈{:.1} per frontdesk request, other clients included).",
                commands as f64 / requests.max(1) as f64
            );
        }
        if let Some(errors) = sc.store_errors.filter(|e| *e > 0.0) {
            let _ = writeln!(
                md,
                "  **{errors} store operations failed and were answered by the local fallback.**"
            );
        }
    }
    let any_flagged = results
        .scenarios
        .iter()
        .any(|sc| sc.systems.iter().any(|&system| sc.flagged(system)));
    if any_flagged {
        let _ = writeln!(
            md,
            "- ⚠: some answers in these runs were not the expected `200` (see the JSON)."
        );
    }
    let _ = writeln!(md);

    let with_baseline = s.baseline.is_some();
    let _ = writeln!(
        md,
        "#### Latency at fixed offered rates (open loop; p50 / p99 / p99.9 in ms)\n"
    );
    if !s.latency_points {
        let _ = writeln!(md, "Not measured in this run (`--no-latency`).\n");
    }
    if s.latency_points {
        let _ = writeln!(
            md,
            "| scenario | offered req/s | direct | nginx |{} frontdesk | frontdesk p99 − nginx p99 |",
            if with_baseline { " baseline |" } else { "" }
        );
        let _ = writeln!(
            md,
            "|---|---:|---|---|{}---|---:|",
            if with_baseline { "---|" } else { "" }
        );
        for sc in results.scenarios.iter().filter(|s| s.skipped.is_none()) {
            for rate in sc.rates() {
                let cell = |sys: System| match sc.point(sys, rate) {
                    None => "n/a".to_owned(),
                    Some(p) => {
                        let short = p.achieved_rps.is_some_and(|a| a < f64::from(rate) * 0.95);
                        format!(
                            "{} / {} / {}{}",
                            ms(p.p50_ms),
                            ms(p.p99_ms),
                            ms(p.p999_ms),
                            if short {
                                format!(" (served {})", rps(p.achieved_rps))
                            } else {
                                String::new()
                            }
                        )
                    }
                };
                let delta = match (
                    sc.point(System::Frontdesk, rate).and_then(|p| p.p99_ms),
                    sc.point(System::Nginx, rate).and_then(|p| p.p99_ms),
                ) {
                    (Some(a), Some(b)) => format!("{:+.2} ms", a - b),
                    _ => "—".to_owned(),
                };
                let baseline_cell = if with_baseline {
                    format!(" {} |", cell(System::Baseline))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} |{} {} | {} |",
                    sc.number,
                    rps(Some(f64::from(rate))),
                    cell(System::Direct),
                    cell(System::Nginx),
                    baseline_cell,
                    cell(System::Frontdesk),
                    delta
                );
            }
        }
    }
    let _ = writeln!(md);
    if !plots.is_empty() {
        let _ = writeln!(
            md,
            "Latency against offered load (p99 solid, p50 thin), one line per system:\n"
        );
        for (number, path) in plots {
            let _ = writeln!(md, "![scenario {number}]({path})");
        }
        let _ = writeln!(md);
    }

    let _ = writeln!(md, "#### Goals (issue 11)\n");
    let _ = writeln!(md, "| goal | measured | |");
    let _ = writeln!(md, "|---|---|---|");
    for g in goals(results) {
        let verdict = match g.met {
            Some(true) => "met",
            Some(false) => "**not met**",
            None => "—",
        };
        let _ = writeln!(md, "| {} | {} | {} |", g.text, g.measured, verdict);
    }
    md
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn measurement(rps: f64, p99: f64, offered: Option<u32>) -> Measurement {
        Measurement {
            offered_rps: offered,
            rps,
            p50_ms: Some(p99 / 3.0),
            p99_ms: Some(p99),
            p999_ms: Some(p99 * 2.0),
            expected: (rps * 5.0) as u64,
            unexpected: 0,
            seconds: 5.0,
            statuses: Default::default(),
            errors: Default::default(),
        }
    }

    pub fn sample() -> Results {
        let s1 = ScenarioResult {
            number: 1,
            title: "signed POST".into(),
            baseline_note: "nginx: proxy only".into(),
            request_bytes: 200,
            skipped: None,
            systems: vec![System::Direct, System::Nginx, System::Frontdesk],
            peaks: vec![
                Peak::new(System::Direct, vec![measurement(60_000.0, 1.0, None)]),
                Peak::new(
                    System::Nginx,
                    vec![
                        measurement(40_000.0, 1.0, None),
                        measurement(42_000.0, 1.0, None),
                        measurement(38_000.0, 1.0, None),
                    ],
                ),
                Peak::new(System::Frontdesk, vec![measurement(30_000.0, 1.0, None)]),
            ],
            latency: [10_000, 20_000, 30_000]
                .iter()
                .flat_map(|&r| {
                    [
                        LatencyPoint::new(
                            System::Nginx,
                            r,
                            vec![measurement(f64::from(r), 0.5, Some(r))],
                        ),
                        LatencyPoint::new(
                            System::Frontdesk,
                            r,
                            vec![measurement(f64::from(r), 0.8, Some(r))],
                        ),
                    ]
                })
                .collect(),
            frontdesk_peak_rss_kib: Some(30 * 1024),
            baseline_peak_rss_kib: None,
            redis_commands: None,
            store_errors: Some(0.0),
        };
        let s3 = ScenarioResult {
            number: 3,
            title: "check_availability".into(),
            baseline_note: "no baseline".into(),
            request_bytes: 200,
            skipped: Some("the booking engine answered calendar_unavailable".into()),
            systems: vec![System::Frontdesk],
            peaks: vec![],
            latency: vec![],
            frontdesk_peak_rss_kib: None,
            baseline_peak_rss_kib: None,
            redis_commands: None,
            store_errors: None,
        };
        Results {
            started_at: "20261125T190000Z".into(),
            finished_at: "20261125T190900Z".into(),
            quick: false,
            machine: Machine {
                cpus: 2,
                cpu_model: "Test CPU".into(),
                load_before: 0.1,
                load_after: 1.9,
            },
            settings: Settings {
                threads: 2,
                connections: 32,
                oha_threads: 1,
                upstream_threads: 1,
                repetitions: 3,
                peak_seconds: 5.0,
                latency_seconds: 4.0,
                warmup_seconds: 1.0,
                latency_points: true,
                baseline: None,
            },
            versions: Versions {
                frontdesk: "frontdesk 0.1.0".into(),
                nginx: "nginx version: nginx/1.22.1".into(),
                oha: "oha 1.16.0".into(),
                baseline: None,
            },
            scenarios: vec![s1, s3],
        }
    }

    #[test]
    fn medians_over_repetitions() {
        let r = sample();
        assert_eq!(r.scenarios[0].peak(System::Nginx), Some(40_000.0));
        assert_eq!(r.scenarios[0].rates(), vec![10_000, 20_000, 30_000]);
    }

    #[test]
    fn goals_are_evaluated_against_nginx_in_the_same_run() {
        let goals = goals(&sample());
        assert_eq!(goals[0].measured, "0.75×");
        assert_eq!(goals[0].met, Some(false));
        // 0.8 ms vs 0.5 ms at the middle rate: within +0.5 ms.
        assert_eq!(goals[1].met, Some(true));
        assert!(
            goals[1].measured.contains("at 20 000 req/s"),
            "{}",
            goals[1].measured
        );
        assert_eq!(goals[2].met, None);
        assert!(goals[2].measured.contains("calendar_unavailable"));
        assert_eq!(goals[3].met, Some(true));
    }

    #[test]
    fn the_markdown_has_ratios_skips_and_plots() {
        let md = markdown(&sample(), &[(1, "../bench/results/x-s1.png".into())]);
        assert!(
            md.contains("| 1 signed POST | 60 000 | 40 000 | 30 000 | 0.75× | 0.50× | 30.0 MiB |"),
            "{md}"
        );
        assert!(md.contains("skipped: the booking engine answered calendar_unavailable"));
        assert!(
            md.contains(
                "| 1 | 20 000 | n/a | 0.17 / 0.50 / 1.00 | 0.27 / 0.80 / 1.60 | +0.30 ms |"
            ),
            "{md}"
        );
        assert!(md.contains("![scenario 1](../bench/results/x-s1.png)"));
        assert!(md.contains("| Scenario 1 peak throughput ≥ 1.0× nginx | 0.75× | **not met** |"));
    }

    #[test]
    fn a_baseline_gets_its_own_table_and_column() {
        let mut r = sample();
        r.settings.baseline = Some(Baseline {
            label: "bounds out of reach".into(),
            binary_is_frontdesk: true,
            server: "keepalive_timeout: 1h\n".into(),
            frontdesk_server: String::new(),
        });
        let s1 = &mut r.scenarios[0];
        s1.systems.push(System::Baseline);
        s1.peaks.push(Peak::new(
            System::Baseline,
            vec![
                measurement(29_000.0, 1.0, None),
                measurement(31_000.0, 1.0, None),
                measurement(30_500.0, 1.0, None),
            ],
        ));
        s1.baseline_peak_rss_kib = Some(31 * 1024);
        let md = markdown(&r, &[]);
        assert!(
            md.contains("#### frontdesk beside the baseline (bounds out of reach)"),
            "{md}"
        );
        assert!(
            md.contains("same binary; the baseline's `server:` adds `keepalive_timeout: 1h`."),
            "{md}"
        );
        assert!(
            md.contains("| 1 signed POST | 40 000 | 30 500 (29 000 / 31 000 / 30 500) | 30 000 (30 000) | 0.98× | 0.76× | 0.75× | 31.0 MiB / 30.0 MiB |"),
            "{md}"
        );
        assert!(md.contains("| nginx | baseline | frontdesk |"), "{md}");
        assert!(
            md.contains(
                "| 1 | 20 000 | n/a | 0.17 / 0.50 / 1.00 | n/a | 0.27 / 0.80 / 1.60 | +0.30 ms |"
            ),
            "{md}"
        );
    }
}
