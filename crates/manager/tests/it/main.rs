//! Integration tests of the manager through its public API: routing, locks, cost, lifecycle,
//! metrics, the token engine end to end, frames, and robustness against arbitrary input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod common;
mod contract;
mod cost;
mod frames;
mod lifecycle;
mod locks;
mod metrics;
mod robustness;
mod routing;
mod token;
