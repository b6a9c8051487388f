//! The log store: what survives a reopen, torn and corrupt logs, checkpoints and rotation,
//! the memory bound, and SIGKILL at any moment of commits and of background checkpoints.

use std::path::{Path, PathBuf};

use switchyard_router::Severity;
use switchyard_state::{
    ChangeSet, Head, LogStore, LogStoreOptions, MemoryStore, StateRoot, Store, StoreError,
};
use switchyard_testkit::crash::{KillPlan, report_committed, run_and_kill};

use crate::{addr, receipt_for, workload_frame};

/// Commits frame `frame` of the workload to `store` with the tests' receipt.
fn commit(store: &dyn Store, frame: u64, changes: &ChangeSet) -> Result<Head, StoreError> {
    store.commit(frame, changes, &mut |root| receipt_for(frame, root))
}

/// A reference memory store fed frames `1..=last` of the workload (sized `size`).
fn reference(last: u64, size: u32) -> MemoryStore {
    let store = MemoryStore::new();
    for frame in 1..=last {
        commit(&store, frame, &workload_frame(frame, size)).unwrap();
    }
    store
}

/// `store` holds what `expected` holds: head, root (stored and rescanned), every receipt and
/// the value of every workload address (and of `extra` more from `base`).
fn assert_same(store: &dyn Store, expected: &dyn Store, extra: std::ops::Range<u32>) {
    let head = expected.head();
    assert_eq!(store.head(), head);
    let root = head.map_or_else(StateRoot::empty, |head| head.state_root);
    assert_eq!(store.recompute_root().unwrap(), root);
    let last = head.map_or(0, |head| head.frame_number);
    for frame in 0..=last + 1 {
        assert_eq!(
            store.receipt(frame).unwrap(),
            expected.receipt(frame).unwrap(),
            "receipt of frame {frame}"
        );
    }
    let (stored, wanted) = (store.snapshot().unwrap(), expected.snapshot().unwrap());
    for n in (0..2000).chain(extra) {
        assert_eq!(
            stored.get(&addr(n)).unwrap(),
            wanted.get(&addr(n)).unwrap(),
            "{}",
            addr(n)
        );
    }
}

/// The files of the data directory whose names start with `prefix`, sorted.
fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(prefix))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn commits_receipts_and_roots_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    assert_eq!(store.head(), None);
    for frame in 1..=12 {
        commit(&store, frame, &workload_frame(frame, 500)).unwrap();
    }
    let expected = reference(12, 500);
    assert_same(&store, &expected, 0..0);
    store.close().unwrap();
    assert!(matches!(store.snapshot(), Err(StoreError::Closed)));
    assert!(matches!(store.receipt(1), Err(StoreError::Closed)));
    assert!(matches!(
        commit(&store, 13, &workload_frame(13, 500)),
        Err(StoreError::Closed)
    ));

    let reopened = LogStore::open(dir.path()).unwrap();
    assert_same(&reopened, &expected, 0..0);
    // And it goes on from there, across another reopen.
    commit(&reopened, 13, &workload_frame(13, 500)).unwrap();
    drop(reopened);
    assert_same(
        &LogStore::open(dir.path()).unwrap(),
        &reference(13, 500),
        0..0,
    );
}

#[test]
fn a_second_store_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    assert!(matches!(
        LogStore::open(dir.path()),
        Err(StoreError::Io { .. })
    ));
    drop(store);
    LogStore::open(dir.path()).unwrap();
}

#[test]
fn a_torn_tail_is_truncated_and_the_log_goes_on() {
    // A record cut short anywhere, or followed by the zeros of a write that never landed.
    for damage in ["cut 1", "cut half", "cut to header", "zeros"] {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        for frame in 1..=4 {
            commit(&store, frame, &workload_frame(frame, 300)).unwrap();
        }
        drop(store);
        let segment = files(dir.path(), "log-").pop().unwrap();
        let len = std::fs::metadata(&segment).unwrap().len();
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&segment)
            .unwrap();
        let (expected_head, new_len) = match damage {
            "cut 1" => (3, len - 1),
            "cut half" => (3, len - 2000),
            "cut to header" => (3, len - 3000),
            _ => (4, len + 5000),
        };
        file.set_len(new_len).unwrap();
        drop(file);

        let store = LogStore::open(dir.path()).unwrap();
        assert_same(&store, &reference(expected_head, 300), 0..0);
        for frame in expected_head + 1..=6 {
            commit(&store, frame, &workload_frame(frame, 300)).unwrap();
        }
        drop(store);
        assert_same(
            &LogStore::open(dir.path()).unwrap(),
            &reference(6, 300),
            0..0,
        );
    }
}

