//! The `switchyard` binary's library: the node behind `switchyard serve` ([`server`]: the
//! frame [`producer`], the gRPC services of [`rpc`], health, reflection and the `/metrics` of
//! [`telemetry`]), the gRPC [`client`] behind the CLI's commands, and the commands behind
//! `switchyard decode` and `switchyard bench` (with the human summary it prints beside its
//! JSON), which runs the test kit's deterministic workloads.
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
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod bench;
pub mod bench_node;
pub mod campaign;
pub mod client;
pub mod commands;
pub mod config;
pub mod decode;
pub mod engines;
mod error;
pub mod genesis;
pub mod index;
pub mod keys;
pub mod producer;
pub mod rpc;
pub mod server;
pub mod summary;
pub mod telemetry;

/// The seeded workloads the benchmarks run: the test kit's, shared with the tests.
pub use switchyard_testkit::workload;

pub use error::{NodeError, Result};
pub use summary::summary;

// Used by the binary only.
use indicatif as _;
use libmimalloc_sys as _;
use mimalloc as _;
use tracing_subscriber as _;

/// The README's code blocks, compiled and run as doc tests so the tour stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeTour;
