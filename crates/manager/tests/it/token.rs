//! The token engine end to end through the manager's byte-level API: genesis, deploy, routing
//! to the new token, transfers, durable commits in a `RedbStore` read back after reopening,
//! and `process_message` on a caller's overlay.

use std::sync::Arc;

use switchyard_manager::{Frame, ManagerError, Processed};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{FrameReceipt, MessageStatus};
use switchyard_router::domains::{NATIVE_TOKEN, TOKEN, native_account};
use switchyard_router::fees::{AccountRecord, FeeError};
use switchyard_router::{Address, Engine, EngineError, StateRead};
use switchyard_state::{Overlay, RedbStore, Store};
use switchyard_token::{TokenEngine, TokenError, TokenSpec, balance, token_info};

use crate::common::*;

const FEE_RECIPIENT: u8 = 4;
const MULTIPLIER: u64 = 2;

#[test]
fn deploy_route_and_transfer_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let recipient = account(FEE_RECIPIENT);
    let mut alice = client(1, 1);
    let mut bob = client(2, 1);
    let spec = TokenSpec::new("Gold", "GLD")
        .initial_supply(10_000)
        .mintable(true)
        .mint_authority(alice.public_key());
    let (gold, deploy) = alice.deploy(spec);
    let bob_pays_carol = bob.transfer(NATIVE_TOKEN, account(3), 5_000);
    let gold_to_bob = alice.transfer(gold, account(2), 2_500);
    let mint_to_carol = alice.mint(gold, account(3), 100);
    let bob_pays_alice = bob.transfer(NATIVE_TOKEN, account(1), 1_000);
    let fees: Vec<u128> = [
        &deploy,
        &bob_pays_carol,
        &gold_to_bob,
        &mint_to_carol,
        &bob_pays_alice,
    ]
    .iter()
    .map(|op| token_fee(&op.request, MULTIPLIER))
    .collect();
    let [f_deploy, f_pay_carol, f_gold, f_mint, f_pay_alice] = fees[..] else {
        unreachable!()
    };

    let last = {
        let store = Arc::new(RedbStore::open(dir.path()).unwrap());
        let manager = token_builder().store(store).threads(2).build().unwrap();
        manager
            .genesis(
                0,
                &genesis_changes(&[(account(1), 1_000_000), (account(2), 500_000)], &[]),
            )
            .unwrap();
        let frame = |number| {
            Frame::new(number)
                .fee_multiplier(MULTIPLIER)
                .fee_recipient(recipient)
        };

        let first = manager
            .execute_frame(
                &frame(1)
                    .message(TOKEN.0, deploy.to_bytes())
                    .message(NATIVE_TOKEN.0, bob_pays_carol.to_bytes()),
            )
            .unwrap();
        assert_eq!(
            statuses(&first.receipt),
            [MessageStatus::Applied, MessageStatus::Applied]
        );
        let charged: Vec<u128> = first.receipt.outcomes.iter().map(fee).collect();
        assert_eq!(charged, [f_deploy, f_pay_carol]);

        // The new token is routed by its own domain, through its metadata record.
        manager
            .validate_message(2, &gold.0, &gold_to_bob.to_bytes())
            .unwrap();
        let second = manager
            .execute_frame(
                &frame(2)
                    .message(gold.0, gold_to_bob.to_bytes())
                    .message(gold.0, mint_to_carol.to_bytes())
                    .message(NATIVE_TOKEN.0, bob_pays_alice.to_bytes()),
            )
            .unwrap();
        assert_eq!(
            statuses(&second.receipt),
            [MessageStatus::Applied; 3],
            "{:?}",
            second.receipt.outcomes
        );
        assert_eq!(
            second.receipt.total_fees.map(u128::from),
            Some(f_gold + f_mint + f_pay_alice)
        );
        second
    };

    // Everything above is dropped: reopen the same directory.
    let store = RedbStore::open(dir.path()).unwrap();
    assert_eq!(store.head(), Some(last.head));
    assert_eq!(store.recompute_root().unwrap(), last.head.state_root);
    let stored = store.receipt(2).unwrap().unwrap();
    assert_eq!(stored[..4], FrameReceipt::TAG.to_be_bytes());
    assert_eq!(
        FrameReceipt::from_canonical_bytes(&stored).unwrap(),
        last.receipt
    );

    let snapshot = store.snapshot().unwrap();
    let state: &dyn StateRead = snapshot.as_ref();
    let record = |n: u8| AccountRecord::load(state, &native_account(account(n))).unwrap();
    assert_eq!(
        record(1),
        AccountRecord {
            balance: 1_000_000 - f_deploy - f_gold - f_mint + 1_000,
            nonce: 3
        }
    );
    assert_eq!(
        record(2),
        AccountRecord {
            balance: 500_000 - 5_000 - f_pay_carol - 1_000 - f_pay_alice,
            nonce: 2
        }
    );
    assert_eq!(
        record(3),
        AccountRecord {
            balance: 5_000,
            nonce: 0
        }
    );
    assert_eq!(
        record(FEE_RECIPIENT).balance,
        fees.iter().sum::<u128>(),
        "the recipient holds every fee"
    );
    assert_eq!(balance(state, &gold, &account(1)).unwrap(), 7_500);
    assert_eq!(balance(state, &gold, &account(2)).unwrap(), 2_500);
    assert_eq!(balance(state, &gold, &account(3)).unwrap(), 100);
    let info = token_info(state, &gold).unwrap().unwrap();
    assert_eq!((info.supply, info.owner), (10_100, Some(account(1))));
    drop(snapshot);

    // A new manager on the reopened store resumes from its head.
    let manager = token_builder().store(Arc::new(store)).build().unwrap();
    assert_eq!(manager.head(), Some(last.head));
    let mut carol = client(3, 1);
    let carol_pays = carol.transfer(gold, account(2), 40);
    let error = manager
        .execute_frame(&Frame::new(2).message(gold.0, carol_pays.to_bytes()))
        .unwrap_err();
    assert!(
        matches!(error, ManagerError::FrameOutOfOrder { head: 2, found: 2 }),
        "{error:?}"
    );
    let third = manager
        .execute_frame(&Frame::new(3).message(gold.0, carol_pays.to_bytes()))
        .unwrap();
    assert_eq!(statuses(&third.receipt), [MessageStatus::Applied]);
    assert_eq!(third.receipt.parent_state_root, last.head.state_root.0);
    let snapshot = manager.store().snapshot().unwrap();
    assert_eq!(
        balance(snapshot.as_ref(), &gold, &account(2)).unwrap(),
        2_540
    );
}

