//! Applying one message (a request or a bundle) on overlays: what the **execute** phase does
//! for each message, and what `process_message` does for one.
//!
//! One overlay, limited to the message's access set, receives first the fee and nonce
//! settlement of every request, in order, then the operations. A request whose settlement
//! fails stops the message; if nothing was settled yet the message is `Rejected` with no effect
//! at all, otherwise it is `Failed` and keeps the fees already settled. An operation that fails
//! discards the overlay (the bundle is atomic) and the settlement is replayed alone on a fresh
//! overlay over the same base, so the fees stay: failures are rare, and the common path pays
//! for one overlay only. Every caller (frames, serial reference,
//! `process_message`) goes through [`apply_message`], so all see the same semantics.

use switchyard_proto::v1::MessageStatus;
use switchyard_router::fees;
use switchyard_router::{ExecutionContext, MAX_RESULT_BYTES, Severity, StateRead};
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
    /// Why it failed, when it did (boxed: most messages succeed, and results are moved
    /// around by the frame).
    pub(crate) error: Option<Box<ManagerError>>,
    /// The message's writes (fees and nonces included); `None` when it had no effect.
    pub(crate) changes: Option<ChangeSet>,
    /// What each request produced, in order, for the receipt; empty when none produced
    /// anything (the common case, which allocates nothing).
    pub(crate) results: Vec<Vec<u8>>,
    /// Time spent applying it, for the request-duration metric (never in receipts or state).
    pub(crate) seconds: f64,
}

/// A message's run in a frame: how it ended, or the failure (boxed, it is rare) that stops
/// the frame.
pub(crate) type Ran = Result<Applied, Box<ManagerError>>;

/// Applies `prepared` on top of `base`. Errors are only failures that must stop the frame
/// (`Temporary` or `Critical` severity); the message's own failures are in [`Applied`].
pub(crate) fn apply_message(
    ctx: &ExecutionContext,
    prepared: &Prepared<'_>,
    base: &dyn StateRead,
) -> Result<Applied, ManagerError> {
    let mut overlay = Overlay::with_access(base, &prepared.access);
    let (fee, refusal) = settle_all(&mut overlay, prepared);
    match refusal {
        Some((0, error)) => {
            return Ok(Applied {
                status: MessageStatus::Rejected,
                fee: 0,
                error: Some(Box::new(escalate(error)?)),
                changes: None,
                results: Vec::new(),
                seconds: 0.0,
            });
        }
        Some((_, error)) => return Ok(failed(fee, escalate(error)?, overlay.into_changes())),
        None => {}
    }
    let mut results: Vec<Vec<u8>> = Vec::new();
    for (position, routed) in prepared.requests.iter().enumerate() {
        let applied = routed
            .engine
            .apply(ctx, &routed.call(), &mut overlay)
            .map_err(ManagerError::from)
            .and_then(|output| check_result(routed.engine.name(), output.result));
        let outcome = match applied {
            Ok(result) => {
                if !result.is_empty() {
                    // Entries for the earlier requests, which produced nothing.
                    results.resize(position, Vec::new());
                    results.push(result);
                }
                Ok(())
            }
            Err(error) => Err(error),
        };
        if let Err(error) = outcome {
            let error = escalate(error)?;
            // Roll back every operation of the message but keep its fees: settle again on a
            // fresh overlay over the same base, which gives the same settlement.
            drop(overlay);
            let mut fees_only = Overlay::with_access(base, &prepared.access);
            let (fee, _) = settle_all(&mut fees_only, prepared);
            return Ok(failed(fee, error, fees_only.into_changes()));
        }
    }
    if !results.is_empty() {
        results.resize(prepared.requests.len(), Vec::new());
    }
    Ok(Applied {
        status: MessageStatus::Applied,
        fee,
        error: None,
        changes: Some(overlay.into_changes()),
        results,
        seconds: 0.0,
    })
}

/// Refuses a result larger than the contract allows.
fn check_result(engine: &'static str, result: Vec<u8>) -> Result<Vec<u8>, ManagerError> {
    if result.len() > MAX_RESULT_BYTES {
        return Err(ManagerError::ResultTooLarge {
            engine,
            len: result.len(),
            limit: MAX_RESULT_BYTES,
        });
    }
    Ok(result)
}

/// Settles the fee and nonce of each request in order, stopping at the first refusal.
/// Returns the fees settled and, on a refusal, how many requests settled before it and why.
fn settle_all(
    overlay: &mut Overlay<'_>,
    prepared: &Prepared<'_>,
) -> (u128, Option<(usize, ManagerError)>) {
    let mut fee: u128 = 0;
    for (position, routed) in prepared.requests.iter().enumerate() {
        if let Err(error) = fees::settle(overlay, &routed.signer, routed.nonce, routed.fee) {
            return (fee, Some((position, ManagerError::from(error))));
        }
        fee = fee.saturating_add(routed.fee);
    }
    (fee, None)
}

fn failed(fee: u128, error: ManagerError, changes: ChangeSet) -> Applied {
    Applied {
        status: MessageStatus::Failed,
        fee,
        error: Some(Box::new(error)),
        changes: Some(changes),
        results: Vec::new(),
        seconds: 0.0,
    }
}

/// Keeps the message's own failures (`Ok`) and passes the others up to the caller (`Err`).
fn escalate(error: ManagerError) -> Result<ManagerError, ManagerError> {
    match error.severity() {
        Severity::Rejected => Ok(error),
        Severity::Temporary | Severity::Critical => Err(error),
    }
}
