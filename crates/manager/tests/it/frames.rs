//! Frames (DESIGN §6): bundle atomicity with fees kept, malformed and rejected messages
//! reported one by one, deploy-then-use inside a bundle, fee collection at commit, and the
//! parallel executor equal to the serial reference on every thread count.

use switchyard_manager::{Frame, FrameResult, Manager};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{
    FrameReceipt, MessageBundle, MessageRequest, MessageStatus, message_request::Request,
};
use switchyard_router::domains::{COMPUTE, GLOBAL, HYPERGRAPH, NATIVE_TOKEN, TOKEN};
use switchyard_router::fees::AccountRecord;
use switchyard_router::{Domain, StateRead};
use switchyard_token::{TokenSpec, balance, token_info};

use crate::common::*;

fn snapshot_of(manager: &Manager) -> std::sync::Arc<dyn switchyard_state::Snapshot> {
    manager.store().snapshot().unwrap()
}

#[test]
fn a_failing_bundle_keeps_its_fees_and_drops_every_effect() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 2);
    manager.genesis(0, &rich_genesis(8)).unwrap();
    let written = addr(COMPUTE, 1);

    // Token bundle: the second transfer cannot be paid, so the first is undone too.
    let mut alice = client(1, 1);
    let ok = alice.transfer(NATIVE_TOKEN, account(2), 100).request;
    let too_much = alice.transfer(NATIVE_TOKEN, account(3), RICH * 2).request;
    let (f_ok, f_too_much) = (token_fee(&ok, 1), token_fee(&too_much, 1));
    // Cross-engine bundle: the compute write is undone when the hypergraph operation fails.
    let mixed = vec![
        signed(code_execute(&[], &[written], b"x"), 4, COMPUTE, 1),
        signed(vertex_add([2; 32], b"fail"), 4, HYPERGRAPH, 2),
    ];
    // The second request's nonce skips one: settlement fails there, the first fee stays.
    let mut eve = client(5, 1);
    let eve_ok = eve.transfer(NATIVE_TOKEN, account(6), 100).request;
    eve.set_next_nonce(3);
    let eve_skip = eve.transfer(NATIVE_TOKEN, account(6), 100).request;
    // A bad first nonce rejects the whole bundle with no fee.
    let mut frank = client(7, 5);
    let frank_bad = frank.transfer(NATIVE_TOKEN, account(8), 100).request;

    let result = manager
        .execute_frame(
            &Frame::new(1)
                .message(NATIVE_TOKEN.0, bundle(vec![ok, too_much]))
                .message(COMPUTE.0, bundle(mixed))
                .message(NATIVE_TOKEN.0, bundle(vec![eve_ok.clone(), eve_skip]))
                .message(NATIVE_TOKEN.0, bundle(vec![frank_bad])),
        )
        .unwrap();
    let outcomes = &result.receipt.outcomes;
    assert_eq!(
        statuses(&result.receipt),
        [
            MessageStatus::Failed,
            MessageStatus::Failed,
            MessageStatus::Failed,
            MessageStatus::Rejected
        ]
    );
    assert!(outcomes[..3].iter().all(|o| !o.reason.is_empty()));
    let f_eve = token_fee(&eve_ok, 1);
    assert_eq!(
        outcomes.iter().map(fee).collect::<Vec<_>>(),
        [f_ok + f_too_much, 2 * u128::from(TEST_COST), f_eve, 0]
    );

    let snapshot = snapshot_of(&manager);
    let state: &dyn StateRead = snapshot.as_ref();
    let rich = |nonce| AccountRecord {
        balance: RICH,
        nonce,
    };
    assert_eq!(
        native(state, &account(1)),
        AccountRecord {
            balance: RICH - f_ok - f_too_much,
            nonce: 2
        }
    );
    assert_eq!(native(state, &account(2)), rich(0), "the undone credit");
    assert_eq!(native(state, &account(3)), rich(0));
    assert_eq!(
        native(state, &account(4)),
        AccountRecord {
            balance: RICH - 2 * u128::from(TEST_COST),
            nonce: 2
        }
    );
    assert_eq!(
        state.get(&written).unwrap(),
        None,
        "the undone compute write"
    );
    assert_eq!(
        native(state, &account(5)),
        AccountRecord {
            balance: RICH - f_eve,
            nonce: 1
        }
    );
    assert_eq!(native(state, &account(6)), rich(0));
    assert_eq!(native(state, &account(7)), rich(0));
    assert_eq!(native(state, &account(8)), rich(0));
}

