//! Telephone numbers in a digit cluster. International numbers (`+…`, `00…`) and unseparated
//! national numbers — the forms that collide with ids and timestamps — must be confirmed by
//! libphonenumber's metadata (see `numbering`); separated national forms
//! (`030 1234567`, `(030) 123-456`, `555-123-4567`) are accepted by shape, because the grouping
//! itself is the evidence and fictional or foreign ranges must not leak just because they are
//! not in the metadata.

use super::cluster::Cluster;
use super::numbering::{self, Region};

/// Regions tried, in order, for numbers written with a national trunk prefix `0`.
const TRUNK_REGIONS: [Region; 3] = [Region::De, Region::At, Region::Ch];

/// Whether groups `a..b` of `cluster` (with their `digits`) form a phone number.
pub(super) fn is_phone(cluster: &Cluster<'_>, a: usize, b: usize, digits: &[u8]) -> bool {
    let n = digits.len();
    if !(7..=17).contains(&n) || !separators_plausible(cluster, a, b) {
        return false;
    }
    let plus = a == 0 && cluster.lead.is_some_and(|p| cluster.text[p] == b'+');
    if plus || digits.starts_with(b"00") {
        return international(cluster, a, b, plus);
    }
    let separated = b - a > 1;
    if digits[0] == b'0' {
        // The shape is checked first: it is cheap, and either is enough.
        return (separated && (9..=13).contains(&n) && groups_shaped(cluster, a, b, true))
            || confirmed_national(digits);
    }
    if !separated {
        // Ten unseparated digits: only a valid North American number, never an epoch second or
        // an id.
        return n == 10 && numbering::is_valid_in(Region::Nanp, digits);
    }
    n <= 12 && (nanp_shaped(cluster, a, b) || groups_shaped(cluster, a, b, false))
}

/// Dots only as the sole separator with three or more groups (`03.93.92.16.85`), and never as
/// thousands grouping (`1.234.567`).
fn separators_plausible(cluster: &Cluster<'_>, a: usize, b: usize) -> bool {
    let gaps = a..b - 1;
    if !gaps.clone().any(|g| cluster.gap(g).contains(&b'.')) {
        return true;
    }
    if b - a < 3 || !gaps.clone().all(|g| cluster.gap(g) == b".") {
        return false;
    }
    let thousands = (1..=3).contains(&cluster.groups()[a].len())
        && cluster.groups()[a + 1..b].iter().all(|g| g.len() == 3);
    !thousands
}

/// Groups of two or more digits, at most one longer than four (`99 668472`, `0341 8387176`).
/// `(0)` — the trunk in `+49 (0)171` — is exempt.
fn groups_shaped(cluster: &Cluster<'_>, a: usize, b: usize, trunk: bool) -> bool {
    let groups = &cluster.groups()[a..b];
    if groups.iter().any(|g| g.len() < 2) {
        return false;
    }
    let long = groups.iter().filter(|g| g.len() > 4).count();
    long == 0 || (long == 1 && (trunk || groups.iter().all(|g| g.len() <= 6)))
}

/// `555-123-4567`, `(555) 123-4567`, `555.123.4567`, `1-800-555-0199`.
fn nanp_shaped(cluster: &Cluster<'_>, a: usize, b: usize) -> bool {
    let groups = &cluster.groups()[a..b];
    let lens_are = |lens: &[usize]| {
        groups.len() == lens.len() && groups.iter().zip(lens).all(|(g, &l)| g.len() == l)
    };
    lens_are(&[3, 3, 4]) || lens_are(&[1, 3, 3, 4])
}

/// `+49 (0)30 1234567`, `0049 30 1234567`: the digits after `+`/`00`, less a `(0)` trunk, must
/// start with an assigned country code and leave a plausible number.
fn international(cluster: &Cluster<'_>, a: usize, b: usize, plus: bool) -> bool {
    let mut e164 = [0u8; 32];
    let mut len = 0;
    let mut skip = if plus { 0 } else { 2 };
    for g in a..b {
        let grp = cluster.groups()[g];
        // `(0)` after the country code is a trunk prefix that international dialling drops.
        let trunk = g > a
            && &cluster.text[grp.start..grp.end] == b"0"
            && cluster.text[grp.start - 1] == b'('
            && cluster.text.get(grp.end) == Some(&b')');
        if trunk {
            continue;
        }
        for &d in &cluster.text[grp.start..grp.end] {
            if skip > 0 {
                skip -= 1;
            } else if len < e164.len() {
                e164[len] = d;
                len += 1;
            }
        }
    }
    (8..=15).contains(&len) && numbering::has_country_code(&e164[..len])
}

/// A national number starting with the trunk `0`, valid in Germany, Austria or Switzerland.
fn confirmed_national(digits: &[u8]) -> bool {
    TRUNK_REGIONS
        .iter()
        .any(|&region| numbering::is_valid_in(region, &digits[1..]))
}

#[cfg(test)]
mod tests {
    use crate::config::DetectorToggles;
    use crate::scan::{Finding, numeric};

    fn phones(s: &str) -> Vec<&str> {
        let mut out: Vec<Finding> = Vec::new();
        numeric::scan(s.as_bytes(), &DetectorToggles::default(), &mut out);
        out.iter()
            .filter(|f| f.kind == crate::Kind::Phone)
            .map(|f| &s[f.start..f.end])
            .collect()
    }

    #[test]
    fn german_forms() {
        for p in [
            "+49 30 12345678",
            "+4930123456789",
            "0049 30 12345678",
            "030 12345678",
            "(030) 12345678",
            "030/12345678",
            "030 / 1234567",
            "+49 (0)171 1234567",
            "089 12345-678",
            "0171-1234567",
            "01711234567",
            "+43 1 5880000",
            "+41 44 668 18 00",
        ] {
            assert_eq!(phones(&format!("Tel. {p}, danke")), [p], "{p}");
        }
    }

    #[test]
    fn international_forms() {
        for p in [
            "+1-984-182-0190",
            "(579)888-3058",
            "905-674-3793",
            "345-899-3560x4587",
            "03.93.92.16.85",
            "+447700 921 916",
        ] {
            assert_eq!(phones(&format!("call {p} now")), [p], "{p}");
        }
    }

    #[test]
    fn lookalikes_are_not_phones() {
        for s in [
            "1767355180000",
            "1767355180",
            "987654",
            "1.234.567,00",
            "12345 Berlin",
            "0.123456789",
            "v1.2.3",
            "2026-01-06",
            "06.01.2026",
            "2026 2027 2028",
        ] {
            assert!(phones(s).is_empty(), "{s}");
        }
    }
}
