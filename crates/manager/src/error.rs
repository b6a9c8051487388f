//! Errors of the manager façade.

use std::time::Duration;

use switchyard_proto::DecodeError;
use switchyard_router::fees::FeeError;
use switchyard_router::{Address, EngineError, RouteError, Severity, StateError, auth::AuthError};
use switchyard_state::StoreError;

/// Result alias of this crate.
pub type Result<T, E = ManagerError> = std::result::Result<T, E>;

/// Why a manager call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManagerError {
    /// The message bytes are not canonical.
    #[error("malformed message: {0}")]
    Malformed(#[from] DecodeError),
    /// The message is canonical but not an operation (e.g. a receipt), or an empty request.
    #[error("not an operation: {0}")]
    NotAnOperation(String),
    /// No engine owns the target domain (or the operation's family, for `cost`).
    #[error(transparent)]
    Route(#[from] RouteError),
    /// The operation's signature was refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Fee or nonce settlement refused the operation.
    #[error(transparent)]
    Fee(#[from] FeeError),
    /// An engine refused or failed the operation.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A state access failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `lock` found an address already locked in a conflicting way; nothing was locked.
    #[error("lock conflict on {address}")]
    LockConflict {
        /// The first conflicting address.
        address: Address,
    },
    /// An engine's `start` failed.
    #[error("engine {engine} failed to start: {reason}")]
    StartFailed {
        /// The engine's name.
        engine: &'static str,
        /// What it reported.
        reason: String,
    },
    /// An engine's `start` or `stop` did not return in time.
    #[error("engine {engine} did not {phase} within {timeout:?}")]
    Timeout {
        /// The engine's name.
        engine: &'static str,
        /// "start" or "stop".
        phase: &'static str,
        /// The timeout in force.
        timeout: Duration,
    },
    /// An engine's `stop` failed.
    #[error("engine {engine} failed to stop: {reason}")]
    StopFailed {
        /// The engine's name.
        engine: &'static str,
        /// What it reported.
        reason: String,
    },
    /// A temporary failure persisted through every retry and was escalated.
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: Box<ManagerError>,
    },
    /// The manager was shut down (its cancellation token is cancelled).
    #[error("the manager is shut down")]
    Cancelled,
    /// The builder was given an inconsistent configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An invariant of the frame executor did not hold: a bug. The frame is not committed.
    #[error("internal error: {0}")]
    Internal(String),
    /// The target is not a 32-byte domain or a 64-byte address (an empty target included).
    #[error("bad target: {0}")]
    BadTarget(#[source] switchyard_router::AddressError),
    /// The message target differs from the target its (first) request signed.
    #[error("message sent to {message} but signed for {signed}")]
    TargetMismatch {
        /// The target the message was sent to.
        message: switchyard_router::Domain,
        /// The target in the signed auth block.
        signed: switchyard_router::Domain,
    },
    /// A cost that does not fit the receipt's 64-bit field.
    #[error("cost {cost} does not fit in 64 bits")]
    CostOverflow {
        /// The cost, in decimal.
        cost: String,
    },
    /// The frame's fees add up to more than 128 bits.
    #[error("the frame's total fees overflow 128 bits")]
    FeeTotalOverflow,
    /// A message of a frame failed for a reason that is not its own (e.g. the store failed
    /// while routing it), so the frame could not be decided; nothing was committed.
    #[error("frame aborted at message {index}: {reason}")]
    FrameAborted {
        /// Position of the message in the frame.
        index: usize,
        /// What failed.
        reason: String,
    },
    /// A frame number that does not follow the head.
    #[error("frame {found} does not follow head frame {head}")]
    FrameOutOfOrder {
        /// The head frame number.
        head: u64,
        /// The frame number given.
        found: u64,
    },
}

impl ManagerError {
    /// How the failure is handled (DESIGN §7): the message's fault, worth a retry, or fatal.
    pub fn severity(&self) -> Severity {
        match self {
            ManagerError::Engine(e) => e.severity(),
            ManagerError::State(e) => e.severity(),
            ManagerError::Fee(FeeError::State(e)) => e.severity(),
            ManagerError::Store(e) => e.severity(),
            ManagerError::Route(RouteError::State { source, .. }) => source.severity(),
            ManagerError::RetriesExhausted { .. }
            | ManagerError::Cancelled
            | ManagerError::FrameAborted { .. }
            | ManagerError::Internal(_) => Severity::Critical,
            ManagerError::StartFailed { .. }
            | ManagerError::Timeout { .. }
            | ManagerError::StopFailed { .. } => Severity::Critical,
            _ => Severity::Rejected,
        }
    }
}
