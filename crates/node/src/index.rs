//! The message index of a data dir: message hash -> (frame, position), so that the status of
//! a committed message survives restarts.
//!
//! Message hashes are random, so a B-tree that takes each frame's hashes as they come rewrites
//! nearly every leaf it holds on every frame (a node suite run wrote ~110 MB/s, all of it the
//! index). The index therefore records each frame's hashes in memory, where lookups see them at
//! once, and writes them to a redb file next to the state (`messages.redb`) in sorted batches
//! of [`FLUSH_ENTRIES`] hashes (or [`FLUSH_FRAMES`] frames), on a thread of its own, one
//! durable transaction per batch. A crash loses at most the batches not yet written: the index
//! remembers the last frame it wrote, and [`MessageIndex::catch_up`] re-reads the receipts of
//! the frames after it at start, so the hashes in memory are never the only record of a frame.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Mutex, RwLock};
use redb::{Database, ReadableDatabase, TableDefinition};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::FrameReceipt;
use switchyard_state::Store;

use crate::error::NodeError;

/// Hashes recorded in memory before they are written as one batch.
pub const FLUSH_ENTRIES: usize = 65_536;

/// Frames recorded in memory before their hashes are written, however few they hold (bounds
/// the receipts [`MessageIndex::catch_up`] re-reads after a crash).
pub const FLUSH_FRAMES: u64 = 256;

/// Recorded hashes beyond which recording waits for the batch being written: memory stays
/// bounded when the disk is slower than the frames.
const MAX_UNWRITTEN: usize = 4 * FLUSH_ENTRIES;

/// hash (32 bytes) -> frame number (8, big-endian) then position (4, big-endian).
const MESSAGES: TableDefinition<'_, &[u8], &[u8]> = TableDefinition::new("messages");
/// "indexed" -> the last frame whose receipt is indexed.
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const INDEXED: &str = "indexed";

/// Where a committed message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The frame that holds it.
    pub frame: u64,
    /// Its position in the frame.
    pub index: u32,
}

/// The message index (see the module docs).
pub struct MessageIndex {
    db: Arc<Database>,
    unwritten: Arc<RwLock<Unwritten>>,
    /// The thread writing the batch in `unwritten.writing`, if one was started.
    writer: Mutex<Option<JoinHandle<Result<(), NodeError>>>>,
}

/// Hashes recorded in memory and not yet written to the file.
#[derive(Debug, Default)]
struct Unwritten {
    /// Recorded since the last batch was handed to the writer.
    filling: BTreeMap<[u8; 32], Location>,
    /// The last frame `filling` holds, and how many frames it holds.
    filling_last: Option<u64>,
    filling_frames: u64,
    /// The batch being written (empty when none).
    writing: Arc<Batch>,
}

/// Hashes written to the file in one transaction.
#[derive(Debug, Default)]
struct Batch {
    /// In key order, as they are inserted.
    entries: BTreeMap<[u8; 32], Location>,
    /// The last frame it holds: with it, every frame up to this one is in the file.
    last_frame: u64,
}

impl std::fmt::Debug for MessageIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageIndex").finish_non_exhaustive()
    }
}

fn index_error(context: &'static str, error: impl std::fmt::Display) -> NodeError {
    NodeError::Index(format!("{context}: {error}"))
}

impl MessageIndex {
    /// The file name inside the data dir.
    pub const FILE_NAME: &'static str = "messages.redb";

