//! The log store: state served from memory, made durable by an append-only frame log synced
//! once per commit, checkpointed in the background.
//!
//! Files in the data directory (the formats are in [`LogStore`]'s documentation):
//! - `log-<first frame>.seg`: log segments, one record per committed frame;
//! - `checkpoint-<frame>.ckpt`: the full state of one frame (`.tmp` while being written);
//! - `receipts.dat`: the receipts of frames whose segments a checkpoint retired;
//! - `LOCK`: held (an advisory file lock) while a store has the directory open.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Mutex, RwLock};
use switchyard_router::Address;

use crate::memory::{CommitError, Committed, TooLarge};
use crate::{ChangeSet, Head, Lattice, MemoryStore, Snapshot, StateRoot, Store, StoreError};

/// Magic of a log record.
const LOG_MAGIC: [u8; 4] = *b"SYL1";
/// Magic of a receipts-file entry.
const RECEIPT_MAGIC: [u8; 4] = *b"SYR1";
/// Magic and version of a checkpoint file.
const CHECKPOINT_MAGIC: [u8; 8] = *b"SYCKPT01";
/// A record's header: magic (4), body length (8), frame (8), check of those (8).
const HEADER_LEN: usize = 28;
/// A record's trailer: BLAKE3 of header and body.
const CHECKSUM_LEN: usize = 32;
/// A log record's body before its changes: the root (32), the number of changes (8).
const BODY_PREFIX: usize = 40;
/// Tags of a change in a log record.
const TAG_DELETE: u8 = 0;
const TAG_PUT: u8 = 1;
/// Checkpoint and receipt copies are written in chunks of this size.
const CHUNK: usize = 1 << 20;

const LOCK_FILE: &str = "LOCK";
const RECEIPTS_FILE: &str = "receipts.dat";

/// Options of a [`LogStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogStoreOptions {
    checkpoint_bytes: u64,
    max_state_bytes: u64,
}

impl Default for LogStoreOptions {
    fn default() -> Self {
        Self {
            checkpoint_bytes: 256 << 20,
            max_state_bytes: 16 << 30,
        }
    }
}

impl LogStoreOptions {
    /// Log bytes written after which a background checkpoint starts (and the log rotates to
    /// a new segment). Default 256 MiB. Smaller values mean shorter recoveries and more
    /// frequent full dumps of the state (each makes the next commit copy the state once).
    ///
    /// ```
    /// let options = switchyard_state::LogStoreOptions::default().checkpoint_bytes(64 << 20);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn checkpoint_bytes(mut self, bytes: u64) -> Self {
        self.checkpoint_bytes = bytes;
        self
    }

    /// The largest state the store accepts, counted as 64 bytes per address plus the value's
    /// length. Default 16 GiB. The store refuses to open a larger state and refuses a commit
    /// that would pass it ([`StoreError::StateTooLarge`]). The process needs more memory than
    /// this: about 1.5x for the hash table, twice that while a checkpoint holds a frame.
    ///
    /// ```
    /// let options = switchyard_state::LogStoreOptions::default().max_state_bytes(4 << 30);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn max_state_bytes(mut self, bytes: u64) -> Self {
        self.max_state_bytes = bytes;
        self
    }
}

/// A durable [`Store`] that keeps the whole state in memory, bounded by
/// [`LogStoreOptions::max_state_bytes`]: a state larger than that is refused, never swapped.
///
/// **Commits** run as [`MemoryStore`]'s (in place, O(changes)) and, before the new frame can
/// be seen, append one record to the log and sync it (`fdatasync`): a commit costs the
/// frame's size on disk, whatever the size of the state. If the append fails the frame is
/// already applied in memory and cannot be rolled back: the store is then poisoned
/// ([`StoreError::Poisoned`]) and a restart recovers the last frame on disk.
///
/// **Checkpoints**: after [`LogStoreOptions::checkpoint_bytes`] of log, the log rotates to a
/// new segment and a background thread dumps the last committed frame to
/// `checkpoint-<frame>.ckpt` (written to a `.tmp` name, synced, renamed, directory synced),
/// copies the receipts of the segments it covers to `receipts.dat`, then deletes those
/// segments and older checkpoints. The dump holds the frame, so the next commit copies the
/// state once (O(state), memory doubled meanwhile) before going on in place.
///
/// **Recovery** (`open`) loads the newest checkpoint and replays the log after it, checking
/// each frame's recomputed root against its record; a short or bad record at the end of the
/// last segment (a crash mid-append) is truncated away, a bad record anywhere else is
/// [`StoreError::Corrupt`]. A SIGKILL at any moment recovers exactly the last synced frame.
///
/// Formats (integers little-endian): a log record is `"SYL1"`, body length (u64), frame
/// (u64), the first 8 bytes of BLAKE3 of those 20 bytes, then the body: the state root (32),
/// the number of changes (u64), each change (address 64, tag 1 = put with a u32 length and
/// the value, 0 = delete), the receipt's length (u64) and bytes; then BLAKE3 of all before.
/// A receipts-file entry has the same header (`"SYR1"`) and trailer around the receipt. A
/// checkpoint is `"SYCKPT01"`, frame (u64), root (32), entry count (u64), the lattice
/// (2048), each entry (address 64, u32 length, value), and BLAKE3 of all before.
///
/// ```
/// use switchyard_router::{Address, Domain, StateRead};
/// use switchyard_state::{ChangeSet, LogStore, Store};
///
/// let dir = tempfile::tempdir()?;
/// let address = Address::new(Domain([1; 32]), [2; 32]);
/// let mut changes = ChangeSet::new();
/// changes.put(address, b"value".to_vec());
/// let store = LogStore::open(dir.path())?;
/// let head = store.commit(7, &changes, &mut |_| b"receipt".to_vec())?;
/// store.close()?;
///
/// let reopened = LogStore::open(dir.path())?;
/// assert_eq!(reopened.head(), Some(head));
/// assert_eq!(reopened.snapshot()?.get(&address)?, Some(b"value".to_vec()));
/// assert_eq!(reopened.receipt(7)?, Some(b"receipt".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LogStore {
    memory: MemoryStore,
    options: LogStoreOptions,
    shared: Arc<Shared>,
    /// The log's writer; `None` once closed. Held through a commit, so it serialises them.
    writer: Mutex<Option<Writer>>,
    /// The checkpoint in progress.
    checkpoint: Mutex<Option<JoinHandle<Result<(), StoreError>>>>,
    /// The error of a checkpoint that finished unobserved.
    checkpoint_error: Mutex<Option<StoreError>>,
    /// Why the store refuses every call, once a commit could not be made durable.
    poisoned: RwLock<Option<String>>,
    /// The locked `LOCK` file, held until closed: a second store on the directory is refused.
    lock: Mutex<Option<File>>,
}

