//! Integration tests of `switchyard-metrics`: the rendered exposition, read back with a real
//! Prometheus text parser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod exposition;
mod support;
