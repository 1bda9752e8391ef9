use clap::Parser;

// glibc's malloc was a large share of a forwarded request's CPU time (many small, short-lived
// header and buffer allocations freed on other threads); jemalloc forwards more requests per
// second with a lower peak RSS (figures in docs/benchmarks.md). Its thread cache is widened at
// build time (`.cargo/config.toml`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    frontdesk::cli::main(frontdesk::cli::Cli::parse())
}