/// What the committing thread and the checkpoint thread share.
struct Shared {
    dir: PathBuf,
    /// Where each committed frame's receipt is stored.
    receipts: RwLock<BTreeMap<u64, ReceiptAt>>,
    /// The log's segments by first frame.
    segments: Mutex<BTreeMap<u64, Segment>>,
    /// The receipts file, appended by checkpoints.
    receipts_file: Mutex<ReceiptsFile>,
}

/// Where a receipt's bytes are.
#[derive(Clone)]
struct ReceiptAt {
    file: Arc<File>,
    offset: u64,
    len: usize,
}

/// A log segment.
struct Segment {
    /// Its last frame; `None` while empty.
    last_frame: Option<u64>,
}

/// The receipts file.
struct ReceiptsFile {
    file: Arc<File>,
    len: u64,
    last_frame: Option<u64>,
}

/// The log's append side.
struct Writer {
    /// The segment being appended to; `None` until the next commit opens one.
    segment: Option<(u64, Arc<File>)>,
    /// Bytes appended since the last checkpoint began.
    since_checkpoint: u64,
    /// The record being built, reused from frame to frame.
    record: Vec<u8>,
}

impl LogStore {
    /// Opens (or creates) the store in `data_dir` with the default [`LogStoreOptions`],
    /// creating the directory if needed.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(data_dir, LogStoreOptions::default())
    }

    /// Opens (or creates) the store in `data_dir` with `options`: loads the newest checkpoint,
    /// replays the log after it and truncates a torn last record. Fails with
    /// [`StoreError::Corrupt`] on a bad checkpoint or log record (other than a torn tail) or a
    /// replayed frame whose root differs from its record's, with
    /// [`StoreError::StateTooLarge`] when the state passes `options.max_state_bytes`, and with
    /// [`StoreError::Io`] when the directory is already open (or on any I/O failure).
    pub fn open_with(
        data_dir: impl AsRef<Path>,
        options: LogStoreOptions,
    ) -> Result<Self, StoreError> {
        let dir = data_dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io("creating data directory", &dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("opening the lock file", &lock_path))?;
        lock.try_lock().map_err(|error| StoreError::Io {
            context: "locking the data directory (is another store using it?)",
            path: lock_path.clone(),
            source: error.into(),
        })?;
        let listing = Listing::read(&dir)?;
        for temporary in &listing.temporary {
            std::fs::remove_file(temporary).map_err(io("removing a temporary file", temporary))?;
        }

        let mut receipts = BTreeMap::new();
        let receipts_file = open_receipts(&dir, &mut receipts)?;

        let checkpoint = listing.checkpoints.last().copied();
        let memory = match checkpoint {
            Some(frame) => load_checkpoint(&dir, frame, options.max_state_bytes)?,
            None => MemoryStore::without_receipts(),
        };
        let mut segments = BTreeMap::new();
        let mut since_checkpoint = 0;
        let count = listing.segments.len();
        for (index, first) in listing.segments.iter().enumerate() {
            let last_segment = index + 1 == count;
            let (segment, len) = replay_segment(
                &dir,
                *first,
                last_segment,
                checkpoint,
                &memory,
                &options,
                &mut receipts,
            )?;
            if let Some(segment) = segment {
                since_checkpoint += len;
                segments.insert(*first, segment);
            }
        }
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            receipts: RwLock::new(receipts),
            segments: Mutex::new(segments),
            receipts_file: Mutex::new(receipts_file),
        });
        if let Some(frame) = checkpoint {
            shared.retire(frame)?;
            remove_checkpoints_before(&dir, &listing.checkpoints, frame)?;
        }
        Ok(Self {
            memory,
            options,
            shared,
            writer: Mutex::new(Some(Writer {
                segment: None,
                since_checkpoint,
                record: Vec::new(),
            })),
            checkpoint: Mutex::new(None),
            checkpoint_error: Mutex::new(None),
            poisoned: RwLock::new(None),
            lock: Mutex::new(Some(lock)),
        })
    }

    /// Makes the next commit fail with [`StoreError::Injected`] after `writes` state writes
    /// (after all of them when the frame has fewer), before anything is logged. For tests of
    /// commit atomicity.
    #[doc(hidden)]
    pub fn fail_next_commit_after(&self, writes: usize) {
        self.memory.fail_next_commit_after(writes);
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.shared.dir
    }

    /// The state's size as the bound counts it: 64 bytes per address plus the values.
    pub fn state_bytes(&self) -> u64 {
        self.memory.committed().bytes()
    }

    /// Waits for the background checkpoint in progress, if any, and returns the error of the
    /// last checkpoint that failed since the previous call (a failed checkpoint loses nothing:
    /// the log it would have replaced stays, and the next one is tried after another
    /// [`LogStoreOptions::checkpoint_bytes`] of log).
    pub fn wait_for_checkpoint(&self) -> Result<(), StoreError> {
        let running = self.checkpoint.lock().take();
        if let Some(handle) = running {
            self.record_checkpoint(handle);
        }
        match self.checkpoint_error.lock().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Keeps the outcome of a finished checkpoint thread.
    fn record_checkpoint(&self, handle: JoinHandle<Result<(), StoreError>>) {
        let outcome = handle.join().unwrap_or_else(|_| {
            Err(StoreError::Poisoned {
                reason: "the checkpoint thread panicked".into(),
            })
        });
        if let Err(error) = outcome {
            *self.checkpoint_error.lock() = Some(error);
        }
    }

    /// Fails when the store is poisoned.
    fn usable(&self) -> Result<(), StoreError> {
        match &*self.poisoned.read() {
            Some(reason) => Err(StoreError::Poisoned {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Fails when the store is poisoned or closed.
    fn open_and_usable(&self) -> Result<(), StoreError> {
        self.usable()?;
        if self.writer.lock().is_none() {
            return Err(StoreError::Closed);
        }
        Ok(())
    }

    /// Starts a checkpoint of the frame just committed when enough log has been written and
    /// none is running; the log rotates, so the segments before the frame can be retired.
    fn maybe_checkpoint(&self, writer: &mut Writer) {
        if writer.since_checkpoint < self.options.checkpoint_bytes {
            return;
        }
        let mut running = self.checkpoint.lock();
        if running.as_ref().is_some_and(|handle| !handle.is_finished()) {
            return;
        }
        if let Some(handle) = running.take() {
            self.record_checkpoint(handle);
        }
        let frame = self.memory.committed();
        let shared = Arc::clone(&self.shared);
        let spawned = std::thread::Builder::new()
            .name("switchyard-checkpoint".into())
            .spawn(move || shared.checkpoint(&frame));
        match spawned {
            Ok(handle) => {
                writer.segment = None;
                writer.since_checkpoint = 0;
                *running = Some(handle);
            }
            Err(source) => {
                *self.checkpoint_error.lock() = Some(StoreError::Io {
                    context: "starting the checkpoint thread",
                    path: self.shared.dir.clone(),
                    source,
                });
            }
        }
    }
}

impl Writer {
    /// Starts the record of a frame: room for the header and root, then the changes.
    fn begin(&mut self, changes: &ChangeSet) {
        let record = &mut self.record;
        record.clear();
        record.resize(HEADER_LEN + BODY_PREFIX, 0);
        for (address, value) in changes.iter() {
            record.extend_from_slice(&address.to_bytes());
            match value {
                Some(value) => {
                    record.push(TAG_PUT);
                    record.extend_from_slice(&len_u32(value.len()).to_le_bytes());
                    record.extend_from_slice(value);
                }
                None => record.push(TAG_DELETE),
            }
        }
        if let Some(count) = record.get_mut(HEADER_LEN + 32..HEADER_LEN + BODY_PREFIX) {
            count.copy_from_slice(&(changes.len() as u64).to_le_bytes());
        }
    }

    /// Completes the record with the head and receipt, appends it to the log and syncs it,
    /// then records where the receipt is.
    fn append(&mut self, head: &Head, receipt: &[u8], shared: &Shared) -> Result<(), StoreError> {
        let frame = head.frame_number;
        let (first, file) = match &self.segment {
            Some((first, file)) => (*first, Arc::clone(file)),
            None => {
                let file = shared.create_segment(frame)?;
                self.segment = Some((frame, Arc::clone(&file)));
                (frame, file)
            }
        };
        let record = &mut self.record;
        record.extend_from_slice(&(receipt.len() as u64).to_le_bytes());
        let receipt_at = record.len();
        record.extend_from_slice(receipt);
        if let Some(root) = record.get_mut(HEADER_LEN..HEADER_LEN + 32) {
            root.copy_from_slice(&head.state_root.0);
        }
        let body_len = record.len() - HEADER_LEN;
        if let Some(header) = record.get_mut(..HEADER_LEN) {
            header.copy_from_slice(&encode_header(LOG_MAGIC, body_len as u64, frame));
        }
        let checksum = blake3::hash(record);
        record.extend_from_slice(checksum.as_bytes());

        let path = || shared.dir.join(segment_name(first));
        let mut segments = shared.segments.lock();
        let segment = segments
            .get_mut(&first)
            .ok_or_else(|| StoreError::Corrupt {
                what: "log segment",
                reason: format!("segment {first} is not open"),
            })?;
        let offset = file
            .metadata()
            .map_err(io("reading the log's length", &path()))?
            .len();
        (&*file)
            .write_all(record)
            .map_err(io("appending to the log", &path()))?;
        file.sync_data().map_err(io("syncing the log", &path()))?;
        segment.last_frame = Some(frame);
        drop(segments);
        self.since_checkpoint += record.len() as u64;
        shared.receipts.write().insert(
            frame,
            ReceiptAt {
                file,
                offset: offset + receipt_at as u64,
                len: receipt.len(),
            },
        );
        Ok(())
    }
}

impl Shared {
    /// Creates the segment whose first frame is `frame` and syncs the directory.
    fn create_segment(&self, frame: u64) -> Result<Arc<File>, StoreError> {
        let path = self.dir.join(segment_name(frame));
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io("creating a log segment", &path))?;
        sync_dir(&self.dir)?;
        let file = Arc::new(file);
        self.segments
            .lock()
            .insert(frame, Segment { last_frame: None });
        Ok(file)
    }

    /// Writes a checkpoint of `frame`, then retires the log it covers.
    fn checkpoint(&self, frame: &Committed) -> Result<(), StoreError> {
        let Some(head) = frame.head() else {
            return Ok(());
        };
        let number = head.frame_number;
        let temporary = self.dir.join(format!("checkpoint-{number:020}.tmp"));
        let path = self.dir.join(checkpoint_name(number));
        let file = File::create(&temporary).map_err(io("creating a checkpoint", &temporary))?;
        let mut out = Chunked::new(file);
        let write_error = io("writing a checkpoint", &temporary);
        let mut header = Vec::with_capacity(56 + Lattice::BYTES);
        header.extend_from_slice(&CHECKPOINT_MAGIC);
        header.extend_from_slice(&number.to_le_bytes());
        header.extend_from_slice(&head.state_root.0);
        header.extend_from_slice(&(frame.entries().len() as u64).to_le_bytes());
        header.extend_from_slice(&frame.lattice().to_bytes());
        out.put(&header).map_err(&write_error)?;
        for (address, value) in frame.entries() {
            out.put(&address.to_bytes()).map_err(&write_error)?;
            out.put(&len_u32(value.len()).to_le_bytes())
                .map_err(&write_error)?;
            out.put(value).map_err(&write_error)?;
        }
        let file = out.finish().map_err(&write_error)?;
        file.sync_all()
            .map_err(io("syncing a checkpoint", &temporary))?;
        drop(file);
        std::fs::rename(&temporary, &path).map_err(io("renaming a checkpoint", &path))?;
        sync_dir(&self.dir)?;
        self.retire(number)?;
        let listing = Listing::read(&self.dir)?;
        remove_checkpoints_before(&self.dir, &listing.checkpoints, number)
    }

    /// Retires the segments whose frames are all at or before the checkpoint `frame`: their
    /// receipts are copied to the receipts file and synced, then they are deleted.
    fn retire(&self, frame: u64) -> Result<(), StoreError> {
        let covered: Vec<(u64, u64)> = self
            .segments
            .lock()
            .iter()
            .filter_map(|(first, segment)| match segment.last_frame {
                Some(last) if last <= frame => Some((*first, last)),
                _ => None,
            })
            .collect();
        if covered.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(RECEIPTS_FILE);
        let mut receipts_file = self.receipts_file.lock();
        let mut moved = Vec::new();
        let mut out = Vec::with_capacity(CHUNK);
        let mut offset = receipts_file.len;
        let file = Arc::clone(&receipts_file.file);
        for &(first, last) in &covered {
            let from = receipts_file
                .last_frame
                .map_or(first, |done| done.saturating_add(1).max(first));
            for number in from..=last {
                let Some(at) = self.receipts.read().get(&number).cloned() else {
                    return Err(StoreError::Corrupt {
                        what: "receipt index",
                        reason: format!("frame {number} of a log segment has no receipt"),
                    });
                };
                let bytes = read_at(&at.file, at.offset, at.len).map_err(io(
                    "reading a receipt from the log",
                    &self.dir.join(segment_name(first)),
                ))?;
                let entry_offset = offset + out.len() as u64;
                out.extend_from_slice(&encode_header(RECEIPT_MAGIC, bytes.len() as u64, number));
                out.extend_from_slice(&bytes);
                let checksum = blake3::hash(
                    out.get(out.len() - HEADER_LEN - bytes.len()..)
                        .unwrap_or_default(),
                );
                out.extend_from_slice(checksum.as_bytes());
                moved.push((number, entry_offset + HEADER_LEN as u64, bytes.len()));
                if out.len() >= CHUNK {
                    (&*file)
                        .write_all(&out)
                        .map_err(io("appending receipts", &path))?;
                    offset += out.len() as u64;
                    out.clear();
                }
                receipts_file.last_frame = Some(number);
            }
        }
        (&*file)
            .write_all(&out)
            .map_err(io("appending receipts", &path))?;
        offset += out.len() as u64;
        file.sync_data().map_err(io("syncing receipts", &path))?;
        receipts_file.len = offset;
        drop(receipts_file);
        {
            let mut receipts = self.receipts.write();
            for (number, offset, len) in moved {
                receipts.insert(
                    number,
                    ReceiptAt {
                        file: Arc::clone(&file),
                        offset,
                        len,
                    },
                );
            }
        }
        let mut segments = self.segments.lock();
        for (first, _) in covered {
            segments.remove(&first);
            let path = self.dir.join(segment_name(first));
            std::fs::remove_file(&path).map_err(io("removing a retired log segment", &path))?;
        }
        drop(segments);
        sync_dir(&self.dir)
    }
}

/// A writer that hashes what it writes and writes it in chunks; the checksum goes last.
struct Chunked {
    file: File,
    buffer: Vec<u8>,
    hasher: blake3::Hasher,
}

impl Chunked {
    fn new(file: File) -> Self {
        Self {
            file,
            buffer: Vec::with_capacity(CHUNK),
            hasher: blake3::Hasher::new(),
        }
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.file.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// Writes what is buffered and the checksum.
    fn finish(mut self) -> std::io::Result<File> {
        let checksum = self.hasher.finalize();
        self.buffer.extend_from_slice(checksum.as_bytes());
        self.file.write_all(&self.buffer)?;
        Ok(self.file)
    }
}

/// The data directory's files, sorted by frame.
struct Listing {
    checkpoints: Vec<u64>,
    segments: Vec<u64>,
    temporary: Vec<PathBuf>,
}

impl Listing {
    fn read(dir: &Path) -> Result<Self, StoreError> {
        let mut listing = Self {
            checkpoints: Vec::new(),
            segments: Vec::new(),
            temporary: Vec::new(),
        };
        let entries = std::fs::read_dir(dir).map_err(io("listing the data directory", dir))?;
        for entry in entries {
            let entry = entry.map_err(io("listing the data directory", dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let number = |prefix: &str, suffix: &str| {
                name.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_suffix(suffix))
                    .and_then(|digits| digits.parse::<u64>().ok())
            };
            if let Some(frame) = number("checkpoint-", ".ckpt") {
                listing.checkpoints.push(frame);
            } else if let Some(frame) = number("log-", ".seg") {
                listing.segments.push(frame);
            } else if number("checkpoint-", ".tmp").is_some() {
                listing.temporary.push(entry.path());
            }
        }
        listing.checkpoints.sort_unstable();
        listing.segments.sort_unstable();
        Ok(listing)
    }
}

fn segment_name(first_frame: u64) -> String {
    format!("log-{first_frame:020}.seg")
}

fn checkpoint_name(frame: u64) -> String {
    format!("checkpoint-{frame:020}.ckpt")
}

fn remove_checkpoints_before(
    dir: &Path,
    checkpoints: &[u64],
    frame: u64,
) -> Result<(), StoreError> {
    for older in checkpoints.iter().filter(|older| **older < frame) {
        let path = dir.join(checkpoint_name(*older));
        std::fs::remove_file(&path).map_err(io("removing an old checkpoint", &path))?;
    }
    Ok(())
}

/// A record header: magic, body length, frame, and the first 8 bytes of BLAKE3 of those.
fn encode_header(magic: [u8; 4], body_len: u64, frame: u64) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    let (fields, check) = header.split_at_mut(20);
    let (magic_bytes, rest) = fields.split_at_mut(4);
    let (len, number) = rest.split_at_mut(8);
    magic_bytes.copy_from_slice(&magic);
    len.copy_from_slice(&body_len.to_le_bytes());
    number.copy_from_slice(&frame.to_le_bytes());
    let hash = blake3::hash(fields);
    check.copy_from_slice(hash.as_bytes().get(..8).unwrap_or_default());
    header
}

/// What lies at one position of a log or receipts file.
enum Parsed<'a> {
    /// A whole, checked record: its frame, its body, and where the next one starts.
    Record {
        frame: u64,
        body: &'a [u8],
        next: usize,
    },
    /// The end of the file.
    End,
    /// A bad record; `torn` when it is the tail a crash mid-append leaves (it reaches the end
    /// of the file), else corruption.
    Bad { torn: bool, reason: String },
}

/// Parses the record at `at`.
fn parse_record(bytes: &[u8], at: usize, magic: [u8; 4]) -> Parsed<'_> {
    let rest = bytes.get(at..).unwrap_or_default();
    if rest.is_empty() {
        return Parsed::End;
    }
    let Some((header, _)) = rest.split_first_chunk::<HEADER_LEN>() else {
        return Parsed::Bad {
            torn: true,
            reason: format!("{} bytes, shorter than a header", rest.len()),
        };
    };
    let (Some(found), Some(len), Some(frame)) = (
        header.first_chunk::<4>(),
        header
            .get(4..12)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes),
        header
            .get(12..20)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes),
    ) else {
        return Parsed::Bad {
            torn: true,
            reason: "unreadable header".into(),
        };
    };
    if *found != magic || encode_header(magic, len, frame) != *header {
        // A crash can leave zeros where a record was being written; anything else is damage.
        return Parsed::Bad {
            torn: rest.iter().all(|byte| *byte == 0),
            reason: "bad record header".into(),
        };
    }
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| len.checked_add(HEADER_LEN + CHECKSUM_LEN));
    let Some((record, trailer)) = end
        .and_then(|end| rest.get(..end))
        .and_then(|record| record.split_last_chunk::<CHECKSUM_LEN>())
    else {
        return Parsed::Bad {
            torn: true,
            reason: format!("frame {frame}'s record of {len} bytes is cut short"),
        };
    };
    if blake3::hash(record).as_bytes() != trailer {
        return Parsed::Bad {
            torn: record.len() + CHECKSUM_LEN == rest.len(),
            reason: format!("frame {frame}'s record fails its checksum"),
        };
    }
    Parsed::Record {
        frame,
        body: record.get(HEADER_LEN..).unwrap_or_default(),
        next: at + record.len() + CHECKSUM_LEN,
    }
}

