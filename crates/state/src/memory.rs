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
pub(crate) struct Committed {
    entries: Entries,
    lattice: Lattice,
    head: Option<Head>,
    /// [`entry_bytes`] summed over the entries.
    bytes: u64,
}

impl Committed {
    /// The entries, in no particular order.
    pub(crate) fn entries(&self) -> impl ExactSizeIterator<Item = (&Address, &[u8])> {
        self.entries
            .iter()
            .map(|(address, value)| (address, value.as_slice()))
    }

    /// The frame's lattice.
    pub(crate) fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    /// The frame's head.
    pub(crate) fn head(&self) -> Option<Head> {
        self.head
    }

    /// [`entry_bytes`] summed over the entries.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The bytes an entry counts for against a store's bound: its 64-byte address and its value.
pub(crate) fn entry_bytes(value_len: usize) -> u64 {
    64 + value_len as u64
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
    /// Whether commits keep their receipts in `receipts` (the log store keeps them on disk).
    keep_receipts: bool,
}

/// What [`MemoryStore::commit_with`] calls once a frame's root and receipt are known, before
/// anyone can see the frame: the log store makes it durable there.
pub(crate) type Durable<'a> = &'a mut dyn FnMut(&Head, &[u8]) -> Result<(), StoreError>;

/// A commit refused by the bound on the state's size: nothing of it was applied.
#[derive(Debug)]
pub(crate) struct TooLarge {
    /// The state's bytes had the frame been applied.
    pub(crate) would_be: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            current: RwLock::new(Arc::new(Committed {
                entries: Entries::with_hasher(AddressHashBuilder::default()),
                lattice: Lattice::new(),
                head: None,
                bytes: 0,
            })),
            receipts: RwLock::new(BTreeMap::new()),
            commit_lock: Mutex::new(()),
            fail: FailPoint::new(),
            keep_receipts: true,
        }
    }

    /// A store of the given frame that keeps no receipts (the log store's memory), built from
    /// its entries and lattice (trusted: a checkpoint's). Fails with [`TooLarge`] as soon as
    /// the entries pass `max_bytes`.
    pub(crate) fn from_frame(
        entries: impl IntoIterator<Item = Result<(Address, Vec<u8>), StoreError>>,
        capacity: usize,
        lattice: Lattice,
        head: Option<Head>,
        max_bytes: u64,
    ) -> Result<Result<Self, TooLarge>, StoreError> {
        let mut table = Entries::with_capacity_and_hasher(capacity, AddressHashBuilder::default());
        let mut bytes = 0u64;
        for entry in entries {
            let (address, value) = entry?;
            bytes = bytes.saturating_add(entry_bytes(value.len()));
            if bytes > max_bytes {
                return Ok(Err(TooLarge { would_be: bytes }));
            }
            if let Some(old) = table.insert(address, Value::new(&value)) {
                bytes = bytes.saturating_sub(entry_bytes(old.as_slice().len()));
            }
        }
        let store = Self::without_receipts();
        *store.current.write() = Arc::new(Committed {
            entries: table,
            lattice,
            head,
            bytes,
        });
        Ok(Ok(store))
    }

    /// An empty store that keeps no receipts.
    pub(crate) fn without_receipts() -> Self {
        Self {
            keep_receipts: false,
            ..Self::new()
        }
    }

    /// The last committed frame, held: while it is, the next commit works on a copy.
    pub(crate) fn committed(&self) -> Arc<Committed> {
        self.current()
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

    /// [`Store::commit`], refusing a frame that takes the state past `max_bytes` (nothing
    /// applied), and calling `durable` (when given) with the new head and receipt after both
    /// are computed and before the commit's locks are released: no reader can see the frame
    /// before `durable` returns. When `durable` fails the entries are already rewritten in
    /// place and cannot be rolled back: the caller must never use this store again.
    pub(crate) fn commit_with(
        &self,
        frame_number: u64,
        changes: &ChangeSet,
        receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
        max_bytes: u64,
        durable: Option<Durable<'_>>,
    ) -> Result<Head, CommitError> {
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
        let mut refused = None;
        let entries = &mut next.entries;
        let bytes = &mut next.bytes;
        let written = lattice.update_while_writing(changes, || {
            apply_changes(entries, bytes, changes, fail, max_bytes).map_err(|error| match error {
                CommitError::Store(error) => error,
                CommitError::TooLarge(too_large) => {
                    let would_be = too_large.would_be;
                    refused = Some(too_large);
                    StoreError::StateTooLarge {
                        state_bytes: would_be,
                        max_bytes,
                    }
                }
            })
        });
        if let Some(too_large) = refused {
            return Err(CommitError::TooLarge(too_large));
        }
        written?;
        let state_root = lattice.root();
        let head = Head {
            frame_number,
            state_root,
        };
        // Built with its exact length, so this keeps the buffer as it is (a conversion to an
        // `Arc<[u8]>` copied the ~490 KB of a 10,000-transfer receipt into new memory).
        let receipt = receipt(&state_root).into_boxed_slice();
        if let Some(durable) = durable {
            durable(&head, &receipt)?;
        }
        next.lattice = lattice;
        next.head = Some(head);
        if self.keep_receipts {
            receipts.insert(frame_number, receipt);
        }
        Ok(head)
    }
}

/// Applies `changes` to `entries` in place and returns the value each address had before, in
/// the order of `changes`. All or nothing: on an (injected) failure, every write already made is
/// undone before the error is returned.
///
/// `bytes` follows the entries' [`entry_bytes`]; past `max_bytes` the writes are undone and
/// the commit fails with [`CommitError::TooLarge`].
fn apply_changes(
    entries: &mut Entries,
    bytes: &mut u64,
    changes: &ChangeSet,
    fail: Option<usize>,
    max_bytes: u64,
) -> Result<Vec<Option<Value>>, CommitError> {
    let mut olds = Vec::with_capacity(changes.len());
    let mut result = Ok(());
    let (mut added, mut removed) = (0u64, 0u64);
    for (done, (address, value)) in changes.iter().enumerate() {
        result = injected(fail, done, false).map_err(CommitError::Store);
        if result.is_err() {
            break;
        }
        let old = match value {
            Some(value) => {
                added += entry_bytes(value.len());
                entries.insert(*address, Value::new(value))
            }
            None => entries.remove(address),
        };
        if let Some(old) = &old {
            removed += entry_bytes(old.as_slice().len());
        }
        olds.push(old);
    }
    if result.is_ok() {
        result = injected(fail, changes.len(), true).map_err(CommitError::Store);
    }
    let would_be = bytes.saturating_add(added).saturating_sub(removed);
    if result.is_ok() && would_be > max_bytes {
        result = Err(CommitError::TooLarge(TooLarge { would_be }));
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
    *bytes = would_be;
    Ok(olds)
}

/// Why [`MemoryStore::commit_with`] failed.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The frame would take the state past the bound; nothing of it was applied.
    TooLarge(TooLarge),
    /// Any other failure (from the `durable` hook: the frame is applied in memory).
    Store(StoreError),
}

impl From<StoreError> for CommitError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
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
        self.commit_with(frame_number, changes, receipt, u64::MAX, None)
            .map_err(|error| match error {
                CommitError::Store(error) => error,
                // Unreachable with no bound; reported as what it would be.
                CommitError::TooLarge(TooLarge { would_be }) => StoreError::StateTooLarge {
                    state_bytes: would_be,
                    max_bytes: u64::MAX,
                },
            })
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
