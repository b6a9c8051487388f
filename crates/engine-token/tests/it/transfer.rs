//! Transfers.

use switchyard_proto::v1::Transaction;
use switchyard_router::domains::{HYPERGRAPH, TOKEN, metadata_address, native_account};
use switchyard_router::fees::AccountRecord;
use switchyard_router::{
    Address, Call, Domain, Engine, ExecutionContext, MemoryView, MetadataRecord, StateWrite,
};
use switchyard_token::{TokenClient, TokenEngine, TokenError, TokenSpec};

use crate::common::{Chain, NATIVE, NET, at_apply, at_validate, client};

/// A chain where alice (1 000 000 native) deployed "Gold" holding 1 000 of it.
fn with_gold(transferable: bool) -> (Chain, TokenClient, Domain) {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let (gold, op) = alice.deploy(
        TokenSpec::new("Gold", "GLD")
            .initial_supply(1_000)
            .transferable(transferable),
    );
    chain.submit(&op).unwrap();
    chain.end_frame();
    (chain, alice, gold)
}

#[test]
fn a_native_transfer_writes_exactly_the_two_account_records() {
    let mut alice = client(1);
    let bob = client(2).public_key();
    let mut chain = Chain::new(&[(alice.public_key(), 10_000), (bob, 50)]);
    let before = chain.state.clone();
    chain.submit(&alice.transfer(NATIVE, bob, 700)).unwrap();
    let fee = chain.last_fee;
    assert_eq!(
        chain.native(alice.public_key()),
        AccountRecord {
            balance: 10_000 - 700 - fee,
            nonce: 1
        }
    );
    assert_eq!(
        chain.native(bob),
        AccountRecord {
            balance: 750,
            nonce: 0
        }
    );
    let changed: Vec<Address> = chain
        .state
        .entries
        .iter()
        .filter(|(address, value)| before.entries.get(*address) != Some(*value))
        .map(|(address, _)| *address)
        .collect();
    assert_eq!(changed, {
        let mut two = vec![native_account(alice.public_key()), native_account(bob)];
        two.sort();
        two
    });
    assert_eq!(
        chain.info(NATIVE).supply,
        10_050,
        "transfers never change the supply"
    );
}

#[test]
fn a_token_transfer_moves_units_and_charges_the_fee_in_native() {
    let (mut chain, mut alice, gold) = with_gold(true);
    let bob = client(2).public_key();
    let native_before = chain.native(alice.public_key()).balance;
    chain
        .submit(&alice.transfer_with_memo(gold, bob, 400, vec![b'm'; 256]))
        .unwrap();
    assert_eq!(chain.balance(gold, alice.public_key()), 600);
    assert_eq!(chain.balance(gold, bob), 400);
    assert_eq!(
        chain.native(alice.public_key()).balance,
        native_before - chain.last_fee
    );
    assert_eq!(chain.native(alice.public_key()).nonce, 2);
    assert_eq!(
        AccountRecord::load(&chain.state, &Address::new(gold, bob))
            .unwrap()
            .nonce,
        0
    );
    assert_eq!(chain.info(gold).supply, 1_000);
    // The whole balance may go.
    chain.submit(&alice.transfer(gold, bob, 600)).unwrap();
    assert_eq!(
        (
            chain.balance(gold, alice.public_key()),
            chain.balance(gold, bob)
        ),
        (0, 1_000)
    );
}

#[test]
fn insufficient_balance_names_the_values_and_leaves_only_the_fee() {
    let (mut chain, mut alice, gold) = with_gold(true);
    let bob = client(2).public_key();
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.transfer(gold, bob, 1_001))),
        TokenError::InsufficientBalance {
            account: alice.public_key(),
            balance: 1_000,
            amount: 1_001
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());

    // In the native token, the fee is paid first: the transfer sees the balance after it.
    let mut bob_client = client(2);
    let mut chain = Chain::new(&[(bob_client.public_key(), 5_000)]);
    let op = bob_client.transfer(NATIVE, alice.public_key(), 4_500);
    let before = chain.state.clone();
    let error = at_apply(chain.submit(&op));
    assert_eq!(
        error,
        TokenError::InsufficientBalance {
            account: bob,
            balance: 5_000 - chain.last_fee,
            amount: 4_500
        }
    );
    chain.assert_only_fee_charged(&before, bob);
}

