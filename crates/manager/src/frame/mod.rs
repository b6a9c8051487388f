//! Frames: ordered batches of messages executed in parallel with the serial result (DESIGN §6).
//!
//! A [`FrameExecutor`](executor::FrameExecutor) runs a frame's five phases, in this order,
//! each in the module of the same name (and under the same `phase` metric label):
//! 1. [`prepare`]: strict decode, routing, cost and fee, access sets and graph footprints;
//!    a message refused here has no effect at all;
//! 2. [`validate`]: signatures (batch-verified) and engine validation, alongside the
//!    receipt's message hashes and phase 3 (jobs claimed in order, see [`claim`]);
//! 3. [`schedule`]: the dependency graph over the messages' footprints: a message waits only
//!    for the earlier messages it conflicts with;
//! 4. [`execute`]: each message on its own overlays over the frame's [`view`], in frame order
//!    on one worker or on the pool as the graph allows; applying one message is [`message`],
//!    which `process_message` shares;
//! 5. [`commit`]: the receipt's outcomes, the fees credited once, and one atomic store commit
//!    of the frame's writes with the receipt and the new root.
//!
//! [`messages`] holds the per-message state the phases fill in; [`run`] says how a frame runs.

mod claim;
mod commit;
mod execute;
pub(crate) mod executor;
pub(crate) mod message;
mod messages;
pub(crate) mod prepare;
pub(crate) mod run;
mod schedule;
mod validate;
mod view;

pub use validate::verification_batch;

use switchyard_proto::v1::FrameReceipt;
use switchyard_router::Key;
use switchyard_state::Head;

/// What a committed frame produced.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameResult {
    /// The new head (frame number and state root).
    pub head: Head,
    /// The frame's receipt, as stored.
    pub receipt: FrameReceipt,
}

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
