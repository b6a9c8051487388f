//! The in-memory store: snapshots are shared frames, and commits update the frame in place
//! when no snapshot holds it, so they cost O(changes).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rayon::prelude::*;
use std::collections::HashMap;
use switchyard_router::{Address, AddressHashBuilder, StateError, StateRead};

use crate::lattice::Update;
use crate::store::{FailPoint, check_frame_number, injected};
use crate::{ChangeSet, Head, Lattice, Snapshot, StateRoot, Store, StoreError};

/// The entries of one committed frame.
type Entries = HashMap<Address, Value, AddressHashBuilder>;

/// A stored value, kept in the table's slot when it is short (an account record is 24 bytes):
/// reading it then costs no second memory access, and rewriting it no allocation.
#[derive(Clone)]
enum Value {
    /// Up to [`Value::INLINE`] bytes.
    Inline { len: u8, bytes: [u8; Value::INLINE] },
    /// Longer values.
    Heap(Box<[u8]>),
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Value {
    /// Bytes kept inline: the slot stays 32 bytes.
    const INLINE: usize = 30;

    fn new(value: &[u8]) -> Self {
        let mut bytes = [0; Self::INLINE];
        match (bytes.get_mut(..value.len()), u8::try_from(value.len())) {
            (Some(slot), Ok(len)) => {
                slot.copy_from_slice(value);
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(value.into()),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or(bytes),
            Self::Heap(bytes) => bytes,
        }
    }
}

/// One committed frame: its entries, lattice and head, never changed once published.
#[derive(Clone)]
struct Committed {
    entries: Entries,
    lattice: Lattice,
    head: Option<Head>,
}

/// An in-memory [`Store`] for tests, benches and genesis building. Nothing survives the
/// process.
///
/// A snapshot is an `Arc` of the committed frame, and reads through it take no lock. A commit
/// updates the frame in place when no snapshot holds it any more (O(changes)); while one does,
/// the commit works on a copy (O(state)) so that the snapshot never sees it. The frame executor
/// drops its snapshot before committing. A commit holds the frame's lock while it writes and
/// hashes the changed entries, so `head` and `snapshot` wait for it (the redb store's readers
/// do not): this store is for tests, benches and genesis building, not for a serving node.
///
/// ```
/// use switchyard_router::{Address, Domain, StateRead};
/// use switchyard_state::{ChangeSet, MemoryStore, Store};
///
/// let store = MemoryStore::new();
/// let address = Address::new(Domain([1; 32]), [2; 32]);
/// let mut changes = ChangeSet::new();
/// changes.put(address, b"value".to_vec());
/// let head = store.commit(1, &changes, &mut |root| root.0.to_vec())?;
/// assert_eq!(store.head(), Some(head));
/// assert_eq!(store.snapshot()?.get(&address)?, Some(b"value".to_vec()));
/// assert_eq!(store.receipt(1)?, Some(head.state_root.0.to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryStore {
    /// The last committed frame.
    current: RwLock<Arc<Committed>>,
    /// Receipts by frame number.
    receipts: RwLock<BTreeMap<u64, Box<[u8]>>>,
    /// Serialises commits.
    commit_lock: Mutex<()>,
    fail: FailPoint,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            current: RwLock::new(Arc::new(Committed {
                entries: Entries::with_hasher(AddressHashBuilder::default()),
                lattice: Lattice::new(),
                head: None,
            })),
            receipts: RwLock::new(BTreeMap::new()),
            commit_lock: Mutex::new(()),
            fail: FailPoint::new(),
        }
    }

    /// Makes the next commit fail with [`StoreError::Injected`] after `writes` state writes
    /// (after all of them when the frame has fewer). For tests of commit atomicity.
    #[doc(hidden)]
    pub fn fail_next_commit_after(&self, writes: usize) {
        self.fail.arm(writes);
    }

    /// Number of stored entries in the last committed frame.
    pub fn len(&self) -> usize {
        self.current.read().entries.len()
    }

    /// Whether the last committed frame stores nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn current(&self) -> Arc<Committed> {
        Arc::clone(&self.current.read())
    }
}

