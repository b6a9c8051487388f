//! Why the global engine refused an operation, a query or a genesis.

use switchyard_router::{Domain, EngineError, Key, StateError};

use crate::record::Filter;
use crate::status::{Operation, Status};

/// Result alias of this crate.
pub type Result<T, E = GlobalError> = std::result::Result<T, E>;

fn hex_key(key: &[u8; 32]) -> String {
    hex::encode(key)
}

fn on_filter(filter: &Option<Filter>) -> String {
    filter
        .as_ref()
        .map_or_else(String::new, |f| format!(" on filter {}", hex::encode(f)))
}

/// A prover operation, query or genesis was refused. Each variant names the check that failed
/// and the values it failed on. The engine returns these inside [`EngineError::Rejected`]; get
/// them back with `err.downcast_ref::<GlobalError>()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobalError {
    // ---- shape (checked by `validate`, and again by `access` and `apply`) ----
    /// A required field is absent.
    #[error("{operation} is missing its {field}")]
    MissingField {
        /// Operation name.
        operation: &'static str,
        /// The absent field.
        field: &'static str,
    },
    /// A prover operation sent anywhere but the global domain.
    #[error("{operation} must target the global domain, not {target}")]
    WrongTarget {
        /// Operation name.
        operation: &'static str,
        /// The target domain.
        target: Domain,
    },
    /// A key or filter field is not 32 bytes.
    #[error("{field} must be 32 bytes, got {len}")]
    BadKeyLength {
        /// The field (e.g. "filter").
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// An operation names a filter twice.
    #[error("filter {} is listed twice", hex_key(.filter))]
    DuplicateFilter {
        /// The filter.
        filter: Filter,
    },
    /// An operation names more filters than one operation may.
    #[error("{count} filters exceed the limit of {limit} per operation")]
    TooManyFilters {
        /// Filters named.
        count: usize,
        /// The limit ([`crate::MAX_FILTERS_PER_OPERATION`]).
        limit: usize,
    },
    /// A join (or a genesis prover) with no filter.
    #[error("a join must name at least one filter")]
    NoFilters,
    /// The proof of possession is not 64 bytes.
    #[error("proof of possession must be 64 bytes, got {len}")]
    BadProofLength {
        /// Its length.
        len: usize,
    },
    /// The proof of possession does not verify against the signer's key.
    #[error("proof of possession does not verify for prover {}", hex_key(.prover))]
    InvalidProofOfPossession {
        /// The prover (the signer).
        prover: Key,
    },
    /// A delegate address that is not 64 bytes (empty is allowed in a join only).
    #[error("delegate address must be 64 bytes, got {len}")]
    BadDelegateLength {
        /// Its length.
        len: usize,
    },
    /// A prover key that is not a valid Ed25519 public key.
    #[error("prover key {} is not a valid public key: {reason}", hex_key(.prover))]
    BadProverKey {
        /// The key.
        prover: Key,
        /// What was wrong.
        reason: String,
    },
    /// Kick evidence without one of its headers.
    #[error("kick evidence is missing header {which}")]
    MissingHeader {
        /// "a" or "b".
        which: &'static str,
    },
    /// A frame header field of the wrong length.
    #[error("header {which}: {field} must be {expected} bytes, got {len}")]
    MalformedHeader {
        /// "a" or "b".
        which: &'static str,
        /// The field.
        field: &'static str,
        /// The length it must have.
        expected: usize,
        /// Its length.
        len: usize,
    },
    /// A frame header of another network.
    #[error("header {which} is for network {found}, not {expected}")]
    WrongNetwork {
        /// "a" or "b".
        which: &'static str,
        /// The header's network id.
        found: u32,
        /// This network's id.
        expected: u32,
    },
    /// The two headers are for different frames.
    #[error("headers are for frames {a} and {b}, not the same frame")]
    DifferentFrameNumbers {
        /// Frame number of header a.
        a: u64,
        /// Frame number of header b.
        b: u64,
    },
    /// A header names another prover than the one kicked.
    #[error("header {which} is by prover {}, not the kicked prover {}", hex_key(.header_prover), hex_key(.kicked))]
    HeaderProverMismatch {
        /// "a" or "b".
        which: &'static str,
        /// The prover the header names.
        header_prover: Key,
        /// The prover kicked.
        kicked: Key,
    },
    /// The two headers are the same (signatures aside): no equivocation.
    #[error("the two headers are equal: no equivocation")]
    EqualHeaders,
    /// A header's signature does not verify against the kicked prover's key.
    #[error("header {which} is not signed by prover {}", hex_key(.prover))]
    BadHeaderSignature {
        /// "a" or "b".
        which: &'static str,
        /// The kicked prover.
        prover: Key,
    },

    // ---- state (checked by `apply`) ----
    /// The state machine refuses the operation in the filter's status.
    #[error("{operation}{} refused in status {status}: {rejection}", on_filter(.filter))]
    Transition {
        /// The operation.
        operation: Operation,
        /// The filter (`None` for a prover without a record, or a per-prover refusal).
        filter: Option<Filter>,
        /// The filter's status.
        status: Status,
        /// Why.
        rejection: Rejection,
    },
    /// The state machine refuses the operation because a window closed: the filter was
    /// stored as `stored`, whose window ended at frame `closed`, so it reads as `status`.
    #[error(
        "{operation} on filter {} refused: the {stored} window closed at frame {closed} (now {frame}), so the status is {status}: {rejection}",
        hex_key(.filter)
    )]
    WindowClosed {
        /// The operation.
        operation: Operation,
        /// The filter.
        filter: Filter,
        /// The stored status.
        stored: Status,
        /// What it reads as now.
        status: Status,
        /// The last frame of its window.
        closed: u64,
        /// The current frame.
        frame: u64,
        /// Why the table refuses the operation in `status`.
        rejection: Rejection,
    },
    /// A confirm or reject before the confirm window opened.
    #[error("{operation} on filter {} is too early: the window opens at frame {opens}, now {frame}", hex_key(.filter))]
    WindowNotOpen {
        /// The operation.
        operation: Operation,
        /// The filter.
        filter: Filter,
        /// The first frame of the window.
        opens: u64,
        /// The current frame.
        frame: u64,
    },
    /// The signer of a kick is not a registered (and not kicked) prover.
    #[error("kick signer {} is not a registered prover", hex_key(.signer))]
    KickerNotRegistered {
        /// The signer.
        signer: Key,
    },
    /// A kick of a prover that added filters in this very frame: its access set, computed
    /// from the state before the frame, may not cover them. Submit it again in a later frame.
    #[error("prover {} joined filters in frame {frame}; kick it in a later frame", hex_key(.prover))]
    JoinedThisFrame {
        /// The kicked prover.
        prover: Key,
        /// The current frame.
        frame: u64,
    },
    /// A join that would take the prover past the filters one prover may have.
    #[error("prover {} would have more than {limit} filters", hex_key(.prover))]
    TooManyProverFilters {
        /// The prover.
        prover: Key,
        /// The limit ([`crate::MAX_FILTERS_PER_PROVER`]).
        limit: usize,
    },
    /// A status index is full (after dropping what may be dropped).
    #[error("the index of status {status} is full ({limit} entries)")]
    IndexFull {
        /// The status.
        status: Status,
        /// The limit (the registry's `max_status_entries`).
        limit: usize,
    },
    /// A filter index is full (after dropping lapsed entries).
    #[error("filter {} already has {limit} provers", hex_key(.filter))]
    FilterFull {
        /// The filter.
        filter: Filter,
        /// The limit (the registry's `max_filter_entries`).
        limit: usize,
    },
    /// A query the engine cannot answer.
    #[error("{reason}")]
    BadQuery {
        /// What was wrong with it.
        reason: String,
    },

    // ---- genesis ----
    /// The registry configuration is invalid.
    #[error("bad registry config: {reason}")]
    BadConfig {
        /// What was wrong.
        reason: String,
    },
    /// The genesis lists a prover twice.
    #[error("genesis lists prover {} twice", hex_key(.prover))]
    DuplicateGenesisProver {
        /// The prover.
        prover: Key,
    },
}

