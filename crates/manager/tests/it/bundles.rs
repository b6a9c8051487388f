//! Bundles stay atomic when someone else relays them: every request of a bundle is signed for
//! the whole bundle, so a relay cannot take a request out, cut, extend, reorder or alter the
//! bundle, and a request signed alone cannot be slipped in. Each attack is tried through
//! `execute_frame` at 1 and 2 threads and through `process_message`.

use proptest::prelude::*;
use switchyard_manager::{Frame, Manager, ManagerError};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::message_request::Request;
use switchyard_proto::v1::{MessageBundle, MessageRequest, MessageStatus};
use switchyard_router::auth::AuthError;
use switchyard_router::{BundleProposal, Domain, StateRead, UnsignedRequest};
use switchyard_state::{Overlay, Store};
use switchyard_token::{TokenClient, TokenSpec, balance};

use crate::common::*;

/// Alice (1) owns token X, Bob (2) token Y, 1,000 each; Carol (3) is funded. Frame 1 is
/// committed; the returned clients' next nonces follow it.
struct Market {
    manager: Manager,
    alice: TokenClient,
    bob: TokenClient,
    carol: TokenClient,
    x: Domain,
    y: Domain,
}

fn market(threads: usize) -> Market {
    let manager = token_builder().threads(threads).build().unwrap();
    manager.genesis(0, &rich_genesis(3)).unwrap();
    let (mut alice, mut bob, carol) = (client(1, 1), client(2, 1), client(3, 1));
    let (x, deploy_x) = alice.deploy(TokenSpec::new("Ex", "X").initial_supply(1_000));
    let (y, deploy_y) = bob.deploy(TokenSpec::new("Why", "Y").initial_supply(1_000));
    let frame = Frame::new(1)
        .message(deploy_x.target.0, deploy_x.to_bytes())
        .message(deploy_y.target.0, deploy_y.to_bytes());
    let receipt = manager.execute_frame(&frame).unwrap().receipt;
    assert_eq!(statuses(&receipt), [MessageStatus::Applied; 2]);
    Market {
        manager,
        alice,
        bob,
        carol,
        x,
        y,
    }
}

/// The swap: Alice sends 500 X to Bob, Bob sends 500 Y to Alice, each signing over the
/// proposal, assembled by whoever relays it.
fn swap(m: &mut Market) -> MessageBundle {
    let to_bob = UnsignedRequest::from(m.alice.transfer(m.x, m.bob.public_key(), 500));
    let to_alice = UnsignedRequest::from(m.bob.transfer(m.y, m.alice.public_key(), 500));
    let proposal = BundleProposal::new(NET, vec![to_bob, to_alice], 1_700_000_000_000).unwrap();
    let mut signatures = m.alice.sign_proposal(&proposal);
    signatures.extend(m.bob.sign_proposal(&proposal));
    proposal.assemble(signatures).unwrap().bundle
}

fn transfer_of(request: &mut MessageRequest) -> &mut switchyard_proto::v1::Transaction {
    match request.request.as_mut() {
        Some(Request::Transaction(t)) => t,
        _ => panic!("not a transfer"),
    }
}

/// Who holds what, and every signer's nonce: what a refused message must leave untouched.
fn holdings(m: &Market) -> Vec<u128> {
    let snapshot = m.manager.store().snapshot().unwrap();
    let state: &dyn StateRead = snapshot.as_ref();
    let mut figures = Vec::new();
    for who in [account(1), account(2), account(3)] {
        figures.push(balance(state, &m.x, &who).unwrap());
        figures.push(balance(state, &m.y, &who).unwrap());
        let record = native(state, &who);
        figures.push(record.balance);
        figures.push(u128::from(record.nonce));
    }
    figures
}

/// Submits `bytes` to `target` as frame 2 and returns the outcome's status and reason.
fn submit(m: &Market, target: Domain, bytes: Vec<u8>) -> (MessageStatus, String, u128) {
    let receipt = m
        .manager
        .execute_frame(&Frame::new(2).message(target.0, bytes))
        .unwrap()
        .receipt;
    let outcome = &receipt.outcomes[0];
    (status(outcome), outcome.reason.clone(), fee(outcome))
}

