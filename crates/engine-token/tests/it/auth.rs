//! Signatures and replays.

use switchyard_proto::v1::message_request::Request;
use switchyard_proto::v1::{Auth, Transaction};
use switchyard_router::auth::{AuthError, verify_request};
use switchyard_router::fees::FeeError;
use switchyard_router::{Call, Engine, ExecutionContext};
use switchyard_token::SignedRequest;

use crate::common::{Chain, Failure, NATIVE, NET, client};

fn signature_error(chain: &mut Chain, op: &SignedRequest) -> AuthError {
    match chain.submit(op) {
        Err(Failure::Auth(error)) => error,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

fn transaction_mut(op: &mut SignedRequest) -> &mut Transaction {
    match op.request.request.as_mut() {
        Some(Request::Transaction(t)) => t,
        _ => panic!("not a transaction"),
    }
}

#[test]
fn a_replayed_transfer_succeeds_once() {
    let mut alice = client(1);
    let bob = client(2).public_key();
    let mut chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let op = alice.transfer(NATIVE, bob, 1_000);
    chain.submit(&op).unwrap();
    let after_first = chain.state.clone();
    chain.end_frame();
    let after_frame = chain.state.clone();
    match chain.submit(&op) {
        Err(Failure::Settle(FeeError::BadNonce {
            stored: 1,
            found: 1,
            ..
        })) => {}
        other => panic!("expected a bad nonce, got {other:?}"),
    }
    assert_eq!(chain.state, after_frame, "a replay changes nothing");
    assert_eq!(chain.balance(NATIVE, bob), 1_000);
    assert_eq!(
        after_first.entries.len(),
        chain.state.entries.len() - 1,
        "only the fee recipient appeared"
    );
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let alice = client(1);
    let mut mallory = client(9);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let mut op = mallory.transfer(NATIVE, mallory.public_key().map(|b| b ^ 1), 1_000);
    // Claim to be alice while keeping mallory's signature.
    if let Some(auth) = transaction_mut(&mut op).auth.as_mut() {
        auth.public_key = alice.public_key().to_vec();
    }
    assert!(matches!(
        signature_error(&mut chain, &op),
        AuthError::InvalidSignature { .. }
    ));
}

#[test]
fn a_signature_over_other_bytes_is_refused() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let mut op = alice.transfer(NATIVE, [2; 32], 1_000);
    transaction_mut(&mut op).amount = Some(1_001u128.into());
    assert!(matches!(
        signature_error(&mut chain, &op),
        AuthError::InvalidSignature { .. }
    ));

    // Signed for another network.
    let mut elsewhere = switchyard_token::TokenClient::new(
        switchyard_router::auth::SigningKey::from_bytes(&[1; 32]),
        NET + 1,
        1,
    );
    let op = elsewhere.transfer(NATIVE, [2; 32], 1_000);
    assert!(matches!(
        signature_error(&mut chain, &op),
        AuthError::InvalidSignature { .. }
    ));

    // Unsigned, and with a truncated signature.
    let mut op = alice.transfer(NATIVE, [2; 32], 1);
    if let Some(auth) = transaction_mut(&mut op).auth.as_mut() {
        auth.signature.truncate(10);
    }
    assert_eq!(
        signature_error(&mut chain, &op),
        AuthError::BadSignatureLength {
            operation: "Transaction",
            len: 10
        }
    );
}

#[test]
fn a_missing_or_malformed_auth_block_is_named() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let mut op = alice.transfer(NATIVE, [2; 32], 1);
    transaction_mut(&mut op).auth = None;
    assert_eq!(
        signature_error(&mut chain, &op),
        AuthError::MissingAuth {
            operation: "Transaction"
        }
    );
    let mut op = alice.transfer(NATIVE, [2; 32], 1);
    transaction_mut(&mut op).auth = Some(Auth {
        public_key: vec![1; 5],
        target: NATIVE.0.to_vec(),
        ..Default::default()
    });
    assert!(matches!(
        signature_error(&mut chain, &op),
        AuthError::BadPublicKey {
            operation: "Transaction",
            ..
        }
    ));
}

#[test]
fn the_engine_trusts_the_authenticated_call_and_never_verifies_signatures() {
    let mut alice = client(1);
    let chain = Chain::new(&[(alice.public_key(), 100_000)]);
    let mut op = alice.transfer(NATIVE, [2; 32], 1_000);
    // The signature no longer covers the amount: the manager would refuse it, the engine
    // does not look.
    transaction_mut(&mut op).amount = Some(1_001u128.into());
    let ctx = ExecutionContext::new(1, NET);
    let call = Call::from_request(&op.request).unwrap();
    assert!(verify_request(&op.request, NET).is_err());
    assert!(chain.engine.validate(&ctx, &call, &chain.state).is_ok());
}
