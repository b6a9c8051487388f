//! Errors of the stores.

use std::path::PathBuf;

use switchyard_router::{Severity, StateError};

/// A `Result` whose error is a [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The frame number handed to [`crate::Store::commit`] is not the head's successor.
    #[error("frame {found} does not follow head frame {head}: expected frame {expected}")]
    FrameMismatch {
        /// The frame number of the current head.
        head: u64,
        /// The only frame number the store accepts next.
        expected: u64,
        /// The frame number handed in.
        found: u64,
    },
    /// The head is frame `u64::MAX`: no frame can follow it.
    #[error("no frame can follow head frame {head}")]
    FrameOverflow {
        /// The frame number of the current head.
        head: u64,
    },
    /// A file system operation failed.
    #[error("{context} {}: {source}", path.display())]
    Io {
        /// What was being done (e.g. "creating data directory").
        context: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The error the operating system reported.
        source: std::io::Error,
    },
    /// The redb database failed.
    #[error("redb failed while {context}: {source}")]
    Redb {
        /// What was being done (e.g. "committing frame 7").
        context: String,
        /// The error redb reported.
        source: redb::Error,
    },
    /// A stored record does not have the shape this version writes.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// The record (e.g. "head record").
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The store was closed ([`crate::Store::close`]); nothing more can be read or committed.
    #[error("the store is closed")]
    Closed,
    /// A commit's frame could not be made durable after it was applied in memory, so memory
    /// and disk may disagree: the store refuses every later call, and a restart recovers the
    /// last frame on disk.
    #[error("the store is poisoned: {reason}")]
    Poisoned {
        /// The failure that poisoned it (e.g. the log append's I/O error).
        reason: String,
    },
    /// The state would exceed the bound of a store that keeps it all in memory
    /// ([`crate::LogStoreOptions::max_state_bytes`]): the commit was refused whole, or the
    /// store refused to start.
    #[error("state of {state_bytes} bytes exceeds the bound of {max_bytes} bytes")]
    StateTooLarge {
        /// The state's bytes (64 per address plus the values) at the point of refusal.
        state_bytes: u64,
        /// The configured bound.
        max_bytes: u64,
    },
    /// A failure injected by a test with `fail_next_commit_after`; the commit was abandoned.
    #[error("injected failure after {writes} state writes")]
    Injected {
        /// The state writes the commit had performed when it failed.
        writes: usize,
    },
}

impl StoreError {
    /// How the manager handles the error: a frame-number mismatch, corrupt data, a poisoned
    /// store or a state past its memory bound means the node cannot go on safely
    /// ([`Severity::Critical`]); an I/O, database or injected failure
    /// left the last committed frame intact and may pass ([`Severity::Temporary`]).
    pub fn severity(&self) -> Severity {
        match self {
            StoreError::FrameMismatch { .. }
            | StoreError::FrameOverflow { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Closed
            | StoreError::Poisoned { .. }
            | StoreError::StateTooLarge { .. } => Severity::Critical,
            StoreError::Io { .. } | StoreError::Redb { .. } | StoreError::Injected { .. } => {
                Severity::Temporary
            }
        }
    }
}

impl From<StoreError> for StateError {
    fn from(error: StoreError) -> Self {
        StateError::Backend {
            reason: error.to_string(),
        }
    }
}
