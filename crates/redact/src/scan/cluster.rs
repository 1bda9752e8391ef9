//! Reading one digit cluster: the digit groups after a first digit, joined by phone-style
//! separators, with what surrounds them (a leading `+` or `(`, an `x123` extension). The
//! detectors judge clusters; this module only reads them.

use super::{boundary_after, boundary_before};

/// Groups per cluster; longer digit tables are cut into several clusters so that the
/// candidate search (quadratic in groups) stays bounded.
pub(super) const MAX_GROUPS: usize = 16;
/// Longest separator between two groups (`) / `-like combinations are rare beyond this).
const MAX_GAP: usize = 3;

/// A run of ASCII digits.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Group {
    pub(super) start: usize,
    pub(super) end: usize,
}

impl Group {
    pub(super) fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Digit groups plus what surrounds them.
#[derive(Debug)]
pub(super) struct Cluster<'t> {
    pub(super) text: &'t [u8],
    /// The groups, in order; only the first `group_count` are set (a fixed array, so reading a
    /// cluster never allocates).
    group_slots: [Group; MAX_GROUPS],
    group_count: usize,
    /// Position of a leading `+` or `(` before the first group.
    pub(super) lead: Option<usize>,
    /// `x123` extension after the last group: its end.
    pub(super) ext_end: Option<usize>,
    /// The last group runs into a word (`30min`): no candidate may end with it.
    pub(super) tainted_end: bool,
    /// End of the cluster (resume scanning here).
    pub(super) end: usize,
}

impl Cluster<'_> {
    pub(super) fn groups(&self) -> &[Group] {
        &self.group_slots[..self.group_count]
    }

    /// Separator bytes between group `g` and `g + 1`.
    pub(super) fn gap(&self, g: usize) -> &[u8] {
        &self.text[self.groups()[g].end..self.groups()[g + 1].start]
    }

    pub(super) fn digits(&self, range: std::ops::Range<usize>) -> usize {
        self.groups()[range].iter().map(Group::len).sum()
    }

    /// Copies the digits of `range` into `buf`, returning the filled prefix.
    pub(super) fn collect<'b>(
        &self,
        range: std::ops::Range<usize>,
        buf: &'b mut [u8; 32],
    ) -> &'b [u8] {
        let mut n = 0;
        for g in &self.groups()[range] {
            for &b in &self.text[g.start..g.end] {
                if n < buf.len() {
                    buf[n] = b;
                    n += 1;
                }
            }
        }
        &buf[..n]
    }
}

pub(super) fn is_gap_byte(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')')
}

pub(super) fn digit_run_end(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && text[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// Reads the cluster whose first digit is at `first`.
pub(super) fn parse_cluster(text: &[u8], first: usize) -> Cluster<'_> {
    let lead = first
        .checked_sub(1)
        .filter(|&p| matches!(text[p], b'+' | b'('))
        .filter(|&p| boundary_before(text, p));
    let mut group_slots = [Group::default(); MAX_GROUPS];
    let mut group_count = 0;
    let mut i = first;
    let mut ext_end = None;
    loop {
        let end = digit_run_end(text, i);
        group_slots[group_count] = Group { start: i, end };
        group_count += 1;
        i = end;
        if group_count == MAX_GROUPS {
            break;
        }
        // `345-899-3560x4587`: an extension ends the cluster.
        if text.get(i) == Some(&b'x') && text.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let ext = digit_run_end(text, i + 1);
            ext_end = Some(ext);
            i = ext;
            break;
        }
        let mut j = i;
        while j < text.len() && j - i < MAX_GAP && is_gap_byte(text[j]) {
            j += 1;
        }
        if j == i || !text.get(j).is_some_and(u8::is_ascii_digit) || !plausible_gap(&text[i..j]) {
            break;
        }
        i = j;
    }
    // A closing parenthesis right after the last group belongs to it (`(030)`).
    let tainted_end = !boundary_after(text, i);
    Cluster {
        text,
        group_slots,
        group_count,
        lead,
        ext_end,
        tainted_end,
        end: i,
    }
}

/// Separators seen between phone groups: one of space, `-`, `.`, `/`, optionally padded with
/// spaces, or parentheses around a trunk/area code. `. ` (a sentence end) is not one.
fn plausible_gap(gap: &[u8]) -> bool {
    matches!(
        gap,
        [_] | [b' ', b'/' | b'-' | b'(', b' ']
            | [b' ', b'(' | b'/' | b'-']
            | [b')' | b'/' | b'-', b' ']
            | [b')', b'-' | b'(']
    )
}
