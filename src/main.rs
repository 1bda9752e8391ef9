use clap::Parser;

// glibc's malloc was about 15 % of the CPU time of a forwarded request (many small, short-lived
// header and buffer allocations freed on other threads); jemalloc: +8-10 % requests/s side by
// side, and a lower peak RSS (docs/benchmarks.md). Its thread cache is widened to 128 KiB at build
// time (`.cargo/config.toml`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    frontdesk::cli::main(frontdesk::cli::Cli::parse())
}