/// Reads a log record's body: the root, the changes, and the receipt's place in the body.
fn decode_body(
    frame: u64,
    body: &[u8],
) -> Result<(StateRoot, ChangeSet, usize, usize), StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        what: "log record",
        reason: format!("frame {frame}: {reason}"),
    };
    let mut cursor = Cursor { bytes: body, at: 0 };
    let root = StateRoot(cursor.array::<32>().ok_or_else(|| corrupt("no root"))?);
    let count = cursor.u64().ok_or_else(|| corrupt("no change count"))?;
    let mut writes = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(body.len() / 65));
    for _ in 0..count {
        let address = cursor
            .take(64)
            .ok_or_else(|| corrupt("a change is cut short"))?;
        let address = Address::from_slice(address).map_err(|e| corrupt(&e.to_string()))?;
        let value = match cursor.array::<1>() {
            Some([TAG_PUT]) => {
                let len = cursor
                    .u32()
                    .ok_or_else(|| corrupt("a value length is cut short"))?;
                let value = cursor
                    .take(len as usize)
                    .ok_or_else(|| corrupt("a value is cut short"))?;
                Some(value.to_vec())
            }
            Some([TAG_DELETE]) => None,
            _ => return Err(corrupt("bad change tag")),
        };
        writes.push((address, value));
    }
    let receipt_len = cursor.u64().ok_or_else(|| corrupt("no receipt length"))?;
    let receipt_at = cursor.at;
    let receipt_len = usize::try_from(receipt_len).map_err(|_| corrupt("receipt too long"))?;
    cursor
        .take(receipt_len)
        .ok_or_else(|| corrupt("the receipt is cut short"))?;
    if cursor.at != body.len() {
        return Err(corrupt("bytes after the receipt"));
    }
    Ok((
        root,
        ChangeSet::from_sorted(writes),
        receipt_at,
        receipt_len,
    ))
}

