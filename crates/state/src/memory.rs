//! The in-memory store: persistent maps, so snapshots are free and commits cost O(changes).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rpds::HashTrieMapSync;
use switchyard_router::{Address, AddressHashBuilder, StateError, StateRead};

use crate::lattice::Update;
use crate::store::{FailPoint, check_frame_number, injected};
use crate::{ChangeSet, Head, Lattice, Snapshot, StateRoot, Store, StoreError};

/// The entries of one committed frame. A persistent hash trie: cloning it is O(1) and shares
/// structure, and an insert copies only the path to the changed leaf.
type Entries = HashTrieMapSync<Address, Vec<u8>, AddressHashBuilder>;

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
/// Committed frames are persistent maps (structural sharing): a snapshot is an `Arc` clone
/// and reads take no lock; a commit costs O(changes x log state), never a copy of the state.
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
    receipts: RwLock<BTreeMap<u64, Arc<[u8]>>>,
    /// Serialises commits.
    commit_lock: Mutex<()>,
    fail: FailPoint,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            current: RwLock::new(Arc::new(Committed {
                entries: Entries::new_with_hasher_and_ptr_kind(AddressHashBuilder),
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
        self.current.read().entries.size()
    }

    /// Whether the last committed frame stores nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn current(&self) -> Arc<Committed> {
        Arc::clone(&self.current.read())
    }
}

/// The entries of the next frame, built on a structural copy of the last one's: until they
/// are published, nothing of them is visible, so a failure leaves the last frame as it was.
fn next_entries(
    base: &Entries,
    changes: &ChangeSet,
    fail: Option<usize>,
) -> Result<Entries, StoreError> {
    let mut entries = base.clone();
    for (done, (address, value)) in changes.iter().enumerate() {
        injected(fail, done, false)?;
        match value {
            Some(value) => entries.insert_mut(*address, value.to_vec()),
            None => {
                entries.remove_mut(address);
            }
        }
    }
    injected(fail, changes.len(), true)?;
    Ok(entries)
}

/// The updates `changes` makes to `entries`.
fn updates<'a>(entries: &'a Entries, changes: &'a ChangeSet) -> Vec<Update<'a>> {
    changes
        .iter()
        .map(|(address, new)| Update {
            address,
            old: entries.get(address).map(Vec::as_slice),
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
            .field("entries", &current.entries.size())
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
        let base = self.current();
        check_frame_number(base.head.as_ref(), frame_number)?;

        // Hash (on the rayon pool) while the next frame's map is built: both only read `base`.
        let (lattice, entries) = rayon::join(
            || {
                let mut lattice = base.lattice.clone();
                lattice.apply(&updates(&base.entries, changes));
                lattice
            },
            || next_entries(&base.entries, changes, fail),
        );
        let entries = entries?;

        let state_root = lattice.root();
        let head = Head {
            frame_number,
            state_root,
        };
        let receipt: Arc<[u8]> = receipt(&state_root).into();
        let next = Arc::new(Committed {
            entries,
            lattice,
            head: Some(head),
        });
        {
            // Publish frame and receipt together: a reader that sees the new head finds its receipt.
            let mut receipts = self.receipts.write();
            let mut current = self.current.write();
            receipts.insert(frame_number, receipt);
            *current = next;
        }
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
        Ok(self.committed.entries.get(address).cloned())
    }
}

impl Snapshot for MemorySnapshot {}
