//! A redb store in a child process killed with SIGKILL while it commits frames in a loop.
//!
//! The parent runs this test binary again, selecting [`child_commits_until_killed`] (ignored
//! in normal runs) with an environment variable naming the data directory. The child commits
//! deterministic frames and prints `committed <frame> <root>` after each; the parent kills it
//! (`Child::kill` is SIGKILL on Unix) at varying moments, almost always inside a commit, then
//! reopens the store and checks that the head is a whole frame.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchyard_state::{MemoryStore, RedbStore, StateRoot, Store};

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
    let mut out = std::io::stdout().lock();
    let first = store.head().map_or(1, |head| head.frame_number + 1);
    // Bounded, but the parent kills the child long before.
    for frame in first..first + 10_000 {
        let head = store
            .commit(frame, &workload_frame(frame, FRAME_SIZE), &mut |root| {
                receipt_for(frame, root)
            })
            .unwrap();
        writeln!(out, "committed {} {}", head.frame_number, head.state_root).unwrap();
        out.flush().unwrap();
    }
}

/// Parses a `committed <frame> <root>` line (libtest may have printed the test's name before it
/// on the same line).
fn parse(line: &str) -> Option<(u64, String)> {
    let (_, progress) = line.split_once("committed ")?;
    let mut words = progress.split(' ');
    Some((words.next()?.parse().ok()?, words.next()?.to_string()))
}

#[test]
fn redb_store_survives_sigkill_between_and_during_commits() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let reference = MemoryStore::new();

    // Kill at fractions of the time a commit takes (measured between the child's lines), so
    // that across rounds the kill lands early, midway and late in a commit, and between two.
    for percent_of_a_commit in [0, 15, 30, 45, 60, 75, 90, 105] {
        let mut child = Command::new(&exe)
            .args([
                CHILD_TEST,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed: Vec<(u64, String)> = Vec::new();
        let mut commit_time = Duration::ZERO;
        let mut last_line = Instant::now();
        while printed.len() < COMMITS_BEFORE_KILL {
            let Some(line) = lines.next() else {
                let mut stderr = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                panic!(
                    "the child stopped after {} commits: {stderr}",
                    printed.len()
                );
            };
            printed.extend(parse(&line.unwrap()));
            commit_time = last_line.elapsed();
            last_line = Instant::now();
        }
        std::thread::sleep(commit_time * percent_of_a_commit / 100);
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child was killed, not finished");
        // What the child printed before it died: every one of these frames had committed.
        printed.extend(lines.map_while(Result::ok).filter_map(|line| parse(&line)));
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