/// Why [`write_genesis`](crate::write_genesis) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// The configuration was refused.
    #[error(transparent)]
    Global(#[from] GlobalError),
    /// Writing failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// An internal failure: the engine's own refusal, or a state access that failed. Converted to
/// an [`EngineError`] at the trait boundary, with the operation name.
#[derive(Debug)]
pub(crate) enum Failure {
    Global(GlobalError),
    State(StateError),
}

impl From<GlobalError> for Failure {
    fn from(error: GlobalError) -> Self {
        Failure::Global(error)
    }
}

impl From<StateError> for Failure {
    fn from(error: StateError) -> Self {
        Failure::State(error)
    }
}

impl Failure {
    pub(crate) fn into_engine(self, operation: &'static str) -> EngineError {
        match self {
            Failure::Global(error) => EngineError::rejected(crate::ENGINE_NAME, operation, error),
            Failure::State(error) => EngineError::State(error),
        }
    }
}

/// Why the table refuses an operation in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The prover has no record (update, kick).
    #[error("the prover is not registered")]
    NotRegistered,
    /// The prover never joined the filter.
    #[error("the prover never joined the filter")]
    NotJoined,
    /// A join while a join is pending.
    #[error("a join is already pending")]
    AlreadyJoining,
    /// A join while serving (active, paused or leaving).
    #[error("the prover already serves the filter")]
    AlreadyServing,
    /// A confirm with no pending join or leave.
    #[error("there is no pending join or leave to confirm")]
    NothingToConfirm,
    /// A reject with no pending join.
    #[error("there is no pending join to reject")]
    NotJoining,
    /// A confirm or reject of a join whose window closed.
    #[error("the join expired: its confirm window closed")]
    JoinExpired,
    /// A leave while not serving.
    #[error("the prover does not serve the filter")]
    NotServing,
    /// A leave while leaving.
    #[error("a leave is already pending")]
    AlreadyLeaving,
    /// A pause while not active.
    #[error("the prover is not active")]
    NotActive,
    /// A pause while paused.
    #[error("the prover is already paused")]
    AlreadyPaused,
    /// A resume while not paused.
    #[error("the prover is not paused")]
    NotPaused,
    /// Any operation of a kicked prover.
    #[error("the prover was kicked")]
    Kicked,
    /// A kick of a kicked prover.
    #[error("the prover was already kicked")]
    AlreadyKicked,
}