/// Applies `changes` to `entries` in place and returns the value each address had before, in
/// the order of `changes`. All or nothing: on an (injected) failure, every write already made is
/// undone before the error is returned.
fn apply_changes(
    entries: &mut Entries,
    changes: &ChangeSet,
    fail: Option<usize>,
) -> Result<Vec<Option<Value>>, StoreError> {
    let mut olds = Vec::with_capacity(changes.len());
    let mut result = Ok(());
    for (done, (address, value)) in changes.iter().enumerate() {
        result = injected(fail, done, false);
        if result.is_err() {
            break;
        }
        olds.push(match value {
            Some(value) => entries.insert(*address, Value::new(value)),
            None => entries.remove(address),
        });
    }
    if result.is_ok() {
        result = injected(fail, changes.len(), true);
    }
    if let Err(error) = result {
        // A change set names each address once, so the undo order does not matter.
        for (address, old) in changes.addresses().zip(olds) {
            match old {
                Some(old) => entries.insert(*address, old),
                None => entries.remove(address),
            };
        }
        return Err(error);
    }
    Ok(olds)
}

/// The updates `changes` makes to `entries` (old values looked up on the rayon pool; an
/// unchanged value is skipped by [`Lattice`] itself).
fn updates<'a>(entries: &'a Entries, changes: &'a ChangeSet) -> Vec<Update<'a>> {
    let changed: Vec<(&Address, Option<&[u8]>)> = changes.iter().collect();
    changed
        .into_par_iter()
        .map(|(address, new)| Update {
            address,
            old: entries.get(address).map(Value::as_slice),
            new,
        })
        .collect()
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.current();
        f.debug_struct("MemoryStore")
            .field("head", &current.head)
            .field("entries", &current.entries.len())
            .finish_non_exhaustive()
    }
}

impl Store for MemoryStore {
    fn head(&self) -> Option<Head> {
        self.current.read().head
    }

    fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError> {
        Ok(Arc::new(MemorySnapshot {
            committed: self.current(),
        }))
    }

    fn commit(
        &self,
        frame_number: u64,
        changes: &ChangeSet,
        receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
    ) -> Result<Head, StoreError> {
        let _serial = self.commit_lock.lock();
        let fail = self.fail.take();
        // Publish frame and receipt together: a reader that sees the new head finds its receipt.
        let mut receipts = self.receipts.write();
        let mut current = self.current.write();
        check_frame_number(current.head.as_ref(), frame_number)?;
        // In place when no snapshot holds the frame; on a copy otherwise.
        let next = Arc::make_mut(&mut *current);
        // The lattice moves by the changed entries only: the old values out, as the writes
        // replace them, and the new ones in.
        let mut lattice = next.lattice.clone();
        lattice
            .update_while_writing(changes, || apply_changes(&mut next.entries, changes, fail))?;
        let state_root = lattice.root();
        let head = Head {
            frame_number,
            state_root,
        };
        // Built with its exact length, so this keeps the buffer as it is (a conversion to an
        // `Arc<[u8]>` copied the ~490 KB of a 10,000-transfer receipt into new memory).
        let receipt = receipt(&state_root).into_boxed_slice();
        next.lattice = lattice;
        next.head = Some(head);
        receipts.insert(frame_number, receipt);
        Ok(head)
    }

    fn receipt(&self, frame_number: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .receipts
            .read()
            .get(&frame_number)
            .map(|bytes| bytes.to_vec()))
    }

    fn root_after(&self, changes: &ChangeSet) -> Result<StateRoot, StoreError> {
        let base = self.current();
        let mut lattice = base.lattice.clone();
        lattice.apply(&updates(&base.entries, changes));
        Ok(lattice.root())
    }

    fn recompute_root(&self) -> Result<StateRoot, StoreError> {
        let base = self.current();
        Ok(Lattice::from_entries(
            base.entries
                .iter()
                .map(|(address, value)| (address, value.as_slice())),
        )
        .root())
    }
}

/// A snapshot of a [`MemoryStore`]: the committed frame it was taken at.
struct MemorySnapshot {
    committed: Arc<Committed>,
}

impl fmt::Debug for MemorySnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySnapshot")
            .field("head", &self.committed.head)
            .finish_non_exhaustive()
    }
}

impl StateRead for MemorySnapshot {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self
            .committed
            .entries
            .get(address)
            .map(|value| value.as_slice().to_vec()))
    }
}

impl Snapshot for MemorySnapshot {
    fn head(&self) -> Option<Head> {
        self.committed.head
    }
}
