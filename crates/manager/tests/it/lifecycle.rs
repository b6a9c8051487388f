//! Lifecycle and failure classes (DESIGN §7): start and stop with timeouts, cancellation by a
//! critical failure, bounded retries of temporary ones.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use switchyard_manager::{Frame, Manager, ManagerError, RetryPolicy};
use switchyard_proto::v1::MessageStatus;
use switchyard_router::domains::{COMPUTE, GLOBAL, HYPERGRAPH, NATIVE_TOKEN};
use switchyard_router::{EngineError, Severity};
use switchyard_state::Overlay;

use crate::common::*;

/// Far below the hooks' 30 s hang, far above any honest scheduling delay.
const BOUND: Duration = Duration::from_secs(10);

#[test]
fn a_failing_start_names_the_engine() {
    let first = TestEngine::new("first", &[GLOBAL]).arc();
    let broken = TestEngine::new("broken", &[COMPUTE]).failing_start().arc();
    let last = TestEngine::new("last", &[HYPERGRAPH]).arc();
    let manager = Manager::builder()
        .engine(first.clone())
        .engine(broken.clone())
        .engine(last.clone())
        .build()
        .unwrap();
    let error = manager.start().unwrap_err();
    assert!(
        matches!(&error, ManagerError::StartFailed { engine: "broken", reason } if reason.contains("no device")),
        "{error:?}"
    );
    assert_eq!(error.severity(), Severity::Critical);
    assert_eq!(first.calls.start.load(Ordering::SeqCst), 1);
    assert_eq!(broken.calls.start.load(Ordering::SeqCst), 1);
    assert_eq!(
        last.calls.start.load(Ordering::SeqCst),
        0,
        "starting stops at the first failure"
    );
}

#[test]
fn a_hanging_start_times_out() {
    let gate = Arc::new(Gate::default());
    let stuck = TestEngine::new("stuck", &[GLOBAL])
        .hanging_start(gate.clone())
        .arc();
    let manager = Manager::builder()
        .engine(stuck)
        .engine_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = manager.start().unwrap_err();
    assert!(started.elapsed() < BOUND);
    gate.open();
    assert!(
        matches!(
            error,
            ManagerError::Timeout {
                engine: "stuck",
                phase: "start",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_hanging_stop_is_bounded_and_ignored_when_forced() {
    let gate = Arc::new(Gate::default());
    let build = |gate: &Arc<Gate>| {
        let healthy = TestEngine::new("healthy", &[GLOBAL]).arc();
        let stuck = TestEngine::new("stuck", &[COMPUTE])
            .hanging_stop(gate.clone())
            .arc();
        let manager = Manager::builder()
            .engine(healthy.clone())
            .engine(stuck)
            .engine_timeout(Duration::from_millis(100))
            .overall_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        manager.start().unwrap();
        (manager, healthy)
    };

    let (manager, healthy) = build(&gate);
    let started = Instant::now();
    let error = manager.stop(false).unwrap_err();
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    assert!(
        matches!(
            error,
            ManagerError::Timeout {
                engine: "stuck",
                phase: "stop",
                timeout
            } if timeout == Duration::from_millis(100)
        ),
        "{error:?}"
    );
    assert_eq!(
        healthy.calls.stop.load(Ordering::SeqCst),
        1,
        "the other engines are still stopped"
    );
    assert!(manager.cancellation_token().is_cancelled());

    let (manager, healthy) = build(&gate);
    let started = Instant::now();
    manager.stop(true).unwrap();
    assert!(started.elapsed() < BOUND, "took {:?}", started.elapsed());
    assert_eq!(healthy.calls.stop.load(Ordering::SeqCst), 1);
    gate.open();
}

#[test]
fn stop_cancels_the_manager() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 1);
    manager.genesis(0, &rich_genesis(1)).unwrap();
    manager.start().unwrap();
    manager.stop(false).unwrap();
    let message = bytes(&signed(vertex_add([1; 32], b"v"), 1, HYPERGRAPH, 1));
    assert!(matches!(
        manager.validate_message(1, &HYPERGRAPH.0, &message),
        Err(ManagerError::Cancelled)
    ));
    assert!(matches!(
        manager.execute_frame(&Frame::new(1)),
        Err(ManagerError::Cancelled)
    ));
}

/// Checks that every working entry point of a cancelled manager refuses with `Cancelled`.
fn assert_refuses_work(manager: &Manager, next_frame: u64) {
    let transfer = client(2, 1)
        .transfer(NATIVE_TOKEN, account(3), 1)
        .to_bytes();
    assert!(matches!(
        manager.validate_message(next_frame, &NATIVE_TOKEN.0, &transfer),
        Err(ManagerError::Cancelled)
    ));
    assert!(matches!(
        manager.lock(next_frame, &NATIVE_TOKEN.0, &transfer),
        Err(ManagerError::Cancelled)
    ));
    let snapshot = manager.store().snapshot().unwrap();
    let mut overlay = Overlay::new(snapshot.as_ref());
    assert!(matches!(
        manager.process_message(next_frame, 1, &NATIVE_TOKEN.0, &transfer, &mut overlay),
        Err(ManagerError::Cancelled)
    ));
    assert!(matches!(
        manager.execute_frame(&Frame::new(next_frame).message(NATIVE_TOKEN.0, transfer)),
        Err(ManagerError::Cancelled)
    ));
}

#[test]
fn a_critical_engine_failure_cancels_the_manager() {
    let broken = TestEngine::new("compute", &[COMPUTE])
        .fault(ApplyFault::Critical)
        .arc();
    let manager = token_builder().engine(broken.clone()).build().unwrap();
    let genesis = manager.genesis(0, &rich_genesis(3)).unwrap();
    let token = manager.cancellation_token();
    assert!(!token.is_cancelled());

    let execute = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        1,
        COMPUTE,
        1,
    ));
    let transfer = client(2, 1)
        .transfer(NATIVE_TOKEN, account(3), 1)
        .to_bytes();
    let error = manager
        .execute_frame(
            &Frame::new(1)
                .message(NATIVE_TOKEN.0, transfer)
                .message(COMPUTE.0, execute),
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            ManagerError::Engine(EngineError::Critical {
                engine: "compute",
                ..
            })
        ),
        "{error:?}"
    );
    assert!(token.is_cancelled());
    assert_eq!(
        broken.calls.apply.load(Ordering::SeqCst),
        1,
        "critical failures are not retried"
    );
    assert_eq!(manager.head(), Some(genesis), "the frame was not committed");
    assert_refuses_work(&manager, 1);
}

