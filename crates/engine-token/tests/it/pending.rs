//! Pending (escrowed) transfers.

use switchyard_proto::v1::PendingTransaction;
use switchyard_proto::v1::pending_transaction::{Accept, Action, Create};
use switchyard_router::Address;
use switchyard_token::{Escrow, TokenError, TokenSpec, escrow_id};

use crate::common::{Chain, NATIVE, at_apply, at_validate, client};

#[test]
fn create_then_accept_at_the_expiry_frame() {
    let mut alice = client(1);
    let mut bob = client(2);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000), (bob.public_key(), 100_000)]);
    let (id, op) = alice.pending_create(NATIVE, bob.public_key(), 5_000, 3);
    assert_eq!(id, escrow_id(&NATIVE, &alice.public_key(), 1));
    chain.submit(&op).unwrap();
    let alice_after_create = 100_000 - 5_000 - chain.last_fee;
    assert_eq!(chain.native(alice.public_key()).balance, alice_after_create);
    assert_eq!(
        chain.escrow(NATIVE, id),
        Some(Escrow {
            sender: alice.public_key(),
            recipient: bob.public_key(),
            amount: 5_000,
            expiry_frame: 3
        })
    );
    assert_eq!(
        chain.totals(NATIVE),
        (200_000 - 5_000 - chain.last_fee, 5_000)
    );

    chain.end_frame();
    chain.end_frame();
    assert_eq!(chain.frame, 3);
    chain.submit(&bob.pending_accept(NATIVE, id)).unwrap();
    assert_eq!(
        chain.native(bob.public_key()).balance,
        100_000 + 5_000 - chain.last_fee
    );
    assert_eq!(chain.native(alice.public_key()).balance, alice_after_create);
    assert_eq!(chain.escrow(NATIVE, id), None);
    assert!(
        !chain.state.entries.contains_key(&Address::new(NATIVE, id)),
        "the escrow record is deleted"
    );
}

#[test]
fn refund_after_expiry_returns_the_funds() {
    let mut alice = client(1);
    let bob = client(2);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let (gold, op) = alice.deploy(TokenSpec::new("Gold", "GLD").initial_supply(900));
    chain.submit(&op).unwrap();
    let (id, op) = alice.pending_create(gold, bob.public_key(), 400, 1);
    chain.submit(&op).unwrap();
    assert_eq!(chain.balance(gold, alice.public_key()), 500);
    assert_eq!(chain.totals(gold), (500, 400));
    assert_eq!(chain.info(gold).supply, 900);

    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.pending_refund(gold, id))),
        TokenError::EscrowNotExpired {
            id,
            expiry: 1,
            frame: 1
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());

    chain.end_frame();
    chain.submit(&alice.pending_refund(gold, id)).unwrap();
    assert_eq!(chain.balance(gold, alice.public_key()), 900);
    assert_eq!(chain.escrow(gold, id), None);
    assert_eq!(chain.totals(gold), (900, 0));
}

