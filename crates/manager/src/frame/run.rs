//! How one frame runs: its mode and what every phase reads.

use switchyard_router::ExecutionContext;
use switchyard_state::Snapshot;

use super::Frame;

/// How a frame's messages run. One enum, read by every phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunMode {
    /// The serial reference: one message after another in frame order, each reading and
    /// publishing through the frame's view, with no dependency graph. What the other modes
    /// must equal.
    Reference,
    /// One worker: frame order, with the dependency graph (which tells which reads and writes
    /// may skip the frame's view).
    OneWorker,
    /// The worker pool, each message as soon as the messages it conflicts with are done.
    Parallel,
}

impl RunMode {
    /// Whether the dependency graph is built and used (every mode but the reference).
    pub(crate) fn uses_graph(self) -> bool {
        self != RunMode::Reference
    }

    /// Whether the phases spread their work over the pool's workers.
    pub(crate) fn on_workers(self) -> bool {
        self == RunMode::Parallel
    }
}

/// What every phase of a frame reads: the frame, its context, the committed state it runs
/// on, and how it runs.
pub(crate) struct FrameRun<'f> {
    pub(crate) frame: &'f Frame,
    pub(crate) ctx: ExecutionContext,
    pub(crate) committed: &'f dyn Snapshot,
    pub(crate) mode: RunMode,
}
