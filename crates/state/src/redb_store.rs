//! The redb store: the embedded, crash-safe default.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use redb::{
    Database, Durability, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition,
    WriteTransaction,
};
use switchyard_router::{Address, StateError, StateRead};

use crate::lattice::Update;
use crate::store::{FailPoint, check_frame_number, injected};
use crate::{ChangeSet, Head, Lattice, Snapshot, StateRoot, Store, StoreError};

/// Stored entries: the 64 address bytes (domain, then key) to the value.
const STATE: TableDefinition<&[u8; 64], &[u8]> = TableDefinition::new("state");
/// Receipts by frame number.
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
/// The format record, the head and the lattice of the last committed frame.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const FORMAT_KEY: &str = "format";
const FORMAT: &[u8] = b"switchyard-state/1";
/// Frame number (8 bytes, big-endian), then the state root (32 bytes).
const HEAD_KEY: &str = "head";
const HEAD_LEN: usize = 40;
/// [`Lattice::to_bytes`] of the head's state.
const LATTICE_KEY: &str = "lattice";

/// Entries hashed per batch by [`Store::recompute_root`].
const SCAN_BATCH: usize = 4096;

/// Options of a [`RedbStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedbOptions {
    sync_commits: bool,
    cache_size: usize,
    quick_repair: bool,
}

impl Default for RedbOptions {
    fn default() -> Self {
        Self {
            sync_commits: true,
            cache_size: 256 * 1024 * 1024,
            quick_repair: false,
        }
    }
}

impl RedbOptions {
    /// Whether a commit is on disk when it returns (redb's `Durability::Immediate`). Default
    /// `true`. With `false` a crash may lose the most recent frames (never part of a frame).
    ///
    /// ```
    /// let options = switchyard_state::RedbOptions::default().sync_commits(false);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn sync_commits(mut self, sync: bool) -> Self {
        self.sync_commits = sync;
        self
    }

    /// Bytes of memory redb may use to cache pages. Default 256 MiB.
    ///
    /// ```
    /// let options = switchyard_state::RedbOptions::default().cache_size(64 << 20);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn cache_size(mut self, bytes: usize) -> Self {
        self.cache_size = bytes;
        self
    }

    /// Whether every commit also saves redb's allocator state, so that reopening after a
    /// crash is almost instant instead of a walk over the whole file, at the price of slower
    /// commits (two-phase). Default `false`.
    ///
    /// ```
    /// let options = switchyard_state::RedbOptions::default().quick_repair(true);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn quick_repair(mut self, quick: bool) -> Self {
        self.quick_repair = quick;
        self
    }
}

/// A [`Store`] in one redb file, `state.redb` in the node's data directory.
///
/// Tables: `state` (64-byte address to value), `receipts` (frame number to receipt bytes)
/// and `meta` (format, head, lattice). A frame commits in one write transaction, with
/// `Durability::Immediate` unless [`RedbOptions::sync_commits`] says otherwise, so a crash
/// leaves the whole frame or none of it. Snapshots are redb read transactions: a snapshot held
/// open keeps the pages of its frame from being reused, so drop snapshots when the frame's
/// work is done. redb allows one open handle per file: opening the directory twice fails.
///
/// ```
/// use switchyard_router::{Address, Domain, StateRead};
/// use switchyard_state::{ChangeSet, RedbStore, Store};
///
/// let dir = tempfile::tempdir()?;
/// let address = Address::new(Domain([1; 32]), [2; 32]);
/// let mut changes = ChangeSet::new();
/// changes.put(address, b"value".to_vec());
/// let head = RedbStore::open(dir.path())?.commit(7, &changes, &mut |_| b"receipt".to_vec())?;
///
/// let reopened = RedbStore::open(dir.path())?;
/// assert_eq!(reopened.head(), Some(head));
/// assert_eq!(reopened.snapshot()?.get(&address)?, Some(b"value".to_vec()));
/// assert_eq!(reopened.receipt(7)?, Some(b"receipt".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedbStore {
    /// `None` once closed. Behind a lock only so that `close` can drop it: every other use
    /// takes the read side, which costs one uncontended atomic per transaction.
    db: RwLock<Option<Database>>,
    path: PathBuf,
    options: RedbOptions,
    /// The head of the last commit, for [`Store::head`] without a transaction.
    head: RwLock<Option<Head>>,
    /// Serialises commits, so the cached head follows the database.
    commit_lock: Mutex<()>,
    fail: FailPoint,
}

