//! The frame executor: runs a frame's phases in order (`run_frame`), and holds the two that
//! have no module of their own: preparing every message, and running them on the worker pool
//! as the dependency graph allows.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use rayon::prelude::*;
use switchyard_metrics::Phase;
use switchyard_proto::v1::FrameReceipt;
use switchyard_router::{ExecutionContext, StateRead};
use switchyard_state::{Head, Snapshot};

use super::Frame;
use super::apply::{Ran, apply_message};
use super::commit::Executed;
use super::pending::PendingState;
use super::prepare::{PrepareEnv, Prepared, Refused, decode_requests, parse_target, route_message};
use super::schedule::{self, Footprint};
use crate::{Manager, ManagerError, Result};

/// What a committed frame produced.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameResult {
    /// The new head (frame number and state root).
    pub head: Head,
    /// The frame's receipt, as stored.
    pub receipt: FrameReceipt,
}

/// Whether phases run on the worker pool or one message after another in frame order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Parallel,
    Serial,
}

/// One message after preparation: ready to run, or refused with no effect.
pub(super) type Slot<'r> = std::result::Result<Prepared<'r>, Refused>;

/// The prepared messages of a frame and their graph footprints (`None` for refused ones).
type PreparedFrame<'r> = (Vec<Slot<'r>>, Vec<Option<Footprint>>);

/// What every phase of a frame reads: the frame, its context, the committed state it runs on,
/// and how it runs.
pub(super) struct FrameRun<'f> {
    pub(super) frame: &'f Frame,
    pub(super) ctx: ExecutionContext,
    pub(super) committed: &'f dyn Snapshot,
    /// The serial reference: one message after another through the frame's view, no graph.
    pub(super) serial: bool,
    /// One message after another on this thread (the serial reference, or a one-thread pool).
    pub(super) sequential: bool,
}

impl Manager {
    /// Executes a frame: decode, route, validate (signatures batch-verified in parallel),
    /// schedule by access sets, apply on the worker pool, commit atomically with the receipt
    /// and publish the new head. The receipt and state root are those of
    /// [`Manager::execute_frame_serial`], whatever the number of threads.
    ///
    /// Errors are failures of the frame as a whole (store failures after retries, critical
    /// engine failures, a frame number that does not follow the head); a bad message is
    /// recorded in the receipt instead.
    pub fn execute_frame(&self, frame: &Frame) -> Result<FrameResult> {
        // Frames run one at a time. The lock is taken here, on the caller's thread: a worker
        // that blocked on it could be the one another frame's work waits for.
        let _one_frame_at_a_time = self.inner.frame_lock.lock();
        // The whole frame runs on a worker: its parallel phases then start without handing
        // work from the caller's thread to the pool (and waking it) at each phase.
        self.inner
            .pool
            .install(|| self.run_frame(frame, Mode::Parallel))
    }

    /// The serial reference: the same steps, one message after another in frame order, on
    /// the calling thread. Used by tests and benchmarks to check and measure the parallel
    /// executor.
    pub fn execute_frame_serial(&self, frame: &Frame) -> Result<FrameResult> {
        let _one_frame_at_a_time = self.inner.frame_lock.lock();
        self.run_frame(frame, Mode::Serial)
    }

    /// Runs one frame; the caller holds the frame lock. A parallel frame runs on the manager's
    /// pool (see [`Manager::execute_frame`]), so its parallel loops use the pool's workers.
    ///
    /// The phases follow DESIGN §6, one method each: [`Manager::prepare_phase`] (steps 1, 2
    /// and 4), [`Manager::validation_phase`] (step 3 and the dependency graph of step 5),
    /// [`Manager::execution_phase`] (steps 5 and 6) and [`Manager::commit_phase`] (step 7).
    fn run_frame(&self, frame: &Frame, mode: Mode) -> Result<FrameResult> {
        let frame_started = Instant::now();
        let inner = &*self.inner;
        if inner.cancel.is_cancelled() {
            return Err(ManagerError::Cancelled);
        }
        let parent = inner.store.head();
        if let Some(head) = parent
            && head.frame_number.checked_add(1) != Some(frame.number)
        {
            return Err(ManagerError::FrameOutOfOrder {
                head: head.frame_number,
                found: frame.number,
            });
        }
        let snapshot = inner.store.snapshot()?;
        inner.metrics.frame_messages(frame.messages.len() as u64);
        // The serial reference runs the messages in frame order through the frame's view, with
        // no dependency graph. One worker thread runs them in frame order too, but with the
        // graph, which tells which reads and writes may skip the view (see `Visibility`).
        let serial = mode == Mode::Serial;
        let run = FrameRun {
            frame,
            ctx: ExecutionContext {
                frame_number: frame.number,
                fee_multiplier: frame.fee_multiplier,
                network_id: inner.network_id,
                fee_recipient: frame.fee_recipient,
            },
            committed: snapshot.as_ref(),
            serial,
            sequential: serial || inner.pool.current_num_threads() == 1,
        };

        let mut timer = PhaseTimer::new(&inner.metrics);
        let (mut slots, footprints) = self.prepare_phase(&run);
        timer.end(Phase::Decode);
        let validated = self.validation_phase(&run, &mut slots, &footprints)?;
        timer.end(Phase::Validate);
        inner
            .metrics
            .frame_phase(Phase::Schedule, validated.graph_seconds);
        let (pending, results) =
            self.execution_phase(&run, &slots, &validated.graph, snapshot.clone());
        timer.end(Phase::Execute);
        let sequential = run.sequential;
        let (head, receipt) = self.commit_phase(
            frame,
            parent,
            Executed {
                slots,
                results,
                hashes: validated.hashes,
                pending,
            },
            snapshot,
            sequential,
        )?;
        timer.end(Phase::Commit);
        inner.metrics.set_frame_height(head.frame_number);
        inner.head_tx.send_replace(Some(head));
        tracing::debug!(
            frame = head.frame_number,
            root = %head.state_root,
            messages = frame.messages.len(),
            decode_ms = timer.ms(Phase::Decode),
            validate_ms = timer.ms(Phase::Validate),
            schedule_ms = validated.graph_seconds * 1e3,
            execute_ms = timer.ms(Phase::Execute),
            commit_ms = timer.ms(Phase::Commit),
            total_ms = frame_started.elapsed().as_secs_f64() * 1e3,
            "frame committed"
        );
        Ok(FrameResult { head, receipt })
    }

