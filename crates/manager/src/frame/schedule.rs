//! Phase 3, **schedule**: the dependency graph of a frame (built as one job of the validate
//! phase, and timed apart).
//!
//! Message `j` depends on an earlier message `i` when they conflict on an address (one writes
//! what the other reads or writes). It is enough to record, per address, the last writer and
//! the readers since it: a reader depends on the last writer; a writer depends on the last
//! writer and on every reader since. Every other conflict follows by transitivity, so the
//! graph has O(total access-set size) edges.
//!
//! Addresses are tracked by a 64-bit fingerprint (a [`Footprint`] per message), in a table of
//! 24-byte slots: a frame touches tens of thousands of addresses, and a table of full
//! addresses (or of pointers to them) no longer fits in cache, which made every lookup a
//! memory access. Two addresses with the same fingerprint are treated as one: at worst a false
//! conflict, which runs two messages in frame order that could have run in parallel. Never the
//! reverse, so the result stays the serial one. The fingerprint's hash is seeded per process,
//! so such pairs are rare accidents, not something a sender can arrange.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use switchyard_router::{AccessSet, AddressHashBuilder};

/// Per message: how many earlier messages it waits for, and which later ones wait for it.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub(crate) waits_for: Vec<usize>,
    pub(crate) dependents: Vec<Vec<usize>>,
}

/// No message: the `last_writer` of an address nobody wrote yet, the `readers` of one nobody
/// read since.
const NONE: usize = usize::MAX;

/// What the builder remembers of one address.
#[derive(Clone, Copy)]
struct AddressState {
    /// The last message that wrote it, or [`NONE`].
    last_writer: usize,
    /// Index in the builder's reader lists of the messages that read it since, or [`NONE`].
    readers: usize,
}

/// The addresses a message touches, as the graph reads them: fingerprints, with the low bit
/// set for a write. Built while the message's access set is still in cache (when it is
/// prepared), and laid out inline for the usual handful of addresses, so that building the
/// graph scans one contiguous array instead of following a pointer per message.
#[derive(Debug, Clone)]
pub(crate) enum Footprint {
    /// Up to [`Footprint::INLINE`] entries.
    Inline {
        len: u8,
        entries: [u64; Footprint::INLINE],
    },
    /// More.
    Spilled(Vec<u64>),
}

impl Footprint {
    /// Entries held without an allocation: a signer, a recipient and shared metadata fit.
    const INLINE: usize = 4;

    /// The footprint of `access`: its reads, then its writes.
    pub(crate) fn of(access: &AccessSet) -> Self {
        // One builder for the message: each reads the process's seeds.
        let hasher = AddressHashBuilder::default();
        let reads = access.reads.iter().map(|a| hasher.hash_one(a) & !1);
        let writes = access.writes.iter().map(|a| hasher.hash_one(a) | 1);
        let total = access.reads.len() + access.writes.len();
        if total > Self::INLINE {
            return Self::Spilled(reads.chain(writes).collect());
        }
        let (mut entries, mut len) = ([0; Self::INLINE], 0);
        for (slot, entry) in entries.iter_mut().zip(reads.chain(writes)) {
            *slot = entry;
            len += 1;
        }
        Self::Inline { len, entries }
    }

    fn entries(&self) -> &[u64] {
        match self {
            Self::Inline { len, entries } => entries.get(..usize::from(*len)).unwrap_or(entries),
            Self::Spilled(entries) => entries,
        }
    }
}

