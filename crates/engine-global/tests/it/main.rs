//! Integration tests of the global engine through the engine contract (with nonce settlement
//! done as the manager does it), and through a real manager with the token engine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod bad_input;
mod common;
mod conformance;
mod kick;
mod manager;
mod props;
mod queries;
mod table;