#[test]
fn a_corrupt_record_before_the_end_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(dir.path()).unwrap();
    for frame in 1..=4 {
        commit(&store, frame, &workload_frame(frame, 300)).unwrap();
    }
    drop(store);
    let segment = files(dir.path(), "log-").pop().unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    // A byte inside frame 1's changes, and one inside its header.
    for at in [500, 10] {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x40;
        std::fs::write(&segment, &damaged).unwrap();
        match LogStore::open(dir.path()) {
            Err(
                error @ StoreError::Corrupt {
                    what: "log record", ..
                },
            ) => {
                assert_eq!(error.severity(), Severity::Critical);
            }
            other => panic!("byte {at}: expected a corrupt log record, got {other:?}"),
        }
    }
    // Restored, it opens (the refused opens changed nothing).
    std::fs::write(&segment, &bytes).unwrap();
    assert_same(
        &LogStore::open(dir.path()).unwrap(),
        &reference(4, 300),
        0..0,
    );
    // A record whose root is not what its changes replay to (re-checksummed, so only the
    // replay can tell): the root of frame 1 sits right after the 28-byte header.
    bytes[28] ^= 1;
    let body_len = u64::from_le_bytes(bytes[4..12].try_into().unwrap()) as usize;
    let checksum = blake3::hash(&bytes[..28 + body_len]);
    bytes[28 + body_len..28 + body_len + 32].copy_from_slice(checksum.as_bytes());
    std::fs::write(&segment, &bytes).unwrap();
    match LogStore::open(dir.path()) {
        Err(StoreError::Corrupt { reason, .. }) => {
            assert!(reason.contains("replays to root"), "{reason}")
        }
        other => panic!("expected a root mismatch, got {other:?}"),
    }
}

#[test]
fn checkpoints_rotate_the_log_and_reopen_from_checkpoint_and_log() {
    let dir = tempfile::tempdir().unwrap();
    // A checkpoint after every commit (while none is running).
    let options = LogStoreOptions::default().checkpoint_bytes(1);
    let store = LogStore::open_with(dir.path(), options).unwrap();
    for frame in 1..=8 {
        commit(&store, frame, &workload_frame(frame, 300)).unwrap();
        store.wait_for_checkpoint().unwrap();
        // One checkpoint, of this frame; the segments it covered are gone.
        assert_eq!(
            files(dir.path(), "checkpoint-"),
            vec![dir.path().join(format!("checkpoint-{frame:020}.ckpt"))]
        );
        assert_eq!(files(dir.path(), "log-"), Vec::<PathBuf>::new());
        assert_same(&store, &reference(frame, 300), 0..0);
    }
    drop(store);
    // A larger threshold: the next frames stay in the log, after the checkpoint.
    let store = LogStore::open(dir.path()).unwrap();
    assert_same(&store, &reference(8, 300), 0..0);
    for frame in 9..=11 {
        commit(&store, frame, &workload_frame(frame, 300)).unwrap();
    }
    assert_eq!(
        files(dir.path(), "log-"),
        vec![dir.path().join(format!("log-{:020}.seg", 9))]
    );
    drop(store);
    let store = LogStore::open(dir.path()).unwrap();
    assert_same(&store, &reference(11, 300), 0..0);
    drop(store);

    // A damaged checkpoint is corruption, not a reason to start empty.
    let checkpoint = files(dir.path(), "checkpoint-").pop().unwrap();
    let mut bytes = std::fs::read(&checkpoint).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&checkpoint, &bytes).unwrap();
    assert!(matches!(
        LogStore::open(dir.path()),
        Err(StoreError::Corrupt {
            what: "checkpoint",
            ..
        })
    ));
}

#[test]
fn the_memory_bound_refuses_a_commit_and_a_start() {
    let dir = tempfile::tempdir().unwrap();
    // Each workload frame of 300 changes over 2000 addresses adds up to ~25 KB.
    let bound = 40_000;
    let store = LogStore::open_with(
        dir.path(),
        LogStoreOptions::default().max_state_bytes(bound),
    )
    .unwrap();
    let mut last = 0;
    let refused = loop {
        let frame = last + 1;
        match commit(&store, frame, &workload_frame(frame, 300)) {
            Ok(_) => last = frame,
            Err(error) => break error,
        }
    };
    match &refused {
        StoreError::StateTooLarge {
            state_bytes,
            max_bytes,
        } => {
            assert!(*state_bytes > bound && *max_bytes == bound, "{refused}");
            assert!(
                refused.to_string().contains(&bound.to_string()),
                "{refused}"
            );
        }
        other => panic!("expected the bound, got {other:?}"),
    }
    assert_eq!(refused.severity(), Severity::Critical);
    assert!(last >= 1);
    // Nothing of the refused frame was applied or logged; the store is still usable.
    assert!(store.state_bytes() <= bound);
    assert_same(&store, &reference(last, 300), 0..0);
    drop(store);
    assert_same(
        &LogStore::open(dir.path()).unwrap(),
        &reference(last, 300),
        0..0,
    );

    // A smaller bound refuses to start, from the log and from a checkpoint.
    let small = LogStoreOptions::default().max_state_bytes(1000);
    assert!(matches!(
        LogStore::open_with(dir.path(), small),
        Err(StoreError::StateTooLarge {
            max_bytes: 1000,
            ..
        })
    ));
    let store =
        LogStore::open_with(dir.path(), LogStoreOptions::default().checkpoint_bytes(1)).unwrap();
    commit(&store, last + 1, &ChangeSet::new()).unwrap();
    store.wait_for_checkpoint().unwrap();
    drop(store);
    assert_eq!(files(dir.path(), "log-"), Vec::<PathBuf>::new());
    assert!(matches!(
        LogStore::open_with(dir.path(), small),
        Err(StoreError::StateTooLarge {
            max_bytes: 1000,
            ..
        })
    ));
}