impl RedbStore {
    /// Begins a read transaction, or says the store is closed.
    fn begin_read(&self) -> Result<redb::ReadTransaction, redb::Error> {
        match self.db.read().as_ref() {
            Some(db) => Ok(db.begin_read()?),
            None => Err(redb::Error::DatabaseClosed),
        }
    }

    /// The file name of the database inside the data directory.
    pub const FILE_NAME: &'static str = "state.redb";

    /// Opens (or creates) the store in `data_dir` with the default [`RedbOptions`], creating
    /// the directory if needed.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(data_dir, RedbOptions::default())
    }

    /// Opens (or creates) the store in `data_dir` with `options`. Fails with
    /// [`StoreError::Corrupt`] when the stored meta records are malformed or disagree.
    pub fn open_with(data_dir: impl AsRef<Path>, options: RedbOptions) -> Result<Self, StoreError> {
        let dir = data_dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            context: "creating data directory",
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(Self::FILE_NAME);
        let db = Database::builder()
            .set_cache_size(options.cache_size)
            .create(&path)
            .map_err(|e| redb_error(format!("opening {}", path.display()), e))?;
        let head = initialise(&db)?;
        let db = RwLock::new(Some(db));
        Ok(Self {
            db,
            path,
            options,
            head: RwLock::new(head),
            commit_lock: Mutex::new(()),
            fail: FailPoint::new(),
        })
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the next commit fail with [`StoreError::Injected`] after `writes` state writes
    /// (after all of them when the frame has fewer), abandoning its transaction. For tests
    /// of commit atomicity.
    #[doc(hidden)]
    pub fn fail_next_commit_after(&self, writes: usize) {
        self.fail.arm(writes);
    }

    fn commit_in(
        &self,
        frame_number: u64,
        changes: &ChangeSet,
        receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
    ) -> Result<Head, StoreError> {
        let fail = self.fail.take();
        let context = |what: &str| format!("{what} of frame {frame_number}");
        let db = self.db.read();
        let mut txn = db
            .as_ref()
            .ok_or(StoreError::Closed)?
            .begin_write()
            .map_err(|e| redb_error(context("beginning the commit"), e))?;
        let durability = if self.options.sync_commits {
            Durability::Immediate
        } else {
            Durability::None
        };
        txn.set_durability(durability)
            .map_err(|e| redb_error(context("setting durability"), e))?;
        txn.set_quick_repair(self.options.quick_repair);

        let head = {
            let mut meta = txn
                .open_table(META)
                .map_err(|e| redb_error(context("opening meta"), e))?;
            let tip = read_tip(&meta)?;
            check_frame_number(tip.as_ref().map(|(head, _)| head), frame_number)?;
            let mut lattice = tip.map_or_else(Lattice::new, |(_, lattice)| lattice);

            // The new entries are hashed on the rayon pool while this thread writes them in
            // address order (the change set is sorted); the old values the writes replace are
            // then subtracted.
            lattice
                .update_while_writing(changes, || write_state(&txn, changes, fail, frame_number))?;

            let state_root = lattice.root();
            let head = Head {
                frame_number,
                state_root,
            };
            let receipt = receipt(&state_root);
            txn.open_table(RECEIPTS)
                .and_then(|mut receipts| {
                    receipts
                        .insert(frame_number, receipt.as_slice())
                        .map(drop)
                        .map_err(Into::into)
                })
                .map_err(|e| redb_error(context("storing the receipt"), e))?;
            meta.insert(HEAD_KEY, encode_head(&head).as_slice())
                .map_err(|e| redb_error(context("storing the head"), e))?;
            meta.insert(LATTICE_KEY, lattice.to_bytes().as_slice())
                .map_err(|e| redb_error(context("storing the lattice"), e))?;
            head
        };
        txn.commit()
            .map_err(|e| redb_error(context("committing"), e))?;
        Ok(head)
    }
}