/// A transfer request of signer `n` with a corrupted signature.
fn badly_signed(n: u8) -> MessageRequest {
    let mut request = client(n, 1).transfer(NATIVE_TOKEN, account(1), 5).request;
    let Some(Request::Transaction(transfer)) = request.request.as_mut() else {
        unreachable!()
    };
    transfer.auth.as_mut().unwrap().signature[0] ^= 1;
    request
}

#[test]
fn malformed_and_rejected_messages_are_reported_and_the_rest_commits() {
    let manager = token_builder().threads(2).build().unwrap();
    manager.genesis(0, &rich_genesis(8)).unwrap();
    let first = client(1, 1).transfer(NATIVE_TOKEN, account(8), 5);
    let last = client(7, 1).transfer(NATIVE_TOKEN, account(8), 6);
    let unknown = Domain([0x42; 32]);
    let to_unknown = client(4, 1).transfer(unknown, account(8), 5);
    let replayed = client(5, 3).transfer(NATIVE_TOKEN, account(8), 5);

    let messages: Vec<(Vec<u8>, Vec<u8>, MessageStatus)> = vec![
        (
            NATIVE_TOKEN.0.to_vec(),
            first.to_bytes(),
            MessageStatus::Applied,
        ),
        (
            NATIVE_TOKEN.0.to_vec(),
            vec![0xff; 12],
            MessageStatus::Malformed,
        ),
        (
            NATIVE_TOKEN.0[..31].to_vec(),
            client(2, 1)
                .transfer(NATIVE_TOKEN, account(8), 5)
                .to_bytes(),
            MessageStatus::Malformed,
        ),
        (
            NATIVE_TOKEN.0.to_vec(),
            FrameReceipt::default().to_canonical_bytes(),
            MessageStatus::Malformed,
        ),
        (
            NATIVE_TOKEN.0.to_vec(),
            MessageBundle::default().to_canonical_bytes(),
            MessageStatus::Malformed,
        ),
        (
            NATIVE_TOKEN.0.to_vec(),
            bytes(&badly_signed(3)),
            MessageStatus::Rejected,
        ),
        (
            unknown.0.to_vec(),
            to_unknown.to_bytes(),
            MessageStatus::Rejected,
        ),
        (
            NATIVE_TOKEN.0.to_vec(),
            replayed.to_bytes(),
            MessageStatus::Rejected,
        ),
        (
            NATIVE_TOKEN.0.to_vec(),
            last.to_bytes(),
            MessageStatus::Applied,
        ),
    ];
    let frame = messages
        .iter()
        .fold(Frame::new(1), |frame, (target, bytes, _)| {
            frame.message(target.clone(), bytes.clone())
        });
    let result = manager.execute_frame(&frame).unwrap();

    assert_eq!(result.receipt.outcomes.len(), messages.len());
    for (index, (outcome, (_, bytes, expected))) in
        result.receipt.outcomes.iter().zip(&messages).enumerate()
    {
        assert_eq!(outcome.index as usize, index);
        assert_eq!(status(outcome), *expected, "message {index}: {outcome:?}");
        assert_eq!(
            outcome.message_hash,
            blake3::hash(bytes).as_bytes().to_vec()
        );
        if *expected == MessageStatus::Applied {
            assert!(outcome.reason.is_empty());
            assert!(fee(outcome) > 0);
        } else {
            assert!(!outcome.reason.is_empty(), "message {index} has no reason");
            assert_eq!(fee(outcome), 0);
        }
    }
    let (f_first, f_last) = (token_fee(&first.request, 1), token_fee(&last.request, 1));
    assert_eq!(
        result.receipt.total_fees.map(u128::from),
        Some(f_first + f_last)
    );

    let snapshot = snapshot_of(&manager);
    let state: &dyn StateRead = snapshot.as_ref();
    assert_eq!(native(state, &account(8)).balance, RICH + 11);
    for untouched in 2..=6 {
        assert_eq!(
            native(state, &account(untouched)),
            AccountRecord {
                balance: RICH,
                nonce: 0
            },
            "signer {untouched}"
        );
    }
    assert_eq!(native(state, &account(1)).nonce, 1);
    assert_eq!(native(state, &account(7)).nonce, 1);
}

