//! A redb store in a child process killed with SIGKILL while it commits frames in a loop.
//!
//! With the test kit's crash harness, the parent runs this test binary again, selecting [`child_commits_until_killed`] (ignored
//! in normal runs) with an environment variable naming the data directory. The child commits
//! deterministic frames and prints `committed <frame> <root>` after each; the parent kills it
//! (`Child::kill` is SIGKILL on Unix) at varying moments, almost always inside a commit, then
//! reopens the store and checks that the head is a whole frame.

use switchyard_state::{MemoryStore, RedbStore, StateRoot, Store};
use switchyard_testkit::crash::{KillPlan, report_committed, run_and_kill};

use crate::{addr, receipt_for, workload_frame};

const CHILD_ENV: &str = "SWITCHYARD_STATE_CRASH_DIR";
const CHILD_TEST: &str = "crash::child_commits_until_killed";
const FRAME_SIZE: u32 = 3000;
/// Frames the parent waits to see committed before killing the child.
const COMMITS_BEFORE_KILL: usize = 3;

#[test]
#[ignore = "child mode of redb_store_survives_sigkill_between_and_during_commits, which runs it"]
fn child_commits_until_killed() {
    let dir = std::env::var_os(CHILD_ENV)
        .expect("run by redb_store_survives_sigkill_between_and_during_commits");
    let store = RedbStore::open(dir).unwrap();
    let first = store.head().map_or(1, |head| head.frame_number + 1);
    // Bounded, but the parent kills the child long before.
    for frame in first..first + 10_000 {
        let head = store
            .commit(frame, &workload_frame(frame, FRAME_SIZE), &mut |root| {
                receipt_for(frame, root)
            })
            .unwrap();
        report_committed(head.frame_number, head.state_root).unwrap();
    }
}

#[test]
fn redb_store_survives_sigkill_between_and_during_commits() {
    let dir = tempfile::tempdir().unwrap();
    let reference = MemoryStore::new();

    // Kill at fractions of the time a commit takes (measured between the child's lines), so
    // that across rounds the kill lands early, midway and late in a commit, and between two.
    for percent_of_a_commit in [0, 15, 30, 45, 60, 75, 90, 105] {
        let plan = KillPlan::new(CHILD_TEST, CHILD_ENV)
            .after_commits(COMMITS_BEFORE_KILL)
            .at_percent(percent_of_a_commit);
        let printed = run_and_kill(&plan, dir.path()).unwrap();
        let (last_printed, _) = printed.last().cloned().unwrap();

        let store = RedbStore::open(dir.path()).unwrap();
        let head = store.head().unwrap();
        assert!(
            head.frame_number == last_printed || head.frame_number == last_printed + 1,
            "head {head} after the child printed frame {last_printed}"
        );
        // The stored root is the one of a full scan, and of the same frames in memory.
        assert_eq!(store.recompute_root().unwrap(), head.state_root);
        let from = reference.head().map_or(1, |head| head.frame_number + 1);
        for frame in from..=head.frame_number {
            reference
                .commit(frame, &workload_frame(frame, FRAME_SIZE), &mut |_| {
                    Vec::new()
                })
                .unwrap();
        }
        assert_eq!(reference.head(), Some(head));
        if let Some((_, root)) = printed
            .iter()
            .find(|(frame, _)| *frame == head.frame_number)
        {
            assert_eq!(root, &head.state_root.to_string());
        }
        assert_eq!(
            store.receipt(head.frame_number).unwrap(),
            Some(receipt_for(head.frame_number, &head.state_root))
        );
        assert_eq!(store.receipt(head.frame_number + 1).unwrap(), None);
        let (stored, expected) = (store.snapshot().unwrap(), reference.snapshot().unwrap());
        for n in 0..2000 {
            assert_eq!(
                stored.get(&addr(n)).unwrap(),
                expected.get(&addr(n)).unwrap(),
                "{}",
                addr(n)
            );
        }
        assert_ne!(head.state_root, StateRoot::empty());
    }
}