/// The attacks: what the relay submits instead of the bundle, and the words of the reason.
fn attacks(m: &mut Market) -> Vec<(&'static str, Domain, Vec<u8>, &'static str)> {
    let bundle = swap(m);
    let mut out = Vec::new();
    // Alice's request alone, sent to X: its signature is over the bundle.
    let alone = bundle.requests[0].clone();
    out.push((
        "alone",
        m.x,
        alone.to_canonical_bytes(),
        "as a request signed alone",
    ));
    // Cut down to its first request.
    let mut cut = bundle.clone();
    cut.requests.truncate(1);
    out.push(("cut", m.x, cut.to_canonical_bytes(), "not signed by"));
    // A request added: Carol's, signed alone (she signed no proposal of this bundle).
    let mut extended = bundle.clone();
    extended.requests.push(
        m.carol
            .transfer(switchyard_router::domains::NATIVE_TOKEN, account(1), 1)
            .request,
    );
    out.push((
        "extended",
        m.x,
        extended.to_canonical_bytes(),
        "not signed by",
    ));
    // Reordered.
    let mut reordered = bundle.clone();
    reordered.requests.swap(0, 1);
    out.push((
        "reordered",
        m.y,
        reordered.to_canonical_bytes(),
        "not signed by",
    ));
    // Bob's request replaced by another of Bob's, signed for another bundle.
    let mut replaced = bundle.clone();
    let other = {
        let mut m2 = Market {
            manager: m.manager.clone(),
            alice: m.alice.clone(),
            bob: m.bob.clone(),
            carol: m.carol.clone(),
            x: m.x,
            y: m.y,
        };
        m2.bob.set_next_nonce(m.bob.next_nonce() - 1);
        m2.alice.set_next_nonce(m.alice.next_nonce() - 1);
        let to_bob = UnsignedRequest::from(m2.alice.transfer(m.x, m.bob.public_key(), 500));
        let to_alice = UnsignedRequest::from(m2.bob.transfer(m.y, m.alice.public_key(), 1));
        let proposal = BundleProposal::new(NET, vec![to_bob, to_alice], 5).unwrap();
        let signatures = m2.bob.sign_proposal(&proposal);
        let mut request = proposal.bundle().requests[1].clone();
        request.auth_mut().unwrap().signature = signatures[0].signature.to_vec();
        request
    };
    replaced.requests[1] = other;
    out.push((
        "replaced",
        m.x,
        replaced.to_canonical_bytes(),
        "not signed by",
    ));
    // The timestamp changed.
    let mut retimed = bundle.clone();
    retimed.timestamp += 1;
    out.push((
        "timestamp",
        m.x,
        retimed.to_canonical_bytes(),
        "not signed by",
    ));
    // A memo added to Alice's request.
    let mut memo = bundle.clone();
    transfer_of(&mut memo.requests[0]).memo = b"to my friend".to_vec();
    out.push(("memo", m.x, memo.to_canonical_bytes(), "not signed by"));
    // Requests signed alone, put in a bundle (what the old builders made).
    let mut lone = bundle;
    let first_nonce = m.alice.next_nonce() - 1;
    let mut alice_again = m.alice.clone();
    alice_again.set_next_nonce(first_nonce);
    lone.requests[0] = alice_again.transfer(m.x, m.bob.public_key(), 500).request;
    out.push((
        "signed alone",
        m.x,
        lone.to_canonical_bytes(),
        "was signed alone",
    ));
    out
}

#[test]
fn the_swap_applies_as_a_whole() {
    for threads in [1, 2] {
        let mut m = market(threads);
        let bundle = swap(&mut m);
        let (status, reason, _) = submit(&m, m.x, bundle.to_canonical_bytes());
        assert_eq!(status, MessageStatus::Applied, "{reason}");
        let snapshot = m.manager.store().snapshot().unwrap();
        assert_eq!(balance(snapshot.as_ref(), &m.x, &account(2)).unwrap(), 500);
        assert_eq!(balance(snapshot.as_ref(), &m.y, &account(1)).unwrap(), 500);
    }
}

