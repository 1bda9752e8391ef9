//! Every fuzz target over its committed seed corpus (`fuzz/corpus/<target>/`), then over a
//! fixed number of inputs mutated from those seeds with a fixed-seed generator: the short fuzz
//! pass `make test` runs. Any panic is a finding; the libFuzzer runs are `make fuzz`.

use std::path::Path;

/// Mutated inputs per target, beyond the seeds.
const MUTATIONS: usize = 3000;

/// xorshift64*: small, fixed-seed, the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that change how the parsers read: structure, separators, escapes, odd Unicode.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\",
    b"\\u0000",
    b"\r\n",
    b"\n",
    b"\0",
    b" ",
    b"-",
    b"{body.",
    b"|",
    b"*",
    b"/",
    b"%",
    b"1e999",
    b"-0",
    b"null",
    b"true",
    b"\xc3\xa4",
    b"\xf0\x9f\x98\x80",
    b"\xff",
    b"&",
    b"<b>",
    b"~",
    b"!",
    b"'",
    b"0",
    b"99999999999999999999",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(5) {
            0 if !data.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            1 if at < data.len() => data[at] ^= 1 << rng.below(8),
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            3 => {
                // A piece of another seed: crosses fields between payloads.
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(64)).min(other.len());
                data.splice(at..at, other[from..to].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

#[test]
fn every_target_survives_its_corpus_and_mutations_of_it() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, run) in frontdesk_fuzz_harness::TARGETS {
        let dir = corpus.join(name);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        let seeds: Vec<Vec<u8>> = entries.iter().map(|p| std::fs::read(p).unwrap()).collect();
        assert!(!seeds.is_empty(), "{name}: no seeds in {}", dir.display());
        for (path, seed) in entries.iter().zip(&seeds) {
            let result = std::panic::catch_unwind(|| run(seed));
            assert!(result.is_ok(), "{name}: seed {} crashes", path.display());
        }
        let mut rng = Rng(0x5EED_F00D ^ name.len() as u64);
        for i in 0..MUTATIONS {
            let input = mutate(&mut rng, &seeds);
            let result = std::panic::catch_unwind(|| run(&input));
            assert!(
                result.is_ok(),
                "{name}: mutation {i} crashes: {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect()
}

/// A target whose seeds stop early fuzzes nothing: the Retell seeds get through the tenant
/// pick and the validation stage to every argument reader, accepted and refused.
#[test]
fn retell_seeds_reach_every_argument_reader() {
    use frontdesk_booking::Function::*;
    let reached: Vec<_> = seeds("retell_booking")
        .iter()
        .filter_map(|s| frontdesk_fuzz_harness::reach::retell_booking(s))
        .collect();
    for function in [
        CheckAvailability,
        BookAppointment,
        CancelAppointment,
        RescheduleAppointment,
    ] {
        assert!(reached.contains(&Ok(function)), "{function:?}: {reached:?}");
    }
    assert!(reached.iter().any(Result::is_err), "{reached:?}");
}

/// The request-head seeds reach a route with parameters, a refusal and no route.
#[test]
fn head_seeds_reach_routes_and_refusals() {
    use frontdesk::gateway::proxy::HeadRoute;
    let reached: Vec<_> = seeds("request_head")
        .iter()
        .filter_map(|s| frontdesk_fuzz_harness::reach::request_head(s))
        .collect();
    assert!(
        reached
            .iter()
            .any(|r| matches!(r, HeadRoute::Route { params, .. } if !params.is_empty())),
        "{reached:?}"
    );
    assert!(reached.contains(&HeadRoute::Refused(400)), "{reached:?}");
    assert!(reached.contains(&HeadRoute::NoRoute), "{reached:?}");
}
