//! Integration tests of the compute engine through the engine contract, with fee settlement
//! done as the manager does it, and through a real manager at several thread counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod cache;
mod common;
mod conformance;
mod cost;
mod deploy;
mod execute;
mod frames;
mod hostile;
mod robustness;
mod staged;