    /// Opens or creates the index in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, NodeError> {
        let db = Database::create(data_dir.join(Self::FILE_NAME))
            .map_err(|e| index_error("opening the message index", e))?;
        let tx = db
            .begin_write()
            .map_err(|e| index_error("index transaction", e))?;
        {
            tx.open_table(MESSAGES)
                .map_err(|e| index_error("index table", e))?;
            tx.open_table(META)
                .map_err(|e| index_error("index table", e))?;
        }
        tx.commit().map_err(|e| index_error("index commit", e))?;
        Ok(Self {
            db: Arc::new(db),
            unwritten: Arc::default(),
            writer: Mutex::new(None),
        })
    }

    /// The last frame whose hashes are all written to the file (`None` before any).
    pub fn indexed(&self) -> Result<Option<u64>, NodeError> {
        let tx = self
            .db
            .begin_read()
            .map_err(|e| index_error("index read", e))?;
        let table = tx
            .open_table(META)
            .map_err(|e| index_error("index table", e))?;
        Ok(table
            .get(INDEXED)
            .map_err(|e| index_error("index read", e))?
            .map(|v| v.value()))
    }

    /// Where the message with `hash` was first committed, if it was.
    pub fn get(&self, hash: &[u8; 32]) -> Result<Option<Location>, NodeError> {
        // Under the lock, so that a batch the writer finishes meanwhile is seen in the file or
        // in memory; the file first, as it holds the oldest frames.
        let unwritten = self.unwritten.read();
        let tx = self
            .db
            .begin_read()
            .map_err(|e| index_error("index read", e))?;
        let table = tx
            .open_table(MESSAGES)
            .map_err(|e| index_error("index table", e))?;
        if let Some(value) = table
            .get(hash.as_slice())
            .map_err(|e| index_error("index read", e))?
        {
            return decode_location(hash, value.value()).map(Some);
        }
        Ok(unwritten
            .writing
            .entries
            .get(hash)
            .or_else(|| unwritten.filling.get(hash))
            .copied())
    }

    /// For each of `hashes`, whether it was committed: one read transaction for them all.
    pub fn committed(&self, hashes: &[[u8; 32]]) -> Result<Vec<bool>, NodeError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let unwritten = self.unwritten.read();
        let tx = self
            .db
            .begin_read()
            .map_err(|e| index_error("index read", e))?;
        let table = tx
            .open_table(MESSAGES)
            .map_err(|e| index_error("index table", e))?;
        hashes
            .iter()
            .map(|hash| {
                if unwritten.filling.contains_key(hash)
                    || unwritten.writing.entries.contains_key(hash)
                {
                    return Ok(true);
                }
                table
                    .get(hash.as_slice())
                    .map(|value| value.is_some())
                    .map_err(|e| index_error("index read", e))
            })
            .collect()
    }

    /// Records every outcome of `receipt` (receipts come in frame order); lookups see them at
    /// once. A hash already recorded keeps its first location. Hands a batch to the writer when
    /// one is due, and returns the error of a batch that failed to be written.
    pub fn record(&self, receipt: &FrameReceipt) -> Result<(), NodeError> {
        let due = {
            let mut unwritten = self.unwritten.write();
            let Unwritten {
                filling, writing, ..
            } = &mut *unwritten;
            for outcome in &receipt.outcomes {
                let hash = <[u8; 32]>::try_from(outcome.message_hash.as_slice()).map_err(|_| {
                    NodeError::Index(format!(
                        "frame {}: outcome {} has a hash of {} bytes",
                        receipt.frame_number,
                        outcome.index,
                        outcome.message_hash.len()
                    ))
                })?;
                if !writing.entries.contains_key(&hash) {
                    filling.entry(hash).or_insert(Location {
                        frame: receipt.frame_number,
                        index: outcome.index,
                    });
                }
            }
            unwritten.filling_last = Some(receipt.frame_number);
            unwritten.filling_frames = unwritten.filling_frames.saturating_add(1);
            unwritten.filling.len() >= FLUSH_ENTRIES || unwritten.filling_frames >= FLUSH_FRAMES
        };
        match due {
            true => self.hand_over(false),
            false => Ok(()),
        }
    }

    /// Writes every recorded hash to the file and waits until it is durable (at shutdown).
    pub fn flush(&self) -> Result<(), NodeError> {
        self.hand_over(true)?;
        self.join_writer()
    }

    /// Hands what was recorded to a new writer thread, once the previous one is done: at once
    /// when `wait`, else only if the previous one has finished or memory is at its bound.
    fn hand_over(&self, wait: bool) -> Result<(), NodeError> {
        let mut writer = self.writer.lock();
        let busy = writer.as_ref().is_some_and(|w| !w.is_finished());
        if busy && !wait && self.unwritten.read().filling.len() < MAX_UNWRITTEN {
            return Ok(());
        }
        self.finish(writer.take())?;
        let batch = {
            let mut unwritten = self.unwritten.write();
            let Some(last_frame) = unwritten.filling_last.take() else {
                return Ok(());
            };
            unwritten.filling_frames = 0;
            let batch = Arc::new(Batch {
                entries: std::mem::take(&mut unwritten.filling),
                last_frame,
            });
            unwritten.writing = Arc::clone(&batch);
            batch
        };
        let db = Arc::clone(&self.db);
        let unwritten = Arc::clone(&self.unwritten);
        let handle = std::thread::Builder::new()
            .name("switchyard-index".into())
            .spawn(move || {
                write_batch(&db, &batch)?;
                unwritten.write().writing = Arc::default();
                Ok(())
            })
            .map_err(|e| index_error("starting the index writer", e))?;
        *writer = Some(handle);
        Ok(())
    }

    fn join_writer(&self) -> Result<(), NodeError> {
        let handle = self.writer.lock().take();
        self.finish(handle)
    }

    /// Waits for `writer`; if its batch failed, puts the batch back in memory (older than
    /// anything recorded since, so its locations win) and returns the error.
    fn finish(&self, writer: Option<JoinHandle<Result<(), NodeError>>>) -> Result<(), NodeError> {
        let Some(writer) = writer else {
            return Ok(());
        };
        let result = writer
            .join()
            .unwrap_or_else(|_| Err(NodeError::Index("the index writer panicked".into())));
        if result.is_err() {
            let mut unwritten = self.unwritten.write();
            let failed = std::mem::take(&mut unwritten.writing);
            if !failed.entries.is_empty() {
                unwritten.filling_last = unwritten.filling_last.or(Some(failed.last_frame));
                unwritten.filling_frames = unwritten.filling_frames.saturating_add(1);
                for (hash, location) in &failed.entries {
                    unwritten.filling.insert(*hash, *location);
                }
            }
        }
        result
    }

    /// Records the receipts of every committed frame the file does not hold (after a crash
    /// or a kill, or when the index file is new). Returns how many frames it read.
    pub fn catch_up(&self, store: &dyn Store) -> Result<u64, NodeError> {
        let Some(head) = store.head() else {
            return Ok(0);
        };
        let from = self.indexed()?.map_or(0, |f| f.saturating_add(1));
        let mut read = 0;
        for frame in from..=head.frame_number {
            let Some(bytes) = store.receipt(frame)? else {
                continue;
            };
            // The genesis frame has an empty receipt.
            if bytes.is_empty() {
                continue;
            }
            let receipt = FrameReceipt::from_canonical_bytes(&bytes)?;
            self.record(&receipt)?;
            read += 1;
        }
        Ok(read)
    }
}