/// Writes `changes` to the state table in order; returns the value each address had before.
fn write_state(
    txn: &WriteTransaction,
    changes: &ChangeSet,
    fail: Option<usize>,
    frame_number: u64,
) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
    let mut state = txn
        .open_table(STATE)
        .map_err(|e| redb_error(format!("opening state in frame {frame_number}"), e))?;
    let mut old_values = Vec::with_capacity(changes.len());
    for (done, (address, value)) in changes.iter().enumerate() {
        injected(fail, done, false)?;
        let key = address.to_bytes();
        let old = match value {
            Some(value) => state.insert(&key, value),
            None => state.remove(&key),
        }
        .map_err(|e| redb_error(format!("writing {address} in frame {frame_number}"), e))?;
        old_values.push(old.map(|guard| guard.value().to_vec()));
    }
    injected(fail, changes.len(), true)?;
    Ok(old_values)
}

/// Creates the tables and the format record of a new file, checks those of an existing one,
/// and reads its head.
fn initialise(db: &Database) -> Result<Option<Head>, StoreError> {
    let txn = db
        .begin_write()
        .map_err(|e| redb_error("beginning initialisation", e))?;
    let head = {
        txn.open_table(STATE)
            .map_err(|e| redb_error("creating the state table", e))?;
        txn.open_table(RECEIPTS)
            .map_err(|e| redb_error("creating the receipts table", e))?;
        let mut meta = txn
            .open_table(META)
            .map_err(|e| redb_error("creating the meta table", e))?;
        let tip = read_tip(&meta)?;
        let format = meta
            .get(FORMAT_KEY)
            .map_err(|e| redb_error("reading the format record", e))?;
        match format.map(|guard| guard.value().to_vec()) {
            Some(format) if format == FORMAT => {}
            Some(format) => {
                return Err(StoreError::Corrupt {
                    what: "format record",
                    reason: format!("unknown format {}", printable(&format)),
                });
            }
            None if tip.is_some() => {
                return Err(StoreError::Corrupt {
                    what: "format record",
                    reason: "missing in a store that has a head".into(),
                });
            }
            None => {
                meta.insert(FORMAT_KEY, FORMAT)
                    .map_err(|e| redb_error("writing the format record", e))?;
            }
        }
        tip.map(|(head, _)| head)
    };
    txn.commit()
        .map_err(|e| redb_error("committing initialisation", e))?;
    Ok(head)
}

/// A bounded, printable rendering of stored bytes for error messages.
fn printable(bytes: &[u8]) -> String {
    let shown = bytes.get(..32).unwrap_or(bytes);
    let ellipsis = if shown.len() < bytes.len() { "..." } else { "" };
    format!("0x{}{ellipsis} ({} bytes)", hex::encode(shown), bytes.len())
}

fn redb_error(context: impl Into<String>, error: impl Into<redb::Error>) -> StoreError {
    match error.into() {
        redb::Error::DatabaseClosed => StoreError::Closed,
        source => StoreError::Redb {
            context: context.into(),
            source,
        },
    }
}

fn encode_head(head: &Head) -> [u8; HEAD_LEN] {
    let mut bytes = [0u8; HEAD_LEN];
    let (frame, root) = bytes.split_at_mut(8);
    frame.copy_from_slice(&head.frame_number.to_be_bytes());
    root.copy_from_slice(&head.state_root.0);
    bytes
}

fn decode_head(bytes: &[u8]) -> Result<Head, StoreError> {
    let (Some(frame), Some(root), HEAD_LEN) = (
        bytes.first_chunk::<8>(),
        bytes.last_chunk::<32>(),
        bytes.len(),
    ) else {
        return Err(StoreError::Corrupt {
            what: "head record",
            reason: format!("{} bytes, expected {HEAD_LEN}", bytes.len()),
        });
    };
    Ok(Head {
        frame_number: u64::from_be_bytes(*frame),
        state_root: StateRoot(*root),
    })
}

