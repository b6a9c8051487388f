//! [`LayerStore`]: the fuzzed frames commit on top of a fixed world and are then forgotten.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use switchyard_router::{Address, StateError, StateRead};
use switchyard_state::{ChangeSet, Head, MemoryStore, Snapshot, StateRoot, Store, StoreError};

/// A store that reads through to a fixed [`MemoryStore`] (the world, never written) and keeps
/// the frames committed since the last [`LayerStore::reset`] in one layer of changes, so every
/// fuzz input starts from the same state without rebuilding the world or the manager. Roots
/// come from the world's own lattice ([`Store::root_after`] of the layer), so they are the
/// roots a [`MemoryStore`] holding the same state would report.
pub(crate) struct LayerStore {
    base: Arc<MemoryStore>,
    top: RwLock<Option<Arc<Layer>>>,
}

/// What was committed since the last reset.
struct Layer {
    head: Head,
    changes: ChangeSet,
    receipts: BTreeMap<u64, Vec<u8>>,
}

impl LayerStore {
    pub(crate) fn new(base: Arc<MemoryStore>) -> Self {
        Self {
            base,
            top: RwLock::new(None),
        }
    }

    /// Forgets every frame committed since the world.
    pub(crate) fn reset(&self) {
        *self.top.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn layer(&self) -> Option<Arc<Layer>> {
        self.top.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The layer's changes followed by `changes`.
    fn merged(&self, layer: Option<&Layer>, changes: &ChangeSet) -> ChangeSet {
        let mut merged = layer.map(|l| l.changes.clone()).unwrap_or_default();
        merged.merge(changes.clone());
        merged
    }
}

impl fmt::Debug for LayerStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerStore")
            .field("head", &self.head())
            .finish_non_exhaustive()
    }
}

impl Store for LayerStore {
    fn head(&self) -> Option<Head> {
        self.layer().map(|l| l.head).or_else(|| self.base.head())
    }

    fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError> {
        Ok(Arc::new(LayerSnapshot {
            base: self.base.snapshot()?,
            layer: self.layer(),
        }))
    }

    fn commit(
        &self,
        frame_number: u64,
        changes: &ChangeSet,
        receipt: &mut dyn FnMut(&StateRoot) -> Vec<u8>,
    ) -> Result<Head, StoreError> {
        let mut top = self.top.write().unwrap_or_else(|e| e.into_inner());
        let head = top.as_ref().map(|l| l.head).or_else(|| self.base.head());
        if let Some(head) = head {
            let expected = head
                .frame_number
                .checked_add(1)
                .ok_or(StoreError::FrameOverflow {
                    head: head.frame_number,
                })?;
            if frame_number != expected {
                return Err(StoreError::FrameMismatch {
                    head: head.frame_number,
                    expected,
                    found: frame_number,
                });
            }
        }
        let merged = self.merged(top.as_deref(), changes);
        let state_root = self.base.root_after(&merged)?;
        let head = Head {
            frame_number,
            state_root,
        };
        let mut receipts = top.as_ref().map(|l| l.receipts.clone()).unwrap_or_default();
        receipts.insert(frame_number, receipt(&state_root));
        *top = Some(Arc::new(Layer {
            head,
            changes: merged,
            receipts,
        }));
        Ok(head)
    }

    fn receipt(&self, frame_number: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match self
            .layer()
            .and_then(|l| l.receipts.get(&frame_number).cloned())
        {
            Some(receipt) => Ok(Some(receipt)),
            None => self.base.receipt(frame_number),
        }
    }

    fn root_after(&self, changes: &ChangeSet) -> Result<StateRoot, StoreError> {
        let layer = self.layer();
        self.base
            .root_after(&self.merged(layer.as_deref(), changes))
    }

    fn recompute_root(&self) -> Result<StateRoot, StoreError> {
        match self.layer() {
            Some(layer) => self.base.root_after(&layer.changes),
            None => self.base.recompute_root(),
        }
    }
}

/// A snapshot: the layer's writes over the world's.
struct LayerSnapshot {
    base: Arc<dyn Snapshot>,
    layer: Option<Arc<Layer>>,
}

impl fmt::Debug for LayerSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerSnapshot")
            .field("head", &self.head())
            .finish_non_exhaustive()
    }
}

impl StateRead for LayerSnapshot {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        match self.layer.as_ref().and_then(|l| l.changes.get(address)) {
            Some(write) => Ok(write.map(<[u8]>::to_vec)),
            None => self.base.get(address),
        }
    }
}

impl Snapshot for LayerSnapshot {
    fn head(&self) -> Option<Head> {
        self.layer
            .as_ref()
            .map(|l| l.head)
            .or_else(|| self.base.head())
    }
}
