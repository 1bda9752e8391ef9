//! Finding the external programs the load run drives (nginx, oha) and reading their versions.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Directories searched after `PATH`: Debian installs nginx under sbin, which a non-root `PATH`
/// often lacks, and `cargo install` puts oha under `~/.cargo/bin`.
fn extra_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/sbin"),
        PathBuf::from("/usr/local/sbin"),
        PathBuf::from("/sbin"),
    ];
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(Path::new(&home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs
}

/// The program `name` if it is a path that exists, else the first match in `PATH` and the
/// usual install directories.
pub fn locate(name: &str) -> Option<PathBuf> {
    let given = Path::new(name);
    if given.components().count() > 1 {
        return given.is_file().then(|| given.to_owned());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dirs())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The first non-empty line a command prints (stdout, else stderr), for the results.
pub fn first_line_of(command: &mut Command) -> String {
    match command.output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("unknown")
                .trim()
                .to_owned()
        }
        Err(e) => format!("unknown ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_the_path_and_refuses_missing_ones() {
        let sh = locate("sh").expect("a shell is on PATH");
        assert!(sh.is_absolute());
        assert_eq!(locate(&sh.to_string_lossy()), Some(sh));
        assert_eq!(locate("surely-not-an-installed-program-4711"), None);
        assert_eq!(locate("/nonexistent/dir/nginx"), None);
    }

    #[test]
    fn reports_the_first_line_printed() {
        assert_eq!(
            first_line_of(Command::new("sh").args(["-c", "echo; echo tool 1.2; echo more"])),
            "tool 1.2"
        );
        assert_eq!(
            first_line_of(Command::new("sh").args(["-c", "echo on-stderr >&2"])),
            "on-stderr"
        );
    }
}
