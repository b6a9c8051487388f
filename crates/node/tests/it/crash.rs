//! Frames committed to a `RedbStore` by a child process killed with SIGKILL in the middle of a
//! later frame.
//!
//! With the test kit's crash harness, the parent runs this test binary again, selecting [`child_executes_frames_until_killed`]
//! (ignored in normal runs) with an environment variable naming the data directory. The child
//! executes the frames of a large transfers workload through the manager and prints
//! `committed <frame> <root>` after each; the parent kills it (`Child::kill` is SIGKILL on
//! Unix) a varying fraction of a frame's time after it saw frame [`KILL_AFTER`] committed, so
//! the kill lands early, midway or late in the execution or commit of the next frame. It then
//! reopens the store and checks the head is the last committed frame, with the root of an
//! uninterrupted run (computed here on a memory store) and of a full scan, and that executing
//! the lost frames from that head reaches the uninterrupted roots.

use std::sync::Arc;

use switchyard_manager::{Frame, FrameResult};
use switchyard_node::workload::{TransferParams, Workload, transfers};
use switchyard_proto::CanonicalMessage;
use switchyard_state::{RedbStore, Store};
use switchyard_testkit::crash::{KillPlan, report_committed, run_and_kill};

use crate::{manager_on, memory_manager};

const CHILD_ENV: &str = "SWITCHYARD_NODE_CRASH_DIR";
const CHILD_TEST: &str = "crash::child_executes_frames_until_killed";
/// Frames the parent waits to see committed before it kills the child.
const KILL_AFTER: u64 = 2;

/// The workload both processes generate from the same seed: large frames, so that a kill
/// lands inside a frame's execution or commit, mostly conflict-free (5% of the transfers go
/// to one hot account), so that most of each frame runs in parallel.
fn workload() -> Workload {
    transfers(TransferParams {
        seed: 0xC0FFEE,
        accounts: 4_000,
        messages: 8_000,
        frame_size: 2_000,
        conflict_ppm: 50_000,
    })
}

/// The frame with its signatures marked verified: the crash test is about commits, and
/// checking 2,000 signatures per frame in a debug build would take most of its time.
fn preverified(frame: &Frame) -> Frame {
    frame.clone().signatures_verified(true)
}

#[test]
#[ignore = "child mode of executed_frames_survive_sigkill_mid_frame, which runs it"]
fn child_executes_frames_until_killed() {
    let dir =
        std::env::var_os(CHILD_ENV).expect("run by executed_frames_survive_sigkill_mid_frame");
    let workload = workload();
    let manager = manager_on(Arc::new(RedbStore::open(dir).unwrap()), 2, &workload);
    let next = manager.head().map_or(1, |head| head.frame_number + 1);
    for frame in workload.frames.iter().filter(|f| f.number >= next) {
        let FrameResult { head, .. } = manager.execute_frame(&preverified(frame)).unwrap();
        report_committed(head.frame_number, head.state_root).unwrap();
    }
}

#[test]
fn executed_frames_survive_sigkill_mid_frame() {
    let workload = workload();
    let last_frame = workload.frames.last().unwrap().number;
    assert!(last_frame > KILL_AFTER + 1, "frames left to kill in");

    // The uninterrupted run, on a memory store.
    let reference = memory_manager(2, &workload);
    let genesis = reference.head().unwrap();
    let expected: Vec<FrameResult> = workload
        .frames
        .iter()
        .map(|frame| reference.execute_frame(&preverified(frame)).unwrap())
        .collect();
    assert!(
        expected
            .iter()
            .all(|r| r.receipt.outcomes.len() == workload.frames[0].messages.len())
    );
    let root_after = |frame: u64| {
        if frame == 0 {
            genesis.state_root
        } else {
            expected[usize::try_from(frame - 1).unwrap()]
                .head
                .state_root
        }
    };

    // Kill at fractions of a frame's time (measured between the child's lines), so that
    // across rounds the kill lands early, midway and late in the next frame.
    let mut heads = Vec::new();
    for percent in [5, 25, 45, 65, 85, 105] {
        let dir = tempfile::tempdir().unwrap();
        let plan = KillPlan::new(CHILD_TEST, CHILD_ENV)
            .after_commits(usize::try_from(KILL_AFTER).unwrap())
            .at_percent(percent);
        let printed = run_and_kill(&plan, dir.path()).unwrap();
        let (last_printed, _) = printed.last().cloned().unwrap();
        for (frame, root) in &printed {
            assert_eq!(root, &root_after(*frame).to_string(), "frame {frame}");
        }

        let store: Arc<dyn Store> = Arc::new(RedbStore::open(dir.path()).unwrap());
        let head = store.head().unwrap();
        // The last frame the child printed, or the one it committed and was killed before
        // printing: a whole frame either way.
        assert!(
            head.frame_number == last_printed || head.frame_number == last_printed + 1,
            "head {head} after the child printed frame {last_printed}"
        );
        assert_eq!(head.state_root, root_after(head.frame_number), "{head}");
        assert_eq!(store.recompute_root().unwrap(), head.state_root);
        let stored = store.receipt(head.frame_number).unwrap().unwrap();
        assert_eq!(
            stored,
            expected[usize::try_from(head.frame_number - 1).unwrap()]
                .receipt
                .to_canonical_bytes()
        );
        assert_eq!(store.receipt(head.frame_number + 1).unwrap(), None);
        heads.push(head.frame_number);

        // Execute the lost frames from the reopened head: the uninterrupted roots again.
        let resumed = manager_on(store.clone(), 2, &workload);
        assert_eq!(resumed.head(), Some(head));
        for frame in workload
            .frames
            .iter()
            .filter(|f| f.number > head.frame_number)
        {
            let result = resumed.execute_frame(&preverified(frame)).unwrap();
            assert_eq!(
                result,
                expected[usize::try_from(frame.number - 1).unwrap()],
                "frame {} after the restart",
                frame.number
            );
        }
        assert_eq!(store.recompute_root().unwrap(), root_after(last_frame));
    }
    // The kills interrupted the run: some frame was always left to re-execute.
    assert!(
        heads.iter().all(|&h| h < last_frame),
        "a child finished every frame before it was killed: {heads:?}"
    );
}
