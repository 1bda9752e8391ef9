//! One load measurement with oha, the single load generator for every system: closed loop
//! (`-c` connections as fast as they go) for peak throughput, or open loop (`-q RATE` with
//! latency correction, so a stalled server cannot hide its queueing delay) for latency.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::children::Supervised;
use crate::error::{Error, Result};

/// How long past its own deadline oha may take before it is killed.
const OVERRUN: Duration = Duration::from_secs(30);

/// What to send, how hard and for how long.
#[derive(Debug, Clone)]
pub struct Load {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: PathBuf,
    pub connections: usize,
    pub threads: usize,
    pub duration: Duration,
    /// `Some(rate)`: open loop at `rate` requests/s; `None`: closed loop.
    pub rate: Option<u32>,
}

/// The outcome of one oha run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The open-loop rate asked for; `None` for a closed-loop run.
    pub offered_rps: Option<u32>,
    /// Answers with the expected status per second of run time.
    pub rps: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    /// Answers with the expected status.
    pub expected: u64,
    /// Answers with another status, and transport errors.
    pub unexpected: u64,
    pub seconds: f64,
    /// Every status seen, with its count.
    pub statuses: BTreeMap<String, u64>,
    /// Transport errors by oha's description, with their count.
    pub errors: BTreeMap<String, u64>,
}

impl Measurement {
    /// Share of requests that did not get the expected answer.
    pub fn unexpected_share(&self) -> f64 {
        let total = self.expected + self.unexpected;
        if total == 0 {
            1.0
        } else {
            self.unexpected as f64 / total as f64
        }
    }
}

/// The oha command line for `load`.
pub fn arguments(load: &Load) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--no-tui".into(),
        "--output-format".into(),
        "json".into(),
        "--stats-success-breakdown".into(),
        "-z".into(),
        format!("{}ms", load.duration.as_millis()),
        // Requests still in flight at the deadline finish and count, instead of being aborted.
        "-w".into(),
        "-t".into(),
        "10s".into(),
        "-c".into(),
        load.connections.to_string(),
        "--worker-threads".into(),
        load.threads.max(1).to_string(),
        "-m".into(),
        "POST".into(),
        "-D".into(),
        load.body.to_string_lossy().into_owned(),
    ];
    if let Some(rate) = load.rate {
        args.extend(["-q".into(), rate.to_string(), "--latency-correction".into()]);
    }
    for (name, value) in &load.headers {
        args.extend(["-H".into(), format!("{name}: {value}")]);
    }
    args.push(load.url.clone());
    args
}

/// Runs oha once and reads its JSON summary.
pub fn measure(oha: &Path, load: &Load, expected_status: u16) -> Result<Measurement> {
    let mut command = Command::new(oha);
    command
        .args(arguments(load))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = Supervised::spawn("oha", &mut command, Signal::SIGKILL)?;
    let stdout = child.take_stdout();
    // Read on a thread so a hung oha is noticed by the deadline below, not by a blocked read.
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut out) = stdout {
            let _ = out.read_to_end(&mut text);
        }
        text
    });
    let Some(status) = child.wait_timeout(load.duration + OVERRUN) else {
        drop(child);
        return Err(Error::Tool {
            what: "oha".to_owned(),
            detail: format!(
                "still running {OVERRUN:?} after its {:?} run; killed",
                load.duration
            ),
        });
    };
    let output = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::Tool {
            what: "oha".to_owned(),
            detail: format!("exited with {status}"),
        });
    }
    parse(&output, expected_status, load.rate)
}