#[test]
fn a_bundle_can_deploy_a_token_and_use_it() {
    let manager = token_builder().threads(2).build().unwrap();
    manager.genesis(0, &rich_genesis(3)).unwrap();
    let mut alice = client(1, 1);
    let mut bob = client(2, 1);
    let (gold, deploy) = alice.deploy(
        TokenSpec::new("Gold", "GLD")
            .mintable(true)
            .mint_authority(alice.public_key())
            .max_supply(1_000),
    );
    let mint = alice.mint(gold, account(2), 500);
    let pass_on = bob.transfer(gold, account(3), 200);
    // Another message of the same frame cannot see the token yet.
    let outside = client(3, 1).transfer(gold, account(1), 1);

    let result = manager
        .execute_frame(
            &Frame::new(1)
                .message(
                    TOKEN.0,
                    bundle(vec![deploy.request, mint.request, pass_on.request]),
                )
                .message(gold.0, outside.to_bytes()),
        )
        .unwrap();
    assert_eq!(
        statuses(&result.receipt),
        [MessageStatus::Applied, MessageStatus::Rejected],
        "{:?}",
        result.receipt.outcomes
    );
    let snapshot = snapshot_of(&manager);
    let state: &dyn StateRead = snapshot.as_ref();
    assert_eq!(balance(state, &gold, &account(2)).unwrap(), 300);
    assert_eq!(balance(state, &gold, &account(3)).unwrap(), 200);
    assert_eq!(token_info(state, &gold).unwrap().unwrap().supply, 500);
    assert_eq!(native(state, &account(1)).nonce, 2);
    assert_eq!(native(state, &account(2)).nonce, 1);
    assert_eq!(native(state, &account(3)).nonce, 0);
}

#[test]
fn the_fee_recipient_is_credited_once_and_spends_from_its_pre_frame_balance() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 2);
    let recipient = 9;
    let pre = 5_000;
    let mut balances: Vec<_> = (1..=3).map(|n| (account(n), RICH)).collect();
    balances.push((account(recipient), pre));
    manager
        .genesis(0, &genesis_changes(&balances, &[]))
        .unwrap();

    let a = client(1, 1).transfer(NATIVE_TOKEN, account(2), 10);
    let b = client(2, 1).transfer(NATIVE_TOKEN, account(3), 10);
    let c = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        3,
        COMPUTE,
        1,
    ));
    // The recipient asks for more than it had before the frame, though less than it will
    // hold after: it sees the pre-frame balance, so the transfer fails (its fee is charged).
    // (The fee depends on the encoded amount: iterate to the fixed point.)
    let mut f_spend = 0;
    let spend = loop {
        let spend = client(recipient, 1).transfer(NATIVE_TOKEN, account(1), pre - f_spend + 1);
        let fee = token_fee(&spend.request, 1);
        if fee == f_spend {
            break spend;
        }
        f_spend = fee;
    };

    let result = manager
        .execute_frame(
            &Frame::new(1)
                .fee_recipient(account(recipient))
                .message(NATIVE_TOKEN.0, a.to_bytes())
                .message(NATIVE_TOKEN.0, b.to_bytes())
                .message(COMPUTE.0, c)
                .message(NATIVE_TOKEN.0, spend.to_bytes()),
        )
        .unwrap();
    assert_eq!(
        statuses(&result.receipt),
        [
            MessageStatus::Applied,
            MessageStatus::Applied,
            MessageStatus::Applied,
            MessageStatus::Failed
        ]
    );
    let fees: Vec<u128> = result.receipt.outcomes.iter().map(fee).collect();
    assert_eq!(
        fees,
        [
            token_fee(&a.request, 1),
            token_fee(&b.request, 1),
            u128::from(TEST_COST),
            f_spend
        ]
    );
    let total: u128 = fees.iter().sum();
    assert_eq!(result.receipt.total_fees.map(u128::from), Some(total));
    assert_eq!(result.receipt.fee_recipient, account(recipient));

    let snapshot = snapshot_of(&manager);
    assert_eq!(
        native(snapshot.as_ref(), &account(recipient)),
        AccountRecord {
            balance: pre - f_spend + total,
            nonce: 1
        }
    );
    assert_eq!(
        native(snapshot.as_ref(), &account(1)).balance,
        RICH - 10 - fees[0],
        "the failed transfer credited nothing"
    );
    // The root hashed while the frame ran (the recipient's account at commit) is the root of
    // the stored state.
    assert_eq!(
        manager.store().recompute_root().unwrap(),
        result.head.state_root
    );
}