/// Reads little-endian fields from a byte slice.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let taken = self.bytes.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(taken)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }
}

/// Replays one segment into `memory` (frames after the checkpoint), indexing its receipts.
/// A torn tail of the last segment is truncated away (the segment deleted if nothing is
/// left). Returns the segment, if it still exists, and its length.
fn replay_segment(
    dir: &Path,
    first: u64,
    last_segment: bool,
    checkpoint: Option<u64>,
    memory: &MemoryStore,
    options: &LogStoreOptions,
    receipts: &mut BTreeMap<u64, ReceiptAt>,
) -> Result<(Option<Segment>, u64), StoreError> {
    let path = dir.join(segment_name(first));
    let bytes = std::fs::read(&path).map_err(io("reading a log segment", &path))?;
    let file = Arc::new(
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io("opening a log segment", &path))?,
    );
    let mut at = 0;
    let mut last_frame = None;
    loop {
        match parse_record(&bytes, at, LOG_MAGIC) {
            Parsed::End => break,
            Parsed::Bad { torn, reason } => {
                if !(torn && last_segment) {
                    return Err(StoreError::Corrupt {
                        what: "log record",
                        reason: format!("{} at byte {at}: {reason}", path.display()),
                    });
                }
                file.set_len(at as u64)
                    .map_err(io("truncating a torn log record", &path))?;
                file.sync_all()
                    .map_err(io("syncing a truncated log segment", &path))?;
                break;
            }
            Parsed::Record { frame, body, next } => {
                if frame < first || last_frame.is_some_and(|last| frame <= last) {
                    return Err(StoreError::Corrupt {
                        what: "log record",
                        reason: format!("{}: frame {frame} out of order", path.display()),
                    });
                }
                let (root, changes, receipt_at, receipt_len) = decode_body(frame, body)?;
                if checkpoint.is_none_or(|checkpoint| frame > checkpoint) {
                    let head = memory
                        .commit_with(
                            frame,
                            &changes,
                            &mut |_| Vec::new(),
                            options.max_state_bytes,
                            None,
                        )
                        .map_err(|error| replay_error(frame, options, error))?;
                    if head.state_root != root {
                        return Err(StoreError::Corrupt {
                            what: "log record",
                            reason: format!(
                                "frame {frame} replays to root {}, its record says {root}",
                                head.state_root
                            ),
                        });
                    }
                }
                receipts.insert(
                    frame,
                    ReceiptAt {
                        file: Arc::clone(&file),
                        offset: (at + HEADER_LEN + receipt_at) as u64,
                        len: receipt_len,
                    },
                );
                last_frame = Some(frame);
                at = next;
            }
        }
    }
    if at == 0 {
        drop(file);
        std::fs::remove_file(&path).map_err(io("removing an empty log segment", &path))?;
        sync_dir(dir)?;
        return Ok((None, 0));
    }
    Ok((Some(Segment { last_frame }), at as u64))
}

