//! Minting.

use switchyard_proto::v1::MintTransaction;
use switchyard_router::Domain;
use switchyard_token::{TokenClient, TokenError, TokenSpec, UpdateSpec};

use crate::common::{Chain, NATIVE, at_apply, at_validate, client};

/// alice deploys "Gold" (1 000 to alice, max `max`, mintable per `mintable`, authority bob).
fn with_gold(max: Option<u128>, mintable: bool) -> (Chain, TokenClient, TokenClient, Domain) {
    let mut alice = client(1);
    let bob = client(2);
    let mut chain = Chain::new(&[
        (alice.public_key(), 1_000_000),
        (bob.public_key(), 1_000_000),
    ]);
    let mut spec = TokenSpec::new("Gold", "GLD")
        .initial_supply(1_000)
        .mintable(mintable)
        .mint_authority(bob.public_key());
    if let Some(max) = max {
        spec = spec.max_supply(max);
    }
    let (gold, op) = alice.deploy(spec);
    chain.submit(&op).unwrap();
    (chain, alice, bob, gold)
}

#[test]
fn the_mint_authority_mints_up_to_the_max_supply_inclusive() {
    let (mut chain, _alice, mut bob, gold) = with_gold(Some(1_500), true);
    let carol = client(3).public_key();
    chain.submit(&bob.mint(gold, carol, 300)).unwrap();
    assert_eq!(chain.balance(gold, carol), 300);
    assert_eq!(chain.info(gold).supply, 1_300);
    chain.submit(&bob.mint(gold, carol, 200)).unwrap();
    assert_eq!(chain.info(gold).supply, 1_500);
    assert_eq!(chain.balance(gold, carol), 500);

    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&bob.mint(gold, carol, 1))),
        TokenError::ExceedsMaxSupply {
            supply: 1_500,
            amount: 1,
            max: 1_500
        }
    );
    chain.assert_only_fee_charged(&before, bob.public_key());
}

#[test]
fn only_the_mint_authority_mints() {
    let (mut chain, mut alice, bob, gold) = with_gold(None, true);
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.mint(gold, alice.public_key(), 5))),
        TokenError::NotMintAuthority {
            signer: alice.public_key(),
            authority: Some(bob.public_key())
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert_eq!(chain.info(gold).supply, 1_000);
}

#[test]
fn a_token_deployed_unmintable_never_mints() {
    let (mut chain, _alice, mut bob, gold) = with_gold(None, false);
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&bob.mint(gold, bob.public_key(), 5))),
        TokenError::NotMintable { token: gold }
    );
    chain.assert_only_fee_charged(&before, bob.public_key());

    // The genesis native token is not mintable either.
    assert_eq!(
        at_apply(chain.submit(&bob.mint(NATIVE, bob.public_key(), 5))),
        TokenError::NotMintable { token: NATIVE }
    );
}

#[test]
fn an_uncapped_supply_still_cannot_wrap() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let spec = TokenSpec::new("Big", "BIG")
        .initial_supply(u128::MAX)
        .mintable(true)
        .mint_authority(alice.public_key());
    let (big, op) = alice.deploy(spec);
    chain.submit(&op).unwrap();
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.mint(big, [5; 32], 1))),
        TokenError::SupplyOverflow {
            supply: u128::MAX,
            amount: 1
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
}

#[test]
fn a_revoked_authority_cannot_mint() {
    let (mut chain, mut alice, mut bob, gold) = with_gold(None, true);
    chain
        .submit(&alice.update(gold, UpdateSpec::new().revoke_mint_authority()))
        .unwrap();
    assert_eq!(
        at_apply(chain.submit(&bob.mint(gold, bob.public_key(), 1))),
        TokenError::NotMintAuthority {
            signer: bob.public_key(),
            authority: None
        }
    );
}

#[test]
fn mint_shape_errors_are_refused_by_validate() {
    let (mut chain, _alice, mut bob, gold) = with_gold(None, true);
    let before = chain.state.clone();
    let zero = bob.sign(
        gold,
        MintTransaction {
            to: vec![3; 32],
            amount: Some(0u128.into()),
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&zero)),
        TokenError::ZeroAmount {
            operation: "MintTransaction"
        }
    );
    let reserved = bob.sign(
        gold,
        MintTransaction {
            to: vec![0xff; 32],
            amount: Some(1u128.into()),
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&reserved)),
        TokenError::ReservedKey { field: "recipient" }
    );
    let short = bob.sign(
        gold,
        MintTransaction {
            to: vec![],
            amount: Some(1u128.into()),
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&short)),
        TokenError::BadKeyLength {
            field: "recipient",
            len: 0
        }
    );
    assert_eq!(chain.state, before);
}
