//! `loadrun`: the end-to-end load run of `make bench`. frontdesk, nginx and a static upstream on
//! 127.0.0.1, one load generator (oha) for all, four scenarios; writes
//! `bench/results/<timestamp>.json`, one PNG per scenario and the section of `docs/benchmarks.md`.
//! Every process it starts stops with it, also on Ctrl-C or a panic.

mod children;
mod cli;
mod docs;
mod error;
mod frontdesk;
mod nginx;
mod oha;
mod payload;
mod plot;
mod probe;
mod redis;
mod report;
mod run;
mod scenario;
mod stats;
mod tools;
mod upstream;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::error::{Error, Result};
use crate::report::Results;

fn main() -> ExitCode {
    let mut opts = cli::Options::parse();
    // An exported but empty REDIS_URL means "not configured", not "no address".
    if opts.redis_url.trim().is_empty() {
        opts.redis_url = cli::DEFAULT_REDIS_URL.to_owned();
    }
    match children::install_interrupt_handler()
        .and_then(|()| run::run(&opts))
        .and_then(|r| write(&opts, &r))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadrun: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Results JSON, plots, and the docs section.
fn write(opts: &cli::Options, results: &Results) -> Result<()> {
    let dir = opts.results_dir();
    std::fs::create_dir_all(&dir).map_err(Error::file("create", &dir))?;
    let json_path = dir.join(format!("{}.json", results.started_at));
    let json = serde_json::to_vec_pretty(results).map_err(|source| Error::Json {
        what: "results",
        source,
    })?;
    std::fs::write(&json_path, json).map_err(Error::file("write", &json_path))?;
    eprintln!("loadrun: results in {}", json_path.display());

    let docs_page = opts.docs_page();
    let mut plots = Vec::new();
    // `--no-latency`: nothing to plot.
    let plotted = results.scenarios.iter().filter(|s| !s.latency.is_empty());
    for sc in plotted.filter(|s| s.skipped.is_none()) {
        let path = dir.join(format!("{}-s{}.png", results.started_at, sc.number));
        // A plot that cannot be drawn (e.g. no fonts) must not cost the measured numbers.
        match plot::latency(&path, sc) {
            Ok(()) => {
                eprintln!("loadrun: plot {}", path.display());
                let link = docs_page
                    .as_deref()
                    .map_or_else(|| path.clone(), |page| relative(page, &path));
                plots.push((sc.number, link.display().to_string()));
            }
            Err(e) => eprintln!("loadrun: warning: {e}"),
        }
    }
    let markdown = report::markdown(results, &plots);
    if let Some(page) = docs_page {
        docs::update(&page, &markdown)?;
        eprintln!("loadrun: tables in {}", page.display());
    }
    println!("{markdown}");
    Ok(())
}

/// `target` as a link from the directory of `page` (both under the repository).
fn relative(page: &Path, target: &Path) -> PathBuf {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let (from, to) = (abs(page.parent().unwrap_or(Path::new("."))), abs(target));
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in from.components().skip(common) {
        out.push("..");
    }
    for part in to.components().skip(common) {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_from_the_docs_page_to_the_plot() {
        assert_eq!(
            relative(
                Path::new("/r/docs/benchmarks.md"),
                Path::new("/r/bench/results/a-s1.png")
            ),
            PathBuf::from("../bench/results/a-s1.png")
        );
    }
}