#[test]
fn every_relay_attack_is_rejected_with_no_effect_and_no_fee_in_frames() {
    for threads in [1, 2] {
        let mut probe = market(threads);
        let count = attacks(&mut probe).len();
        for which in 0..count {
            let mut m = market(threads);
            let before = holdings(&m);
            let (name, target, bytes, words) = attacks(&mut m).swap_remove(which);
            let (status, reason, fee) = submit(&m, target, bytes);
            assert_eq!(status, MessageStatus::Rejected, "{name}: {reason}");
            assert!(reason.contains(words), "{name}: {reason}");
            assert_eq!(fee, 0, "{name}");
            assert_eq!(holdings(&m), before, "{name} changed the state");
        }
    }
}

#[test]
fn every_relay_attack_is_refused_by_process_message() {
    let mut m = market(2);
    let snapshot = m.manager.store().snapshot().unwrap();
    for (name, target, bytes, words) in attacks(&mut m) {
        let mut state = Overlay::new(snapshot.as_ref());
        let error = m
            .manager
            .process_message(2, 1, &target.0, &bytes, &mut state)
            .unwrap_err();
        assert!(matches!(error, ManagerError::Auth(_)), "{name}: {error}");
        assert_eq!(error.status(), MessageStatus::Rejected, "{name}");
        assert!(error.to_string().contains(words), "{name}: {error}");
        assert!(state.into_changes().is_empty(), "{name} wrote something");
    }
}

#[test]
fn a_request_signed_alone_in_a_bundle_names_its_position() {
    let mut m = market(1);
    let mut bundle = swap(&mut m);
    let mut bob_again = m.bob.clone();
    bob_again.set_next_nonce(m.bob.next_nonce() - 1);
    bundle.requests[1] = bob_again.transfer(m.y, m.alice.public_key(), 500).request;
    let error = switchyard_router::auth::verify_bundle(&bundle, NET).unwrap_err();
    assert_eq!(
        error,
        AuthError::SignedAlone {
            operation: "Transaction",
            index: 1
        }
    );
}

/// One way to change a signed bundle.
#[derive(Debug, Clone)]
enum Mutation {
    Drop(usize),
    Insert(usize),
    Swap(usize, usize),
    Replace(usize),
    Timestamp(u64),
    Amount(usize, u64),
    Nonce(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0usize..3).prop_map(Mutation::Drop),
        (0usize..4).prop_map(Mutation::Insert),
        (0usize..3, 0usize..3)
            .prop_filter("two positions", |(a, b)| a != b)
            .prop_map(|(a, b)| Mutation::Swap(a, b)),
        (0usize..3).prop_map(Mutation::Replace),
        (1u64..u64::MAX).prop_map(Mutation::Timestamp),
        (0usize..3, 1u64..1_000).prop_map(|(i, a)| Mutation::Amount(i, a)),
        (0usize..3).prop_map(Mutation::Nonce),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any mutation of a valid signed three-party bundle is rejected as a whole.
    #[test]
    fn any_mutation_of_a_signed_bundle_is_rejected_as_a_whole(change in mutation()) {
        let mut m = market(2);
        let mut carol = m.carol.clone();
        let parts = vec![
            UnsignedRequest::from(m.alice.transfer(m.x, account(2), 10)),
            UnsignedRequest::from(m.bob.transfer(m.y, account(3), 20)),
            UnsignedRequest::from(carol.transfer(switchyard_router::domains::NATIVE_TOKEN, account(1), 30)),
        ];
        let proposal = BundleProposal::new(NET, parts, 9).unwrap();
        let mut signatures = m.alice.sign_proposal(&proposal);
        signatures.extend(m.bob.sign_proposal(&proposal));
        signatures.extend(carol.sign_proposal(&proposal));
        let valid = proposal.assemble(signatures).unwrap().bundle;
        prop_assert!(switchyard_router::auth::verify_bundle(&valid, NET).is_ok());

        let mut bundle = valid.clone();
        match change {
            Mutation::Drop(i) => { bundle.requests.remove(i); }
            Mutation::Insert(i) => {
                let extra = client(4, 1).transfer(switchyard_router::domains::NATIVE_TOKEN, account(1), 1).request;
                bundle.requests.insert(i, extra);
            }
            Mutation::Swap(a, b) => bundle.requests.swap(a, b),
            Mutation::Replace(i) => {
                let copy = bundle.requests[(i + 1) % 3].clone();
                bundle.requests[i] = copy;
            }
            Mutation::Timestamp(t) => bundle.timestamp = bundle.timestamp.wrapping_add(t),
            Mutation::Amount(i, a) => {
                let t = transfer_of(&mut bundle.requests[i]);
                let amount = u128::from(t.amount.unwrap()) + u128::from(a);
                t.amount = Some(amount.into());
            }
            Mutation::Nonce(i) => bundle.requests[i].auth_mut().unwrap().nonce += 1,
        }
        prop_assume!(bundle != valid);
        let target = bundle.requests.first().and_then(|r| r.auth()).map(|a| a.target.clone()).unwrap_or_default();
        let snapshot = m.manager.store().snapshot().unwrap();
        let mut state = Overlay::new(snapshot.as_ref());
        let refused = m.manager.process_message(2, 1, &target, &bundle.to_canonical_bytes(), &mut state);
        prop_assert!(matches!(refused, Err(ManagerError::Auth(_))), "{:?}", refused.map(|p| p.status));
        prop_assert!(state.into_changes().is_empty());
    }
}