#[test]
fn crediting_past_u128_is_an_overflow_error() {
    let (mut chain, mut alice, gold) = with_gold(true);
    let bob = client(2).public_key();
    chain
        .state
        .put(
            Address::new(gold, bob),
            AccountRecord {
                balance: u128::MAX,
                nonce: 0,
            }
            .encode(),
        )
        .unwrap();
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.transfer(gold, bob, 1))),
        TokenError::BalanceOverflow {
            account: bob,
            balance: u128::MAX,
            amount: 1
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
}

#[test]
fn transfers_of_unknown_or_foreign_domains_are_refused() {
    let (mut chain, mut alice, _) = with_gold(true);
    let bob = client(2).public_key();
    let nowhere = Domain([9; 32]);
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.transfer(nowhere, bob, 1))),
        TokenError::UnknownToken { domain: nowhere }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());

    let graph = Domain([8; 32]);
    chain
        .state
        .put(
            metadata_address(graph),
            MetadataRecord {
                type_domain: HYPERGRAPH,
                payload: vec![],
            }
            .encode(),
        )
        .unwrap();
    assert_eq!(
        at_apply(chain.submit(&alice.transfer(graph, bob, 1))),
        TokenError::NotAToken {
            domain: graph,
            type_domain: HYPERGRAPH
        }
    );
}

#[test]
fn soulbound_tokens_cannot_be_transferred() {
    let (mut chain, mut alice, badge) = with_gold(false);
    let bob = client(2).public_key();
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.transfer(badge, bob, 1))),
        TokenError::NotTransferable { token: badge }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert_eq!(chain.balance(badge, alice.public_key()), 1_000);
}

#[test]
fn shape_errors_are_refused_by_validate() {
    let (mut chain, mut alice, gold) = with_gold(true);
    let before = chain.state.clone();
    let me = alice.public_key();
    let cases: Vec<(Transaction, TokenError)> = vec![
        (
            Transaction {
                to: vec![2; 32],
                amount: Some(0u128.into()),
                ..Default::default()
            },
            TokenError::ZeroAmount {
                operation: "Transaction",
            },
        ),
        (
            Transaction {
                to: vec![2; 32],
                amount: None,
                ..Default::default()
            },
            TokenError::MissingField {
                operation: "Transaction",
                field: "amount",
            },
        ),
        (
            Transaction {
                to: me.to_vec(),
                amount: Some(1u128.into()),
                ..Default::default()
            },
            TokenError::SelfTransfer { account: me },
        ),
        (
            Transaction {
                to: vec![2; 31],
                amount: Some(1u128.into()),
                ..Default::default()
            },
            TokenError::BadKeyLength {
                field: "recipient",
                len: 31,
            },
        ),
        (
            Transaction {
                to: vec![0xff; 32],
                amount: Some(1u128.into()),
                ..Default::default()
            },
            TokenError::ReservedKey { field: "recipient" },
        ),
        (
            Transaction {
                to: vec![2; 32],
                amount: Some(1u128.into()),
                memo: vec![0; 257],
                ..Default::default()
            },
            TokenError::MemoTooLong { len: 257 },
        ),
    ];
    for (transfer, expected) in cases {
        assert_eq!(
            at_validate(chain.submit(&alice.sign(gold, transfer))),
            expected
        );
    }
    let op = alice.sign(
        TOKEN,
        Transaction {
            to: vec![2; 32],
            amount: Some(1u128.into()),
            ..Default::default()
        },
    );
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::BaseDomainTarget {
            operation: "Transaction"
        }
    );
    assert_eq!(chain.state, before, "validate rejections write nothing");
}

#[test]
fn apply_repeats_the_shape_checks_itself() {
    let mut alice = client(1);
    let mut state = MemoryView::default();
    let ctx = ExecutionContext::new(1, NET);
    let op = alice.sign(
        NATIVE,
        Transaction {
            to: vec![2; 32],
            amount: Some(0u128.into()),
            ..Default::default()
        },
    );
    let error = TokenEngine::new()
        .apply(&ctx, &Call::from_request(&op.request).unwrap(), &mut state)
        .unwrap_err();
    assert_eq!(
        error.downcast_ref::<TokenError>(),
        Some(&TokenError::ZeroAmount {
            operation: "Transaction"
        })
    );
    assert_eq!(state, MemoryView::default());
}