fn replay_error(frame: u64, options: &LogStoreOptions, error: CommitError) -> StoreError {
    match error {
        CommitError::TooLarge(TooLarge { would_be }) => StoreError::StateTooLarge {
            state_bytes: would_be,
            max_bytes: options.max_state_bytes,
        },
        CommitError::Store(StoreError::FrameMismatch {
            head,
            expected,
            found,
        }) => StoreError::Corrupt {
            what: "log record",
            reason: format!(
                "frame {found} follows frame {head} (expected {expected}): the log has a gap"
            ),
        },
        CommitError::Store(error) => StoreError::Corrupt {
            what: "log record",
            reason: format!("replaying frame {frame}: {error}"),
        },
    }
}

/// Loads the checkpoint of `frame`, checking its checksum and its lattice's root.
fn load_checkpoint(dir: &Path, frame: u64, max_bytes: u64) -> Result<MemoryStore, StoreError> {
    let path = dir.join(checkpoint_name(frame));
    let file = File::open(&path).map_err(io("opening a checkpoint", &path))?;
    let corrupt = |reason: String| StoreError::Corrupt {
        what: "checkpoint",
        reason: format!("{}: {reason}", path.display()),
    };
    let mut reader = HashingReader {
        inner: BufReader::with_capacity(CHUNK, file),
        hasher: blake3::Hasher::new(),
    };
    let mut header = [0u8; 56 + Lattice::BYTES];
    reader
        .read(&mut header)
        .map_err(|e| corrupt(e.to_string()))?;
    let mut cursor = Cursor {
        bytes: &header,
        at: 0,
    };
    let (Some(magic), Some(number), Some(root), Some(count), Some(lattice)) = (
        cursor.array::<8>(),
        cursor.u64(),
        cursor.array::<32>(),
        cursor.u64(),
        cursor.take(Lattice::BYTES),
    ) else {
        return Err(corrupt("short header".into()));
    };
    if magic != CHECKPOINT_MAGIC || number != frame {
        return Err(corrupt(format!(
            "header of frame {number}, format {}",
            String::from_utf8_lossy(&magic)
        )));
    }
    let lattice = Lattice::from_bytes(lattice)?;
    let root = StateRoot(root);
    if lattice.root() != root {
        return Err(corrupt(format!("root {root} is not its lattice's")));
    }
    let capacity = usize::try_from(count).unwrap_or(0).min(1 << 28);
    let entries = (0..count).map(|_| {
        let mut fixed = [0u8; 68];
        reader
            .read(&mut fixed)
            .map_err(|e| corrupt(e.to_string()))?;
        let (address, len) = fixed.split_at(64);
        let address = Address::from_slice(address).map_err(|e| corrupt(e.to_string()))?;
        let len = len
            .try_into()
            .map(u32::from_le_bytes)
            .map_err(|_| corrupt("length".into()))?;
        let mut value = vec![0u8; len as usize];
        reader
            .read(&mut value)
            .map_err(|e| corrupt(e.to_string()))?;
        Ok((address, value))
    });
    let head = Head {
        frame_number: frame,
        state_root: root,
    };
    let memory = match MemoryStore::from_frame(entries, capacity, lattice, Some(head), max_bytes)? {
        Ok(memory) => memory,
        Err(TooLarge { would_be }) => {
            return Err(StoreError::StateTooLarge {
                state_bytes: would_be,
                max_bytes,
            });
        }
    };
    let computed = reader.hasher.finalize();
    let mut trailer = [0u8; CHECKSUM_LEN];
    reader
        .inner
        .read_exact(&mut trailer)
        .map_err(|e| corrupt(e.to_string()))?;
    let mut extra = [0u8; 1];
    let more = reader
        .inner
        .read(&mut extra)
        .map_err(|e| corrupt(e.to_string()))?;
    if computed.as_bytes() != &trailer || more != 0 {
        return Err(corrupt("fails its checksum".into()));
    }
    Ok(memory)
}

