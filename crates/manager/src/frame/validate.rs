//! Phase 2, **validate**: signatures (batch-verified) and engine validation, with the two
//! other pieces of work that need only the prepared messages: phase 3's dependency graph
//! (see `schedule`) and the receipt's message hashes. All three are one set of jobs, claimed
//! in order (see `claim`).

use std::sync::OnceLock;
use std::time::Instant;

use switchyard_router::auth::{SignatureCheck, verify_batch};

use super::executor::FrameExecutor;
use super::messages::{FrameMessages, Slot};
use super::prepare::{Refused, signature_checks};
use super::run::FrameRun;
use super::schedule;
use crate::{ManagerError, Result};

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

/// Messages hashed per piece of the validation phase's filler work (about 50 µs).
const HASHES_PER_PIECE: usize = 256;

/// Phase 3's result, built during phase 2.
pub(crate) struct Scheduled {
    /// The dependency graph of the frame's messages (empty in the serial reference).
    pub(crate) graph: schedule::Graph,
    /// Time spent building it, for the schedule-phase metric.
    pub(crate) seconds: f64,
}

impl FrameExecutor {
    /// Phase 2, with phase 3's dependency graph and the receipt's message hashes: refuses, in
    /// `messages`, every message whose signatures or engine validation fail, and fills in the
    /// hashes.
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
    pub(crate) fn validate_phase(
        &self,
        run: &FrameRun<'_>,
        messages: &mut FrameMessages<'_>,
    ) -> Result<Scheduled> {
        let frame = run.frame;
        let FrameMessages {
            slots,
            footprints,
            hashes: hash_column,
            ..
        } = messages;
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
                        .and_then(|()| super::prepare::validate(&run.ctx, prepared, run.committed))
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
                let graph = match run.mode.uses_graph() {
                    false => schedule::Graph::default(),
                    true => schedule::build(footprints),
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
        let workers = match run.mode.on_workers() {
            false => 1,
            true => self.pool.current_num_threads(),
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
        *hash_column = hashes;
        Ok(Scheduled {
            graph,
            seconds: graph_seconds,
        })
    }
}
