//! Writes the seed corpus of every fuzz target into `DIR/<target>/`, one
//! file per seed: `cargo xtask fuzz` runs this before libFuzzer reads them.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: seeds DIR");
        return ExitCode::FAILURE;
    };
    for target in spread_fuzz::TARGETS {
        let out = dir.join(target.name);
        let written = std::fs::create_dir_all(&out).and_then(|()| {
            let seeds = spread_fuzz::seeds::seeds(target.name);
            for (i, seed) in seeds.iter().enumerate() {
                std::fs::write(out.join(format!("seed-{i:03}")), seed)?;
            }
            Ok(seeds.len())
        });
        match written {
            Ok(n) => eprintln!("seeds: {n} for {} in {}", target.name, out.display()),
            Err(e) => {
                eprintln!("seeds: writing {}: {e}", out.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
