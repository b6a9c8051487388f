//! Every store: atomic commits under injected failure, snapshot isolation, frame numbers,
//! receipts, and agreement between the in-memory and the redb store.

use std::collections::BTreeMap;
use std::sync::Arc;

use switchyard_router::{Address, StateError};
use switchyard_state::{
    ChangeSet, Head, LogStore, MemoryStore, RedbOptions, RedbStore, StateRoot, Store, StoreError,
};
use tempfile::TempDir;

use crate::{addr, apply_to_model, receipt_for, workload_frame};

/// A store under test, with its failure injection.
struct Subject {
    name: &'static str,
    store: Arc<dyn Store>,
    fail_after: Box<dyn Fn(usize)>,
    _dir: Option<TempDir>,
}

fn memory() -> Subject {
    let store = Arc::new(MemoryStore::new());
    let handle = Arc::clone(&store);
    Subject {
        name: "memory",
        store,
        fail_after: Box::new(move |n| handle.fail_next_commit_after(n)),
        _dir: None,
    }
}

fn redb() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RedbStore::open(dir.path()).unwrap());
    let handle = Arc::clone(&store);
    Subject {
        name: "redb",
        store,
        fail_after: Box::new(move |n| handle.fail_next_commit_after(n)),
        _dir: Some(dir),
    }
}

fn log() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LogStore::open(dir.path()).unwrap());
    let handle = Arc::clone(&store);
    Subject {
        name: "log",
        store,
        fail_after: Box::new(move |n| handle.fail_next_commit_after(n)),
        _dir: Some(dir),
    }
}

fn subjects() -> [Subject; 3] {
    [memory(), redb(), log()]
}

fn commit(store: &dyn Store, frame: u64, changes: &ChangeSet) -> Result<Head, StoreError> {
    store.commit(frame, changes, &mut |root| receipt_for(frame, root))
}

/// Every value of `model` and every address of `extra` read through a fresh snapshot equals
/// the model.
fn assert_state(
    store: &dyn Store,
    model: &BTreeMap<Address, Vec<u8>>,
    extra: &ChangeSet,
    name: &str,
) {
    let snapshot = store.snapshot().unwrap();
    for (address, value) in model {
        assert_eq!(
            snapshot.get(address).unwrap().as_ref(),
            Some(value),
            "{name}: {address}"
        );
    }
    for (address, _) in extra.iter() {
        assert_eq!(
            snapshot.get(address).unwrap().as_ref(),
            model.get(address),
            "{name}: {address}"
        );
    }
}

#[test]
fn an_injected_failure_mid_commit_leaves_the_previous_frame_and_a_retry_commits() {
    for subject in subjects() {
        let store = &*subject.store;
        let name = subject.name;
        let mut model = BTreeMap::new();
        let mut heads = Vec::new();
        for frame in 1..=2 {
            let changes = workload_frame(frame, 300);
            apply_to_model(&mut model, &changes);
            heads.push(commit(store, frame, &changes).unwrap());
        }
        let head = store.head().unwrap();
        let next = workload_frame(3, 300);
        let expected_root = store.root_after(&next).unwrap();

        for after in [0, 1, next.len() / 2, next.len(), next.len() + 10] {
            (subject.fail_after)(after);
            let mut receipt_calls = 0;
            let error = store
                .commit(3, &next, &mut |_| {
                    receipt_calls += 1;
                    Vec::new()
                })
                .unwrap_err();
            assert!(
                matches!(error, StoreError::Injected { writes } if writes == after.min(next.len())),
                "{name}: {error}"
            );
            assert_eq!(receipt_calls, 0, "{name}: no receipt for a failed commit");
            // Everything of frame 2 is still there, nothing of frame 3.
            assert_eq!(store.head(), Some(head), "{name}");
            assert_state(store, &model, &next, name);
            assert_eq!(store.recompute_root().unwrap(), head.state_root, "{name}");
            assert_eq!(store.root_after(&next).unwrap(), expected_root, "{name}");
            assert_eq!(store.receipt(3).unwrap(), None, "{name}");
            for head in &heads {
                let receipt = receipt_for(head.frame_number, &head.state_root);
                assert_eq!(
                    store.receipt(head.frame_number).unwrap(),
                    Some(receipt),
                    "{name}"
                );
            }
        }

        // The failure is one-shot: the retry commits the frame in full.
        let retried = commit(store, 3, &next).unwrap();
        apply_to_model(&mut model, &next);
        assert_eq!(
            retried,
            Head {
                frame_number: 3,
                state_root: expected_root
            },
            "{name}"
        );
        assert_eq!(store.head(), Some(retried), "{name}");
        assert_state(store, &model, &next, name);
        assert_eq!(store.recompute_root().unwrap(), expected_root, "{name}");
        assert_eq!(
            store.receipt(3).unwrap(),
            Some(receipt_for(3, &expected_root)),
            "{name}"
        );
    }
}

