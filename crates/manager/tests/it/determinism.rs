//! DESIGN §6's guarantee as a property: for random frames of the adversarial `mixed` workload,
//! the parallel executor on 1, 2 and 4 threads commits exactly the receipts (every outcome's
//! status, cost, fee, reason and message hash) and state roots of the serial reference, frame
//! after frame, each manager on its own store.

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::sync::Arc;

use switchyard_manager::Manager;
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{FrameReceipt, MessageStatus};
use switchyard_state::StateRoot;
use switchyard_testkit::workload::{
    MixedParams, NETWORK_ID, TransferParams, Workload, mixed, transfers,
};
use switchyard_token::TokenEngine;

/// A manager with the token and global engines (the mixed workload has prover operations) on `threads` workers over a fresh memory store, with the
/// workload's genesis committed.
fn memory_manager(threads: usize, workload: &Workload) -> Manager {
    let manager = Manager::builder()
        .engine(Arc::new(TokenEngine::new()))
        .engine(Arc::new(switchyard_global::GlobalEngine::new()))
        .network_id(NETWORK_ID)
        .threads(threads)
        .build()
        .unwrap();
    manager
        .genesis(0, &workload.genesis_changes().unwrap())
        .unwrap();
    manager
}

const THREADS: [usize; 3] = [1, 2, 4];

fn params() -> impl Strategy<Value = MixedParams> {
    (any::<u64>(), 3usize..=8, 2usize..=4, 10usize..=40).prop_map(
        |(seed, accounts, frames, frame_size)| MixedParams {
            seed,
            accounts,
            messages: frames * frame_size,
            frame_size,
            adversarial: true,
        },
    )
}

/// Runs one workload serially and on every thread count, comparing after each frame; returns
/// the serial receipts.
fn check(params: MixedParams) -> Result<Vec<FrameReceipt>, TestCaseError> {
    let workload = mixed(params);
    let serial = memory_manager(1, &workload);
    let parallel: Vec<_> = THREADS
        .iter()
        .map(|&threads| memory_manager(threads, &workload))
        .collect();
    let mut receipts = Vec::new();
    for frame in &workload.frames {
        let expected = serial.execute_frame_serial(frame).unwrap();
        prop_assert_eq!(expected.receipt.outcomes.len(), frame.messages.len());
        prop_assert_eq!(expected.head.frame_number, frame.number);
        for (manager, threads) in parallel.iter().zip(THREADS) {
            let got = manager.execute_frame(frame).unwrap();
            // Outcome by outcome first, so a failure names the message.
            for (want, have) in expected.receipt.outcomes.iter().zip(&got.receipt.outcomes) {
                prop_assert_eq!(
                    want,
                    have,
                    "frame {} message {} on {} threads",
                    frame.number,
                    want.index,
                    threads
                );
            }
            prop_assert_eq!(
                &expected.receipt,
                &got.receipt,
                "receipt of frame {} on {} threads",
                frame.number,
                threads
            );
            prop_assert_eq!(
                expected.head,
                got.head,
                "head after frame {} on {} threads",
                frame.number,
                threads
            );
            // What the store kept is the same receipt, and its root the head's.
            prop_assert_eq!(
                manager.store().receipt(frame.number).unwrap(),
                Some(expected.receipt.to_canonical_bytes())
            );
            prop_assert_eq!(
                manager.store().recompute_root().unwrap(),
                got.head.state_root
            );
        }
        prop_assert_eq!(
            serial.store().receipt(frame.number).unwrap(),
            Some(expected.receipt.to_canonical_bytes())
        );
        prop_assert_ne!(expected.head.state_root, StateRoot::empty());
        receipts.push(expected.receipt);
    }
    Ok(receipts)
}

#[test]
fn parallel_frames_equal_the_serial_reference_on_1_2_and_4_threads() {
    let mut runner = TestRunner::new(Config {
        cases: 24,
        source_file: Some(file!()),
        ..Config::default()
    });
    // Statuses (and refusal reasons) seen over the whole run, so the property cannot hold
    // vacuously on frames where nothing interesting happens.
    let statuses: RefCell<BTreeMap<i32, usize>> = RefCell::default();
    let reasons: RefCell<Vec<String>> = RefCell::default();
    let result = runner.run(&params(), |params| {
        for receipt in check(params)? {
            for outcome in &receipt.outcomes {
                *statuses.borrow_mut().entry(outcome.status).or_default() += 1;
                if !outcome.reason.is_empty() {
                    reasons.borrow_mut().push(outcome.reason.clone());
                }
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let statuses = statuses.into_inner();
    for status in [
        MessageStatus::Applied,
        MessageStatus::Failed,
        MessageStatus::Rejected,
        MessageStatus::Malformed,
    ] {
        assert!(
            statuses.get(&(status as i32)).copied().unwrap_or(0) > 0,
            "no {status:?} outcome over the whole run: {statuses:?}"
        );
    }
    // Failures and refusals come with their reasons; several distinct ones (bad signature,
    // replayed nonce, overdraft, wrong party, malformed bytes, bad target, ...).
    let mut reasons = reasons.into_inner();
    reasons.sort();
    reasons.dedup();
    assert!(
        reasons.len() >= 5,
        "too few distinct reasons over the whole run: {reasons:#?}"
    );
}

/// The executor's result does not depend on the frame's signatures being verified by the
/// executor or by the caller, when they are all valid (transfers with a hot account, and the
/// non-adversarial mix).
#[test]
fn preverified_frames_commit_the_same_receipts() {
    let workloads = [
        transfers(TransferParams {
            seed: 12,
            accounts: 40,
            messages: 60,
            frame_size: 20,
            conflict_ppm: 300_000,
        }),
        mixed(MixedParams {
            seed: 11,
            accounts: 5,
            messages: 90,
            frame_size: 30,
            adversarial: false,
        }),
    ];
    let mut applied = 0;
    for workload in &workloads {
        let checked = memory_manager(2, workload);
        let trusted = memory_manager(2, workload);
        for frame in &workload.frames {
            let a = checked.execute_frame(frame).unwrap();
            let b = trusted
                .execute_frame(&frame.clone().signatures_verified(true))
                .unwrap();
            assert_eq!(a, b, "frame {}", frame.number);
            applied += a
                .receipt
                .outcomes
                .iter()
                .filter(|o| o.status() == MessageStatus::Applied)
                .count();
        }
    }
    // Every transfer applies, and some of the mix.
    assert!(applied > 60, "{applied} applied");
}
