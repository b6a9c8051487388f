//! The frame's shared view: the committed snapshot plus the effects of finished messages.
//!
//! Safe to read without ordering beyond the scheduler's: a message reads only addresses in
//! its access set; every earlier message that writes one of them conflicts with it and so
//! finished before it started, and every later one waits for it. So whatever this view
//! returns for an address a message may read is exactly what serial execution would show.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use rayon::prelude::*;
use switchyard_router::{Address, AddressHashBuilder, StateError, StateRead};
use switchyard_state::{ChangeSet, Snapshot};

const SHARDS: usize = 64;

type Shard = RwLock<HashMap<Address, Option<Vec<u8>>, AddressHashBuilder>>;

/// Committed snapshot + the writes of the frame's finished messages.
pub(crate) struct PendingState {
    snapshot: Arc<dyn Snapshot>,
    shards: Vec<Shard>,
}

impl std::fmt::Debug for PendingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingState")
            .field(
                "written",
                &self.shards.iter().map(|s| s.read().len()).sum::<usize>(),
            )
            .finish()
    }
}

impl PendingState {
    /// An empty view over `snapshot`, sized for about `writes` written addresses (so the
    /// shards do not grow while messages run).
    pub(crate) fn new(snapshot: Arc<dyn Snapshot>, writes: usize) -> Self {
        let per_shard = writes.div_ceil(SHARDS);
        Self {
            snapshot,
            shards: (0..SHARDS)
                .map(|_| {
                    RwLock::new(HashMap::with_capacity_and_hasher(
                        per_shard,
                        AddressHashBuilder,
                    ))
                })
                .collect(),
        }
    }

    fn shard(&self, address: &Address) -> Option<&Shard> {
        self.shards
            .get(usize::from(address.key[0] ^ address.domain.0[0]) % SHARDS)
    }

    /// Records a finished message's changes.
    pub(crate) fn absorb(&self, changes: ChangeSet) {
        for (address, value) in changes {
            if let Some(shard) = self.shard(&address) {
                shard.write().insert(address, value);
            }
        }
    }

    /// Every change of the frame, ordered by address.
    pub(crate) fn into_changes(self) -> ChangeSet {
        // Each address is in one shard once: sorted in parallel, the writes are the change set.
        let mut entries: Vec<(Address, Option<Vec<u8>>)> = self
            .shards
            .into_par_iter()
            .flat_map_iter(|shard| shard.into_inner())
            .collect();
        entries.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        ChangeSet::from_sorted(entries)
    }
}

impl StateRead for PendingState {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(shard) = self.shard(address)
            && let Some(value) = shard.read().get(address)
        {
            return Ok(value.clone());
        }
        self.snapshot.get(address)
    }
}
