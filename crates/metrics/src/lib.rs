//! Metrics of a switchyard node: one Prometheus registry and the metric families the
//! execution layer records into (DESIGN.md §8).
//!
//! The manager records every engine entry point with [`Metrics::record_request`] and frame
//! production with [`Metrics::frame_phase`], [`Metrics::frame_messages`] and
//! [`Metrics::set_frame_height`]; the node records queue depths and engine health, registers
//! its own metrics through [`Metrics::registry`], and serves [`Metrics::render`] at `/metrics`
//! with the [`CONTENT_TYPE`] header.
//!
//! | family | type | labels |
//! |---|---|---|
//! | `switchyard_requests_total` | counter | `engine`, `op`, `status` |
//! | `switchyard_request_duration_seconds` | histogram | `engine`, `op` |
//! | `switchyard_lock_conflicts_total` | counter | |
//! | `switchyard_frame_messages` | histogram | |
//! | `switchyard_frame_duration_seconds` | histogram | `phase` |
//! | `switchyard_frame_height` | gauge | |
//! | `switchyard_queue_depth` | gauge | `queue` |
//! | `switchyard_engine_up` | gauge | `engine` |
//!
//! Metrics never feed back into state or receipts: they may read clocks and use floats.
//!
//! ```
//! use switchyard_metrics::{Metrics, Op, Phase, Status};
//!
//! let metrics = Metrics::new();
//! metrics.record_request("token", Op::Apply, Status::Ok, 0.000_25);
//! metrics.frame_phase(Phase::Execute, 0.012);
//! metrics.set_frame_height(42);
//!
//! let text = metrics.render();
//! assert!(text.contains(r#"switchyard_requests_total{engine="token",op="apply",status="ok"} 1"#));
//! assert!(text.contains("switchyard_frame_height 42"));
//! assert!(text.ends_with("# EOF\n"));
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

mod error;
mod labels;
mod metrics;

pub use error::{Error, Result};
pub use labels::{Op, Phase, Status};
pub use metrics::{
    CONTENT_TYPE, FRAME_MESSAGES_BUCKETS, FRAME_PHASE_BUCKETS, Metrics, NO_ENGINE, PREFIX,
    REQUEST_DURATION_BUCKETS,
};
/// The client library the registry comes from, re-exported so metrics registered through
/// [`Metrics::registry`] use the same version.
pub use prometheus_client;
