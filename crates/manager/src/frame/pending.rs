//! The frame's shared view: the committed snapshot plus the effects of finished messages.
//!
//! Safe to read without ordering beyond the scheduler's: a message reads only addresses in
//! its access set; every earlier message that writes one of them conflicts with it and so
//! finished before it started, and every later one waits for it. So whatever this view
//! returns for an address a message may read is exactly what serial execution would show.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use parking_lot::RwLock;
use switchyard_router::{Address, StateError, StateRead};
use switchyard_state::{ChangeSet, Snapshot};

const SHARDS: usize = 64;

/// Addresses are BLAKE3 outputs or keys: their first bytes are already uniform, so the map
/// hashes by taking them as they are.
#[derive(Default, Clone, Copy)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word.iter_mut().zip(chunk).for_each(|(w, b)| *w = *b);
            self.0 = self.0.rotate_left(5)
                ^ u64::from_le_bytes(word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
}

#[derive(Default, Clone, Copy)]
struct BuildAddressHasher;

impl BuildHasher for BuildAddressHasher {
    type Hasher = AddressHasher;
    fn build_hasher(&self) -> AddressHasher {
        AddressHasher::default()
    }
}

type Shard = RwLock<HashMap<Address, Option<Vec<u8>>, BuildAddressHasher>>;

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
    pub(crate) fn new(snapshot: Arc<dyn Snapshot>) -> Self {
        Self {
            snapshot,
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
        }
    }

    fn shard(&self, address: &Address) -> Option<&Shard> {
        self.shards
            .get(usize::from(address.key[0] ^ address.domain.0[0]) % SHARDS)
    }

    /// Records a finished message's changes.
    pub(crate) fn absorb(&self, changes: ChangeSet) {
        for (address, value) in changes.iter() {
            if let Some(shard) = self.shard(address) {
                shard.write().insert(*address, value.map(<[u8]>::to_vec));
            }
        }
    }

    /// Every change of the frame, ordered by address.
    pub(crate) fn into_changes(self) -> ChangeSet {
        let mut changes = ChangeSet::new();
        for shard in self.shards {
            for (address, value) in shard.into_inner() {
                match value {
                    Some(value) => changes.put(address, value),
                    None => changes.delete(address),
                }
            }
        }
        changes
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