/// Reads exactly, hashing what it reads.
struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
}

impl<R: Read> HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<()> {
        self.inner.read_exact(buffer)?;
        self.hasher.update(buffer);
        Ok(())
    }
}

/// Opens (or creates) the receipts file, indexes its entries and truncates a torn tail.
fn open_receipts(
    dir: &Path,
    receipts: &mut BTreeMap<u64, ReceiptAt>,
) -> Result<ReceiptsFile, StoreError> {
    let path = dir.join(RECEIPTS_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .append(true)
        .open(&path)
        .map_err(io("opening the receipts file", &path))?;
    let file = Arc::new(file);
    let len = file
        .metadata()
        .map_err(io("reading the receipts file", &path))?
        .len();
    let mut at = 0u64;
    let mut last_frame = None;
    // Entries are walked by their headers; the last one is checked in full, since only it can
    // be torn (the receipts file is appended and synced before the log it copies is deleted).
    while at < len {
        let header = read_at(&file, at, HEADER_LEN.min((len - at) as usize))
            .map_err(io("reading the receipts file", &path))?;
        let (Some(frame), Some(body_len)) = (
            header
                .get(12..20)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes),
            header
                .get(4..12)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes),
        ) else {
            break;
        };
        let header_ok = header.len() == HEADER_LEN
            && header.as_slice() == encode_header(RECEIPT_MAGIC, body_len, frame).as_slice();
        let end = body_len
            .checked_add((HEADER_LEN + CHECKSUM_LEN) as u64)
            .and_then(|size| at.checked_add(size));
        let Some(end) = end.filter(|end| header_ok && *end <= len) else {
            break;
        };
        if end == len {
            let whole = read_at(&file, at, (end - at) as usize)
                .map_err(io("reading the receipts file", &path))?;
            if !matches!(
                parse_record(&whole, 0, RECEIPT_MAGIC),
                Parsed::Record { .. }
            ) {
                break;
            }
        }
        let body_len = usize::try_from(body_len).map_err(|_| StoreError::Corrupt {
            what: "receipts file",
            reason: format!("entry of frame {frame} too long"),
        })?;
        receipts.insert(
            frame,
            ReceiptAt {
                file: Arc::clone(&file),
                offset: at + HEADER_LEN as u64,
                len: body_len,
            },
        );
        last_frame = Some(frame);
        at = end;
    }
    if at < len {
        file.set_len(at)
            .map_err(io("truncating a torn receipt", &path))?;
        file.sync_all()
            .map_err(io("syncing the receipts file", &path))?;
    }
    Ok(ReceiptsFile {
        file,
        len: at,
        last_frame,
    })
}

