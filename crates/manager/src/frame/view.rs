//! The frame's shared view, used by the **execute** phase: the committed snapshot plus the
//! effects of finished messages.
//!
//! It also gathers the writes no later message of the frame touches ([`FrameView::keep`]):
//! those need not be visible while the frame runs, only at the commit, so each worker appends
//! them to a buffer of its own instead of the shared, hashed view.
//!
//! Safe to read without ordering beyond the scheduler's: a message reads only addresses in
//! its access set; every earlier message that writes one of them conflicts with it and so
//! finished before it started, and every later one waits for it. So whatever this view
//! returns for an address a message may read is exactly what serial execution would show.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use rayon::prelude::*;
use switchyard_router::{Address, AddressHashBuilder, StateError, StateRead};
use switchyard_state::{ChangeSet, Snapshot};

/// Shards of the published writes, each behind its own lock.
const SHARDS: usize = 64;

type Shard = RwLock<HashMap<Address, Option<Vec<u8>>, AddressHashBuilder>>;

/// One address's write.
type Write = (Address, Option<Vec<u8>>);

/// A worker's buffer of kept writes, on a cache line (two) of its own: workers append to
/// their own buffers at the same time.
#[repr(align(128))]
struct Kept(Mutex<Vec<Write>>);

/// Committed snapshot + the writes of the frame's finished messages.
pub(crate) struct FrameView {
    snapshot: Arc<dyn Snapshot>,
    /// Picks an address's shard (the same seeded hash as the shards' own tables).
    hasher: AddressHashBuilder,
    shards: Vec<Shard>,
    /// Per worker thread (and one for any other thread): writes kept for the commit.
    kept: Vec<Kept>,
}

impl std::fmt::Debug for FrameView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameView")
            .field(
                "written",
                &self.shards.iter().map(|s| s.read().len()).sum::<usize>(),
            )
            .finish()
    }
}

impl FrameView {
    /// An empty view over `snapshot` for `workers` worker threads, sized for about `published`
    /// published and `kept` kept writes (so that nothing grows while messages run).
    pub(crate) fn new(
        snapshot: Arc<dyn Snapshot>,
        published: usize,
        kept: usize,
        workers: usize,
    ) -> Self {
        let per_shard = published.div_ceil(SHARDS);
        // Workers share the kept writes about evenly; some slack for the uneven part.
        let per_worker = kept.div_ceil(workers.max(1)) + kept / 8;
        Self {
            kept: (0..=workers)
                .map(|worker| {
                    let capacity = if worker < workers { per_worker } else { 0 };
                    Kept(Mutex::new(Vec::with_capacity(capacity)))
                })
                .collect(),
            snapshot,
            hasher: AddressHashBuilder::default(),
            shards: (0..SHARDS)
                .map(|_| {
                    RwLock::new(HashMap::with_capacity_and_hasher(
                        per_shard,
                        AddressHashBuilder::default(),
                    ))
                })
                .collect(),
        }
    }

    /// The shard of `address`.
    fn shard(&self, address: &Address) -> Option<&Shard> {
        self.shards.get(self.shard_index(address))
    }

    /// The index of `address`'s shard, from its seeded hash: a sender chooses a recipient's
    /// bytes, so a shard picked from them could put every write of a frame behind one lock.
    /// Bits 32 and up: a shard's table indexes its buckets by the low bits and tags them with
    /// the top seven, which would otherwise be alike for every address of a shard.
    fn shard_index(&self, address: &Address) -> usize {
        (self.hasher.hash_one(address) >> 32) as usize % SHARDS
    }

    /// Records a finished message's changes.
    pub(crate) fn absorb(&self, changes: ChangeSet) {
        for (address, value) in changes {
            if let Some(shard) = self.shard(&address) {
                shard.write().insert(address, value);
            }
        }
    }

    /// The committed state under the frame's writes.
    pub(crate) fn committed(&self) -> &dyn StateRead {
        self.snapshot.as_ref()
    }

    /// Keeps a finished message's changes for the commit without making them visible: for a
    /// message whose writes no later message of the frame touches. `after_conflicts` says
    /// that an earlier message of the frame conflicts with it, and so may have published a
    /// write of the same address: that write is taken out of the view, since this one
    /// replaces it and nothing later reads it. So every address of the frame ends up in the
    /// view or in a kept buffer, never in both.
    pub(crate) fn keep(&self, changes: ChangeSet, after_conflicts: bool) {
        if after_conflicts {
            for address in changes.addresses() {
                if let Some(shard) = self.shard(address) {
                    shard.write().remove(address);
                }
            }
        }
        let worker = rayon::current_thread_index().unwrap_or(usize::MAX);
        if let Some(kept) = self.kept.get(worker).or_else(|| self.kept.last()) {
            kept.0.lock().extend(changes);
        }
    }

