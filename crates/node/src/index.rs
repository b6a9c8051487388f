//! The message index of a data dir: message hash -> (frame, position), so that the status of
//! a committed message survives restarts.
//!
//! A redb file next to the state (`messages.redb`), written by the frame producer after each
//! frame commits. A crash between the state's commit and the index's leaves the index one
//! frame behind: [`MessageIndex::catch_up`] re-reads the receipts of the frames it missed at
//! start (normally none or one; every frame only when the index file was deleted).

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::FrameReceipt;
use switchyard_state::Store;

use crate::error::NodeError;

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
    db: Database,
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
        Ok(Self { db })
    }

    /// The last frame whose receipt is indexed (`None` before any).
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

    /// Where the message with `hash` was committed, if it was.
    pub fn get(&self, hash: &[u8; 32]) -> Result<Option<Location>, NodeError> {
        let tx = self
            .db
            .begin_read()
            .map_err(|e| index_error("index read", e))?;
        let table = tx
            .open_table(MESSAGES)
            .map_err(|e| index_error("index table", e))?;
        let Some(value) = table
            .get(hash.as_slice())
            .map_err(|e| index_error("index read", e))?
        else {
            return Ok(None);
        };
        let bytes = value.value();
        match (
            bytes.first_chunk::<8>(),
            bytes.last_chunk::<4>(),
            bytes.len(),
        ) {
            (Some(frame), Some(index), 12) => Ok(Some(Location {
                frame: u64::from_be_bytes(*frame),
                index: u32::from_be_bytes(*index),
            })),
            _ => Err(NodeError::Index(format!(
                "index entry of {} is {} bytes, expected 12",
                hex::encode(hash),
                bytes.len()
            ))),
        }
    }

    /// For each of `hashes`, whether it was committed: one read transaction for them all.
    pub fn committed(&self, hashes: &[[u8; 32]]) -> Result<Vec<bool>, NodeError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
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
                table
                    .get(hash.as_slice())
                    .map(|value| value.is_some())
                    .map_err(|e| index_error("index read", e))
            })
            .collect()
    }

    /// Indexes every outcome of `receipt` (one transaction, made durable) and marks its frame
    /// indexed. A hash already indexed keeps its first location.
    pub fn record(&self, receipt: &FrameReceipt) -> Result<(), NodeError> {
        let tx = self
            .db
            .begin_write()
            .map_err(|e| index_error("index transaction", e))?;
        {
            let mut table = tx
                .open_table(MESSAGES)
                .map_err(|e| index_error("index table", e))?;
            for outcome in &receipt.outcomes {
                let key = outcome.message_hash.as_slice();
                if table
                    .get(key)
                    .map_err(|e| index_error("index read", e))?
                    .is_some()
                {
                    continue;
                }
                let mut value = Vec::with_capacity(12);
                value.extend_from_slice(&receipt.frame_number.to_be_bytes());
                value.extend_from_slice(&outcome.index.to_be_bytes());
                table
                    .insert(key, value.as_slice())
                    .map_err(|e| index_error("index write", e))?;
            }
            let mut meta = tx
                .open_table(META)
                .map_err(|e| index_error("index table", e))?;
            meta.insert(INDEXED, receipt.frame_number)
                .map_err(|e| index_error("index write", e))?;
        }
        tx.commit().map_err(|e| index_error("index commit", e))
    }

    /// Indexes the receipts of every committed frame the index has not seen (after a crash
    /// between the two commits, or when the index file is new). Returns how many frames it read.
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
