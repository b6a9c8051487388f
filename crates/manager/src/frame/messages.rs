//! The per-message state of a frame, in one place.
//!
//! Each phase adds one column, and the commit takes them back message by message:
//! - `prepare` the slots (a prepared message, or its refusal) and graph footprints;
//! - `validate` the receipt's message hashes (and turns refused slots into refusals);
//! - `execute` each message's result.
//!
//! The columns are kept apart (struct of arrays) because each phase scans one of them over
//! tens of thousands of messages; this type is what keeps them aligned, and says so with an
//! error, never a panic, if a phase left one short.

use rayon::prelude::*;

use super::message::Ran;
use super::prepare::{Prepared, Refused};
use super::schedule::Footprint;
use crate::{ManagerError, Result};

/// One message after the prepare phase: ready to run, or refused with no effect.
pub(crate) type Slot<'r> = std::result::Result<Prepared<'r>, Refused>;

/// Every message of a frame, in frame order.
pub(crate) struct FrameMessages<'r> {
    /// Prepare: each message prepared, or refused.
    pub(crate) slots: Vec<Slot<'r>>,
    /// Prepare: each message's footprint in the dependency graph (`None` for a refused one,
    /// and in the serial reference, which builds no graph).
    pub(crate) footprints: Vec<Option<Footprint>>,
    /// Validate: the BLAKE3 hash of each message's bytes, for the receipt.
    pub(crate) hashes: Vec<[u8; 32]>,
    /// Execute: how each message ran (`None` for a refused one).
    pub(crate) results: Vec<Option<Ran>>,
}

/// One message at the commit: its position, slot, result and hash.
pub(crate) struct Finished<'r> {
    pub(crate) index: usize,
    pub(crate) slot: Slot<'r>,
    pub(crate) result: Option<Ran>,
    pub(crate) hash: [u8; 32],
}

impl<'r> FrameMessages<'r> {
    /// The state after the prepare phase.
    pub(crate) fn prepared(slots: Vec<Slot<'r>>, footprints: Vec<Option<Footprint>>) -> Self {
        Self {
            slots,
            footprints,
            hashes: Vec::new(),
            results: Vec::new(),
        }
    }

    /// Checks that every column has one entry per message; an error (a bug: the frame is
    /// not committed) when a phase left one short.
    pub(crate) fn check_aligned(&self) -> Result<()> {
        let count = self.slots.len();
        if self.footprints.len() != count
            || self.hashes.len() != count
            || self.results.len() != count
        {
            return Err(ManagerError::Internal(format!(
                "{count} messages but {} footprints, {} hashes and {} results",
                self.footprints.len(),
                self.hashes.len(),
                self.results.len()
            )));
        }
        Ok(())
    }

    /// Every message with its columns, in frame order, on the pool's workers (call
    /// [`Self::check_aligned`] first: a short column ends the iteration early).
    pub(crate) fn into_par_finished(
        self,
    ) -> impl IndexedParallelIterator<Item = Finished<'r>> + use<'r> {
        self.slots
            .into_par_iter()
            .zip(self.results)
            .zip(self.hashes)
            .enumerate()
            .map(|(index, ((slot, result), hash))| Finished {
                index,
                slot,
                result,
                hash,
            })
    }

    /// The same, on the calling thread.
    pub(crate) fn into_finished(self) -> impl Iterator<Item = Finished<'r>> + use<'r> {
        self.slots
            .into_iter()
            .zip(self.results)
            .zip(self.hashes)
            .enumerate()
            .map(|(index, ((slot, result), hash))| Finished {
                index,
                slot,
                result,
                hash,
            })
    }
}
