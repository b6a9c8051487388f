//! The frame executor: runs the pipeline of `frame/mod.rs` and commits.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::Mutex;
use rayon::prelude::*;
use switchyard_metrics::{Op, Phase, Status};
use switchyard_proto::v1::{FrameReceipt, MessageOutcome, MessageStatus};
use switchyard_router::auth::{SignatureCheck, verify_batch};
use switchyard_router::fees;
use switchyard_router::{Address, ExecutionContext, Severity, StateError, StateRead};
use switchyard_state::{ChangeSet, Head, Overlay, Snapshot};

use super::Frame;
use super::apply::{Applied, apply_message};
use super::pending::PendingState;
use super::prepare::{
    PrepareEnv, Prepared, Refused, decode_requests, parse_target, route_message, signature_checks,
};
use super::schedule::{self, Footprint};
use crate::{Manager, ManagerError, Result};

/// How many messages of a frame of `messages` messages have their signatures verified in one
/// batch: a sixteenth of the frame, at least 64 and at most 512.
///
/// Batch verification gets cheaper per signature as batches grow (one multi-scalar
/// multiplication over all of them: on these machines 97k signatures/s on 2 threads in batches
/// of 64, 113k in batches of 256, 124k in batches of 512), while a frame needs enough batches
/// to keep every worker busy to the end. A batch that fails is verified again one signature
/// at a time to find the bad ones: twice the cost for its messages, at any batch size.
/// The size depends on the frame alone, never on the thread count, so that the verdicts (which
/// for crafted edge cases could depend on the batch) are the same on every node.
///
/// ```
/// use switchyard_manager::verification_batch;
///
/// assert_eq!(verification_batch(100), 64);
/// assert_eq!(verification_batch(2_000), 125);
/// assert_eq!(verification_batch(10_000), 512);
/// ```
pub fn verification_batch(messages: usize) -> usize {
    (messages / 16).clamp(64, 512)
}

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

/// The fee a message paid and what the request metrics record of it (its receipt entry is
/// kept apart, to go into the receipt without a copy).
struct Tally {
    fee: u128,
    status: Status,
    seconds: f64,
    /// The engine of its first request (`"none"` when it was refused before routing).
    engine: &'static str,
}

/// Outcomes encoded per piece of this many, in parallel, for the receipt.
const OUTCOMES_PER_PIECE: usize = 512;

/// Messages hashed per piece of the validation phase's filler work (about 50 µs).
const HASHES_PER_PIECE: usize = 256;

/// One message after preparation: ready to run, or refused with no effect.
type Slot<'r> = std::result::Result<Prepared<'r>, Refused>;

/// The prepared messages of a frame and their graph footprints (`None` for refused ones).
type PreparedFrame<'r> = (Vec<Slot<'r>>, Vec<Option<Footprint>>);

/// What every phase of a frame reads: the frame, its context, the committed state it runs on,
/// and how it runs.
struct FrameRun<'f> {
    frame: &'f Frame,
    ctx: ExecutionContext,
    committed: &'f dyn Snapshot,
    /// The serial reference: one message after another through the frame's view, no graph.
    serial: bool,
    /// One message after another on this thread (the serial reference, or a one-thread pool).
    sequential: bool,
}

/// What the validation phase produced besides its verdicts.
struct Validated {
    /// The dependency graph of the frame's messages.
    graph: schedule::Graph,
    /// Time spent building it, for the schedule-phase metric.
    graph_seconds: f64,
    /// Each message's hash, for the receipt.
    hashes: Vec<[u8; 32]>,
}

/// A frame after execution: each message's slot and result, its hash, and the frame's writes.
struct Executed<'r> {
    slots: Vec<Slot<'r>>,
    results: Vec<Option<Result<Applied>>>,
    hashes: Vec<[u8; 32]>,
    pending: PendingState,
}

