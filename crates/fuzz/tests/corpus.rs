//! Every target on its whole seed corpus, and on every input that fuzzing
//! ever found failing, through the same functions the fuzzers run: what
//! fuzzing checked stays checked by `cargo test`. Each failing input also
//! has a test in the crate whose bug it found, next to the fix.

#[test]
fn every_target_passes_its_seed_corpus() {
    for target in spread_fuzz::TARGETS {
        let seeds = spread_fuzz::seeds::seeds(target.name);
        for seed in &seeds {
            (target.run)(seed);
        }
    }
}

#[test]
fn every_target_passes_empty_and_tiny_inputs() {
    for target in spread_fuzz::TARGETS {
        for input in [
            &b""[..],
            b"\x00",
            b"\x01",
            b"\xff",
            b"\x00\x80",
            b"\x01\x84",
        ] {
            (target.run)(input);
        }
    }
}

/// Every dialect gets seeds (first byte 0 for pb, 1 for none, 4 for
/// msgpack), so that fuzzing starts from real traffic in each.
#[test]
fn every_target_has_seeds_in_every_dialect() {
    for target in spread_fuzz::TARGETS {
        let seeds = spread_fuzz::seeds::seeds(target.name);
        for byte in [0u8, 1, 4] {
            let n = seeds.iter().filter(|s| s.first() == Some(&byte)).count();
            assert!(n > 0, "{}: no seed starts with {byte}", target.name);
        }
    }
}
