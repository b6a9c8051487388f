//! Integration tests of the manager through its public API: routing, locks, cost, lifecycle,
//! metrics, the token engine end to end, frames, the parallel-equals-serial property over
//! seeded workloads, and robustness against arbitrary input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod bundles;
mod common;
mod contract;
mod cost;
mod determinism;
mod frames;
mod lifecycle;
mod locks;
mod metrics;
mod robustness;
mod routing;
mod token;
