use clap::Parser;

fn main() -> std::process::ExitCode {
    frontdesk::cli::main(frontdesk::cli::Cli::parse())
}
