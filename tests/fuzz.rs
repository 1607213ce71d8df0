//! The fuzz targets on the stable toolchain, bounded in time (issue 12): each target's parser
//! gets mutations of its committed corpus (`fuzz/corpus/<target>/`) for `MVE_AUDIT_FUZZ_SECONDS`
//! (default 8) or 2,000,000 inputs, whichever ends first. A panic fails the test and leaves
//! the input in `target/fuzz-crashes/`. `cargo fuzz` (nightly, `fuzz/`) drives the same
//! targets with coverage guidance for longer runs.
//!
//! The mutator is a few lines of xorshift and byte edits rather than a crate: the stable
//! fuzzing crates (bolero, afl) need their own toolchain pieces, and what this run is for is
//! a bounded smoke over hostile shapes (truncations, flipped length bytes, splices) in CI.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mve_audit::fuzzing::{TARGETS, target};

const MAX_INPUTS: u64 = 2_000_000;
/// The longest input tried: the parsers cap what they read; bigger inputs only cost time.
const MAX_LEN: usize = 64 * 1024;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `input`, sometimes spliced with `other`.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8]) {
    const INTERESTING: [u8; 8] = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff];
    match rng.below(8) {
        0 if !input.is_empty() => {
            let at = rng.below(input.len());
            input[at] ^= 1 << rng.below(8);
        }
        1 if !input.is_empty() => {
            let at = rng.below(input.len());
            input[at] = INTERESTING[rng.below(INTERESTING.len())];
        }
        2 => {
            let at = rng.below(input.len() + 1);
            input.insert(at, rng.next() as u8);
        }
        3 if !input.is_empty() => {
            let at = rng.below(input.len());
            input.remove(at);
        }
        4 => input.truncate(rng.below(input.len() + 1)),
        5 if !other.is_empty() => {
            let cut = rng.below(input.len() + 1);
            let from = rng.below(other.len());
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
        6 if input.len() >= 2 => {
            // A length field claiming much more (or less) than is there.
            let at = rng.below(input.len() - 1);
            input[at] = 0x84;
            input[at + 1] = 0xff;
        }
        _ => {
            let n = rng.below(16) + 1;
            for _ in 0..n {
                input.push(rng.next() as u8);
            }
        }
    }
    input.truncate(MAX_LEN);
}

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{name}: empty corpus");
    seeds.push(Vec::new());
    seeds
}

fn fuzz(name: &str) {
    let parse = target(name).unwrap();
    let seconds: u64 = std::env::var("MVE_AUDIT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let seeds = corpus(name);
    let start = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) ^ std::process::id() as u64;
    let mut rng = Rng(start | 1);
    let mut tried = 0u64;
    while tried < MAX_INPUTS && Instant::now() < deadline {
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let mut input = seed.clone();
        for _ in 0..=rng.below(4) {
            mutate(&mut rng, &mut input, other);
        }
        if catch_unwind(AssertUnwindSafe(|| parse(&input))).is_err() {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("{name}-{tried}.bin"));
            let _ = std::fs::write(&path, &input);
            panic!(
                "{name} panicked on input {} (saved in {})",
                hex(&input),
                path.display()
            );
        }
        tried += 1;
    }
    eprintln!("{name}: {tried} inputs in {seconds} s at most, no panic (seed {start:#x})");
    assert!(tried > 1000, "{name}: only {tried} inputs ran");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(256).map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_target_has_a_corpus_and_a_test() {
    let tested = include_str!("fuzz.rs");
    for (name, _) in TARGETS {
        assert!(!corpus(name).is_empty());
        assert!(
            tested.contains(&format!("    fuzz_{name},")),
            "no test for {name}"
        );
        let cargo_fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        assert!(cargo_fuzz.exists(), "no cargo-fuzz target for {name}");
    }
}

macro_rules! fuzz_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            #[allow(non_snake_case)]
            fn $name() {
                fuzz(&stringify!($name)["fuzz_".len()..]);
            }
        )*
    };
}

fuzz_tests!(
    fuzz_ber_frame,
    fuzz_ca_served,
    fuzz_crl_judged,
    fuzz_dns_answer,
    fuzz_firebird_answer,
    fuzz_http_head,
    fuzz_http_response,
    fuzz_kerberos_reply,
    fuzz_ldap_root_dse,
    fuzz_listener_tag,
    fuzz_snmp_discovery,
    fuzz_snmp_get_response,
    fuzz_sql_browser_response,
    fuzz_soap_answer,
    fuzz_tds_prelogin,
    fuzz_text_reply,
    fuzz_x509_certificate,
    fuzz_xmlnt_reply,
);