/// Two frames mixing conflicting and independent transfers, bundles (failing and deploying),
/// compute and hypergraph operations, prover operations and refused messages.
fn mixed_frames() -> Vec<Frame> {
    let mut clients: Vec<_> = (0..=12).map(|n| client(n, 1)).collect();
    let (gold, deploy) = clients[7].deploy(
        TokenSpec::new("Gold", "GLD")
            .mintable(true)
            .mint_authority(account(7))
            .initial_supply(1_000),
    );
    let mint = clients[7].mint(gold, account(8), 50);
    let t = |clients: &mut Vec<_>, from: usize, to: u8, amount: u128| {
        let c: &mut switchyard_token::TokenClient = &mut clients[from];
        c.transfer(NATIVE_TOKEN, account(to), amount).to_bytes()
    };
    let mut first = Frame::new(1).fee_recipient(account(12)).fee_multiplier(2);
    for (from, to, amount) in [(1, 2, 10), (2, 3, 20), (3, 1, 30), (4, 5, 40), (5, 4, 50)] {
        first = first.message(NATIVE_TOKEN.0, t(&mut clients, from, to, amount));
    }
    let fine = clients[8].transfer(NATIVE_TOKEN, account(9), 1).request;
    let failing = clients[8]
        .transfer(NATIVE_TOKEN, account(9), RICH * 3)
        .request;
    let first = first
        .message(TOKEN.0, bundle(vec![deploy.request, mint.request]))
        .message(NATIVE_TOKEN.0, bundle(vec![fine, failing]))
        .message(
            COMPUTE.0,
            bytes(&signed(
                code_execute(
                    &[switchyard_router::domains::native_account(account(2))],
                    &[addr(COMPUTE, 1)],
                    b"a",
                ),
                9,
                COMPUTE,
                1,
            )),
        )
        .message(
            HYPERGRAPH.0,
            bytes(&signed(vertex_add([1; 32], b"v"), 10, HYPERGRAPH, 1)),
        )
        .message(
            HYPERGRAPH.0,
            bytes(&signed(vertex_add([2; 32], b"fail"), 11, HYPERGRAPH, 1)),
        )
        .message(GLOBAL.0, bytes(&signed(prover_join(), 6, GLOBAL, 1)))
        .message(NATIVE_TOKEN.0, vec![0; 9])
        .message(NATIVE_TOKEN.0, bytes(&badly_signed(6)))
        .message(NATIVE_TOKEN.0, t(&mut clients, 1, 6, 5));

    let mut second = Frame::new(2).fee_recipient(account(1));
    second = second
        .message(
            gold.0,
            clients[7].transfer(gold, account(1), 300).to_bytes(),
        )
        .message(gold.0, clients[8].transfer(gold, account(2), 20).to_bytes())
        .message(gold.0, clients[1].transfer(gold, account(3), 1).to_bytes())
        .message(NATIVE_TOKEN.0, t(&mut clients, 12, 1, 7))
        .message(NATIVE_TOKEN.0, t(&mut clients, 2, 12, 8))
        .message(
            COMPUTE.0,
            bytes(&signed(
                code_execute(&[addr(COMPUTE, 1)], &[addr(HYPERGRAPH, 1)], b"b"),
                9,
                COMPUTE,
                2,
            )),
        );
    vec![first, second]
}

fn run(manager: &Manager, frames: &[Frame], serial: bool) -> Vec<FrameResult> {
    manager.genesis(0, &rich_genesis(12)).unwrap();
    frames
        .iter()
        .map(|frame| {
            if serial {
                manager.execute_frame_serial(frame).unwrap()
            } else {
                manager.execute_frame(frame).unwrap()
            }
        })
        .collect()
}

#[test]
fn parallel_execution_equals_the_serial_reference_on_every_thread_count() {
    let frames = mixed_frames();
    let engines = TestEngines::new();
    let reference = run(&full_manager(&engines, 1), &frames, true);
    // The mix exercises every status, and messages that wait for earlier ones.
    use MessageStatus::{Applied as A, Failed as F, Malformed as M, Rejected as R};
    assert_eq!(
        statuses(&reference[0].receipt),
        [A, A, A, A, A, A, F, A, A, F, A, M, R, A]
    );
    assert_eq!(statuses(&reference[1].receipt), [A; 6]);
    for threads in [1, 2, 4] {
        let manager = full_manager(&engines, threads);
        let results = run(&manager, &frames, false);
        assert_eq!(results, reference, "{threads} threads");
        assert_eq!(
            manager.store().recompute_root().unwrap(),
            reference[1].head.state_root
        );
    }
}

