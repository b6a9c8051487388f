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
    /// A failure injected by a test with `fail_next_commit_after`; the commit was abandoned.
    #[error("injected failure after {writes} state writes")]
    Injected {
        /// The state writes the commit had performed when it failed.
        writes: usize,
    },
}

impl StoreError {
    /// How the manager handles the error: a frame-number mismatch or corrupt data means the
    /// node cannot go on safely ([`Severity::Critical`]); an I/O, database or injected failure
    /// left the last committed frame intact and may pass ([`Severity::Temporary`]).
    pub fn severity(&self) -> Severity {
        match self {
            StoreError::FrameMismatch { .. }
            | StoreError::FrameOverflow { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Closed => Severity::Critical,
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