#[test]
fn every_wrong_attempt_has_its_named_error() {
    let mut alice = client(1);
    let mut bob = client(2);
    let mut carol = client(3);
    let keys = [alice.public_key(), bob.public_key(), carol.public_key()];
    let mut chain = Chain::new(&keys.map(|k| (k, 100_000)));
    let (id, op) = alice.pending_create(NATIVE, bob.public_key(), 1_000, 2);
    chain.submit(&op).unwrap();
    let escrow_record = chain.escrow(NATIVE, id);

    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&carol.pending_accept(NATIVE, id))),
        TokenError::NotEscrowRecipient {
            id,
            signer: carol.public_key(),
            recipient: bob.public_key()
        }
    );
    chain.assert_only_fee_charged(&before, carol.public_key());
    assert_eq!(
        at_apply(chain.submit(&alice.pending_accept(NATIVE, id))),
        TokenError::NotEscrowRecipient {
            id,
            signer: alice.public_key(),
            recipient: bob.public_key()
        }
    );
    assert_eq!(
        at_apply(chain.submit(&bob.pending_refund(NATIVE, id))),
        TokenError::NotEscrowSender {
            id,
            signer: bob.public_key(),
            sender: alice.public_key()
        }
    );
    chain.end_frame();
    chain.end_frame();
    assert_eq!(chain.frame, 3);
    assert_eq!(
        at_apply(chain.submit(&carol.pending_refund(NATIVE, id))),
        TokenError::NotEscrowSender {
            id,
            signer: carol.public_key(),
            sender: alice.public_key()
        }
    );
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&bob.pending_accept(NATIVE, id))),
        TokenError::EscrowExpired {
            id,
            expiry: 2,
            frame: 3
        }
    );
    chain.assert_only_fee_charged(&before, bob.public_key());
    assert_eq!(
        chain.escrow(NATIVE, id),
        escrow_record,
        "every refusal leaves the escrow as it was"
    );

    chain.submit(&alice.pending_refund(NATIVE, id)).unwrap();
    assert_eq!(
        at_apply(chain.submit(&alice.pending_refund(NATIVE, id))),
        TokenError::UnknownEscrow { id }
    );
    assert_eq!(
        at_apply(chain.submit(&bob.pending_accept(NATIVE, id))),
        TokenError::UnknownEscrow { id }
    );
}

#[test]
fn a_create_is_checked_like_a_transfer() {
    let mut alice = client(1);
    let bob = client(2).public_key();
    let mut chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let (badge, op) = alice.deploy(
        TokenSpec::new("Badge", "BDG")
            .initial_supply(5)
            .transferable(false),
    );
    chain.submit(&op).unwrap();
    let (_, op) = alice.pending_create(badge, bob, 1, 10);
    assert_eq!(
        at_apply(chain.submit(&op)),
        TokenError::NotTransferable { token: badge }
    );

    let (_, op) = alice.pending_create(NATIVE, bob, 100_000, 10);
    let before = chain.state.clone();
    let error = at_apply(chain.submit(&op));
    let balance = chain.native(alice.public_key()).balance;
    assert_eq!(
        error,
        TokenError::InsufficientBalance {
            account: alice.public_key(),
            balance,
            amount: 100_000
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());

    let (_, op) = alice.pending_create(NATIVE, alice.public_key(), 1, 10);
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::SelfTransfer {
            account: alice.public_key()
        }
    );
    chain.end_frame();
    chain.end_frame();
    chain.sync(&mut alice);
    let (_, op) = alice.pending_create(NATIVE, bob, 1, 2);
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::ExpiryInPast {
            expiry: 2,
            frame: 3
        }
    );
    let (_, op) = alice.pending_create(NATIVE, bob, 0, 5);
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::ZeroAmount {
            operation: "PendingTransaction"
        }
    );
    let op = alice.sign(
        NATIVE,
        PendingTransaction {
            action: None,
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::MissingField {
            operation: "PendingTransaction",
            field: "action"
        }
    );
    let op = alice.sign(
        NATIVE,
        PendingTransaction {
            action: Some(Action::Accept(Accept {
                escrow_id: vec![1; 8],
            })),
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::BadKeyLength {
            field: "escrow id",
            len: 8
        }
    );
    let create = Create {
        to: bob.to_vec(),
        amount: None,
        expiry_frame: 9,
    };
    let op = alice.sign(
        NATIVE,
        PendingTransaction {
            action: Some(Action::Create(create)),
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::MissingField {
            operation: "PendingTransaction",
            field: "amount"
        }
    );
}

#[test]
fn escrow_ids_and_accounts_never_mix() {
    let mut alice = client(1);
    let mut bob = client(2);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000), (bob.public_key(), 100_000)]);

    // bob funds the account whose key is the id of alice's next escrow: her create is refused.
    let squatted = escrow_id(&NATIVE, &alice.public_key(), 1);
    chain.submit(&bob.transfer(NATIVE, squatted, 1)).unwrap();
    let (id, op) = alice.pending_create(NATIVE, bob.public_key(), 10, 5);
    assert_eq!(id, squatted);
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&op)),
        TokenError::EscrowIdTaken { id }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    // An account record is no escrow to accept.
    assert_eq!(
        at_apply(chain.submit(&bob.pending_accept(NATIVE, squatted))),
        TokenError::UnknownEscrow { id }
    );

    // A real escrow's key cannot be used as an account.
    let (id, op) = alice.pending_create(NATIVE, bob.public_key(), 10, 5);
    chain.submit(&op).unwrap();
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&bob.transfer(NATIVE, id, 1))),
        TokenError::NotAnAccount { key: id }
    );
    chain.assert_only_fee_charged(&before, bob.public_key());
    chain.submit(&bob.pending_accept(NATIVE, id)).unwrap();
}