    /// Steps 1, 2 and 4 for every message: decode strictly, route, price, and compute the
    /// access set, with the message's footprint in the dependency graph (taken while its
    /// access set is in cache; none for a refused message or in the serial reference).
    fn prepare_phase<'r>(&'r self, run: &FrameRun<'_>) -> PreparedFrame<'r> {
        let inner = &*self.inner;
        let env = PrepareEnv {
            routes: &inner.routes,
            ctx: &run.ctx,
        };
        let prepare = |(target, bytes): &(Vec<u8>, Vec<u8>)| -> (Slot<'r>, Option<Footprint>) {
            let slot = parse_target(target)
                .and_then(|target| {
                    let requests = decode_requests(bytes, &inner.limits)?;
                    route_message(env, &target, requests, run.committed)
                })
                .map_err(Refused::new);
            let footprint = match (&slot, run.serial) {
                (Ok(prepared), false) => Some(Footprint::of(&prepared.access)),
                _ => None,
            };
            (slot, footprint)
        };
        match run.serial {
            false => run.frame.messages.par_iter().map(prepare).unzip(),
            true => run.frame.messages.iter().map(prepare).unzip(),
        }
    }

    /// Steps 5 and 6: applies the prepared messages, in frame order when there is one
    /// thread, else as the graph allows, each on its own overlay. Returns the frame's pending
    /// writes and each message's result (`None` for a refused one).
    ///
    /// The frame's view holds the writes that later messages of the frame may read: every
    /// write in the serial reference, only those of messages with dependents otherwise (see
    /// `Visibility`); the others are kept aside for the commit.
    fn execution_phase(
        &self,
        run: &FrameRun<'_>,
        slots: &[Slot<'_>],
        graph: &schedule::Graph,
        snapshot: Arc<dyn Snapshot>,
    ) -> (PendingState, Vec<Option<Ran>>) {
        // Both are sized for the declared writes (a slight overestimate: not every declared
        // write happens).
        let (mut published, mut kept) = (0, 0);
        for (index, slot) in slots.iter().enumerate() {
            let Ok(prepared) = slot else { continue };
            match run.serial || Visibility::of(graph, index).publish {
                true => published += prepared.access.writes.len(),
                false => kept += prepared.access.writes.len(),
            }
        }
        let pending = PendingState::new(
            snapshot,
            published,
            kept,
            self.inner.pool.current_num_threads(),
        );
        let results = match run.sequential {
            false => self.run_parallel(&run.ctx, slots, graph, &pending),
            true => slots
                .iter()
                .enumerate()
                .map(|(index, slot)| {
                    let visibility = match run.serial {
                        true => Visibility::SERIAL,
                        false => Visibility::of(graph, index),
                    };
                    slot.as_ref()
                        .ok()
                        .map(|prepared| self.run_one(&run.ctx, prepared, &pending, visibility))
                })
                .collect(),
        };
        (pending, results)
    }

    /// Runs the prepared messages on the worker pool, each as soon as every earlier message
    /// it conflicts with has finished.
    fn run_parallel(
        &self,
        ctx: &ExecutionContext,
        slots: &[Slot],
        graph: &schedule::Graph,
        pending: &PendingState,
    ) -> Vec<Option<Ran>> {
        let waits: Vec<std::sync::atomic::AtomicUsize> = graph
            .waits_for
            .iter()
            .map(|&n| std::sync::atomic::AtomicUsize::new(n))
            .collect();
        let results: Vec<Mutex<Option<Ran>>> = slots.iter().map(|_| Mutex::new(None)).collect();
        let shared = Shared {
            manager: self,
            ctx,
            slots,
            pending,
            graph,
            waits: &waits,
            results: &results,
        };
        // Every message waiting for nothing starts, refused ones included: they apply
        // nothing, but may have dependents to release (refused after the graph was built).
        // The roots are split across workers in ranges (few steals); released dependents are
        // spawned one by one.
        let roots: Vec<usize> = graph
            .waits_for
            .iter()
            .enumerate()
            .filter(|(_, w)| **w == 0)
            .map(|(i, _)| i)
            .collect();
        self.inner.pool.scope(|scope| {
            let shared = &shared;
            roots.par_iter().for_each(|&index| shared.run(index, scope));
        });
        results.into_iter().map(Mutex::into_inner).collect()
    }
}

/// Times the phases of a frame into the metrics, and keeps them for the frame's log line.
struct PhaseTimer<'a> {
    metrics: &'a switchyard_metrics::Metrics,
    started: Instant,
    seconds: Vec<(Phase, f64)>,
}