/// Writes `batch` in one durable transaction, in key order; a hash the file holds keeps its
/// location.
fn write_batch(db: &Database, batch: &Batch) -> Result<(), NodeError> {
    let tx = db
        .begin_write()
        .map_err(|e| index_error("index transaction", e))?;
    {
        let mut table = tx
            .open_table(MESSAGES)
            .map_err(|e| index_error("index table", e))?;
        for (hash, location) in &batch.entries {
            let mut value = [0u8; 12];
            let (frame, index) = value.split_at_mut(8);
            frame.copy_from_slice(&location.frame.to_be_bytes());
            index.copy_from_slice(&location.index.to_be_bytes());
            let older = table
                .insert(hash.as_slice(), value.as_slice())
                .map_err(|e| index_error("index write", e))?
                .map(|old| old.value().to_vec());
            if let Some(older) = older {
                table
                    .insert(hash.as_slice(), older.as_slice())
                    .map_err(|e| index_error("index write", e))?;
            }
        }
        let mut meta = tx
            .open_table(META)
            .map_err(|e| index_error("index table", e))?;
        meta.insert(INDEXED, batch.last_frame)
            .map_err(|e| index_error("index write", e))?;
    }
    tx.commit().map_err(|e| index_error("index commit", e))
}

fn decode_location(hash: &[u8; 32], bytes: &[u8]) -> Result<Location, NodeError> {
    match (
        bytes.first_chunk::<8>(),
        bytes.last_chunk::<4>(),
        bytes.len(),
    ) {
        (Some(frame), Some(index), 12) => Ok(Location {
            frame: u64::from_be_bytes(*frame),
            index: u32::from_be_bytes(*index),
        }),
        _ => Err(NodeError::Index(format!(
            "index entry of {} is {} bytes, expected 12",
            hex::encode(hash),
            bytes.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::v1::MessageOutcome;

    fn hash(n: u64) -> [u8; 32] {
        *blake3::hash(&n.to_le_bytes()).as_bytes()
    }

    /// Frame `frame` holding the messages `hashes` in order.
    fn receipt(frame: u64, hashes: impl IntoIterator<Item = u64>) -> FrameReceipt {
        FrameReceipt {
            frame_number: frame,
            outcomes: hashes
                .into_iter()
                .enumerate()
                .map(|(index, n)| MessageOutcome {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    message_hash: hash(n).to_vec(),
                    ..MessageOutcome::default()
                })
                .collect(),
            ..FrameReceipt::default()
        }
    }

    fn at(frame: u64, index: u32) -> Option<Location> {
        Some(Location { frame, index })
    }

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_recorded_frame_is_seen_at_once_and_its_first_location_wins() -> Result<(), NodeError> {
        let dir = dir();
        let index = MessageIndex::open(dir.path())?;
        index.record(&receipt(1, [10, 11]))?;
        index.record(&receipt(2, [12, 10]))?;
        assert_eq!(index.get(&hash(11))?, at(1, 1));
        assert_eq!(
            index.get(&hash(10))?,
            at(1, 0),
            "the first commit is the one reported"
        );
        assert_eq!(index.get(&hash(99))?, None);
        assert_eq!(
            index.committed(&[hash(12), hash(99)])?,
            [true, false],
            "admission's duplicate check sees frames not yet written"
        );
        assert_eq!(
            index.indexed()?,
            None,
            "nothing is written before a batch is due"
        );
        Ok(())
    }

    #[test]
    fn a_flush_survives_reopening_and_keeps_first_locations() -> Result<(), NodeError> {
        let dir = dir();
        {
            let index = MessageIndex::open(dir.path())?;
            index.record(&receipt(1, [10, 11]))?;
            index.flush()?;
            // Recorded again after its first location was written out.
            index.record(&receipt(2, [11, 12]))?;
            index.flush()?;
        }
        let index = MessageIndex::open(dir.path())?;
        assert_eq!(index.indexed()?, Some(2));
        assert_eq!(index.get(&hash(10))?, at(1, 0));
        assert_eq!(index.get(&hash(11))?, at(1, 1));
        assert_eq!(index.get(&hash(12))?, at(2, 1));
        Ok(())
    }

    #[test]
    fn full_batches_are_written_in_the_background_and_lookups_never_miss() -> Result<(), NodeError>
    {
        let dir = dir();
        let index = MessageIndex::open(dir.path())?;
        let per_frame = 20_000u64;
        // The frames up to the one that passes FLUSH_ENTRIES make a batch, the last waits.
        let frames = u64::try_from(FLUSH_ENTRIES).unwrap_or(u64::MAX) / per_frame + 2;
        for frame in 1..=frames {
            let first = frame * per_frame;
            index.record(&receipt(frame, first..first + per_frame))?;
            // Whatever the writer is doing, every recorded frame is found.
            for probe in [1, frame] {
                assert_eq!(index.get(&hash(probe * per_frame + 7))?, at(probe, 7));
            }
        }
        index.join_writer()?;
        let written = frames - 1;
        assert_eq!(index.indexed()?, Some(written));
        drop(index);
        // Dropped without a flush, like a killed node: the file holds whole batches only.
        let index = MessageIndex::open(dir.path())?;
        assert_eq!(index.indexed()?, Some(written));
        assert_eq!(index.get(&hash(written * per_frame))?, at(written, 0));
        assert_eq!(index.get(&hash(frames * per_frame))?, None);
        Ok(())
    }

    #[test]
    fn frame_count_alone_makes_a_batch_due() -> Result<(), NodeError> {
        let dir = dir();
        let index = MessageIndex::open(dir.path())?;
        for frame in 1..=FLUSH_FRAMES {
            index.record(&receipt(frame, [frame]))?;
        }
        index.join_writer()?;
        assert_eq!(index.indexed()?, Some(FLUSH_FRAMES));
        Ok(())
    }

    #[test]
    fn a_malformed_hash_is_refused_by_name() -> Result<(), NodeError> {
        let dir = dir();
        let index = MessageIndex::open(dir.path())?;
        let mut bad = receipt(3, [1]);
        if let Some(outcome) = bad.outcomes.first_mut() {
            outcome.message_hash.truncate(5);
        }
        let error = index.record(&bad).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("message index: frame 3: outcome 0 has a hash of 5 bytes")
        );
        Ok(())
    }
}
