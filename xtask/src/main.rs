//! Project automation for switchyard, run as `cargo xtask <command>`.
//!
//! - `codegen [--check]`: compile `proto/` with protox (pure Rust, no `protoc`) and write the
//!   prost code into `crates/proto/src/gen/`; with `--check`, regenerate into a temporary
//!   directory and fail if the committed code differs.
//! - `ci`: every check CI runs, in order, stopping at the first failure.
//! - `bench [ARGS]`: the standard benchmark suite in release mode.
//! - `crash [--runs N] [--seed S]`, `overload [--seconds N]`: the node's crash campaign and
//!   overload run against a real `switchyard serve`, in release mode (`campaign.rs`).
//! - `fuzz [--seconds N] [--target T]`: coverage-guided fuzzing of `fuzz/`'s targets with
//!   AFL++ (cargo-afl, on stable), keeping what it finds in `fuzz/corpus/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bench;
mod campaign;
mod ci;
mod codegen;
mod fuzz;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "codegen" => codegen::run(rest),
        "ci" => ci::run(rest),
        "bench" => bench::run(rest),
        "crash" | "overload" => campaign::run(command, rest),
        "fuzz" => fuzz::run(rest),
        "help" | "--help" | "-h" => {
            println!(
                "usage: cargo xtask <codegen [--check] | ci | bench [ARGS] | fuzz [--seconds N] [--target T]>"
            );
            Ok(())
        }
        other => Err(format!("unknown command `{other}`; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate's directory).
fn project_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}