/// Reads the head record alone.
fn read_head(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<Head>, StoreError> {
    let guard = meta
        .get(HEAD_KEY)
        .map_err(|e| redb_error("reading the head record", e))?;
    guard.map(|guard| decode_head(guard.value())).transpose()
}

/// Reads the head and lattice records and checks that they agree.
fn read_tip(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<(Head, Lattice)>, StoreError> {
    let head = read_head(meta)?;
    let lattice = meta
        .get(LATTICE_KEY)
        .map_err(|e| redb_error("reading the lattice record", e))?;
    let lattice = lattice
        .map(|guard| Lattice::from_bytes(guard.value()))
        .transpose()?;
    match (head, lattice) {
        (None, None) => Ok(None),
        (Some(head), Some(lattice)) => {
            let root = lattice.root();
            if root != head.state_root {
                return Err(StoreError::Corrupt {
                    what: "head record",
                    reason: format!(
                        "root {} is not the stored lattice's root {root}",
                        head.state_root
                    ),
                });
            }
            Ok(Some((head, lattice)))
        }
        (Some(head), None) => Err(StoreError::Corrupt {
            what: "lattice record",
            reason: format!("missing, while the head is {head}"),
        }),
        (None, Some(_)) => Err(StoreError::Corrupt {
            what: "head record",
            reason: "missing, while a lattice record exists".into(),
        }),
    }
}

impl fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .field("head", &*self.head.read())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Store for RedbStore {
    fn head(&self) -> Option<Head> {
        *self.head.read()
    }

    fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError> {
        let txn = self
            .begin_read()
            .map_err(|e| redb_error("beginning a snapshot", e))?;
        let meta = txn
            .open_table(META)
            .map_err(|e| redb_error("opening meta for a snapshot", e))?;
        let head = read_head(&meta)?;
        let state = txn
            .open_table(STATE)
            .map_err(|e| redb_error("opening state for a snapshot", e))?;
        Ok(Arc::new(RedbSnapshot { state, head }))
    }

    fn commit(
        &self,
        frame_number: u64,
        changes: &ChangeSet,
        receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
    ) -> Result<Head, StoreError> {
        let _serial = self.commit_lock.lock();
        let head = self.commit_in(frame_number, changes, receipt)?;
        *self.head.write() = Some(head);
        Ok(head)
    }

    fn close(&self) -> Result<(), StoreError> {
        // After any commit in progress: the file is released with a whole frame on disk.
        let _serial = self.commit_lock.lock();
        drop(self.db.write().take());
        Ok(())
    }

    fn receipt(&self, frame_number: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let context = || format!("reading the receipt of frame {frame_number}");
        let txn = self.begin_read().map_err(|e| redb_error(context(), e))?;
        let receipts = txn
            .open_table(RECEIPTS)
            .map_err(|e| redb_error(context(), e))?;
        let guard = receipts
            .get(frame_number)
            .map_err(|e| redb_error(context(), e))?;
        Ok(guard.map(|guard| guard.value().to_vec()))
    }

    fn root_after(&self, changes: &ChangeSet) -> Result<StateRoot, StoreError> {
        let txn = self
            .begin_read()
            .map_err(|e| redb_error("beginning root_after", e))?;
        let meta = txn
            .open_table(META)
            .map_err(|e| redb_error("opening meta for root_after", e))?;
        let mut lattice = read_tip(&meta)?.map_or_else(Lattice::new, |(_, lattice)| lattice);
        let state = txn
            .open_table(STATE)
            .map_err(|e| redb_error("opening state for root_after", e))?;
        let old_values = changes
            .addresses()
            .map(|address| {
                let guard = state
                    .get(&address.to_bytes())
                    .map_err(|e| redb_error(format!("reading {address} for root_after"), e))?;
                Ok(guard.map(|guard| guard.value().to_vec()))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let updates: Vec<Update<'_>> = changes
            .iter()
            .zip(&old_values)
            .map(|((address, new), old)| Update {
                address,
                old: old.as_deref(),
                new,
            })
            .collect();
        lattice.apply(&updates);
        Ok(lattice.root())
    }

    fn recompute_root(&self) -> Result<StateRoot, StoreError> {
        let txn = self
            .begin_read()
            .map_err(|e| redb_error("beginning a full scan", e))?;
        let state = txn
            .open_table(STATE)
            .map_err(|e| redb_error("opening state for a full scan", e))?;
        let mut lattice = Lattice::new();
        let mut batch: Vec<(Address, Vec<u8>)> = Vec::with_capacity(SCAN_BATCH);
        let flush = |lattice: &mut Lattice, batch: &mut Vec<(Address, Vec<u8>)>| {
            let updates: Vec<Update<'_>> = batch
                .iter()
                .map(|(address, value)| Update {
                    address,
                    old: None,
                    new: Some(value),
                })
                .collect();
            lattice.apply(&updates);
            batch.clear();
        };
        for entry in state.iter().map_err(|e| redb_error("scanning state", e))? {
            let (key, value) = entry.map_err(|e| redb_error("scanning state", e))?;
            batch.push((address_from_key(key.value())?, value.value().to_vec()));
            if batch.len() == SCAN_BATCH {
                flush(&mut lattice, &mut batch);
            }
        }
        flush(&mut lattice, &mut batch);
        Ok(lattice.root())
    }
}

fn address_from_key(key: &[u8; 64]) -> Result<Address, StoreError> {
    Address::from_slice(key).map_err(|e| StoreError::Corrupt {
        what: "state key",
        reason: e.to_string(),
    })
}

/// A snapshot of a [`RedbStore`]: a redb read transaction on the state table.
struct RedbSnapshot {
    state: ReadOnlyTable<&'static [u8; 64], &'static [u8]>,
    head: Option<Head>,
}

impl fmt::Debug for RedbSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbSnapshot")
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

impl StateRead for RedbSnapshot {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        let guard = self
            .state
            .get(&address.to_bytes())
            .map_err(|e| StateError::Backend {
                reason: format!("redb failed while reading {address}: {e}"),
            })?;
        Ok(guard.map(|guard| guard.value().to_vec()))
    }
}

impl Snapshot for RedbSnapshot {
    fn head(&self) -> Option<Head> {
        self.head
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use switchyard_router::Domain;

    fn committed_store() -> (tempfile::TempDir, Head) {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path()).unwrap();
        let mut changes = ChangeSet::new();
        changes.put(Address::new(Domain([1; 32]), [1; 32]), b"one".to_vec());
        let head = store.commit(1, &changes, &mut |_| Vec::new()).unwrap();
        (dir, head)
    }

    /// Rewrites (or removes, with `None`) one meta record behind the store's back.
    fn tamper(dir: &Path, key: &str, value: Option<&[u8]>) {
        let db = Database::create(dir.join(RedbStore::FILE_NAME)).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut meta = txn.open_table(META).unwrap();
            match value {
                Some(value) => meta.insert(key, value).map(drop).unwrap(),
                None => meta.remove(key).map(drop).unwrap(),
            }
        }
        txn.commit().unwrap();
    }

    #[test]
    fn corrupt_meta_records_are_typed_errors_on_open() {
        let other_lattice = {
            let mut lattice = Lattice::new();
            lattice.insert(&Address::new(Domain([9; 32]), [9; 32]), b"other");
            lattice.to_bytes()
        };
        let huge = vec![7u8; 1 << 20];
        let cases: [(&str, Option<&[u8]>, &str, &str); 7] = [
            (
                HEAD_KEY,
                Some(b"abc"),
                "head record",
                "3 bytes, expected 40",
            ),
            (
                HEAD_KEY,
                Some(&huge),
                "head record",
                "1048576 bytes, expected 40",
            ),
            (
                LATTICE_KEY,
                Some(&[0; 2047]),
                "lattice record",
                "2047 bytes, expected 2048",
            ),
            (
                LATTICE_KEY,
                Some(&other_lattice),
                "head record",
                "is not the stored lattice's root",
            ),
            (
                LATTICE_KEY,
                None,
                "lattice record",
                "missing, while the head is frame 1",
            ),
            (
                FORMAT_KEY,
                Some(b"switchyard-state/9"),
                "format record",
                "unknown format 0x",
            ),
            (
                FORMAT_KEY,
                None,
                "format record",
                "missing in a store that has a head",
            ),
        ];
        for (key, value, what, reason) in cases {
            let (dir, _) = committed_store();
            tamper(dir.path(), key, value);
            match RedbStore::open(dir.path()) {
                Err(StoreError::Corrupt {
                    what: found,
                    reason: text,
                }) => {
                    assert_eq!(found, what, "{key}");
                    assert!(text.contains(reason), "{key}: {text}");
                    assert!(text.len() < 200, "error text is bounded: {text}");
                }
                other => panic!("{key}: expected a corrupt-record error, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_lattice_without_its_head_is_refused() {
        let (dir, head) = committed_store();
        let store = RedbStore::open(dir.path()).unwrap();
        assert_eq!(store.head(), Some(head));
        drop(store);
        tamper(dir.path(), HEAD_KEY, None);
        assert!(matches!(
            RedbStore::open(dir.path()),
            Err(StoreError::Corrupt {
                what: "head record",
                ..
            })
        ));
    }

    #[test]
    fn head_records_round_trip() {
        let head = Head {
            frame_number: u64::MAX - 1,
            state_root: StateRoot([5; 32]),
        };
        assert_eq!(decode_head(&encode_head(&head)).unwrap(), head);
    }
}