/// The escrow ids a pending query lists for `account`.
fn listed(chain: &Chain, account: [u8; 32]) -> Vec<[u8; 32]> {
    use switchyard_proto::v1::token_query::{Pending, Query};
    use switchyard_proto::v1::token_query_response::Response;
    use switchyard_proto::v1::{TokenQuery, TokenQueryResponse};
    use switchyard_proto::{AnyMessage, CanonicalMessage};
    use switchyard_router::Engine;
    let query = AnyMessage::TokenQuery(TokenQuery {
        query: Some(Query::Pending(Pending {
            account: account.to_vec(),
        })),
    });
    let bytes = chain.engine.query(&NATIVE, &query, &chain.state).unwrap();
    match TokenQueryResponse::from_canonical_bytes(&bytes)
        .unwrap()
        .response
    {
        Some(Response::Pending(list)) => list
            .escrows
            .iter()
            .map(|e| e.escrow_id.as_slice().try_into().unwrap())
            .collect(),
        other => panic!("expected a pending list, got {other:?}"),
    }
}

#[test]
fn the_pending_index_lists_what_an_account_may_accept() {
    let mut alice = client(1);
    let mut bob = client(2);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000), (bob.public_key(), 100_000)]);
    let (first, op) = alice.pending_create(NATIVE, bob.public_key(), 10, 5);
    chain.submit(&op).unwrap();
    let (second, op) = alice.pending_create(NATIVE, bob.public_key(), 20, 1);
    chain.submit(&op).unwrap();
    assert_eq!(listed(&chain, bob.public_key()), [first, second]);
    assert!(listed(&chain, alice.public_key()).is_empty());

    // Accepting takes the escrow off the list.
    chain.submit(&bob.pending_accept(NATIVE, first)).unwrap();
    assert_eq!(listed(&chain, bob.public_key()), [second]);

    // Refunded after its expiry: gone from the list at once (the query lists only escrows that
    // exist), and from the index at the recipient's next write (expired entries are dropped).
    chain.end_frame();
    chain.end_frame();
    chain.submit(&alice.pending_refund(NATIVE, second)).unwrap();
    assert!(listed(&chain, bob.public_key()).is_empty());
    let (third, op) = alice.pending_create(NATIVE, bob.public_key(), 30, 9);
    chain.submit(&op).unwrap();
    assert_eq!(listed(&chain, bob.public_key()), [third]);
    let index = chain
        .state
        .entries
        .get(&Address::new(
            NATIVE,
            switchyard_token::pending_index_key(&bob.public_key()),
        ))
        .unwrap();
    assert!(
        index.len() < 60,
        "one entry left in the index: {} bytes",
        index.len()
    );
}

#[test]
fn an_account_holds_at_most_the_limit_of_pending_transfers() {
    let mut alice = client(1);
    let bob = client(2);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000_000)]);
    for _ in 0..switchyard_token::MAX_PENDING_PER_ACCOUNT {
        let (_, op) = alice.pending_create(NATIVE, bob.public_key(), 1, 10);
        chain.submit(&op).unwrap();
    }
    let (_, op) = alice.pending_create(NATIVE, bob.public_key(), 1, 10);
    assert_eq!(
        at_apply(chain.submit(&op)),
        TokenError::TooManyPending {
            account: bob.public_key(),
            limit: switchyard_token::MAX_PENDING_PER_ACCOUNT
        }
    );
}