#[test]
fn validate_messages_gives_each_message_the_verdict_of_validate_message() {
    let mut m = market(2);
    let bundle = swap(&mut m);
    let lone = m.carol.transfer(m.x, m.alice.public_key(), 1);
    let signers_of = |requests: &[MessageRequest]| -> Vec<([u8; 32], u64)> {
        requests
            .iter()
            .map(|r| {
                let auth = r.auth().unwrap();
                (auth.public_key.as_slice().try_into().unwrap(), auth.nonce)
            })
            .collect()
    };
    let bundle_signers = signers_of(&bundle.requests);
    let lone_signers = signers_of(std::slice::from_ref(&lone.request));
    let valid_bundle = bundle.to_canonical_bytes();
    let mut batch: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (m.x.0.to_vec(), valid_bundle),
        (lone.target.0.to_vec(), lone.to_bytes()),
        (m.x.0.to_vec(), vec![0, 0, 5, 9, 0xff]),
    ];
    // Every relay attack, among valid messages: the batch fails, then one by one names them.
    batch.extend(
        attacks(&mut m)
            .into_iter()
            .map(|(_, target, bytes, _)| (target.0.to_vec(), bytes)),
    );
    let verdicts = m.manager.validate_messages(2, &batch);
    assert_eq!(verdicts.len(), batch.len());
    for ((target, bytes), verdict) in batch.iter().zip(&verdicts) {
        let alone = m.manager.validate_message(2, target, bytes);
        match (verdict, &alone) {
            (Ok(_), Ok(())) => {}
            (Err(batched), Err(single)) => {
                assert_eq!(batched.to_string(), single.to_string());
                assert_eq!(batched.status(), single.status());
            }
            _ => panic!("batched {verdict:?}, alone {alone:?}"),
        }
    }
    // A valid message names who signed it with which nonce, request by request.
    assert_eq!(verdicts[0].as_ref().unwrap().signers, bundle_signers);
    assert_eq!(verdicts[1].as_ref().unwrap().signers, lone_signers);
    assert_eq!(bundle_signers.len(), 2);
    assert!(verdicts[3..].iter().all(Result::is_err));
    // An all-valid batch passes in one verification.
    assert!(
        m.manager
            .validate_messages(2, &batch[..2])
            .iter()
            .all(Result::is_ok)
    );
    assert!(
        m.manager
            .validate_messages::<Vec<u8>, Vec<u8>>(2, &[])
            .is_empty()
    );
}
