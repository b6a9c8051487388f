//! Replays every input kept under `fuzz/corpus/<target>/` through its target, and every target's
//! seeds: what the fuzzer found stays fixed as an ordinary test, and needs no AFL to run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use switchyard_fuzz::{TARGETS, Target, corpus_dir, seeds, target};

/// Runs `inputs` through `target`, collecting every failure with the input's name.
fn replay(target: &Target, inputs: Vec<(String, Vec<u8>)>) {
    assert!(!inputs.is_empty(), "no inputs for target {}", target.name);
    let mut failures = Vec::new();
    for (name, bytes) in &inputs {
        if catch_unwind(AssertUnwindSafe(|| (target.run)(bytes))).is_err() {
            failures.push(name.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "target {}: {} of {} inputs failed: {failures:?}",
        target.name,
        failures.len(),
        inputs.len()
    );
}

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir().join(name);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("a corpus file");
            (path.display().to_string(), bytes)
        })
        .collect()
}

fn replay_corpus(name: &str) {
    replay(target(name).expect("a target"), corpus(name));
}

#[test]
fn every_target_has_a_corpus_folder() {
    for target in TARGETS {
        assert!(
            corpus_dir().join(target.name).is_dir(),
            "fuzz/corpus/{} is missing: run `cargo xtask fuzz --target {}`",
            target.name,
            target.name
        );
    }
}

#[test]
fn seeds_pass_every_target() {
    for target in TARGETS {
        let inputs = seeds(target.name)
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| (format!("seed {i}"), bytes))
            .collect();
        replay(target, inputs);
    }
}

#[test]
fn corpus_decode() {
    replay_corpus("decode");
}

#[test]
fn corpus_records() {
    replay_corpus("records");
}

#[test]
fn corpus_cost() {
    replay_corpus("cost");
}

#[test]
fn corpus_validate() {
    replay_corpus("validate");
}

#[test]
fn corpus_lock() {
    replay_corpus("lock");
}

#[test]
fn corpus_process() {
    replay_corpus("process");
}

#[test]
fn corpus_query() {
    replay_corpus("query");
}

#[test]
fn corpus_frame() {
    replay_corpus("frame");
}