#[test]
fn a_redb_store_reopened_after_an_injected_failure_holds_the_previous_frame() {
    let dir = tempfile::tempdir().unwrap();
    let first = workload_frame(1, 200);
    let head = {
        let store = RedbStore::open(dir.path()).unwrap();
        let head = commit(&store, 1, &first).unwrap();
        store.fail_next_commit_after(100);
        assert!(matches!(
            commit(&store, 2, &workload_frame(2, 200)),
            Err(StoreError::Injected { writes: 100 })
        ));
        head
    };
    let store = RedbStore::open(dir.path()).unwrap();
    assert_eq!(store.head(), Some(head));
    let mut model = BTreeMap::new();
    apply_to_model(&mut model, &first);
    assert_state(&store, &model, &workload_frame(2, 200), "redb");
    assert_eq!(store.recompute_root().unwrap(), head.state_root);
}

#[test]
fn a_snapshot_does_not_see_later_commits() {
    for subject in subjects() {
        let store = &*subject.store;
        let name = subject.name;
        let empty = store.snapshot().unwrap();
        let mut changes = ChangeSet::new();
        changes.put(addr(1), b"one".to_vec());
        changes.put(addr(2), b"two".to_vec());
        commit(store, 1, &changes).unwrap();
        let first = store.snapshot().unwrap();

        let mut changes = ChangeSet::new();
        changes.put(addr(1), b"uno".to_vec());
        changes.delete(addr(2));
        changes.put(addr(3), b"three".to_vec());
        commit(store, 2, &changes).unwrap();
        for frame in 3..10 {
            commit(store, frame, &workload_frame(frame, 100)).unwrap();
        }

        assert_eq!(empty.get(&addr(1)).unwrap(), None, "{name}");
        assert_eq!(
            first.get(&addr(1)).unwrap(),
            Some(b"one".to_vec()),
            "{name}"
        );
        assert_eq!(
            first.get(&addr(2)).unwrap(),
            Some(b"two".to_vec()),
            "{name}"
        );
        assert_eq!(first.get(&addr(3)).unwrap(), None, "{name}");
        let latest = store.snapshot().unwrap();
        assert_eq!(
            latest.get(&addr(3)).unwrap(),
            Some(b"three".to_vec()),
            "{name}"
        );
    }
}

#[test]
fn snapshots_are_read_from_many_threads_while_frames_commit() {
    for subject in subjects() {
        let store = &*subject.store;
        let mut model = BTreeMap::new();
        let frame = workload_frame(1, 500);
        apply_to_model(&mut model, &frame);
        commit(store, 1, &frame).unwrap();
        let snapshot = store.snapshot().unwrap();
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    for _ in 0..5 {
                        for n in 0..2000 {
                            assert_eq!(
                                snapshot.get(&addr(n)).unwrap().as_ref(),
                                model.get(&addr(n))
                            );
                        }
                    }
                });
            }
            for frame in 2..6 {
                commit(store, frame, &workload_frame(frame, 500)).unwrap();
            }
        });
    }
}

#[test]
fn frame_numbers_must_follow_the_head() {
    for subject in subjects() {
        let store = &*subject.store;
        let name = subject.name;
        assert_eq!(store.head(), None, "{name}");
        let changes = workload_frame(1, 10);
        let head = commit(store, 10, &changes).unwrap();
        assert_eq!(
            head.frame_number, 10,
            "{name}: the first frame may carry any number"
        );
        for wrong in [0, 10, 12] {
            let error = commit(store, wrong, &changes).unwrap_err();
            assert!(
                matches!(error, StoreError::FrameMismatch { head: 10, expected: 11, found } if found == wrong),
                "{name}: {error}"
            );
            assert_eq!(
                error.to_string(),
                format!("frame {wrong} does not follow head frame 10: expected frame 11")
            );
            assert_eq!(error.severity(), switchyard_router::Severity::Critical);
        }
        assert_eq!(store.head(), Some(head), "{name}");
        assert_eq!(
            commit(store, 11, &ChangeSet::new()).unwrap().state_root,
            head.state_root,
            "{name}"
        );
    }
}

#[test]
fn no_frame_follows_frame_u64_max() {
    for subject in subjects() {
        let store = &*subject.store;
        commit(store, u64::MAX, &ChangeSet::new()).unwrap();
        let error = commit(store, 0, &ChangeSet::new()).unwrap_err();
        assert!(
            matches!(error, StoreError::FrameOverflow { head: u64::MAX }),
            "{}: {error}",
            subject.name
        );
    }
}

#[test]
fn the_receipt_is_built_once_from_the_new_root() {
    for subject in subjects() {
        let store = &*subject.store;
        let changes = workload_frame(1, 50);
        let expected = store.root_after(&changes).unwrap();
        let mut seen = Vec::new();
        let head = store
            .commit(1, &changes, &mut |root| {
                seen.push(*root);
                b"receipt one".to_vec()
            })
            .unwrap();
        assert_eq!(seen, vec![expected], "{}", subject.name);
        assert_eq!(head.state_root, expected);
        assert_eq!(store.receipt(1).unwrap(), Some(b"receipt one".to_vec()));
        assert_eq!(store.receipt(2).unwrap(), None);
    }
}