    /// Every write of the frame in address order, one per address.
    ///
    /// The view holds one write per address, and so does the union of the kept buffers (two
    /// messages that write an address conflict, so the earlier one publishes); [`Self::keep`]
    /// takes a kept address out of the view. The parts are therefore disjoint: they are
    /// appended and sorted, with no pass to drop duplicates, and the sort moves 88-byte
    /// writes (a tag telling kept from published writes apart made them 96 bytes).
    pub(crate) fn into_changes(self) -> Vec<Write> {
        let kept: Vec<Vec<Write>> = self.kept.into_iter().map(|k| k.0.into_inner()).collect();
        let shards: Vec<_> = self.shards.into_iter().map(RwLock::into_inner).collect();
        let total = kept.iter().map(Vec::len).sum::<usize>()
            + shards.iter().map(HashMap::len).sum::<usize>();
        // One spare slot: the commit may add the fee recipient's credit.
        let mut writes: Vec<Write> = Vec::with_capacity(total + 1);
        for mut buffer in kept {
            writes.append(&mut buffer);
        }
        for shard in shards {
            writes.extend(shard);
        }
        writes.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
        debug_assert!(
            writes
                .iter()
                .zip(writes.iter().skip(1))
                .all(|(a, b)| a.0 != b.0),
            "a frame's kept and published writes overlap"
        );
        writes
    }
}

impl StateRead for FrameView {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(shard) = self.shard(address)
            && let Some(value) = shard.read().get(address)
        {
            return Ok(value.clone());
        }
        self.snapshot.get(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_router::Domain;
    use switchyard_state::{MemoryStore, Store};

    fn addr(n: u8) -> Address {
        Address::new(Domain([n; 32]), [n; 32])
    }

    fn write(address: Address, value: &[u8]) -> ChangeSet {
        let mut changes = ChangeSet::new();
        changes.put(address, value.to_vec());
        changes
    }

    #[test]
    fn the_frame_writes_are_sorted_and_a_kept_write_wins_over_a_published_one()
    -> Result<(), StateError> {
        let store = MemoryStore::new();
        let committed = store.commit(1, &write(addr(9), b"committed"), &mut |_| Vec::new());
        assert!(committed.is_ok());
        let snapshot = store.snapshot().map_err(|e| StateError::Backend {
            reason: e.to_string(),
        })?;
        let view = FrameView::new(snapshot, 2, 2, 2);
        // An earlier message publishes address 3 (a later one reads it); that later message
        // is the last to write it, so it keeps its write.
        view.absorb(write(addr(3), b"first"));
        assert_eq!(view.get(&addr(3))?, Some(b"first".to_vec()));
        // It ran after a conflict, so its write takes the published one out of the view.
        view.keep(write(addr(3), b"last"), true);
        assert_eq!(view.get(&addr(3))?, None);
        view.keep(write(addr(1), b"kept"), false);
        view.absorb(write(addr(2), b"published"));
        // Kept writes are not visible during the frame; the committed state shows through.
        assert_eq!(view.get(&addr(1))?, None);
        assert_eq!(view.get(&addr(9))?, Some(b"committed".to_vec()));
        let writes = view.into_changes();
        assert_eq!(
            writes,
            vec![
                (addr(1), Some(b"kept".to_vec())),
                (addr(2), Some(b"published".to_vec())),
                (addr(3), Some(b"last".to_vec())),
            ]
        );
        Ok(())
    }

    #[test]
    fn recipients_a_sender_chooses_alike_spread_over_the_shards() -> Result<(), StateError> {
        let snapshot = MemoryStore::new()
            .snapshot()
            .map_err(|e| StateError::Backend {
                reason: e.to_string(),
            })?;
        let view = FrameView::new(snapshot, 64, 0, 2);
        // Same domain, same first key byte, the rest counted up: what a sender aiming at one
        // shard would write (the shard used to follow the first bytes alone).
        let shards: std::collections::BTreeSet<usize> = (0..64u64)
            .map(|n| {
                let mut key = [7; 32];
                key[24..].copy_from_slice(&n.to_be_bytes());
                view.shard_index(&Address::new(Domain([1; 32]), key))
            })
            .collect();
        // 64 addresses hashed into 64 shards land in about 40; fewer than 16 has a chance
        // below 10^-25.
        assert!(shards.len() >= 16, "{} shards", shards.len());
        Ok(())
    }
}
