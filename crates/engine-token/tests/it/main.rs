//! Integration tests of the token engine through the engine contract, with fee settlement
//! done as the manager does it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod access;
mod auth;
mod common;
mod conformance;
mod cost;
mod deploy;
mod mint;
mod pending;
mod props;
mod robustness;
mod transfer;
mod update;