#[test]
fn a_critical_failure_in_process_message_cancels_too() {
    let broken = TestEngine::new("compute", &[COMPUTE])
        .fault(ApplyFault::Critical)
        .arc();
    let manager = token_builder().engine(broken).build().unwrap();
    manager.genesis(0, &rich_genesis(3)).unwrap();
    let execute = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        1,
        COMPUTE,
        1,
    ));
    let snapshot = manager.store().snapshot().unwrap();
    let mut overlay = Overlay::new(snapshot.as_ref());
    let error = manager
        .process_message(1, 1, &COMPUTE.0, &execute, &mut overlay)
        .unwrap_err();
    assert!(
        matches!(error, ManagerError::Engine(EngineError::Critical { .. })),
        "{error:?}"
    );
    assert!(overlay.changes().is_empty(), "no fee, no effect");
    assert!(manager.cancellation_token().is_cancelled());
    assert_refuses_work(&manager, 1);
}

fn no_wait_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    }
}

#[test]
fn a_persisting_temporary_failure_is_retried_then_escalated() {
    let flaky = TestEngine::new("compute", &[COMPUTE])
        .fault(ApplyFault::Temporary(usize::MAX))
        .arc();
    let manager = token_builder()
        .engine(flaky.clone())
        .retry_policy(no_wait_retries(3))
        .build()
        .unwrap();
    let genesis = manager.genesis(0, &rich_genesis(1)).unwrap();
    let execute = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        1,
        COMPUTE,
        1,
    ));
    let error = manager
        .execute_frame(&Frame::new(1).message(COMPUTE.0, execute))
        .unwrap_err();
    match &error {
        ManagerError::RetriesExhausted { attempts: 4, last } => assert!(
            matches!(
                **last,
                ManagerError::Engine(EngineError::Temporary {
                    engine: "compute",
                    ..
                })
            ),
            "{last:?}"
        ),
        other => panic!("expected exhausted retries, got {other:?}"),
    }
    assert_eq!(
        flaky.calls.apply.load(Ordering::SeqCst),
        4,
        "1 + max_retries"
    );
    assert!(manager.cancellation_token().is_cancelled());
    assert_eq!(manager.head(), Some(genesis));
    assert_refuses_work(&manager, 1);
}

