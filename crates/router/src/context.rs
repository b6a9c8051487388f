//! What an engine knows about the frame it runs in.

use crate::Key;

/// The frame-level inputs handed to every engine call. Engines read nothing else: no clock,
/// no randomness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionContext {
    /// Number of the frame being executed.
    pub frame_number: u64,
    /// Fee per unit of cost, in the native token's smallest unit.
    pub fee_multiplier: u64,
    /// Network id, part of every signed payload.
    pub network_id: u32,
    /// Account credited with the frame's fees (once, at commit).
    pub fee_recipient: Key,
}

impl ExecutionContext {
    /// A context for `frame_number` on `network_id` with fee multiplier 1 and the zero fee
    /// recipient.
    pub fn new(frame_number: u64, network_id: u32) -> Self {
        Self {
            frame_number,
            fee_multiplier: 1,
            network_id,
            fee_recipient: [0; 32],
        }
    }
}
