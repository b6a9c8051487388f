//! The `switchyard` binary's library: the commands behind `switchyard decode` and
//! `switchyard bench` (with the human summary it prints beside its JSON), and the
//! deterministic workloads the benchmarks and the determinism tests share.
//!
//! ```
//! use switchyard_node::workload::{transfers, TransferParams};
//!
//! let workload = transfers(TransferParams { seed: 1, accounts: 8, messages: 4, frame_size: 4, conflict_ppm: 0 });
//! assert_eq!(workload.messages(), 4);
//! let report = switchyard_node::bench::run("doc", &workload, 1, switchyard_node::bench::StoreKind::Memory, false)?;
//! assert_eq!(report.applied, 4);
//! # Ok::<(), switchyard_node::NodeError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod bench;
pub mod decode;
mod error;
mod rng;
pub mod summary;
pub mod workload;

pub use error::{NodeError, Result};
pub use summary::summary;

// Used by the binary only.
use clap as _;
use libmimalloc_sys as _;
use mimalloc as _;
use tracing_subscriber as _;

/// The README's code blocks, compiled and run as doc tests so the tour stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeTour;