#[test]
fn a_passing_temporary_failure_is_retried_and_the_frame_commits() {
    let flaky = TestEngine::new("compute", &[COMPUTE])
        .fault(ApplyFault::Temporary(2))
        .arc();
    let manager = token_builder()
        .engine(flaky.clone())
        .retry_policy(no_wait_retries(3))
        .build()
        .unwrap();
    manager.genesis(0, &rich_genesis(1)).unwrap();
    let target = addr(COMPUTE, 1);
    let execute = bytes(&signed(
        code_execute(&[], &[target], b"done"),
        1,
        COMPUTE,
        1,
    ));
    let result = manager
        .execute_frame(&Frame::new(1).message(COMPUTE.0, execute))
        .unwrap();
    assert_eq!(statuses(&result.receipt), [MessageStatus::Applied]);
    assert_eq!(flaky.calls.apply.load(Ordering::SeqCst), 3);
    assert!(!manager.cancellation_token().is_cancelled());
    let snapshot = manager.store().snapshot().unwrap();
    assert_eq!(snapshot.get(&target).unwrap(), Some(b"done".to_vec()));
    let record = native(snapshot.as_ref(), &account(1));
    assert_eq!(
        (record.balance, record.nonce),
        (RICH - u128::from(TEST_COST), 1),
        "the retried attempts charged the fee once"
    );
}

#[test]
fn a_failed_commit_is_retried_and_commits_the_same_frame() {
    let frame = || {
        Frame::new(1).message(
            NATIVE_TOKEN.0,
            client(1, 1)
                .transfer(NATIVE_TOKEN, account(2), 10)
                .to_bytes(),
        )
    };
    let reference = token_builder().build().unwrap();
    reference.genesis(0, &rich_genesis(2)).unwrap();
    let expected = reference.execute_frame(&frame()).unwrap();

    let store = Arc::new(switchyard_state::MemoryStore::new());
    let manager = token_builder()
        .store(store.clone())
        .retry_policy(no_wait_retries(2))
        .build()
        .unwrap();
    manager.genesis(0, &rich_genesis(2)).unwrap();
    store.fail_next_commit_after(1);
    let result = manager.execute_frame(&frame()).unwrap();
    assert_eq!(result, expected);
    assert_eq!(manager.head(), Some(expected.head));
    assert!(!manager.cancellation_token().is_cancelled());

    // Without retries the same injected failure escalates, and nothing is committed.
    let store = Arc::new(switchyard_state::MemoryStore::new());
    let manager = token_builder()
        .store(store.clone())
        .retry_policy(no_wait_retries(0))
        .build()
        .unwrap();
    let genesis = manager.genesis(0, &rich_genesis(2)).unwrap();
    store.fail_next_commit_after(1);
    let error = manager.execute_frame(&frame()).unwrap_err();
    assert!(
        matches!(
            &error,
            ManagerError::RetriesExhausted { attempts: 1, last }
                if matches!(**last, ManagerError::Store(switchyard_state::StoreError::Injected { .. }))
        ),
        "{error:?}"
    );
    assert_eq!(manager.head(), Some(genesis));
    assert!(manager.cancellation_token().is_cancelled());
}

#[test]
fn store_failures_keep_their_own_severity() {
    use switchyard_state::StoreError;
    let passing = ManagerError::Store(StoreError::Injected { writes: 3 });
    assert_eq!(passing.severity(), Severity::Temporary);
    let fatal = ManagerError::Store(StoreError::FrameMismatch {
        head: 4,
        expected: 5,
        found: 9,
    });
    assert_eq!(fatal.severity(), Severity::Critical);
    let corrupt = ManagerError::Store(StoreError::Corrupt {
        what: "head record",
        reason: "3 bytes".into(),
    });
    assert_eq!(corrupt.severity(), Severity::Critical);
}

#[test]
fn close_releases_the_store_while_clones_are_still_held() {
    use switchyard_state::RedbStore;
    let dir = tempfile::tempdir().unwrap();
    let manager = token_builder()
        .store(Arc::new(RedbStore::open(dir.path()).unwrap()))
        .build()
        .unwrap();
    let head = manager.genesis(0, &rich_genesis(1)).unwrap();
    let clone = manager.clone();
    // Held open: redb allows one handle per file.
    assert!(RedbStore::open(dir.path()).is_err());
    manager.close().unwrap();
    assert!(manager.cancellation_token().is_cancelled());
    let reopened = RedbStore::open(dir.path()).unwrap();
    assert_eq!(switchyard_state::Store::head(&reopened), Some(head));
    // The clone is closed too: it starts nothing.
    assert!(matches!(
        clone.execute_frame(&Frame::new(1)),
        Err(ManagerError::Cancelled)
    ));
}