fn entries(overlay: &Overlay<'_>) -> Vec<(Address, Option<Vec<u8>>)> {
    overlay
        .changes()
        .iter()
        .map(|(a, v)| (*a, v.map(<[u8]>::to_vec)))
        .collect()
}

#[test]
fn process_message_charges_the_fee_bumps_the_nonce_and_refuses_a_replay() {
    let manager = token_builder().build().unwrap();
    let genesis = manager.genesis(0, &rich_genesis(2)).unwrap();
    let snapshot = manager.store().snapshot().unwrap();
    let mut overlay = Overlay::new(snapshot.as_ref());
    let mut alice = client(1, 1);
    let pay = alice.transfer(NATIVE_TOKEN, account(2), 700);
    let cost = TokenEngine::new().cost(&pay.request).unwrap();
    let fee = token_fee(&pay.request, 3);

    let processed = manager
        .process_message(1, 3, &NATIVE_TOKEN.0, &pay.to_bytes(), &mut overlay)
        .unwrap();
    assert!(matches!(
        processed,
        Processed { status: MessageStatus::Applied, cost: c, fee: f, error: None, .. }
            if switchyard_router::BigUint::from(c) == cost && f == fee
    ));
    assert_eq!(
        native(&overlay, &account(1)),
        AccountRecord {
            balance: RICH - 700 - fee,
            nonce: 1
        }
    );
    assert_eq!(native(&overlay, &account(2)).balance, RICH + 700);

    // The same bytes again: the nonce was used, nothing happens.
    let before = entries(&overlay);
    let error = manager
        .process_message(1, 3, &NATIVE_TOKEN.0, &pay.to_bytes(), &mut overlay)
        .unwrap_err();
    assert!(
        matches!(
            error,
            ManagerError::Fee(FeeError::BadNonce {
                stored: 1,
                found: 1,
                ..
            })
        ),
        "{error:?}"
    );
    assert_eq!(entries(&overlay), before);

    // An operation that fails keeps its fee and nonce and drops its effects.
    let too_much = alice.transfer(NATIVE_TOKEN, account(2), RICH * 2);
    let fee_failed = token_fee(&too_much.request, 3);
    let processed = manager
        .process_message(1, 3, &NATIVE_TOKEN.0, &too_much.to_bytes(), &mut overlay)
        .unwrap();
    assert_eq!(processed.status, MessageStatus::Failed);
    assert_eq!(processed.fee, fee_failed);
    let Some(ManagerError::Engine(engine_error)) = &processed.error else {
        panic!("expected an engine error: {processed:?}")
    };
    assert!(
        matches!(
            engine_error.downcast_ref::<TokenError>(),
            Some(TokenError::InsufficientBalance { .. })
        ),
        "{engine_error:?}"
    );
    assert!(matches!(engine_error, EngineError::Rejected { .. }));
    assert_eq!(
        native(&overlay, &account(1)),
        AccountRecord {
            balance: RICH - 700 - fee - fee_failed,
            nonce: 2
        }
    );
    assert_eq!(native(&overlay, &account(2)).balance, RICH + 700);

    // Nothing was committed: process_message only writes the caller's state.
    drop(overlay);
    assert_eq!(manager.head(), Some(genesis));
    let committed = manager.store().snapshot().unwrap();
    assert_eq!(
        native(committed.as_ref(), &account(1)),
        AccountRecord {
            balance: RICH,
            nonce: 0
        }
    );
}
