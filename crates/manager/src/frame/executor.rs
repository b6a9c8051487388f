//! The frame executor: what a frame runs with, and its five phases in order.

use std::sync::Arc;
use std::time::Instant;

use switchyard_metrics::{Metrics, Phase};
use switchyard_proto::Limits;
use switchyard_router::{ExecutionContext, RouteTable};
use switchyard_state::Store;
use tokio_util::sync::CancellationToken;

use super::messages::FrameMessages;
use super::run::{FrameRun, RunMode};
use super::{Frame, FrameResult};
use crate::{ManagerError, Result, RetryPolicy};

/// Runs frames: holds the routes, the store, the worker pool, the metrics, the retry policy
/// and the cancellation token, and runs a frame's phases in order (see [`FrameExecutor::run`]).
/// The manager owns one and serialises frames in front of it.
pub(crate) struct FrameExecutor {
    pub(crate) routes: RouteTable,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) limits: Limits,
    pub(crate) network_id: u32,
    pub(crate) pool: rayon::ThreadPool,
    pub(crate) metrics: Metrics,
    pub(crate) retry: RetryPolicy,
    pub(crate) cancel: CancellationToken,
}

impl FrameExecutor {
    /// The run mode of a frame run by `execute_frame` on this executor's pool.
    pub(crate) fn pool_mode(&self) -> RunMode {
        match self.pool.current_num_threads() {
            1 => RunMode::OneWorker,
            _ => RunMode::Parallel,
        }
    }

    /// Runs one frame and commits it; the caller holds the manager's frame lock (and, for a
    /// frame on workers, runs this on the pool). The phases, in order:
    ///
    /// 1. **prepare**: decode, route, price and compute each message's access set;
    /// 2. **validate**: verify signatures (batched) and run engine validation, alongside the
    ///    receipt's message hashes and
    /// 3. **schedule**: the dependency graph over the access sets (timed apart);
    /// 4. **execute**: apply each message on its own overlay as the graph allows;
    /// 5. **commit**: the receipt, the fee credit and one atomic store commit.
    pub(crate) fn run(&self, frame: &Frame, mode: RunMode) -> Result<FrameResult> {
        let frame_started = Instant::now();
        if self.cancel.is_cancelled() {
            return Err(ManagerError::Cancelled);
        }
        let parent = self.store.head();
        if let Some(head) = parent
            && head.frame_number.checked_add(1) != Some(frame.number)
        {
            return Err(ManagerError::FrameOutOfOrder {
                head: head.frame_number,
                found: frame.number,
            });
        }
        let snapshot = self.store.snapshot()?;
        self.metrics.frame_messages(frame.messages.len() as u64);
        let run = FrameRun {
            frame,
            ctx: ExecutionContext {
                frame_number: frame.number,
                fee_multiplier: frame.fee_multiplier,
                network_id: self.network_id,
                fee_recipient: frame.fee_recipient,
            },
            committed: snapshot.as_ref(),
            mode,
        };

        let mut timer = PhaseTimer::new(&self.metrics);
        let mut messages: FrameMessages<'_> = self.prepare_phase(&run);
        timer.end(Phase::Prepare);
        let graph = self.validate_phase(&run, &mut messages)?;
        timer.end(Phase::Validate);
        timer.record(Phase::Schedule, graph.seconds);
        let view = self.execute_phase(&run, &mut messages, &graph.graph, snapshot.clone());
        timer.end(Phase::Execute);
        let (head, receipt) = self.commit_phase(frame, mode, parent, messages, view, snapshot)?;
        timer.end(Phase::Commit);
        tracing::debug!(
            frame = head.frame_number,
            root = %head.state_root,
            messages = frame.messages.len(),
            prepare_ms = timer.ms(Phase::Prepare),
            validate_ms = timer.ms(Phase::Validate),
            schedule_ms = timer.ms(Phase::Schedule),
            execute_ms = timer.ms(Phase::Execute),
            commit_ms = timer.ms(Phase::Commit),
            total_ms = frame_started.elapsed().as_secs_f64() * 1e3,
            "frame committed"
        );
        Ok(FrameResult { head, receipt })
    }
}

impl FrameExecutor {
    /// Logs an error that stops a frame; critical ones cancelled the manager already.
    pub(crate) fn escalate(&self, error: ManagerError) -> ManagerError {
        tracing::error!(%error, "frame aborted");
        error
    }
}

/// Times the phases of a frame into the metrics, and keeps them for the frame's log line.
struct PhaseTimer<'a> {
    metrics: &'a Metrics,
    started: Instant,
    seconds: Vec<(Phase, f64)>,
}

impl<'a> PhaseTimer<'a> {
    fn new(metrics: &'a Metrics) -> Self {
        Self {
            metrics,
            started: Instant::now(),
            seconds: Vec::with_capacity(5),
        }
    }

    /// Ends `phase` (begun when the previous one ended) and starts the next.
    fn end(&mut self, phase: Phase) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.record(phase, seconds);
        self.started = Instant::now();
    }

    /// Records a phase timed elsewhere (the schedule, which runs inside validation).
    fn record(&mut self, phase: Phase, seconds: f64) {
        self.metrics.frame_phase(phase, seconds);
        self.seconds.push((phase, seconds));
    }

    fn ms(&self, phase: Phase) -> f64 {
        self.seconds
            .iter()
            .find(|(p, _)| *p == phase)
            .map_or(0.0, |(_, s)| s * 1e3)
    }
}
