//! Updating tokens (owner only).

use switchyard_proto::v1::TokenUpdate;
use switchyard_router::Domain;
use switchyard_token::{TokenClient, TokenError, TokenSpec, UpdateSpec};

use crate::common::{Chain, NATIVE, at_apply, at_validate, client};

/// alice deploys "Gold": 1 000 to alice, max 5 000, mintable, authority bob.
fn with_gold() -> (Chain, TokenClient, TokenClient, Domain) {
    let mut alice = client(1);
    let bob = client(2);
    let mut chain = Chain::new(&[
        (alice.public_key(), 1_000_000),
        (bob.public_key(), 1_000_000),
    ]);
    let spec = TokenSpec::new("Gold", "GLD")
        .initial_supply(1_000)
        .max_supply(5_000)
        .mintable(true)
        .mint_authority(bob.public_key());
    let (gold, op) = alice.deploy(spec);
    chain.submit(&op).unwrap();
    (chain, alice, bob, gold)
}

#[test]
fn only_the_owner_updates() {
    let (mut chain, alice, mut bob, gold) = with_gold();
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&bob.update(gold, UpdateSpec::new().new_owner(bob.public_key())))),
        TokenError::NotOwner {
            signer: bob.public_key(),
            owner: Some(alice.public_key())
        }
    );
    chain.assert_only_fee_charged(&before, bob.public_key());

    // The genesis native token has no owner at all.
    assert_eq!(
        at_apply(chain.submit(&bob.update(NATIVE, UpdateSpec::new().new_max_supply(1)))),
        TokenError::NotOwner {
            signer: bob.public_key(),
            owner: None
        }
    );
}

#[test]
fn the_owner_hands_over_the_mint_authority() {
    let (mut chain, mut alice, mut bob, gold) = with_gold();
    let mut carol = client(3);
    chain
        .submit(&alice.update(
            gold,
            UpdateSpec::new().new_mint_authority(carol.public_key()),
        ))
        .unwrap();
    assert_eq!(chain.info(gold).mint_authority, Some(carol.public_key()));
    assert_eq!(
        at_apply(chain.submit(&bob.mint(gold, bob.public_key(), 1))),
        TokenError::NotMintAuthority {
            signer: bob.public_key(),
            authority: Some(carol.public_key())
        }
    );
    chain.state = {
        // carol needs native funds to pay her fee.
        let mut state = chain.state.clone();
        switchyard_router::fees::credit(&mut state, &carol.public_key(), 1_000_000).unwrap();
        state
    };
    chain
        .submit(&carol.mint(gold, carol.public_key(), 10))
        .unwrap();
    assert_eq!(chain.info(gold).supply, 1_010);
}

#[test]
fn a_revoked_mint_authority_is_gone_for_good() {
    let (mut chain, mut alice, _bob, gold) = with_gold();
    chain
        .submit(&alice.update(gold, UpdateSpec::new().revoke_mint_authority()))
        .unwrap();
    let info = chain.info(gold);
    assert_eq!((info.mint_authority, info.mint_revoked), (None, true));
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.update(
            gold,
            UpdateSpec::new().new_mint_authority(alice.public_key())
        ))),
        TokenError::MintAuthorityRevoked { token: gold }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
}

#[test]
fn the_max_supply_only_goes_down_and_never_below_the_supply() {
    let (mut chain, mut alice, _bob, gold) = with_gold();
    chain
        .submit(&alice.update(gold, UpdateSpec::new().new_max_supply(4_000)))
        .unwrap();
    assert_eq!(chain.info(gold).max_supply, Some(4_000));
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.update(gold, UpdateSpec::new().new_max_supply(4_001)))),
        TokenError::MaxSupplyIncrease {
            current: 4_000,
            requested: 4_001
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert_eq!(
        at_apply(chain.submit(&alice.update(gold, UpdateSpec::new().new_max_supply(999)))),
        TokenError::MaxSupplyBelowSupply {
            supply: 1_000,
            requested: 999
        }
    );
    chain
        .submit(&alice.update(gold, UpdateSpec::new().new_max_supply(1_000)))
        .unwrap();
    assert_eq!(chain.info(gold).max_supply, Some(1_000));

    // An uncapped token may be capped.
    let (silver, op) = alice.deploy(TokenSpec::new("Silver", "SLV").initial_supply(10));
    chain.submit(&op).unwrap();
    assert_eq!(chain.info(silver).max_supply, None);
    chain
        .submit(&alice.update(silver, UpdateSpec::new().new_max_supply(u128::MAX)))
        .unwrap();
    assert_eq!(chain.info(silver).max_supply, Some(u128::MAX));
}

#[test]
fn ownership_moves_and_an_update_applies_all_its_changes_or_none() {
    let (mut chain, mut alice, mut bob, gold) = with_gold();
    let update = UpdateSpec::new()
        .new_owner(bob.public_key())
        .new_max_supply(10_000);
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.submit(&alice.update(gold, update))),
        TokenError::MaxSupplyIncrease {
            current: 5_000,
            requested: 10_000
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert_eq!(chain.info(gold).owner, Some(alice.public_key()));

    chain
        .submit(
            &alice.update(
                gold,
                UpdateSpec::new()
                    .new_owner(bob.public_key())
                    .new_max_supply(2_000),
            ),
        )
        .unwrap();
    let info = chain.info(gold);
    assert_eq!(
        (info.owner, info.max_supply),
        (Some(bob.public_key()), Some(2_000))
    );
    assert_eq!(
        at_apply(chain.submit(&alice.update(gold, UpdateSpec::new().new_max_supply(1_500)))),
        TokenError::NotOwner {
            signer: alice.public_key(),
            owner: Some(bob.public_key())
        }
    );
    chain
        .submit(&bob.update(gold, UpdateSpec::new().new_max_supply(1_500)))
        .unwrap();
    assert_eq!(chain.info(gold).max_supply, Some(1_500));
}

#[test]
fn update_shape_errors_are_refused_by_validate() {
    let (mut chain, mut alice, _bob, gold) = with_gold();
    let before = chain.state.clone();
    assert_eq!(
        at_validate(chain.submit(&alice.update(gold, UpdateSpec::new()))),
        TokenError::EmptyUpdate
    );
    let both = UpdateSpec::new()
        .new_mint_authority([4; 32])
        .revoke_mint_authority();
    assert_eq!(
        at_validate(chain.submit(&alice.update(gold, both))),
        TokenError::ConflictingMintAuthority
    );
    let short = alice.sign(
        gold,
        TokenUpdate {
            new_owner: vec![1; 33],
            ..Default::default()
        },
    );
    assert_eq!(
        at_validate(chain.submit(&short)),
        TokenError::BadKeyLength {
            field: "new owner",
            len: 33
        }
    );
    assert_eq!(chain.state, before);

    let nowhere = Domain([9; 32]);
    chain.sync(&mut alice);
    assert_eq!(
        at_apply(chain.submit(&alice.update(nowhere, UpdateSpec::new().new_owner([4; 32])))),
        TokenError::UnknownToken { domain: nowhere }
    );
}
