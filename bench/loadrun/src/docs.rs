//! Writes the load-run section into `docs/benchmarks.md`, between two markers, leaving the rest
//! of the page (prose, micro-benchmark figures) as it is.

use std::path::Path;

use crate::error::{Error, Result};

pub const BEGIN: &str =
    "<!-- loadrun:begin (written by bench/run.sh; edits inside are overwritten) -->";
pub const END: &str = "<!-- loadrun:end -->";

/// `page` with the text between the markers replaced by `section` (markers appended when absent).
pub fn splice(page: &str, section: &str) -> String {
    let body = format!("{BEGIN}\n{}\n{END}", section.trim_end());
    match (page.find(BEGIN), page.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{body}{}", &page[..b], &page[e + END.len()..]),
        _ => {
            let mut out = page.trim_end().to_owned();
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&body);
            out.push('\n');
            out
        }
    }
}

/// Rewrites the section in the file at `path` (created when missing).
pub fn update(path: &Path, section: &str) -> Result<()> {
    let page = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::file("read", path)(e)),
    };
    std::fs::write(path, splice(&page, section)).map_err(Error::file("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_marked_section() {
        let page =
            format!("# Benchmarks\n\nintro\n\n{BEGIN}\nold table\n{END}\n\n## Micro\nkept\n");
        let out = splice(&page, "new table\n");
        assert!(out.starts_with("# Benchmarks\n\nintro\n\n"));
        assert!(out.contains(&format!("{BEGIN}\nnew table\n{END}")));
        assert!(!out.contains("old table"));
        assert!(out.ends_with("## Micro\nkept\n"));
        // Idempotent in shape: splicing again keeps one section.
        assert_eq!(splice(&out, "x").matches(BEGIN).count(), 1);
    }

    #[test]
    fn appends_when_the_markers_are_missing() {
        assert_eq!(splice("", "t"), format!("{BEGIN}\nt\n{END}\n"));
        assert_eq!(splice("# B\n", "t"), format!("# B\n\n{BEGIN}\nt\n{END}\n"));
    }
}
