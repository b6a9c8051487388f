//! The state root: a function of the final state alone, and sensitive to every value.

use std::collections::BTreeMap;

use proptest::prelude::*;
use switchyard_router::Address;
use switchyard_state::{ChangeSet, Lattice, MemoryStore, RedbOptions, RedbStore, StateRoot, Store};

use crate::{addr, apply_to_model};

/// One write: an address among 12 (so writes collide) and a value of 0 to 40 bytes (on both
/// sides of the memory store's 30-byte inline limit), or a delete.
fn op() -> impl Strategy<Value = (u32, Option<Vec<u8>>)> {
    (
        0u32..12,
        proptest::option::weighted(0.8, proptest::collection::vec(any::<u8>(), 0..40)),
    )
}

/// Commits `ops` in frames of the given sizes (the rest in a last frame), each frame's change
/// set keeping its last write per address; returns the head root.
fn commit_grouped(store: &dyn Store, ops: &[(u32, Option<Vec<u8>>)], sizes: &[usize]) -> StateRoot {
    let mut rest = ops;
    let mut frame = 1;
    let mut groups = Vec::new();
    for size in sizes {
        let (group, tail) = rest.split_at((*size).min(rest.len()));
        groups.push(group);
        rest = tail;
    }
    groups.push(rest);
    for group in groups {
        let mut changes = ChangeSet::new();
        for (n, value) in group {
            match value {
                Some(value) => changes.put(addr(*n), value.clone()),
                None => changes.delete(addr(*n)),
            }
        }
        store.commit(frame, &changes, &mut |_| Vec::new()).unwrap();
        frame += 1;
    }
    store.head().unwrap().state_root
}

fn final_state(ops: &[(u32, Option<Vec<u8>>)]) -> BTreeMap<Address, Vec<u8>> {
    let mut model = BTreeMap::new();
    for (n, value) in ops {
        let mut changes = ChangeSet::new();
        match value {
            Some(value) => changes.put(addr(*n), value.clone()),
            None => changes.delete(addr(*n)),
        }
        apply_to_model(&mut model, &changes);
    }
    model
}

fn root_of(state: &BTreeMap<Address, Vec<u8>>) -> StateRoot {
    Lattice::from_entries(
        state
            .iter()
            .map(|(address, value)| (address, value.as_slice())),
    )
    .root()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_root_depends_on_the_final_state_only(
        ops in proptest::collection::vec(op(), 0..40),
        sizes in proptest::collection::vec(0usize..8, 0..6),
        rotate in 0usize..40,
    ) {
        let state = final_state(&ops);
        let expected = root_of(&state);

        // Grouped into frames one way, one write per frame, or all at once: same root.
        prop_assert_eq!(commit_grouped(&MemoryStore::new(), &ops, &sizes), expected);
        prop_assert_eq!(commit_grouped(&MemoryStore::new(), &ops, &vec![1; ops.len()]), expected);
        prop_assert_eq!(commit_grouped(&MemoryStore::new(), &ops, &[]), expected);

        // The final state inserted in another order, in one frame.
        let mut entries: Vec<_> = state.iter().collect();
        if !entries.is_empty() {
            let by = rotate % entries.len();
            entries.rotate_left(by);
        }
        entries.reverse();
        prop_assert_eq!(Lattice::from_entries(entries.iter().map(|(a, v)| (*a, v.as_slice()))).root(), expected);
        let store = MemoryStore::new();
        let changes: ChangeSet = state.iter().map(|(a, v)| (*a, Some(v.clone()))).collect();
        prop_assert_eq!(store.commit(1, &changes, &mut |_| Vec::new()).unwrap().state_root, expected);
        prop_assert_eq!(store.recompute_root().unwrap(), expected);
    }

    #[test]
    fn the_root_changes_when_any_value_changes(
        ops in proptest::collection::vec(op(), 1..30),
        pick in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let state = final_state(&ops);
        prop_assume!(!state.is_empty());
        let root = root_of(&state);
        let (address, value) = state.iter().nth(pick.index(state.len())).unwrap();

        let mut changed = state.clone();
        let mut new_value = value.clone();
        match new_value.first_mut() {
            Some(first) if *first != byte => *first = byte,
            Some(first) => *first = byte.wrapping_add(1),
            None => new_value.push(byte),
        }
        changed.insert(*address, new_value.clone());
        prop_assert_ne!(root_of(&changed), root);

        // Through a store: the update, and a delete, each change the root.
        let store = MemoryStore::new();
        let all: ChangeSet = state.iter().map(|(a, v)| (*a, Some(v.clone()))).collect();
        prop_assert_eq!(store.commit(1, &all, &mut |_| Vec::new()).unwrap().state_root, root);
        let mut update = ChangeSet::new();
        update.put(*address, new_value);
        prop_assert_eq!(store.root_after(&update).unwrap(), root_of(&changed));
        let mut delete = ChangeSet::new();
        delete.delete(*address);
        prop_assert_ne!(store.root_after(&delete).unwrap(), root);
        // Writing back the same value does not.
        let mut same = ChangeSet::new();
        same.put(*address, value.clone());
        prop_assert_eq!(store.root_after(&same).unwrap(), root);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_redb_store_computes_the_same_roots_as_the_memory_store(
        ops in proptest::collection::vec(op(), 0..40),
        sizes in proptest::collection::vec(0usize..8, 0..5),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open_with(dir.path(), RedbOptions::default().sync_commits(false).cache_size(4 << 20)).unwrap();
        let expected = root_of(&final_state(&ops));
        prop_assert_eq!(commit_grouped(&store, &ops, &sizes), expected);
        prop_assert_eq!(store.recompute_root().unwrap(), expected);
    }
}

#[test]
fn the_root_does_not_depend_on_the_number_of_threads() {
    let store = MemoryStore::new();
    let initial: ChangeSet = (0..3000)
        .map(|n| (addr(n), Some(n.to_le_bytes().to_vec())))
        .collect();
    store.commit(1, &initial, &mut |_| Vec::new()).unwrap();
    let update: ChangeSet = (1000..5000)
        .map(|n| {
            (
                addr(n),
                if n.is_multiple_of(5) {
                    None
                } else {
                    Some(vec![n as u8; (n % 17) as usize])
                },
            )
        })
        .collect();
    let roots: Vec<StateRoot> = [1, 2, 3]
        .into_iter()
        .map(|threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| store.root_after(&update).unwrap())
        })
        .collect();
    assert_eq!(roots[0], roots[1]);
    assert_eq!(roots[0], roots[2]);
    let head = store.commit(2, &update, &mut |_| Vec::new()).unwrap();
    assert_eq!(head.state_root, roots[0]);
    assert_eq!(store.recompute_root().unwrap(), roots[0]);
}