/// Builds the graph over the messages' footprints (`None` = a message that will not run).
pub(crate) fn build(footprints: &[Option<Footprint>]) -> Graph {
    let count = footprints.len();
    let mut graph = Graph {
        waits_for: vec![0; count],
        dependents: vec![Vec::new(); count],
    };
    // Sized for a transfer's two accounts per message, plus shared addresses.
    let mut addresses: HashMap<u64, AddressState, FingerprintHashBuilder> =
        HashMap::with_capacity_and_hasher(count * 2 + 16, FingerprintHashBuilder);
    // Reader lists, allocated only for addresses that are read (few: shared metadata).
    let mut reader_lists: Vec<Vec<usize>> = Vec::new();
    let mut deps: Vec<usize> = Vec::new();
    for (index, footprint) in footprints.iter().enumerate() {
        let Some(footprint) = footprint else { continue };
        deps.clear();
        for &entry in footprint.entries() {
            let state = addresses.entry(entry & !1).or_insert(AddressState {
                last_writer: NONE,
                readers: NONE,
            });
            if state.last_writer != NONE {
                deps.push(state.last_writer);
            }
            if entry & 1 == 0 {
                // A read.
                if state.readers == NONE {
                    state.readers = reader_lists.len();
                    reader_lists.push(Vec::new());
                }
                if let Some(list) = reader_lists.get_mut(state.readers) {
                    list.push(index);
                }
            } else {
                if let Some(list) = reader_lists.get_mut(state.readers) {
                    deps.extend(list.drain(..).filter(|&r| r != index));
                }
                state.last_writer = index;
            }
        }
        deps.sort_unstable();
        deps.dedup();
        if let Some(waits) = graph.waits_for.get_mut(index) {
            *waits = deps.len();
        }
        for &dep in &deps {
            if let Some(list) = graph.dependents.get_mut(dep) {
                list.push(index);
            }
        }
    }
    graph
}

/// Fingerprints are hashes already: the table uses them as they are.
#[derive(Clone, Copy, Default)]
struct FingerprintHashBuilder;

#[derive(Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys reach this hasher, through `write_u64`; fold anything else in.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, fingerprint: u64) {
        self.0 = fingerprint;
    }
}

impl BuildHasher for FingerprintHashBuilder {
    type Hasher = FingerprintHasher;
    fn build_hasher(&self) -> FingerprintHasher {
        FingerprintHasher::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::access_set as set;

    fn footprints(sets: &[AccessSet]) -> Vec<Option<Footprint>> {
        sets.iter().map(|set| Some(Footprint::of(set))).collect()
    }

    #[test]
    fn edges_follow_conflicts_only() {
        let sets = [
            set(&[], &[1]),
            set(&[1], &[]),
            set(&[1], &[]),
            set(&[], &[1]),
            set(&[], &[2]),
        ];
        let graph = build(&footprints(&sets));
        assert_eq!(graph.waits_for, vec![0, 1, 1, 3, 0]);
        assert_eq!(graph.dependents[0], vec![1, 2, 3]);
        assert_eq!(graph.dependents[1], vec![3]);
        assert!(graph.dependents[4].is_empty());
    }

    #[test]
    fn readers_after_a_write_wait_for_it_and_the_next_writer_waits_for_them() {
        let sets = [
            set(&[1], &[]),
            set(&[], &[1]),
            set(&[1], &[]),
            set(&[1], &[2]),
            set(&[], &[1]),
        ];
        let graph = build(&footprints(&sets));
        assert_eq!(graph.waits_for, vec![0, 1, 1, 1, 3]);
        assert_eq!(graph.dependents[0], vec![1]);
        assert_eq!(graph.dependents[1], vec![2, 3, 4]);
        assert_eq!(graph.dependents[2], vec![4]);
        assert_eq!(graph.dependents[3], vec![4]);
    }

    #[test]
    fn large_footprints_spill_and_keep_every_address() {
        let wide = set(&[1, 2, 3], &[4, 5, 6]);
        let footprint = Footprint::of(&wide);
        assert!(matches!(footprint, Footprint::Spilled(_)));
        assert_eq!(footprint.entries().len(), 6);
        assert_eq!(
            footprint.entries().iter().filter(|e| *e & 1 == 1).count(),
            3
        );
        let small = Footprint::of(&set(&[1], &[4, 5]));
        assert!(matches!(small, Footprint::Inline { len: 3, .. }));
        let graph = build(&footprints(&[wide, set(&[6], &[]), set(&[], &[3])]));
        assert_eq!(graph.waits_for, vec![0, 1, 1]);
    }

    #[test]
    fn skipped_messages_take_no_part() {
        let sets = [set(&[], &[1]), set(&[], &[1])];
        let graph = build(&[None, Some(Footprint::of(&sets[1]))]);
        assert_eq!(graph.waits_for, vec![0, 0]);
        let _ = &sets[0];
    }
}