#[test]
fn memory_and_redb_stores_agree_frame_by_frame_and_with_a_full_scan() {
    let [memory, redb, _] = subjects();
    let mut model = BTreeMap::new();
    for frame in 1..=15 {
        let changes = workload_frame(frame, 400);
        apply_to_model(&mut model, &changes);
        let predicted = memory.store.root_after(&changes).unwrap();
        assert_eq!(redb.store.root_after(&changes).unwrap(), predicted);
        let a = commit(&*memory.store, frame, &changes).unwrap();
        let b = commit(&*redb.store, frame, &changes).unwrap();
        assert_eq!(a, b, "frame {frame}");
        assert_eq!(a.state_root, predicted);
    }
    let scanned =
        switchyard_state::Lattice::from_entries(model.iter().map(|(a, v)| (a, v.as_slice())))
            .root();
    assert_eq!(memory.store.head().unwrap().state_root, scanned);
    assert_eq!(memory.store.recompute_root().unwrap(), scanned);
    assert_eq!(redb.store.recompute_root().unwrap(), scanned);
    // Values of 0 to 40 bytes, rewritten across frames: the memory store keeps those of up
    // to 30 bytes in its table and the others on the heap, and reads both back.
    assert_state(&*memory.store, &model, &ChangeSet::new(), "memory");
    assert_state(&*redb.store, &model, &ChangeSet::new(), "redb");
}

#[test]
fn an_empty_store_has_the_empty_root() {
    for subject in subjects() {
        assert_eq!(subject.store.head(), None);
        assert_eq!(subject.store.recompute_root().unwrap(), StateRoot::empty());
        assert_eq!(
            subject.store.root_after(&ChangeSet::new()).unwrap(),
            StateRoot::empty()
        );
        // Putting and deleting the same address in two frames returns to the empty root.
        let mut put = ChangeSet::new();
        put.put(addr(1), Vec::new());
        let head = commit(&*subject.store, 1, &put).unwrap();
        assert_ne!(
            head.state_root,
            StateRoot::empty(),
            "an empty value is an entry"
        );
        let mut delete = ChangeSet::new();
        delete.delete(addr(1));
        assert_eq!(
            commit(&*subject.store, 2, &delete).unwrap().state_root,
            StateRoot::empty()
        );
    }
}

#[test]
fn a_redb_store_reopened_after_commits_returns_the_last_head_root_values_and_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = BTreeMap::new();
    let mut heads = Vec::new();
    {
        let store = RedbStore::open(dir.path().join("nested/data")).unwrap();
        for frame in 5..12 {
            let changes = workload_frame(frame, 300);
            apply_to_model(&mut model, &changes);
            heads.push(commit(&store, frame, &changes).unwrap());
        }
    }
    let store = RedbStore::open(dir.path().join("nested/data")).unwrap();
    assert!(store.path().ends_with("nested/data/state.redb"));
    let last = *heads.last().unwrap();
    assert_eq!(store.head(), Some(last));
    assert_eq!(store.recompute_root().unwrap(), last.state_root);
    assert_state(&store, &model, &ChangeSet::new(), "reopened");
    for head in &heads {
        assert_eq!(
            store.receipt(head.frame_number).unwrap(),
            Some(receipt_for(head.frame_number, &head.state_root))
        );
    }
    assert_eq!(store.receipt(4).unwrap(), None);
    // And it goes on from there.
    let next = commit(&store, 12, &workload_frame(12, 300)).unwrap();
    assert_eq!(next.frame_number, 12);
}

#[test]
fn a_redb_store_without_synced_commits_still_commits_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let options = RedbOptions::default()
        .sync_commits(false)
        .cache_size(8 << 20);
    let head = {
        let store = RedbStore::open_with(dir.path(), options).unwrap();
        commit(&store, 1, &workload_frame(1, 100)).unwrap()
    };
    // A clean close persists non-durable commits too.
    assert_eq!(
        RedbStore::open_with(dir.path(), options).unwrap().head(),
        Some(head)
    );
}

#[test]
fn an_unusable_data_dir_is_an_io_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let error = RedbStore::open(&file).unwrap_err();
    assert!(matches!(error, StoreError::Io { .. }), "{error}");
    assert!(error.to_string().contains("a-file"), "{error}");
}

#[test]
fn store_errors_reach_engines_as_backend_state_errors() {
    let error = StoreError::Injected { writes: 3 };
    let state: StateError = error.into();
    assert_eq!(
        state,
        StateError::Backend {
            reason: "injected failure after 3 state writes".into()
        }
    );
}