/// Reads `len` bytes at `offset`.
fn read_at(file: &File, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buffer = vec![0u8; len];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut buffer, offset)?;
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while let Some(rest) = buffer.get_mut(done..).filter(|rest| !rest.is_empty()) {
            match file.seek_read(rest, offset + done as u64)? {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                read => done += read,
            }
        }
    }
    Ok(buffer)
}

/// Syncs a directory, so that files created, renamed or removed in it stay so after a crash.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io("syncing the data directory", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A value length as stored (u32); values are far shorter than 4 GiB (the proto limits).
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

fn io(context: &'static str, path: &Path) -> impl Fn(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        context,
        path: path.clone(),
        source,
    }
}

impl fmt::Debug for LogStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogStore")
            .field("dir", &self.shared.dir)
            .field("head", &self.memory.head())
            .field("options", &self.options)
            .field("poisoned", &*self.poisoned.read())
            .finish_non_exhaustive()
    }
}

impl Store for LogStore {
    fn head(&self) -> Option<Head> {
        self.memory.head()
    }

    fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError> {
        self.open_and_usable()?;
        self.memory.snapshot()
    }

    fn commit(
        &self,
        frame_number: u64,
        changes: &ChangeSet,
        receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
    ) -> Result<Head, StoreError> {
        let mut guard = self.writer.lock();
        let writer = guard.as_mut().ok_or(StoreError::Closed)?;
        self.usable()?;
        // The changes are encoded before the memory store's locks are taken.
        writer.begin(changes);
        let shared = &*self.shared;
        let mut append_failed = false;
        let committed = self.memory.commit_with(
            frame_number,
            changes,
            receipt,
            self.options.max_state_bytes,
            Some(&mut |head: &Head, receipt: &[u8]| {
                let appended = writer.append(head, receipt, shared);
                append_failed = appended.is_err();
                appended
            }),
        );
        match committed {
            Ok(head) => {
                self.maybe_checkpoint(writer);
                Ok(head)
            }
            Err(CommitError::TooLarge(TooLarge { would_be })) => Err(StoreError::StateTooLarge {
                state_bytes: would_be,
                max_bytes: self.options.max_state_bytes,
            }),
            Err(CommitError::Store(error)) if append_failed => {
                let reason =
                    format!("frame {frame_number} was applied in memory but not logged: {error}");
                *self.poisoned.write() = Some(reason.clone());
                Err(StoreError::Poisoned { reason })
            }
            Err(CommitError::Store(error)) => Err(error),
        }
    }

