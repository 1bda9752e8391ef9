//! Command-line options and the durations they imply (full run or `--quick` smoke test).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "loadrun",
    about = "End-to-end load run: frontdesk against nginx and the bare upstream, on 127.0.0.1 only"
)]
pub struct Options {
    /// Repository root (policies/, tests/fixtures/, bench/, docs/ are found under it).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// frontdesk release binary [default: REPO/target/release/frontdesk].
    #[arg(long)]
    pub frontdesk: Option<PathBuf>,
    /// nginx binary (name looked up on PATH and sbin directories, or a path).
    #[arg(long, default_value = "nginx")]
    pub nginx: String,
    /// oha binary (name looked up on PATH and ~/.cargo/bin, or a path).
    #[arg(long, default_value = "oha")]
    pub oha: String,
    /// frontdesk worker threads, and nginx worker processes.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Concurrent connections of the load generator, the same for every system.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Worker threads of the load generator.
    #[arg(long, default_value_t = 1)]
    pub oha_threads: usize,
    /// Worker threads of the static upstream.
    #[arg(long, default_value_t = 1)]
    pub upstream_threads: usize,
    /// Smoke test: one repetition, short runs, results under bench/results/quick/, docs untouched.
    #[arg(long)]
    pub quick: bool,
    /// Repetitions of every measurement [default: 3, quick: 1].
    #[arg(long)]
    pub repetitions: Option<usize>,
    /// Seconds of each closed-loop (peak) run [default: 5, quick: 1.5].
    #[arg(long)]
    pub peak_seconds: Option<f64>,
    /// Seconds of each open-loop (latency) run [default: 4, quick: 1].
    #[arg(long)]
    pub latency_seconds: Option<f64>,
    /// Only these scenarios (comma-separated numbers 1-4) [default: all].
    #[arg(long, value_delimiter = ',')]
    pub scenarios: Vec<u8>,
    /// Redis for scenario 4.
    #[arg(long, env = "REDIS_URL", default_value = DEFAULT_REDIS_URL)]
    pub redis_url: String,
    /// Results directory [default: REPO/bench/results, quick: REPO/bench/results/quick].
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// A second frontdesk binary, run as the system `baseline` beside frontdesk in each of its
    /// scenarios, interleaved like the others (the build before a change) [default: the
    /// frontdesk binary itself, when only --baseline-server is given].
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// YAML file of extra `server:` keys for the baseline's config (e.g. wire bounds set out of
    /// reach), one `key: value` per line.
    #[arg(long)]
    pub baseline_server: Option<PathBuf>,
    /// YAML file of extra `server:` keys for frontdesk's own config.
    #[arg(long)]
    pub frontdesk_server: Option<PathBuf>,
    /// What the baseline is, in the tables.
    #[arg(long, default_value = "baseline")]
    pub baseline_label: String,
    /// Closed-loop peaks only: no open-loop latency points.
    #[arg(long)]
    pub no_latency: bool,
    /// Page whose load-run section is rewritten [default: REPO/docs/benchmarks.md; not in quick mode].
    #[arg(long)]
    pub docs: Option<PathBuf>,
}

/// Durations and counts of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub repetitions: usize,
    pub peak: Duration,
    pub latency: Duration,
    /// Discarded closed-loop run per system before measuring (pools, caches, page faults).
    pub warmup: Duration,
}

impl Options {
    pub fn plan(&self) -> Plan {
        let (reps, peak, latency, warmup) = if self.quick {
            (1, 1.5, 1.0, 0.5)
        } else {
            (3, 5.0, 4.0, 1.0)
        };
        let secs = |v: Option<f64>, d: f64| {
            Duration::from_secs_f64(v.filter(|v| v.is_finite() && *v > 0.0).unwrap_or(d))
        };
        Plan {
            repetitions: self.repetitions.unwrap_or(reps).max(1),
            peak: secs(self.peak_seconds, peak),
            latency: secs(self.latency_seconds, latency),
            warmup: Duration::from_secs_f64(warmup),
        }
    }

    pub fn frontdesk_binary(&self) -> PathBuf {
        self.frontdesk
            .clone()
            .unwrap_or_else(|| self.repo.join("target/release/frontdesk"))
    }

    /// The baseline's binary, when a baseline is asked for.
    pub fn baseline_binary(&self) -> Option<PathBuf> {
        self.baseline.clone().or_else(|| {
            self.baseline_server
                .as_ref()
                .map(|_| self.frontdesk_binary())
        })
    }

    pub fn results_dir(&self) -> PathBuf {
        self.results.clone().unwrap_or_else(|| {
            let dir = self.repo.join("bench/results");
            if self.quick { dir.join("quick") } else { dir }
        })
    }

    /// The docs page to rewrite, if any: quick runs only write it when asked to.
    pub fn docs_page(&self) -> Option<PathBuf> {
        match (&self.docs, self.quick) {
            (Some(path), _) => Some(path.clone()),
            (None, false) => Some(self.repo.join("docs/benchmarks.md")),
            (None, true) => None,
        }
    }

    pub fn wants(&self, scenario: u8) -> bool {
        self.scenarios.is_empty() || self.scenarios.contains(&scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_is_short_and_leaves_the_docs_alone() {
        let quick = Options::parse_from(["loadrun", "--quick"]);
        let plan = quick.plan();
        assert_eq!(plan.repetitions, 1);
        assert!(plan.peak < Duration::from_secs(2));
        assert_eq!(quick.docs_page(), None);
        assert!(quick.results_dir().ends_with("bench/results/quick"));

        let full = Options::parse_from(["loadrun", "--repo", "/r", "--scenarios", "1,3"]);
        assert_eq!(full.plan().repetitions, 3);
        assert_eq!(
            full.docs_page(),
            Some(PathBuf::from("/r/docs/benchmarks.md"))
        );
        assert!(full.wants(3) && !full.wants(2));
        assert_eq!(full.baseline_binary(), None);
        let same_build =
            Options::parse_from(["loadrun", "--repo", "/r", "--baseline-server", "b.yaml"]);
        assert_eq!(
            same_build.baseline_binary(),
            Some(PathBuf::from("/r/target/release/frontdesk"))
        );
        let other = Options::parse_from(["loadrun", "--baseline", "/old/frontdesk"]);
        assert_eq!(
            other.baseline_binary(),
            Some(PathBuf::from("/old/frontdesk"))
        );
        assert_eq!(
            full.frontdesk_binary(),
            PathBuf::from("/r/target/release/frontdesk")
        );
    }
}
