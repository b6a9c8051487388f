//! Errors of the manager façade.

use std::time::Duration;

use switchyard_proto::DecodeError;
use switchyard_proto::v1::MessageStatus;
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
    /// An operation returned a result larger than the engine contract allows.
    #[error("{engine} returned a result of {len} bytes, more than the {limit} allowed")]
    ResultTooLarge {
        /// The engine's name.
        engine: &'static str,
        /// The result's length.
        len: usize,
        /// [`switchyard_router::MAX_RESULT_BYTES`].
        limit: usize,
    },
    /// A query was sent to a domain whose engine is not the one of the query's family.
    #[error("{query} is a {family} query, but {domain} belongs to engine {engine}")]
    WrongEngine {
        /// The query's message name.
        query: &'static str,
        /// The family the query's tag belongs to.
        family: &'static str,
        /// The domain it was sent to.
        domain: switchyard_router::Domain,
        /// The engine that owns the domain.
        engine: &'static str,
    },
    /// The bytes handed to `query` are canonical, but not a query of any engine.
    #[error("not a query: {0}")]
    NotAQuery(String),
    /// `query` was called before anything was committed (there is no head to answer at).
    #[error("no frame is committed yet")]
    NoHead,
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
    /// Every variant is classified here, so a new one must be too.
    pub fn severity(&self) -> Severity {
        match self {
            ManagerError::Engine(e) => e.severity(),
            ManagerError::State(e) => e.severity(),
            ManagerError::Fee(FeeError::State(e)) => e.severity(),
            ManagerError::Store(e) => e.severity(),
            ManagerError::Route(RouteError::State { source, .. }) => source.severity(),
            ManagerError::Malformed(_)
            | ManagerError::NotAnOperation(_)
            | ManagerError::NotAQuery(_)
            | ManagerError::BadTarget(_)
            | ManagerError::TargetMismatch { .. }
            | ManagerError::Route(_)
            | ManagerError::Auth(_)
            | ManagerError::Fee(_)
            | ManagerError::LockConflict { .. }
            | ManagerError::CostOverflow { .. }
            | ManagerError::ResultTooLarge { .. }
            | ManagerError::WrongEngine { .. }
            | ManagerError::NoHead
            | ManagerError::FrameOutOfOrder { .. } => Severity::Rejected,
            ManagerError::Config(_) | ManagerError::FeeTotalOverflow => Severity::Rejected,
            ManagerError::RetriesExhausted { .. }
            | ManagerError::Cancelled
            | ManagerError::FrameAborted { .. }
            | ManagerError::Internal(_)
            | ManagerError::StartFailed { .. }
            | ManagerError::Timeout { .. }
            | ManagerError::StopFailed { .. } => Severity::Critical,
        }
    }

    /// The receipt status of a message refused with this error, the one function the frame
    /// executor and every byte-level entry point use: `Malformed` when the bytes are not a
    /// canonical operation (or the target is not an address), `Rejected` when the message is
    /// at fault and had no effect, `Failed` when the refusal is not the message's fault (a
    /// temporary or critical failure: the same message may succeed later).
    ///
    /// ```
    /// use switchyard_manager::ManagerError;
    /// use switchyard_proto::v1::MessageStatus;
    ///
    /// assert_eq!(ManagerError::NotAnOperation("empty bundle".into()).status(), MessageStatus::Malformed);
    /// assert_eq!(ManagerError::FeeTotalOverflow.status(), MessageStatus::Rejected);
    /// assert_eq!(ManagerError::Cancelled.status(), MessageStatus::Failed);
    /// ```
    pub fn status(&self) -> MessageStatus {
        match self {
            ManagerError::Malformed(_)
            | ManagerError::BadTarget(_)
            | ManagerError::NotAnOperation(_)
            | ManagerError::NotAQuery(_) => MessageStatus::Malformed,
            other => match other.severity() {
                Severity::Rejected => MessageStatus::Rejected,
                Severity::Temporary | Severity::Critical => MessageStatus::Failed,
            },
        }
    }
}
