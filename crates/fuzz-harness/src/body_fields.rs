//! Differential check of the partial body parser: for 1-3 paths picked by the first two bytes,
//! `BodyFields::parse` must accept exactly the bodies `serde_json::from_slice::<Value>` accepts,
//! and on those every picked path must read the same value as in the fully parsed body.

use std::sync::LazyLock;

use frontdesk::policy::body_fields::BodyFields;
use frontdesk::policy::template::{PathSegment, body_value, parse_body_path};
use serde_json::Value;

/// Few keys, so that mutated bodies actually reach the paths. 16 of them: see `pick`.
const PATHS: [&str; 16] = [
    "a",
    "b",
    "c",
    "call",
    "call_id",
    "call.call_id",
    "a.b",
    "a.b.c",
    "b.c",
    "c.a",
    "a[0]",
    "a[1].b",
    "b[0].c",
    "call[0].call_id",
    "[0]",
    "[1].a",
];

static PARSED: LazyLock<Vec<Vec<PathSegment>>> = LazyLock::new(|| {
    PATHS
        .iter()
        .map(|p| parse_body_path(p).expect("fixed path parses"))
        .collect()
});

/// Two selector bytes: how many paths (1-3) and which ones; the rest is the body.
fn pick(data: &[u8]) -> Option<(Vec<usize>, &[u8])> {
    let (selector, body) = data.split_first_chunk::<2>()?;
    let mut s = u16::from_le_bytes(*selector) as usize;
    let count = 1 + s % 3;
    s /= 3;
    let picked = (0..count)
        .map(|_| {
            let i = s % PATHS.len();
            s /= PATHS.len();
            i
        })
        .collect();
    Some((picked, body))
}

pub fn run(data: &[u8]) {
    let Some((picked, body)) = pick(data) else {
        return;
    };
    let mut fields = BodyFields::none();
    for &i in &picked {
        fields.add(&PARSED[i]);
    }
    let projected = fields.parse(body);
    let full = serde_json::from_slice::<Value>(body);
    let paths: Vec<&str> = picked.iter().map(|&i| PATHS[i]).collect();
    assert_eq!(
        projected.is_ok(),
        full.is_ok(),
        "paths {paths:?}: BodyFields::parse -> {:?}, from_slice::<Value> -> {:?}, body {:?}",
        projected.as_ref().err(),
        full.as_ref().err(),
        String::from_utf8_lossy(body),
    );
    let (Ok(projected), Ok(full)) = (projected, full) else {
        return;
    };
    for &i in &picked {
        assert_eq!(
            body_value(&projected, &PARSED[i]),
            body_value(&full, &PARSED[i]),
            "path {:?} reads differently, body {:?}",
            PATHS[i],
            String::from_utf8_lossy(body),
        );
    }
}
