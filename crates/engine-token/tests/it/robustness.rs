//! No input makes the engine panic or leave its declared access set.

use proptest::prelude::*;
use switchyard_proto::v1::MessageRequest;
use switchyard_router::domains::{TOKEN, metadata_address};
use switchyard_router::{Address, Call, Domain, Engine, EngineError, StateError, StateWrite};
use switchyard_token::{TokenSpec, escrow_id};

use crate::common::{Chain, Checked, NATIVE, client};

fn chain_with_gold() -> (Chain, Domain) {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let (gold, op) = alice.deploy(
        TokenSpec::new("Gold", "GLD")
            .initial_supply(100)
            .mintable(true),
    );
    chain.submit(&op).unwrap();
    (chain, gold)
}

fn target(choice: u8, gold: Domain, random: [u8; 32]) -> Domain {
    match choice % 4 {
        0 => TOKEN,
        1 => NATIVE,
        2 => gold,
        _ => Domain(random),
    }
}

/// Runs every entry point; apply goes through the declared access set.
fn exercise(chain: &mut Chain, target: Domain, request: &MessageRequest) {
    let ctx = chain.ctx();
    let engine = chain.engine.clone();
    let _ = engine.cost(request);
    // Whatever the request holds, the engine may be handed it with any signer and target.
    let call = Call {
        request,
        target,
        signer: target.0,
        nonce: 1,
    };
    let _ = engine.validate(&ctx, &call, &chain.state);
    if let Ok(access) = engine.access(&ctx, &call, &chain.state) {
        let mut checked = Checked::new(&mut chain.state, &access);
        if let Err(error) = engine.apply(&ctx, &call, &mut checked) {
            assert!(
                !matches!(
                    error,
                    EngineError::State(StateError::AccessViolation { .. })
                ),
                "{error}"
            );
        }
    } else {
        // An operation without an access set is refused by apply too.
        let mut scratch = chain.state.clone();
        assert!(engine.apply(&ctx, &call, &mut scratch).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_requests_never_panic(request in any::<MessageRequest>(), choice in any::<u8>(), random in any::<[u8; 32]>()) {
        let (mut chain, gold) = chain_with_gold();
        exercise(&mut chain, target(choice, gold, random), &request);
    }

    #[test]
    fn corrupt_records_are_errors_not_panics(
        metadata in proptest::collection::vec(any::<u8>(), 0..80),
        account in proptest::collection::vec(any::<u8>(), 0..80),
        escrow in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let (mut chain, gold) = chain_with_gold();
        let mut bob = client(2);
        let mut alice = client(1);
        chain.sync(&mut alice);
        let id = escrow_id(&gold, &alice.public_key(), 99);
        chain.state.put(metadata_address(gold), metadata).unwrap();
        chain.state.put(Address::new(gold, bob.public_key()), account).unwrap();
        chain.state.put(Address::new(gold, id), escrow).unwrap();
        let ops = [
            alice.transfer(gold, bob.public_key(), 1),
            alice.mint(gold, bob.public_key(), 1),
            bob.pending_accept(gold, id),
            alice.pending_refund(gold, id),
            alice.pending_create(gold, bob.public_key(), 1, 5).1,
        ];
        for op in &ops {
            exercise(&mut chain, op.target, &op.request);
        }
    }
}
