//! Frames: ordered batches of messages executed in parallel with the serial result (DESIGN §6).
//!
//! The pipeline, in the order a frame goes through it, with the steps of DESIGN §6 each module
//! takes; `execute` runs them (`run_frame`, one method per phase) and publishes the new head:
//! - [`prepare`] (steps 1, 2 and 4): strict decode, routing, cost and fee, and access sets; a
//!   message that fails here or in validation is rejected with no effect.
//! - `validate` (step 3): signature checks (batch-verified) and engine validation, in one set
//!   of jobs with the dependency graph and the receipt's message hashes. [`claim`] hands the
//!   jobs out from one counter, so that the small ones (message hashes) fill the time the large
//!   ones (verification batches) leave idle at the phase's end.
//! - [`schedule`] (step 5): the dependency graph over the messages' address fingerprints; a
//!   message waits only for the earlier messages it conflicts with.
//! - [`apply`] (step 6): each message (a bundle) on its own overlays; fee and nonce settled
//!   first and kept even when the operation fails; shared by the frame executor and
//!   `process_message`.
//! - [`pending`] (step 6): the frame's shared view (committed snapshot + effects of finished
//!   messages that later messages may read), and the per-worker buffers of the writes nobody
//!   in the frame reads again.
//! - `commit` (step 7): the receipt's outcomes, the fees credited once, and one atomic store
//!   commit of the frame's writes with the receipt and the new root.

pub(crate) mod apply;
mod claim;
mod commit;
mod execute;
pub(crate) mod pending;
pub(crate) mod prepare;
mod schedule;
mod validate;

pub use execute::FrameResult;
pub use validate::verification_batch;

use switchyard_router::Key;

/// A frame: a number, a fee multiplier, who collects the fees, and the ordered messages, each
/// a target (a 32-byte domain or a 64-byte address) and canonical bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// The frame number; must follow the store's head.
    pub number: u64,
    /// Fee per unit of cost.
    pub fee_multiplier: u64,
    /// The account credited with the frame's fees, once, at commit.
    pub fee_recipient: Key,
    /// The messages in frame order: (target bytes, canonical message bytes).
    pub messages: Vec<(Vec<u8>, Vec<u8>)>,
    /// Set when the caller already verified every signature (e.g. at submission); the
    /// executor then skips verification. Default `false`.
    pub signatures_verified: bool,
}

impl Frame {
    /// An empty frame `number` with fee multiplier 1 and the zero fee recipient.
    pub fn new(number: u64) -> Self {
        Self {
            number,
            fee_multiplier: 1,
            fee_recipient: [0; 32],
            messages: Vec::new(),
            signatures_verified: false,
        }
    }

    /// Sets the fee multiplier (default 1).
    #[must_use]
    pub fn fee_multiplier(mut self, multiplier: u64) -> Self {
        self.fee_multiplier = multiplier;
        self
    }

    /// Sets the fee recipient (default the zero key).
    #[must_use]
    pub fn fee_recipient(mut self, recipient: Key) -> Self {
        self.fee_recipient = recipient;
        self
    }

    /// Marks every signature as verified by the caller (default `false`).
    #[must_use]
    pub fn signatures_verified(mut self, verified: bool) -> Self {
        self.signatures_verified = verified;
        self
    }

    /// Appends a message for `target`.
    #[must_use]
    pub fn message(mut self, target: impl Into<Vec<u8>>, bytes: impl Into<Vec<u8>>) -> Self {
        self.messages.push((target.into(), bytes.into()));
        self
    }
}