/// A message at the end of execution: its position, its slot, its result and its hash.
type Finished<'a, 'r> = (usize, ((Slot<'r>, Option<Result<Applied>>), &'a [u8; 32]));

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
                signatures_verified: false,
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

    /// Step 3, with the dependency graph and the receipt's message hashes: refuses, in
    /// `slots`, every message whose signatures or engine validation fail.
    ///
    /// Signatures are batch-verified over fixed chunks of messages in frame order (the same
    /// chunks whatever the thread count, see [`verification_batch`]); a chunk whose batch
    /// fails is verified one signature at a time to find the bad ones. Each chunk reads its
    /// signer keys and signed bytes just before verifying them, while they are in cache.
    ///
    /// The phase's jobs are claimed in this order by whichever worker is free (see
    /// `claim::run`): the dependency graph (it needs only the access sets; a message refused
    /// by validation simply runs as a no-op in it), the verification chunks, then the message
    /// hashes in small pieces. The pieces come last on purpose: a worker that finds no chunk
    /// left hashes instead of waiting while the others finish their last (large) batch.
    fn validation_phase(
        &self,
        run: &FrameRun<'_>,
        slots: &mut [Slot<'_>],
        footprints: &[Option<Footprint>],
    ) -> Result<Validated> {
        let frame = run.frame;
        let verified_ctx = ExecutionContext {
            signatures_verified: true,
            ..run.ctx.clone()
        };
        let batch = verification_batch(frame.messages.len());
        // A verdict per message of a chunk.
        let validate = |slots: &[Slot]| -> Vec<Option<ManagerError>> {
            let checks: Vec<Result<Vec<SignatureCheck>>> = slots
                .iter()
                .map(|slot| match slot {
                    Ok(prepared) if !frame.signatures_verified => {
                        signature_checks(prepared, run.ctx.network_id)
                    }
                    _ => Ok(Vec::new()),
                })
                .collect();
            let batch_ok = verify_batch(checks.iter().flatten().flatten());
            slots
                .iter()
                .zip(checks)
                .map(|(slot, checks)| {
                    let Ok(prepared) = slot else { return None };
                    checks
                        .and_then(|checks| {
                            if batch_ok {
                                return Ok(());
                            }
                            checks
                                .iter()
                                .try_for_each(|check| check.verify().map_err(ManagerError::from))
                        })
                        .and_then(|()| {
                            super::prepare::validate(&verified_ctx, prepared, run.committed)
                        })
                        .err()
                })
                .collect()
        };
        let chunks: Vec<&[Slot<'_>]> = slots.chunks(batch).collect();
        let pieces: Vec<&[(Vec<u8>, Vec<u8>)]> = frame.messages.chunks(HASHES_PER_PIECE).collect();
        let graph_slot = OnceLock::new();
        let verdict_slots: Vec<OnceLock<Vec<Option<ManagerError>>>> =
            chunks.iter().map(|_| OnceLock::new()).collect();
        let hash_slots: Vec<OnceLock<Vec<[u8; 32]>>> =
            pieces.iter().map(|_| OnceLock::new()).collect();
        let job = |index: usize| match index.checked_sub(1) {
            None => {
                let started = Instant::now();
                let graph = match run.serial {
                    true => schedule::Graph::default(),
                    false => schedule::build(footprints),
                };
                let _ = graph_slot.set((graph, started.elapsed().as_secs_f64()));
            }
            Some(chunk) if chunk < chunks.len() => {
                if let (Some(slots), Some(verdicts)) = (chunks.get(chunk), verdict_slots.get(chunk))
                {
                    let _ = verdicts.set(validate(slots));
                }
            }
            Some(later) => {
                let piece = later - chunks.len();
                if let (Some(messages), Some(hashes)) = (pieces.get(piece), hash_slots.get(piece)) {
                    let _ = hashes.set(
                        messages
                            .iter()
                            .map(|(_, bytes)| *blake3::hash(bytes).as_bytes())
                            .collect(),
                    );
                }
            }
        };
        let workers = match run.sequential {
            true => 1,
            false => self.inner.pool.current_num_threads(),
        };
        super::claim::run(1 + chunks.len() + pieces.len(), workers, job);
        // `claim::run` runs every job. A missing result would be a bug, and the frame fails
        // rather than run messages without their verdicts or lose receipt entries.
        let missing =
            |what: &str| ManagerError::Internal(format!("the validation phase produced no {what}"));
        let (graph, graph_seconds) = graph_slot
            .into_inner()
            .ok_or_else(|| missing("dependency graph"))?;
        let mut hashes: Vec<[u8; 32]> = Vec::with_capacity(frame.messages.len());
        for piece in hash_slots {
            hashes.extend(
                piece
                    .into_inner()
                    .ok_or_else(|| missing("message hashes"))?,
            );
        }
        for (chunk, verdicts) in slots.chunks_mut(batch).zip(verdict_slots) {
            let verdicts = verdicts
                .into_inner()
                .ok_or_else(|| missing("signature verdicts"))?;
            for (slot, verdict) in chunk.iter_mut().zip(verdicts) {
                if let Some(error) = verdict {
                    *slot = Err(Refused::new(error));
                }
            }
        }
        Ok(Validated {
            graph,
            graph_seconds,
            hashes,
        })
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
    ) -> (PendingState, Vec<Option<Result<Applied>>>) {
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

    /// Step 7: builds the receipt, credits the frame's fees, and commits the frame's writes
    /// with the receipt and the new root in one store transaction. Returns the new head and
    /// the receipt as stored.
    fn commit_phase(
        &self,
        frame: &Frame,
        parent: Option<Head>,
        executed: Executed<'_>,
        snapshot: Arc<dyn Snapshot>,
        sequential: bool,
    ) -> Result<(Head, FrameReceipt)> {
        let Executed {
            slots,
            results,
            hashes,
            pending,
        } = executed;
        let mut receipt = FrameReceipt {
            frame_number: frame.number,
            parent_state_root: parent
                .map(|h| h.state_root.0.to_vec())
                .unwrap_or_else(|| vec![0; 32]),
            fee_multiplier: frame.fee_multiplier,
            fee_recipient: frame.fee_recipient.to_vec(),
            ..Default::default()
        };
        // Outcomes are built in parallel; the first failure in frame order wins. Each message's
        // decoded form is freed right there, while it is in cache.
        let outcome = |(index, ((slot, result), hash)): Finished<'_, '_>| {
            self.outcome(index, slot, result, hash)
        };
        let (outcomes, tallies): (Vec<MessageOutcome>, Vec<Result<Tally>>) = if sequential {
            slots
                .into_iter()
                .zip(results)
                .zip(&hashes)
                .enumerate()
                .map(outcome)
                .unzip()
        } else {
            slots
                .into_par_iter()
                .zip(results)
                .zip(&hashes)
                .enumerate()
                .map(outcome)
                .unzip()
        };
        let tallies: Vec<Tally> = tallies.into_iter().collect::<Result<_>>()?;
        let total_fees = tallies
            .iter()
            .try_fold(0u128, |sum, tally| sum.checked_add(tally.fee))
            .ok_or(ManagerError::FeeTotalOverflow)?;
        // The receipt is decided: count its messages. The request metrics are shared counters,
        // recorded on one thread (the workers that built the outcomes would contend for their
        // cache lines) while the other workers gather the frame's changes and encode the
        // outcomes for the receipt, which only waits for the state root. (On the pool: the
        // serial reference runs on the caller's thread.)
        let record_all = || {
            for tally in &tallies {
                self.record(tally);
            }
        };
        let encode = |piece: &[MessageOutcome]| {
            let mut bytes = Vec::new();
            for outcome in piece {
                FrameReceipt::encode_outcome(outcome, &mut bytes);
            }
            bytes
        };
        let encode_all = || -> Vec<Vec<u8>> {
            match sequential {
                true => outcomes.chunks(OUTCOMES_PER_PIECE).map(encode).collect(),
                false => outcomes
                    .par_chunks(OUTCOMES_PER_PIECE)
                    .map(encode)
                    .collect(),
            }
        };
        let ((), (changes, encoded_outcomes)) = self.inner.pool.install(|| {
            rayon::join(record_all, || {
                rayon::join(|| pending.into_changes(), encode_all)
            })
        });
        let changes = credit_fees(changes, snapshot.as_ref(), &frame.fee_recipient, total_fees)?;
        receipt.total_fees = Some(total_fees.into());
        // Nothing reads the snapshot any more: letting it go lets the store commit in place.
        drop(snapshot);
        let head =
            self.commit_with_retry(frame.number, &changes, &mut receipt, &encoded_outcomes)?;
        receipt.outcomes = outcomes;
        Ok((head, receipt))
    }

    /// Runs the prepared messages on the worker pool, each as soon as every earlier message
    /// it conflicts with has finished.
    fn run_parallel(
        &self,
        ctx: &ExecutionContext,
        slots: &[Slot],
        graph: &schedule::Graph,
        pending: &PendingState,
    ) -> Vec<Option<Result<Applied>>> {
        let waits: Vec<std::sync::atomic::AtomicUsize> = graph
            .waits_for
            .iter()
            .map(|&n| std::sync::atomic::AtomicUsize::new(n))
            .collect();
        let results: Vec<Mutex<Option<Result<Applied>>>> =
            slots.iter().map(|_| Mutex::new(None)).collect();
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

    /// The receipt entry of one message, and the fee it paid or an error when the message
    /// failed for a reason that is not its own, which stops the frame (its entry is then
    /// incomplete, and never used).
    fn outcome(
        &self,
        index: usize,
        slot: Slot,
        result: Option<Result<Applied>>,
        hash: &[u8; 32],
    ) -> (MessageOutcome, Result<Tally>) {
        let mut outcome = MessageOutcome {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            message_hash: hash.to_vec(),
            ..Default::default()
        };
        let tally = self.fill_outcome(&mut outcome, index, &slot, result);
        (outcome, tally)
    }

    /// Fills in how one message ended; see [`Manager::outcome`].
    fn fill_outcome(
        &self,
        outcome: &mut MessageOutcome,
        index: usize,
        slot: &Slot,
        result: Option<Result<Applied>>,
    ) -> Result<Tally> {
        match (slot, result) {
            (Err(refused), _) if refused.error.severity() != Severity::Rejected => {
                // Not the message's fault (e.g. the store failed while routing): the frame
                // cannot be decided, so it is not committed, and the manager stops.
                self.inner.cancel.cancel();
                Err(self.escalate(ManagerError::FrameAborted {
                    index,
                    reason: refused.error.to_string(),
                }))
            }
            (Err(refused), _) => {
                outcome.set_status(refused.status);
                outcome.reason = refused.error.to_string();
                Ok(Tally {
                    fee: 0,
                    status: refusal_status(refused),
                    seconds: 0.0,
                    engine: "none",
                })
            }
            (Ok(prepared), Some(Ok(applied))) => {
                outcome.set_status(applied.status);
                outcome.cost = prepared.cost;
                outcome.fee = Some(applied.fee.into());
                outcome.reason = applied
                    .error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let status = if applied.status == MessageStatus::Applied {
                    Status::Ok
                } else {
                    Status::Rejected
                };
                Ok(Tally {
                    fee: applied.fee,
                    status,
                    seconds: applied.seconds,
                    engine: prepared.engine_name(),
                })
            }
            (Ok(_), Some(Err(error))) => Err(self.escalate(error)),
            (Ok(_), None) => Err(ManagerError::Internal(format!(
                "the scheduler skipped message {index}"
            ))),
        }
    }

    /// Records one message of a frame in the request metrics (`op="apply"`); a refused
    /// message was never applied and counts with a zero duration.
    fn record(&self, tally: &Tally) {
        self.inner
            .metrics
            .record_request(tally.engine, Op::Apply, tally.status, tally.seconds);
    }

    /// Commits the frame's changes with its receipt: `receipt` without its outcomes, which
    /// come already encoded (see [`FrameReceipt::encode_outcome`]). Sets the receipt's root.
    fn commit_with_retry(
        &self,
        number: u64,
        changes: &ChangeSet,
        receipt: &mut FrameReceipt,
        encoded_outcomes: &[Vec<u8>],
    ) -> Result<Head> {
        self.inner.retry.run(&self.inner.cancel, || {
            let mut build = |root: &switchyard_state::StateRoot| {
                receipt.state_root = root.0.to_vec();
                receipt.to_canonical_bytes_with_outcomes(encoded_outcomes)
            };
            // On the manager's pool, so that the store's parallel hashing uses the configured
            // number of threads.
            let store = &self.inner.store;
            self.inner
                .pool
                .install(|| store.commit(number, changes, &mut build))
                .map_err(ManagerError::from)
        })
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
    results: &'a [Mutex<Option<Result<Applied>>>],
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
    ) -> Result<Applied> {
        let started = Instant::now();
        let base: &dyn StateRead = match visibility.isolated {
            true => pending.committed(),
            false => pending,
        };
        let mut applied = self
            .inner
            .retry
            .run(&self.inner.cancel, || apply_message(ctx, prepared, base))?;
        if let Some(changes) = applied.changes.take() {
            match visibility.publish {
                true => pending.absorb(changes),
                false => pending.keep(changes),
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

/// The frame's change set with its fees credited to the recipient's native account (by
/// [`fees::credit`], the one crediting rule), on top of the frame's own write of that account
/// if any. `writes` are the frame's writes in address order, one per address.
fn credit_fees(
    mut writes: Vec<(Address, Option<Vec<u8>>)>,
    committed: &dyn StateRead,
    recipient: &[u8; 32],
    total: u128,
) -> Result<ChangeSet> {
    let credit = {
        let frame = FrameWrites {
            writes: &writes,
            committed,
        };
        let mut overlay = Overlay::new(&frame);
        fees::credit(&mut overlay, recipient, total)?;
        overlay.into_changes()
    };
    for (address, value) in credit {
        match writes.binary_search_by(|(a, _)| a.cmp(&address)) {
            Ok(at) => {
                if let Some(entry) = writes.get_mut(at) {
                    entry.1 = value;
                }
            }
            Err(at) => writes.insert(at, (address, value)),
        }
    }
    Ok(ChangeSet::from_sorted(writes))
}

/// A frame's writes in address order over the committed state, read as one state.
struct FrameWrites<'a> {
    writes: &'a [(Address, Option<Vec<u8>>)],
    committed: &'a dyn StateRead,
}

impl StateRead for FrameWrites<'_> {
    fn get(&self, address: &Address) -> std::result::Result<Option<Vec<u8>>, StateError> {
        match self.writes.binary_search_by(|(a, _)| a.cmp(address)) {
            Ok(at) => Ok(self.writes.get(at).and_then(|(_, value)| value.clone())),
            Err(_) => self.committed.get(address),
        }
    }
}

/// The metrics status of a refused message.
fn refusal_status(refused: &Refused) -> Status {
    match (&refused.error, refused.status) {
        (ManagerError::Route(switchyard_router::RouteError::NoEngine { .. }), _) => {
            Status::NoEngine
        }
        (_, MessageStatus::Malformed) => Status::Malformed,
        _ => Status::Rejected,
    }
}
