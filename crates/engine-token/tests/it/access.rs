//! Access sets: exactly the addresses `apply` touches (plus the signer's native record that fee
//! settlement writes), and no conflicts between unrelated transfers.

use std::collections::BTreeSet;

use switchyard_router::domains::{TOKEN, metadata_address, native_account};
use switchyard_router::{AccessSet, Address, Call, Domain, Engine, EngineError, StateError};
use switchyard_token::{
    SignedRequest, TokenSpec, UpdateSpec, escrow_id, pending_index_key, token_domain,
};

use crate::common::{Chain, Checked, FEE_RECIPIENT, NATIVE, client};

fn access(chain: &Chain, op: &SignedRequest) -> AccessSet {
    chain
        .engine
        .access(
            &chain.ctx(),
            &Call::from_request(&op.request).unwrap(),
            &chain.state,
        )
        .unwrap()
}

fn set(reads: &[Address], writes: &[Address]) -> AccessSet {
    AccessSet {
        reads: reads.iter().copied().collect(),
        writes: writes.iter().copied().collect(),
    }
}

#[test]
fn transfers_between_disjoint_accounts_do_not_conflict() {
    let [mut a, mut b, c, d] = [1, 2, 3, 4].map(client);
    let chain = Chain::new(&[]);
    let ab = access(&chain, &a.transfer(NATIVE, c.public_key(), 1));
    let cd = access(&chain, &b.transfer(NATIVE, d.public_key(), 1));
    assert!(!ab.conflicts_with(&cd));
    let gold = Domain([7; 32]);
    let in_gold = access(&chain, &b.transfer(gold, d.public_key(), 1));
    assert!(!ab.conflicts_with(&in_gold));
    // A shared party conflicts, and so does a mint with any transfer of its token.
    let ad = access(&chain, &a.transfer(NATIVE, d.public_key(), 1));
    assert!(ab.conflicts_with(&ad) && cd.conflicts_with(&ad));
    let mint = access(&chain, &b.mint(NATIVE, [9; 32], 1));
    assert!(mint.conflicts_with(&ab));
}

#[test]
fn each_operation_declares_exactly_its_addresses() {
    let [mut alice, bob] = [1, 2].map(client);
    let (a, b) = (alice.public_key(), bob.public_key());
    let chain = Chain::new(&[]);
    let gold = Domain([7; 32]);
    let at = |key| Address::new(gold, key);

    let (new, op) = alice.deploy(
        TokenSpec::new("Gold", "GLD")
            .initial_supply(5)
            .initial_holder(b),
    );
    assert_eq!(new, token_domain(&a, 1));
    assert_eq!(
        access(&chain, &op),
        set(
            &[],
            &[
                metadata_address(new),
                Address::new(new, b),
                native_account(a)
            ]
        )
    );
    let (new, op) = alice.deploy(TokenSpec::new("Gold", "GLD"));
    assert_eq!(
        access(&chain, &op),
        set(&[], &[metadata_address(new), native_account(a)])
    );

    let op = alice.update(gold, UpdateSpec::new().new_owner(b));
    assert_eq!(
        access(&chain, &op),
        set(&[], &[metadata_address(gold), native_account(a)])
    );

    let op = alice.transfer(gold, b, 1);
    assert_eq!(
        access(&chain, &op),
        set(
            &[metadata_address(gold)],
            &[at(a), at(b), native_account(a)]
        )
    );
    let op = alice.transfer(NATIVE, b, 1);
    assert_eq!(
        access(&chain, &op),
        set(
            &[metadata_address(NATIVE)],
            &[native_account(a), native_account(b)]
        )
    );

    let op = alice.mint(gold, b, 1);
    assert_eq!(
        access(&chain, &op),
        set(&[], &[metadata_address(gold), at(b), native_account(a)])
    );

    let (id, op) = alice.pending_create(gold, b, 1, 9);
    assert_eq!(id, escrow_id(&gold, &a, op.nonce));
    assert_eq!(
        access(&chain, &op),
        set(
            &[metadata_address(gold)],
            &[at(a), at(id), at(pending_index_key(&b)), native_account(a)]
        )
    );
    // The recipient's pending index is written by the create and the accept (the accepter is
    // the recipient), never by the refund, whose entry has expired by then.
    let op = alice.pending_accept(gold, id);
    assert_eq!(
        access(&chain, &op),
        set(
            &[],
            &[at(id), at(a), at(pending_index_key(&a)), native_account(a)]
        )
    );
    let op = alice.pending_refund(gold, id);
    assert_eq!(
        access(&chain, &op),
        set(&[], &[at(id), at(a), native_account(a)])
    );
}

#[test]
fn the_fee_recipient_is_never_declared() {
    let mut alice = client(1);
    let chain = Chain::new(&[]);
    let gold = Domain([7; 32]);
    let (id, create) = alice.pending_create(gold, [2; 32], 1, 9);
    let ops = [
        alice
            .deploy(TokenSpec::new("Gold", "GLD").initial_supply(1))
            .1,
        alice.update(gold, UpdateSpec::new().revoke_mint_authority()),
        alice.transfer(NATIVE, [2; 32], 1),
        alice.mint(NATIVE, [2; 32], 1),
        create,
        alice.pending_accept(NATIVE, id),
        alice.pending_refund(NATIVE, id),
    ];
    for op in &ops {
        let declared = access(&chain, op);
        assert!(
            declared.addresses().all(|a| a.key != FEE_RECIPIENT),
            "{op:?}"
        );
        assert!(!declared.may_read(&native_account(FEE_RECIPIENT)));
    }
    assert_eq!(ops.first().map(|op| op.target), Some(TOKEN));
}

#[test]
fn apply_outside_a_narrower_set_is_an_access_violation() {
    let mut alice = client(1);
    let bob = client(2).public_key();
    let mut chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let op = alice.transfer(NATIVE, bob, 5);
    let mut narrow = access(&chain, &op);
    narrow.writes.remove(&native_account(bob));
    let ctx = chain.ctx();
    let mut checked = Checked::new(&mut chain.state, &narrow);
    let error = chain
        .engine
        .apply(
            &ctx,
            &Call::from_request(&op.request).unwrap(),
            &mut checked,
        )
        .unwrap_err();
    assert!(matches!(
        error,
        EngineError::State(StateError::AccessViolation { address, op: "read" }) if address == native_account(bob)
    ));
    let touched: BTreeSet<Address> = checked.touched.into_inner();
    assert!(!touched.contains(&native_account(bob)));
}
