//! The switchyard test kit: what every engine crate runs in its tests, and what the node's
//! benchmarks and the crash tests share.
//!
//! - [`Conformance`]: the conformance kit. Given engines, a genesis and frames of an engine's
//!   operations, it checks what DESIGN §4 makes every engine guarantee: determinism (the same
//!   receipts and root serially and on 1, 2 and 4 threads), access-set discipline (`apply`
//!   never meets the view's refusal on valid input), no effect on refusal (a refused message
//!   writes nothing, a failed one only its signers' fee and nonce), and no panics at any
//!   byte-level entry point on mutated input.
//! - [`workload`]: seeded generators of signed frames (`transfers`, `mixed`, `hypergraph`,
//!   `compute`), the same on every machine; [`rng::SplitMix64`] under them.
//! - [`Checked`]: a state view that enforces an access set and records what was touched, for
//!   engines' own unit tests.
//! - [`Pipeline`]: the manager's steps for one signed request on a [`Checked`] overlay (auth,
//!   validate, access, cost, fee, apply), one copy for every engine's tests.
//! - [`crash`]: the SIGKILL harness: a test that re-runs its own binary as a child committing
//!   frames, kills it mid-frame and hands back what the child reported committed.
//!
//! Use it as a dev-dependency; it depends on the manager, the state stores and every engine
//! crate (the token engine's native token pays every engine's fees; the workloads build the
//! other engines' operations).
//!
//! ```
//! use std::sync::Arc;
//! use switchyard_testkit::{Conformance, workload::{TransferParams, NETWORK_ID, transfers}};
//!
//! let workload = transfers(TransferParams { seed: 7, accounts: 20, messages: 20, frame_size: 10, conflict_ppm: 0 });
//! let report = Conformance::new(NETWORK_ID)
//!     .engine(Arc::new(switchyard_token::TokenEngine::new()))
//!     .genesis(workload.genesis_changes()?)
//!     .frames(workload.frames)
//!     .mutations_per_message(1)
//!     .run()?;
//! assert_eq!((report.frames, report.applied), (2, 20));
//! # Ok::<(), switchyard_testkit::TestkitError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod checked;
mod conformance;
pub mod crash;
mod error;
mod pipeline;
pub mod rng;
pub mod workload;

pub use checked::Checked;
pub use conformance::{Conformance, Report};
pub use error::{Result, TestkitError};
pub use pipeline::{Failure, Outcome, Pipeline};
