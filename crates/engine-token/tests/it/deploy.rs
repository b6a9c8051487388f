//! Deploying tokens.

use std::sync::Arc;

use switchyard_proto::v1::{TokenConfig, TokenDeploy};
use switchyard_router::domains::{HYPERGRAPH, TOKEN, metadata_address};
use switchyard_router::fees::FeeError;
use switchyard_router::{Address, MetadataRecord, RouteTable, StateWrite};
use switchyard_token::{TokenEngine, TokenError, TokenInfo, TokenSpec, token_domain};

use crate::common::{Chain, Failure, NATIVE, at_apply, at_validate, client};

#[test]
fn deploy_creates_the_token_credits_the_holder_and_routes() {
    let mut alice = client(1);
    let bob = client(2).public_key();
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let spec = TokenSpec::new("Gold", "GLD")
        .decimals(6)
        .max_supply(10_000)
        .mint_authority(bob)
        .mintable(true)
        .initial_supply(1_000);
    let (gold, op) = alice.deploy(spec);
    assert_eq!(gold, token_domain(&alice.public_key(), 1));
    assert_eq!(op.target, TOKEN);
    chain.submit(&op).unwrap();

    assert_eq!(
        chain.info(gold),
        TokenInfo {
            name: "Gold".into(),
            symbol: "GLD".into(),
            decimals: 6,
            max_supply: Some(10_000),
            mint_authority: Some(bob),
            mintable: true,
            transferable: true,
            owner: Some(alice.public_key()),
            supply: 1_000,
            mint_revoked: false,
        }
    );
    assert_eq!(chain.balance(gold, alice.public_key()), 1_000);
    let native = chain.native(alice.public_key());
    assert_eq!(
        (native.balance, native.nonce),
        (1_000_000 - chain.last_fee, 1)
    );

    // The metadata record names the token type domain, so the new domain routes to the engine.
    let table = RouteTable::builder()
        .engine(Arc::new(TokenEngine::new()))
        .build()
        .unwrap();
    assert_eq!(table.resolve(&gold, &chain.state).unwrap().name(), "token");
    assert_eq!(
        table.resolve(&NATIVE, &chain.state).unwrap().name(),
        "token"
    );
    assert_eq!(table.resolve(&TOKEN, &chain.state).unwrap().name(), "token");
}

#[test]
fn initial_supply_goes_to_the_initial_holder_and_zero_supply_writes_no_balance() {
    let mut alice = client(1);
    let carol = client(3).public_key();
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let (gold, op) = alice.deploy(
        TokenSpec::new("Gold", "GLD")
            .initial_supply(5)
            .initial_holder(carol),
    );
    chain.submit(&op).unwrap();
    assert_eq!(chain.balance(gold, carol), 5);
    assert_eq!(chain.balance(gold, alice.public_key()), 0);

    let entries_before = chain.state.entries.len();
    let (badge, op) = alice.deploy(TokenSpec::new("Badge", "BDG").transferable(false));
    chain.submit(&op).unwrap();
    assert_ne!(badge, gold);
    assert_eq!(
        chain.state.entries.len(),
        entries_before + 1,
        "only the metadata record"
    );
    assert_eq!(chain.info(badge).supply, 0);
    assert!(!chain.info(badge).transferable);
}

#[test]
fn bad_configurations_are_refused_by_validate_with_named_errors() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let before = chain.state.clone();
    let cases: Vec<(TokenSpec, TokenError)> = vec![
        (TokenSpec::new("", "GLD"), TokenError::NameLength { len: 0 }),
        (
            TokenSpec::new("x".repeat(65), "GLD"),
            TokenError::NameLength { len: 65 },
        ),
        (
            TokenSpec::new("Gold", ""),
            TokenError::SymbolLength { len: 0 },
        ),
        (
            TokenSpec::new("Gold", "S".repeat(17)),
            TokenError::SymbolLength { len: 17 },
        ),
        (
            TokenSpec::new("Gold", "GLD").decimals(39),
            TokenError::TooManyDecimals { decimals: 39 },
        ),
        (
            TokenSpec::new("Gold", "GLD")
                .max_supply(10)
                .initial_supply(11),
            TokenError::InitialSupplyExceedsMax {
                initial: 11,
                max: 10,
            },
        ),
        (
            TokenSpec::new("Gold", "GLD").initial_holder([0xff; 32]),
            TokenError::ReservedKey {
                field: "initial holder",
            },
        ),
    ];
    for (spec, expected) in cases {
        let (_, op) = alice.deploy(spec);
        assert_eq!(at_validate(chain.submit(&op)), expected);
    }
    // Limits are inclusive.
    alice.set_next_nonce(1);
    let (_, op) = alice.deploy(TokenSpec::new("x".repeat(64), "S".repeat(16)).decimals(38));
    assert_eq!(chain.submit(&op).map_err(|e| format!("{e:?}")), Ok(()));

    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let config = TokenConfig {
        mint_authority: vec![1; 31],
        ..TokenSpec::new("Gold", "GLD").into_config()
    };
    let op = alice.sign(
        TOKEN,
        TokenDeploy {
            config: Some(config),
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::BadKeyLength {
            field: "mint authority",
            len: 31
        }
    );
    let op = alice.sign(
        TOKEN,
        TokenDeploy {
            config: None,
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::MissingField {
            operation: "TokenDeploy",
            field: "config"
        }
    );
    assert_eq!(
        chain.state.entries.len(),
        before.entries.len(),
        "validate rejections write nothing"
    );
}

#[test]
fn deploy_must_target_the_token_base_domain() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let op = alice.sign(
        NATIVE,
        TokenDeploy {
            config: Some(TokenSpec::new("Gold", "GLD").into_config()),
            auth: None,
        },
    );
    assert_eq!(
        at_validate(chain.submit(&op)),
        TokenError::DeployTarget { target: NATIVE }
    );
}

#[test]
fn a_deploy_onto_an_existing_domain_is_refused_and_charged() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 1_000_000)]);
    let domain = token_domain(&alice.public_key(), 1);
    let squatter = MetadataRecord {
        type_domain: HYPERGRAPH,
        payload: vec![1, 2, 3],
    };
    chain
        .state
        .put(metadata_address(domain), squatter.encode())
        .unwrap();
    let before = chain.state.clone();
    let (gold, op) = alice.deploy(TokenSpec::new("Gold", "GLD").initial_supply(9));
    assert_eq!(gold, domain);
    assert_eq!(
        at_apply(chain.submit(&op)),
        TokenError::TokenExists { domain }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert!(
        !chain
            .state
            .entries
            .contains_key(&Address::new(domain, alice.public_key()))
    );
}

#[test]
fn a_deployer_who_cannot_pay_is_stopped_at_settlement() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 10)]);
    let before = chain.state.clone();
    let (_, op) = alice.deploy(TokenSpec::new("Gold", "GLD"));
    assert!(matches!(
        chain.submit(&op),
        Err(Failure::Settle(FeeError::Unpayable { balance: 10, .. }))
    ));
    assert_eq!(chain.state, before);
}
