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
