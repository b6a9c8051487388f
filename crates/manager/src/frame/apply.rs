//! Step 3: applying one message (a request or a bundle) on overlays.
//!
//! Two overlays, both limited to the message's access set: the *fee* overlay receives the fee
//! and nonce settlement of every request, in order; the *effects* overlay, on top of it,
//! receives the operations. A request whose settlement fails stops the message; if nothing was
//! settled yet the message is `Rejected` with no effect at all, otherwise it is `Failed` and
//! keeps the fees already settled. An operation that fails discards the whole effects overlay
//! (the bundle is atomic) but keeps the fee overlay. Every caller (frames, serial reference,
//! `process_message`) goes through [`apply_message`], so all see the same semantics.

use switchyard_proto::v1::MessageStatus;
use switchyard_router::fees;
use switchyard_router::{ExecutionContext, Severity, StateRead};
use switchyard_state::{ChangeSet, Overlay};

use super::prepare::Prepared;
use crate::ManagerError;

/// How a message ended, before it is written into a receipt.
#[derive(Debug)]
pub(crate) struct Applied {
    /// `Applied`, `Failed` or `Rejected`.
    pub(crate) status: MessageStatus,
    /// Fees settled.
    pub(crate) fee: u128,
    /// Why it failed, when it did.
    pub(crate) error: Option<ManagerError>,
    /// The message's writes (fees and nonces included); `None` when it had no effect.
    pub(crate) changes: Option<ChangeSet>,
}

/// Applies `prepared` on top of `base`. Errors are only failures that must stop the frame
/// (`Temporary` or `Critical` severity); the message's own failures are in [`Applied`].
pub(crate) fn apply_message(
    ctx: &ExecutionContext,
    prepared: &Prepared,
    base: &dyn StateRead,
) -> Result<Applied, ManagerError> {
    let mut fee_overlay = Overlay::with_access(base, &prepared.access);
    let mut fee: u128 = 0;
    for (position, routed) in prepared.requests.iter().enumerate() {
        if let Err(error) = fees::settle(&mut fee_overlay, &routed.signer, routed.nonce, routed.fee)
        {
            let error = escalate(ManagerError::from(error))?;
            if position == 0 {
                return Ok(Applied {
                    status: MessageStatus::Rejected,
                    fee: 0,
                    error: Some(error),
                    changes: None,
                });
            }
            return Ok(failed(fee, error, fee_overlay.into_changes()));
        }
        fee = fee.saturating_add(routed.fee);
    }

    let mut effects = Overlay::with_access(&fee_overlay, &prepared.access);
    for routed in &prepared.requests {
        if let Err(error) = routed
            .engine
            .apply(ctx, &routed.target, &routed.request, &mut effects)
        {
            let error = escalate(ManagerError::from(error))?;
            drop(effects);
            return Ok(failed(fee, error, fee_overlay.into_changes()));
        }
    }
    let effects = effects.into_changes();
    fee_overlay.merge(effects)?;
    Ok(Applied {
        status: MessageStatus::Applied,
        fee,
        error: None,
        changes: Some(fee_overlay.into_changes()),
    })
}

fn failed(fee: u128, error: ManagerError, changes: ChangeSet) -> Applied {
    Applied {
        status: MessageStatus::Failed,
        fee,
        error: Some(error),
        changes: Some(changes),
    }
}

/// Keeps the message's own failures (`Ok`) and passes the others up to the caller (`Err`).
fn escalate(error: ManagerError) -> Result<ManagerError, ManagerError> {
    match error.severity() {
        Severity::Rejected => Ok(error),
        Severity::Temporary | Severity::Critical => Err(error),
    }
}