    fn receipt(&self, frame_number: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.open_and_usable()?;
        let Some(at) = self.shared.receipts.read().get(&frame_number).cloned() else {
            return Ok(None);
        };
        read_at(&at.file, at.offset, at.len)
            .map(Some)
            .map_err(io("reading a receipt", &self.shared.dir))
    }

    fn root_after(&self, changes: &ChangeSet) -> Result<StateRoot, StoreError> {
        self.open_and_usable()?;
        self.memory.root_after(changes)
    }

    fn recompute_root(&self) -> Result<StateRoot, StoreError> {
        self.open_and_usable()?;
        self.memory.recompute_root()
    }

    fn close(&self) -> Result<(), StoreError> {
        // After any commit in progress: the log ends with a whole frame.
        let writer = self.writer.lock().take();
        drop(writer);
        let running = self.checkpoint.lock().take();
        if let Some(handle) = running {
            self.record_checkpoint(handle);
        }
        self.shared.segments.lock().clear();
        self.shared.receipts.write().clear();
        drop(self.lock.lock().take());
        Ok(())
    }
}

impl Drop for LogStore {
    fn drop(&mut self) {
        // A checkpoint in progress finishes before the directory is released.
        if let Some(handle) = self.checkpoint.get_mut().take() {
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_router::Domain;

    fn changes(n: u8) -> ChangeSet {
        let mut changes = ChangeSet::new();
        changes.put(Address::new(Domain([1; 32]), [n; 32]), vec![n; 40]);
        changes
    }

    #[test]
    fn a_failed_append_poisons_the_store_and_a_reopen_recovers_the_last_logged_frame() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        let head = store
            .commit(1, &changes(1), &mut |_| b"one".to_vec())
            .unwrap();
        // The segment's handle swapped for a read-only one: the next append fails.
        {
            let mut writer = store.writer.lock();
            let writer = writer.as_mut().unwrap();
            let path = dir.path().join(segment_name(1));
            writer.segment = Some((1, Arc::new(File::open(path).unwrap())));
        }
        let error = store
            .commit(2, &changes(2), &mut |_| b"two".to_vec())
            .unwrap_err();
        assert!(matches!(error, StoreError::Poisoned { .. }), "{error}");
        assert_eq!(error.severity(), switchyard_router::Severity::Critical);
        assert!(error.to_string().contains("frame 2"), "{error}");
        assert!(matches!(store.snapshot(), Err(StoreError::Poisoned { .. })));
        assert!(matches!(store.receipt(1), Err(StoreError::Poisoned { .. })));
        assert!(matches!(
            store.commit(3, &changes(3), &mut |_| Vec::new()),
            Err(StoreError::Poisoned { .. })
        ));
        drop(store);

        let reopened = LogStore::open(dir.path()).unwrap();
        assert_eq!(reopened.head(), Some(head));
        assert_eq!(reopened.receipt(1).unwrap(), Some(b"one".to_vec()));
        assert_eq!(reopened.receipt(2).unwrap(), None);
        assert_eq!(reopened.recompute_root().unwrap(), head.state_root);
    }

    #[test]
    fn headers_are_checked_and_records_parse_back() {
        let header = encode_header(LOG_MAGIC, 5, 9);
        let mut record = header.to_vec();
        record.extend_from_slice(b"hello");
        let checksum = blake3::hash(&record);
        record.extend_from_slice(checksum.as_bytes());
        match parse_record(&record, 0, LOG_MAGIC) {
            Parsed::Record { frame, body, next } => {
                assert_eq!((frame, body, next), (9, &b"hello"[..], record.len()));
            }
            _ => panic!("a whole record"),
        }
        assert!(matches!(
            parse_record(&record, record.len(), LOG_MAGIC),
            Parsed::End
        ));
        assert!(matches!(
            parse_record(&record, 0, RECEIPT_MAGIC),
            Parsed::Bad { torn: false, .. }
        ));
        assert!(matches!(
            parse_record(record.get(..record.len() - 1).unwrap(), 0, LOG_MAGIC),
            Parsed::Bad { torn: true, .. }
        ));
    }
}
