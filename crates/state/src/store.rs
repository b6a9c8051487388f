//! The store contract: heads, snapshots and atomic frame commits.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use switchyard_router::StateRead;

use crate::{ChangeSet, StateRoot, StoreError};

/// The last committed frame: its number and the state root after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Head {
    /// Number of the frame.
    pub frame_number: u64,
    /// The state root after the frame.
    pub state_root: StateRoot,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frame {} root {}", self.frame_number, self.state_root)
    }
}

/// Reads of one committed frame. A snapshot is unaffected by later commits, and can be read
/// from many threads at once.
pub trait Snapshot: StateRead + Send + Sync + fmt::Debug {
    /// The head of the frame this snapshot reads; `None` for the empty state before the
    /// first commit. Answers to queries carry it, so a caller knows which state it read.
    fn head(&self) -> Option<Head>;
}

/// A durable (or in-memory) state store. Used as `Arc<dyn Store>`; every method may be called
/// from many threads at once, and commits are serialised by the store.
pub trait Store: Send + Sync + fmt::Debug {
    /// Head of the last committed frame; `None` for an empty store (no frame committed yet).
    /// Cheap (no I/O). While another thread's commit completes, a snapshot taken at the same
    /// moment may already be of the new frame; each is always of one whole frame.
    fn head(&self) -> Option<Head>;

    /// A consistent snapshot of the last committed frame (of the empty state before the first
    /// commit). Errors are backend failures only.
    fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError>;

    /// Commits one frame atomically: `changes`, the receipt and the new root and head are
    /// written in one transaction, so after a crash either all of them are stored or none.
    ///
    /// `frame_number` must be the head's successor ([`StoreError::FrameMismatch`] otherwise);
    /// the first commit of an empty store may carry any number. `receipt` is called exactly
    /// once, with the new root, and returns the receipt bytes stored with the frame. Returns
    /// the new head. On error nothing of the frame is visible and the head is unchanged.
    fn commit(
        &self,
        frame_number: u64,
        changes: &ChangeSet,
        receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
    ) -> Result<Head, StoreError>;

    /// The stored receipt bytes of a committed frame; `None` when the frame was never committed.
    fn receipt(&self, frame_number: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The root `changes` would produce on top of the current head, without committing.
    fn root_after(&self, changes: &ChangeSet) -> Result<StateRoot, StoreError>;

    /// Recomputes the root of the last committed frame from a full scan of the stored entries,
    /// ignoring the persisted lattice. Costs O(state): for checks and tests, not the hot path.
    /// Equals `head().state_root` (or [`StateRoot::empty`]) unless the store is corrupt.
    fn recompute_root(&self) -> Result<StateRoot, StoreError>;

    /// Releases the store's files (a redb database can then be opened again in the same
    /// process); every later call fails with [`StoreError::Closed`]. Snapshots taken before
    /// stay readable until dropped. Idempotent; the default (a store holding no files) does
    /// nothing.
    fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Implements [`Store`] for a pointer type by forwarding every method to the pointee.
macro_rules! forward_store {
    ($($pointer:ty),* $(,)?) => {
        $(
            impl<T: Store + ?Sized> Store for $pointer {
                fn head(&self) -> Option<Head> {
                    (**self).head()
                }
                fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError> {
                    (**self).snapshot()
                }
                fn commit(
                    &self,
                    frame_number: u64,
                    changes: &ChangeSet,
                    receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
                ) -> Result<Head, StoreError> {
                    (**self).commit(frame_number, changes, receipt)
                }
                fn receipt(&self, frame_number: u64) -> Result<Option<Vec<u8>>, StoreError> {
                    (**self).receipt(frame_number)
                }
                fn root_after(&self, changes: &ChangeSet) -> Result<StateRoot, StoreError> {
                    (**self).root_after(changes)
                }
                fn recompute_root(&self) -> Result<StateRoot, StoreError> {
                    (**self).recompute_root()
                }
                fn close(&self) -> Result<(), StoreError> {
                    (**self).close()
                }
            }
        )*
    };
}

forward_store!(Arc<T>, Box<T>, &T);

/// Checks that `frame_number` may follow `head`.
pub(crate) fn check_frame_number(head: Option<&Head>, frame_number: u64) -> Result<(), StoreError> {
    let Some(head) = head else { return Ok(()) };
    let expected = head
        .frame_number
        .checked_add(1)
        .ok_or(StoreError::FrameOverflow {
            head: head.frame_number,
        })?;
    if frame_number == expected {
        Ok(())
    } else {
        Err(StoreError::FrameMismatch {
            head: head.frame_number,
            expected,
            found: frame_number,
        })
    }
}

/// A one-shot failure injected into the next commit, for tests of commit atomicity.
#[derive(Debug)]
pub(crate) struct FailPoint {
    /// State writes after which the next commit fails; `usize::MAX` when disarmed.
    after_writes: AtomicUsize,
}

impl FailPoint {
    const DISARMED: usize = usize::MAX;

    pub(crate) const fn new() -> Self {
        Self {
            after_writes: AtomicUsize::new(Self::DISARMED),
        }
    }

    /// Arms the failure for the next commit.
    pub(crate) fn arm(&self, writes: usize) {
        self.after_writes
            .store(writes.min(Self::DISARMED - 1), Ordering::SeqCst);
    }

    /// Takes the armed failure for the commit that starts now: `Some(writes)` when this commit
    /// must fail after `writes` state writes.
    pub(crate) fn take(&self) -> Option<usize> {
        match self.after_writes.swap(Self::DISARMED, Ordering::SeqCst) {
            Self::DISARMED => None,
            writes => Some(writes),
        }
    }
}

/// The failure of a commit armed with `after`, once it has performed `done` state writes
/// (`finished`: all of them). A commit armed with more writes than it has fails after its last.
pub(crate) fn injected(
    after: Option<usize>,
    done: usize,
    finished: bool,
) -> Result<(), StoreError> {
    match after {
        Some(writes) if writes == done || (finished && writes > done) => {
            Err(StoreError::Injected { writes: done })
        }
        _ => Ok(()),
    }
}