#[derive(Deserialize)]
struct Report {
    summary: Summary,
    #[serde(rename = "latencyPercentiles", default)]
    latency: BTreeMap<String, Option<f64>>,
    #[serde(rename = "latencyPercentilesSuccessful", default)]
    latency_successful: Option<BTreeMap<String, Option<f64>>>,
    #[serde(rename = "statusCodeDistribution", default)]
    statuses: BTreeMap<String, u64>,
    #[serde(rename = "errorDistribution", default)]
    errors: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct Summary {
    /// Seconds the run took.
    total: f64,
}

/// Reads oha's `--output-format json` (latencies in seconds) into a [`Measurement`].
pub fn parse(json: &[u8], expected_status: u16, offered: Option<u32>) -> Result<Measurement> {
    let report: Report = serde_json::from_slice(json).map_err(|source| Error::Json {
        what: "oha's JSON summary",
        source,
    })?;
    let expected_key = expected_status.to_string();
    let expected = report.statuses.get(&expected_key).copied().unwrap_or(0);
    let other_statuses: u64 = report
        .statuses
        .iter()
        .filter(|(k, _)| **k != expected_key)
        .map(|(_, v)| v)
        .sum();
    let unexpected = other_statuses + report.errors.values().sum::<u64>();
    // With only expected answers, "successful" and "all" are the same population; when some
    // failed, the successful percentiles describe the answers that did the job.
    let latency = report
        .latency_successful
        .as_ref()
        .unwrap_or(&report.latency);
    let ms = |key: &str| {
        latency
            .get(key)
            .copied()
            .flatten()
            .filter(|v| v.is_finite())
            .map(|s| s * 1000.0)
    };
    let seconds = report.summary.total;
    Ok(Measurement {
        offered_rps: offered,
        rps: if seconds > 0.0 {
            expected as f64 / seconds
        } else {
            0.0
        },
        p50_ms: ms("p50"),
        p99_ms: ms("p99"),
        p999_ms: ms("p99.9"),
        expected,
        unexpected,
        seconds,
        statuses: report.statuses,
        errors: report.errors,
    })
}

/// `oha --version`, for the results.
pub fn version(oha: &Path) -> String {
    crate::tools::first_line_of(Command::new(oha).arg("--version"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "summary": {"successRate": 1.0, "total": 2.0, "slowest": 0.01, "fastest": 0.0001,
                  "average": 0.001, "requestsPerSec": 10500.0, "totalData": 1, "sizePerRequest": 11, "sizePerSec": 1.0},
      "latencyPercentiles": {"p10": 0.0002, "p50": 0.0005, "p99": 0.002, "p99.9": 0.004, "p99.99": null},
      "latencyPercentilesSuccessful": {"p50": 0.0004, "p99": 0.0015, "p99.9": 0.003},
      "statusCodeDistribution": {"200": 20000, "429": 900},
      "errorDistribution": {"aborted due to deadline": 100}
    }"#;

    #[test]
    fn counts_only_the_expected_status_as_throughput() {
        let m = parse(SAMPLE.as_bytes(), 200, Some(10_000)).unwrap();
        assert_eq!(m.expected, 20_000);
        assert_eq!(m.unexpected, 1_000);
        assert!((m.rps - 10_000.0).abs() < 1e-9);
        assert_eq!(m.offered_rps, Some(10_000));
        assert!((m.unexpected_share() - 1_000.0 / 21_000.0).abs() < 1e-12);
    }

    #[test]
    fn reports_successful_latencies_in_milliseconds() {
        let m = parse(SAMPLE.as_bytes(), 200, None).unwrap();
        assert!((m.p50_ms.unwrap() - 0.4).abs() < 1e-9);
        assert!((m.p99_ms.unwrap() - 1.5).abs() < 1e-9);
        assert!((m.p999_ms.unwrap() - 3.0).abs() < 1e-9);
        let without: String = SAMPLE.replace("latencyPercentilesSuccessful", "ignored");
        let m = parse(without.as_bytes(), 200, None).unwrap();
        assert!((m.p99_ms.unwrap() - 2.0).abs() < 1e-9);
        assert!(parse(b"not json", 200, None).is_err());
    }

    #[test]
    fn open_loop_runs_add_rate_and_latency_correction() {
        let mut load = Load {
            url: "http://127.0.0.1:1/x".into(),
            headers: vec![("x-retell-signature".into(), "v=1,d=ab".into())],
            body: PathBuf::from("body.json"),
            connections: 32,
            threads: 1,
            duration: Duration::from_millis(1500),
            rate: None,
        };
        let closed = arguments(&load);
        assert!(closed.windows(2).any(|w| w == ["-z", "1500ms"]));
        assert!(closed.windows(2).any(|w| w == ["-c", "32"]));
        assert!(
            closed
                .windows(2)
                .any(|w| w == ["-H", "x-retell-signature: v=1,d=ab"])
        );
        assert!(!closed.contains(&"-q".to_owned()));
        assert_eq!(
            closed.last().map(String::as_str),
            Some("http://127.0.0.1:1/x")
        );
        load.rate = Some(5000);
        let open = arguments(&load);
        assert!(
            open.windows(3)
                .any(|w| w == ["-q", "5000", "--latency-correction"])
        );
    }
}
