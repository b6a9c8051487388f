//! Integration tests of the hypergraph engine through the engine contract (with fee
//! settlement done as the manager does it), and through a real manager for frames and queries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod common;
mod conformance;
mod deploy;
mod frames;
mod hyperedge;
mod props;
mod query;
mod robustness;
mod update;
mod vertex;
