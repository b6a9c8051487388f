//! Phase 5, **commit**: the receipt's outcomes, the request metrics, the fee credit, and the
//! one atomic store commit of the frame's writes with the receipt and the new root.

use std::sync::Arc;

use rayon::prelude::*;
use switchyard_metrics::{Op, Status};
use switchyard_proto::v1::{FrameReceipt, MessageOutcome, MessageStatus};
use switchyard_router::fees;
use switchyard_router::{Address, Severity, StateError, StateRead};
use switchyard_state::{ChangeSet, Head, Overlay, Snapshot};

use super::Frame;
use super::executor::FrameExecutor;
use super::message::Ran;
use super::messages::{Finished, FrameMessages, Slot};
use super::prepare::Refused;
use super::run::RunMode;
use super::view::FrameView;
use crate::{ManagerError, Result};

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

impl FrameExecutor {
    /// Phase 5: builds the receipt, credits the frame's fees, and commits the frame's writes
    /// with the receipt and the new root in one store transaction. Returns the new head and
    /// the receipt as stored.
    pub(crate) fn commit_phase(
        &self,
        frame: &Frame,
        mode: RunMode,
        parent: Option<Head>,
        messages: FrameMessages<'_>,
        view: FrameView,
        snapshot: Arc<dyn Snapshot>,
    ) -> Result<(Head, FrameReceipt)> {
        let on_workers = mode.on_workers();
        messages.check_aligned()?;
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
        let outcome = |finished: Finished<'_>| self.outcome(finished);
        let (outcomes, tallies): (Vec<MessageOutcome>, Vec<Result<Tally, Box<ManagerError>>>) =
            match on_workers {
                true => messages.into_par_finished().map(outcome).unzip(),
                false => messages.into_finished().map(outcome).unzip(),
            };
        let tallies: Vec<Tally> = tallies
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|error| *error)?;
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
            match on_workers {
                false => outcomes.chunks(OUTCOMES_PER_PIECE).map(encode).collect(),
                true => outcomes
                    .par_chunks(OUTCOMES_PER_PIECE)
                    .map(encode)
                    .collect(),
            }
        };
        let ((), (changes, encoded_outcomes)) = self.pool.install(|| {
            rayon::join(record_all, || {
                rayon::join(|| view.into_changes(), encode_all)
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

    /// The receipt entry of one message, and the fee it paid or an error when the message
    /// failed for a reason that is not its own, which stops the frame (its entry is then
    /// incomplete, and never used).
    fn outcome(
        &self,
        finished: Finished<'_>,
    ) -> (MessageOutcome, Result<Tally, Box<ManagerError>>) {
        let Finished {
            index,
            slot,
            result,
            hash,
        } = finished;
        let mut outcome = MessageOutcome {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            message_hash: hash.to_vec(),
            ..Default::default()
        };
        let tally = self.fill_outcome(&mut outcome, index, &slot, result);
        (outcome, tally)
    }

    /// Fills in how one message ended; see [`FrameExecutor::outcome`].
    fn fill_outcome(
        &self,
        outcome: &mut MessageOutcome,
        index: usize,
        slot: &Slot,
        result: Option<Ran>,
    ) -> Result<Tally, Box<ManagerError>> {
        match (slot, result) {
            (Err(refused), _) if refused.error.severity() != Severity::Rejected => {
                // Not the message's fault (e.g. the store failed while routing): the frame
                // cannot be decided, so it is not committed, and the manager stops.
                self.cancel.cancel();
                Err(Box::new(self.escalate(ManagerError::FrameAborted {
                    index,
                    reason: refused.error.to_string(),
                })))
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
                outcome.results = applied.results;
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
            (Ok(_), Some(Err(error))) => Err(Box::new(self.escalate(*error))),
            (Ok(_), None) => Err(Box::new(ManagerError::Internal(format!(
                "the scheduler skipped message {index}"
            )))),
        }
    }

    /// Records one message of a frame in the request metrics (`op="apply"`); a refused
    /// message was never applied and counts with a zero duration.
    fn record(&self, tally: &Tally) {
        self.metrics
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
        self.retry.run(&self.cancel, || {
            let mut build = |root: &switchyard_state::StateRoot| {
                receipt.state_root = root.0.to_vec();
                receipt.to_canonical_bytes_with_outcomes(encoded_outcomes)
            };
            // On the manager's pool, so that the store's parallel hashing uses the configured
            // number of threads.
            let store = &self.store;
            self.pool
                .install(|| store.commit(number, changes, &mut build))
                .map_err(ManagerError::from)
        })
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
    match (&*refused.error, refused.status) {
        (ManagerError::Route(switchyard_router::RouteError::NoEngine { .. }), _) => {
            Status::NoEngine
        }
        (_, MessageStatus::Malformed) => Status::Malformed,
        _ => Status::Rejected,
    }
}