const CHILD_ENV: &str = "SWITCHYARD_LOG_STORE_CRASH_DIR";
const FRAME_SIZE: u32 = 3000;
/// Entries of the large first frame of the checkpoint test, so that a checkpoint takes long.
const BASE_ENTRIES: u32 = 60_000;

/// Frame `frame` of the crash tests: with `base`, frame 1 stores [`BASE_ENTRIES`] more
/// addresses.
fn crash_frame(frame: u64, base: bool) -> ChangeSet {
    let mut changes = workload_frame(frame, FRAME_SIZE);
    if base && frame == 1 {
        changes.extend((0..BASE_ENTRIES).map(|n| (addr(10_000 + n), Some(vec![n as u8; 40]))));
    }
    changes
}

/// Commits crash frames to the store in the child's directory until killed.
fn child_commits(options: LogStoreOptions, base: bool) {
    let dir = std::env::var_os(CHILD_ENV).expect("run by a crash test of the log store");
    let store = LogStore::open_with(dir, options).unwrap();
    let first = store.head().map_or(1, |head| head.frame_number + 1);
    for frame in first..first + 10_000 {
        let head = store
            .commit(frame, &crash_frame(frame, base), &mut |root| {
                receipt_for(frame, root)
            })
            .unwrap();
        report_committed(head.frame_number, head.state_root).unwrap();
    }
}

#[test]
#[ignore = "child mode of log_store_survives_sigkill_between_and_during_commits"]
fn child_commits_until_killed() {
    child_commits(LogStoreOptions::default(), false);
}

#[test]
#[ignore = "child mode of log_store_survives_sigkill_during_background_checkpoints"]
fn child_checkpoints_until_killed() {
    // A checkpoint after every commit while none runs: one is almost always in progress.
    child_commits(LogStoreOptions::default().checkpoint_bytes(1), true);
}

/// Kills the child at fractions of a commit, reopens, and compares with a memory store fed
/// the same frames. Returns how many kills left a checkpoint half-written.
fn kill_and_compare(test: &str, base: bool) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let expected = MemoryStore::new();
    let mut during_checkpoint = 0;
    for percent_of_a_commit in [0, 15, 30, 45, 60, 75, 90, 105] {
        let plan = KillPlan::new(test, CHILD_ENV)
            .after_commits(3)
            .at_percent(percent_of_a_commit);
        let printed = run_and_kill(&plan, dir.path()).unwrap();
        let (last_printed, _) = printed.last().cloned().unwrap();
        if !files(dir.path(), "checkpoint-")
            .iter()
            .all(|path| path.extension().is_some_and(|ext| ext == "ckpt"))
        {
            during_checkpoint += 1;
        }

        let store = LogStore::open(dir.path()).unwrap();
        let head = store.head().unwrap();
        assert!(
            head.frame_number == last_printed || head.frame_number == last_printed + 1,
            "head {head} after the child printed frame {last_printed}"
        );
        let from = expected.head().map_or(1, |head| head.frame_number + 1);
        for frame in from..=head.frame_number {
            commit(&expected, frame, &crash_frame(frame, base)).unwrap();
        }
        if let Some((_, root)) = printed
            .iter()
            .find(|(frame, _)| *frame == head.frame_number)
        {
            assert_eq!(root, &head.state_root.to_string());
        }
        let extra = if base {
            10_000..10_000 + BASE_ENTRIES
        } else {
            0..0
        };
        assert_same(&store, &expected, extra);
    }
    during_checkpoint
}

#[test]
fn log_store_survives_sigkill_between_and_during_commits() {
    kill_and_compare("log_store::child_commits_until_killed", false);
}

#[test]
fn log_store_survives_sigkill_during_background_checkpoints() {
    let during = kill_and_compare("log_store::child_checkpoints_until_killed", true);
    // Checkpoints run back to back, so most kills land inside one (5 of 8 in a typical run).
    assert!(
        during >= 1,
        "no kill landed while a checkpoint was being written"
    );
}
