//! Coverage-guided fuzz targets of switchyard, run by `cargo xtask fuzz` under AFL++ (through
//! cargo-afl, on the stable toolchain) and replayed from `fuzz/corpus/` as ordinary tests.
//!
//! Every target is a function of the input bytes that panics when an invariant breaks, so the
//! AFL++ entry point (`src/bin/afl-target.rs`) and the replay test (`tests/replay.rs`) run
//! the same code:
//!
//! - [`target_decode`]: `decode_any` and each message type's strict decoder;
//! - [`target_records`]: the stored-record decoders (accounts, metadata, provers, registry
//!   configuration, escrows, the state lattice);
//! - [`target_cost`], [`target_validate`], [`target_lock`], [`target_process`],
//!   [`target_query`]: the manager's byte-level entry points;
//! - [`target_frame`]: `execute_frame` of an arbitrary list of (target, bytes) messages.
//!
//! The manager targets run against one world (genesis and warm-up frames of the testkit's
//! mixed, compute and hypergraph workloads) with every engine registered, and every input
//! starts from that same state: frames commit into a layer that is dropped after the input.
//! `docs/fuzzing.md` says how to run them and what each checks.
//!
//! # Feature flags
//! - `afl`: the AFL++ entry point binary, built by `cargo afl build` (never by CI).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
// A test harness: an invariant that breaks is a panic, which the fuzzer records as a crash.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

mod decode;
mod entry;
mod frame;
mod input;
mod seeds;
mod store;
mod world;

use std::path::{Path, PathBuf};

// Used by the AFL++ entry point binary only.
#[cfg(feature = "afl")]
use afl as _;

pub use decode::{target_decode, target_records};
pub use entry::{target_cost, target_lock, target_process, target_query, target_validate};
pub use frame::target_frame;
pub use seeds::seeds;

/// A fuzz target: its name (the folder of its corpus) and the function it fuzzes.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// Name, as `cargo xtask fuzz --target` takes it.
    pub name: &'static str,
    /// Runs one input; panics when an invariant breaks.
    pub run: fn(&[u8]),
}

/// Every target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "decode",
        run: target_decode,
    },
    Target {
        name: "records",
        run: target_records,
    },
    Target {
        name: "cost",
        run: target_cost,
    },
    Target {
        name: "validate",
        run: target_validate,
    },
    Target {
        name: "lock",
        run: target_lock,
    },
    Target {
        name: "process",
        run: target_process,
    },
    Target {
        name: "query",
        run: target_query,
    },
    Target {
        name: "frame",
        run: target_frame,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Builds what the targets share and can build before a fork server starts (the world; not
/// the managers, whose worker threads a fork would lose).
pub fn prepare() {
    let _ = world::world();
}

/// `fuzz/corpus/`, where each target's kept inputs live in a folder named after it.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The file name a seed is kept under: a prefix (`seed`) and the first 16 hex digits of the
/// BLAKE3 hash of its bytes, so the same seed is never written twice. (`cargo xtask fuzz`
/// names what the fuzzer finds `found-<hash>`.)
pub fn corpus_file_name(prefix: &str, bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes);
    let hex: String = hash
        .as_bytes()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{prefix}-{hex}")
}