impl<'a> PhaseTimer<'a> {
    fn new(metrics: &'a switchyard_metrics::Metrics) -> Self {
        Self {
            metrics,
            started: Instant::now(),
            seconds: Vec::with_capacity(5),
        }
    }

    /// Ends `phase` (begun when the previous one ended) and starts the next.
    fn end(&mut self, phase: Phase) {
        let seconds = self.started.elapsed().as_secs_f64();
        self.metrics.frame_phase(phase, seconds);
        self.seconds.push((phase, seconds));
        self.started = Instant::now();
    }

    fn ms(&self, phase: Phase) -> f64 {
        self.seconds
            .iter()
            .find(|(p, _)| *p == phase)
            .map_or(0.0, |(_, s)| s * 1e3)
    }
}

/// What the worker tasks share.
struct Shared<'a> {
    manager: &'a Manager,
    ctx: &'a ExecutionContext,
    slots: &'a [Slot<'a>],
    pending: &'a PendingState,
    graph: &'a schedule::Graph,
    waits: &'a [std::sync::atomic::AtomicUsize],
    results: &'a [Mutex<Option<Ran>>],
}

impl<'a> Shared<'a> {
    fn run(&'a self, index: usize, scope: &rayon::Scope<'a>) {
        if let Some(Ok(prepared)) = self.slots.get(index) {
            let visibility = Visibility::of(self.graph, index);
            let applied = self
                .manager
                .run_one(self.ctx, prepared, self.pending, visibility);
            if let Some(result) = self.results.get(index) {
                *result.lock() = Some(applied);
            }
        }
        for &next in self
            .graph
            .dependents
            .get(index)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let released = self
                .waits
                .get(next)
                .is_some_and(|w| w.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1);
            if released {
                scope.spawn(move |scope| self.run(next, scope));
            }
        }
    }
}

impl Manager {
    /// Applies one prepared message on top of the frame's shared view (retrying temporary
    /// failures) and, when later messages may read them, publishes its writes to that view;
    /// otherwise they are only kept for the commit.
    fn run_one(
        &self,
        ctx: &ExecutionContext,
        prepared: &Prepared,
        pending: &PendingState,
        visibility: Visibility,
    ) -> Ran {
        let started = Instant::now();
        let base: &dyn StateRead = match visibility.isolated {
            true => pending.committed(),
            false => pending,
        };
        let mut applied = self
            .inner
            .retry
            .run(&self.inner.cancel, || apply_message(ctx, prepared, base))
            .map_err(Box::new)?;
        if let Some(changes) = applied.changes.take() {
            match visibility.publish {
                true => pending.absorb(changes),
                false => pending.keep(changes, !visibility.isolated),
            }
        }
        applied.seconds = started.elapsed().as_secs_f64();
        Ok(applied)
    }
}

/// How a message's reads and writes relate to the rest of its frame, from the dependency graph.
#[derive(Debug, Clone, Copy)]
struct Visibility {
    /// No earlier message of the frame conflicts with it: every address it may read holds its
    /// committed value, so it reads the snapshot and skips the frame's view.
    isolated: bool,
    /// Some later message conflicts with it, so may read what it writes: its writes go to the
    /// frame's view. Otherwise no later message touches what it writes (a later access would
    /// be an edge from it), and its writes are only kept for the commit.
    publish: bool,
}

impl Visibility {
    /// The serial reference, which has no graph: every message reads and publishes through
    /// the frame's view.
    const SERIAL: Self = Self {
        isolated: false,
        publish: true,
    };

    fn of(graph: &schedule::Graph, index: usize) -> Self {
        Self {
            isolated: graph.waits_for.get(index) == Some(&0),
            publish: graph.dependents.get(index).is_some_and(|d| !d.is_empty()),
        }
    }
}