#[test]
fn a_message_refused_for_its_signature_still_releases_the_messages_waiting_for_it() {
    // The schedule is built before signatures are checked: the badly signed transfer of
    // signer 3 is in the graph (it declares signer 3's account), and the valid transfers of
    // signer 3 that follow must still run once it is refused.
    let frame = Frame::new(1)
        .message(NATIVE_TOKEN.0, bytes(&badly_signed(3)))
        .message(
            NATIVE_TOKEN.0,
            client(3, 1)
                .transfer(NATIVE_TOKEN, account(4), 7)
                .to_bytes(),
        )
        .message(
            NATIVE_TOKEN.0,
            client(3, 2)
                .transfer(NATIVE_TOKEN, account(5), 8)
                .to_bytes(),
        );
    let reference = token_builder().threads(1).build().unwrap();
    reference.genesis(0, &rich_genesis(8)).unwrap();
    let expected = reference.execute_frame_serial(&frame).unwrap();
    use MessageStatus::{Applied as A, Rejected as R};
    assert_eq!(statuses(&expected.receipt), [R, A, A]);
    for threads in [2, 4] {
        let manager = token_builder().threads(threads).build().unwrap();
        manager.genesis(0, &rich_genesis(8)).unwrap();
        assert_eq!(
            manager.execute_frame(&frame).unwrap(),
            expected,
            "{threads} threads"
        );
    }
}

#[test]
fn an_empty_frame_commits_and_advances_the_head_without_changing_the_root() {
    let manager = token_builder().threads(2).build().unwrap();
    let genesis = manager.genesis(0, &rich_genesis(2)).unwrap();
    let result = manager.execute_frame(&Frame::new(1)).unwrap();
    assert_eq!(result.head.frame_number, 1);
    assert_eq!(result.head.state_root, genesis.state_root);
    assert!(result.receipt.outcomes.is_empty());
    assert_eq!(
        result.receipt.parent_state_root,
        genesis.state_root.0.to_vec()
    );
    // Frame numbers must follow the head.
    assert!(matches!(
        manager.execute_frame(&Frame::new(3)),
        Err(switchyard_manager::ManagerError::FrameOutOfOrder { head: 1, found: 3 })
    ));
}

#[test]
fn every_committed_head_is_published_to_watchers() {
    let manager = token_builder().threads(2).build().unwrap();
    let mut heads = manager.subscribe_heads();
    assert_eq!(*heads.borrow_and_update(), None);
    let genesis = manager.genesis(0, &rich_genesis(2)).unwrap();
    assert!(heads.has_changed().unwrap());
    assert_eq!(*heads.borrow_and_update(), Some(genesis));
    let transfer = client(1, 1)
        .transfer(NATIVE_TOKEN, account(2), 9)
        .to_bytes();
    let result = manager
        .execute_frame(&Frame::new(1).message(NATIVE_TOKEN.0, transfer))
        .unwrap();
    assert!(heads.has_changed().unwrap());
    assert_eq!(*heads.borrow_and_update(), Some(result.head));
    assert_ne!(result.head.state_root, genesis.state_root);
    // A frame that fails as a whole publishes nothing.
    assert!(manager.execute_frame(&Frame::new(5)).is_err());
    assert!(!heads.has_changed().unwrap());
}

#[test]
fn frames_sent_from_several_threads_at_once_commit_one_at_a_time() {
    use std::sync::mpsc;
    use std::time::Duration;
    use switchyard_manager::ManagerError;

    const FRAMES: u64 = 24;
    const CALLERS: u8 = 4;
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 2);
    manager.genesis(0, &rich_genesis(2)).unwrap();
    let (done, finished) = mpsc::channel();
    for caller in 0..CALLERS {
        let (manager, done) = (manager.clone(), done.clone());
        std::thread::spawn(move || {
            let mut committed = Vec::new();
            loop {
                let next = manager.store().head().map_or(1, |h| h.frame_number + 1);
                if next > FRAMES {
                    break;
                }
                // Enough (malformed) messages that every phase runs on both workers.
                let mut frame = Frame::new(next);
                for n in 0..300u16 {
                    frame = frame.message(NATIVE_TOKEN.0, [caller, n.to_le_bytes()[0], 1]);
                }
                match manager.execute_frame(&frame) {
                    Ok(result) => committed.push(Ok(result.head.frame_number)),
                    // Another caller committed this number first.
                    Err(ManagerError::FrameOutOfOrder { .. }) => {}
                    Err(other) => committed.push(Err(other.to_string())),
                }
            }
            let _ = done.send(committed);
        });
    }
    // Every caller ends: a deadlock between callers fails here instead of hanging the suite.
    let mut all = Vec::new();
    for _ in 0..CALLERS {
        match finished.recv_timeout(Duration::from_secs(300)) {
            Ok(committed) => all.extend(committed),
            Err(error) => panic!("a caller did not finish: {error}"),
        }
    }
    let mut all: Vec<u64> = all.into_iter().collect::<Result<_, _>>().unwrap();
    all.sort_unstable();
    assert_eq!(all, (1..=FRAMES).collect::<Vec<_>>());
    assert_eq!(manager.store().head().map(|h| h.frame_number), Some(FRAMES));
}
