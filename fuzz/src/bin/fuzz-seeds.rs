//! Writes each target's seeds into its corpus folder (`fuzz-seeds [DIR] [TARGET...]`, DIR
//! defaulting to `fuzz/corpus`), as `seed-<hash>` files; seeds already there are left alone.
//! `cargo xtask fuzz` runs it before fuzzing.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map_or_else(switchyard_fuzz::corpus_dir, PathBuf::from);
    let names: Vec<String> = args.collect();
    let mut written = 0;
    for target in switchyard_fuzz::TARGETS {
        if !names.is_empty() && !names.iter().any(|n| n == target.name) {
            continue;
        }
        let folder = dir.join(target.name);
        if let Err(e) = std::fs::create_dir_all(&folder) {
            eprintln!("fuzz-seeds: creating {}: {e}", folder.display());
            return ExitCode::FAILURE;
        }
        for seed in switchyard_fuzz::seeds(target.name) {
            let path = folder.join(switchyard_fuzz::corpus_file_name("seed", &seed));
            if path.exists() {
                continue;
            }
            if let Err(e) = std::fs::write(&path, &seed) {
                eprintln!("fuzz-seeds: writing {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            written += 1;
        }
    }
    println!("fuzz-seeds: {written} new seed files in {}", dir.display());
    ExitCode::SUCCESS
}
