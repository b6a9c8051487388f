//! DESIGN §6 against an oracle independent of the frame executor: small hand-built frames give
//! the statuses, costs, fees and state root of applying their messages one by one with
//! `Manager::process_message` on an overlay of the committed state (then crediting the frame's
//! fees to its recipient, as the commit step does). The frames avoid what DESIGN §3 treats
//! differently on purpose (a message using an instance deployed by an earlier message of the
//! same frame), so both must agree exactly.

use std::sync::Arc;

use switchyard_manager::{Frame, Manager, ManagerError};
use switchyard_node::workload::{INITIAL_BALANCE, NETWORK_ID, Workload};
use switchyard_proto::v1::MessageStatus;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_router::{BundleProposal, UnsignedRequest, fees};
use switchyard_state::{MemoryStore, Overlay, StateRoot, Store};
use switchyard_token::{NativeGenesis, SignedRequest, TokenClient, TokenSpec};

use crate::manager_on;

const RECIPIENT: [u8; 32] = [0xFE; 32];

fn client(seed: u8) -> TokenClient {
    TokenClient::new(SigningKey::from_bytes(&[seed; 32]), NETWORK_ID, 1)
}

fn parts(request: SignedRequest) -> (Vec<u8>, Vec<u8>) {
    let (target, bytes) = request.into_parts();
    (target.0.to_vec(), bytes)
}

/// A bundle of `requests`, all by `client`, each signed for the whole bundle.
fn bundle(client: &TokenClient, requests: Vec<SignedRequest>) -> (Vec<u8>, Vec<u8>) {
    let parts = requests.into_iter().map(UnsignedRequest::from).collect();
    let proposal = BundleProposal::new(NETWORK_ID, parts, 0).unwrap();
    let signatures = client.sign_proposal(&proposal);
    let (target, bytes) = proposal.assemble(signatures).unwrap().into_parts();
    (target.0.to_vec(), bytes)
}

/// Two managers (frame executor, one-by-one oracle) with `clients` funded at genesis.
fn managers(clients: &[&TokenClient], threads: usize) -> (Manager, Manager) {
    let workload = Workload {
        genesis: NativeGenesis {
            balances: clients
                .iter()
                .map(|c| (c.public_key(), INITIAL_BALANCE))
                .collect(),
            ..NativeGenesis::default()
        },
        frames: Vec::new(),
    };
    (
        manager_on(Arc::new(MemoryStore::new()), threads, &workload),
        manager_on(Arc::new(MemoryStore::new()), 1, &workload),
    )
}

/// (status, cost, fee, reason) of each message and the root, applying them one by one.
fn one_by_one(manager: &Manager, frame: &Frame) -> (Vec<(MessageStatus, u64, u128)>, StateRoot) {
    let snapshot = manager.store().snapshot().unwrap();
    let mut overlay = Overlay::new(snapshot.as_ref());
    let mut outcomes = Vec::new();
    let mut total = 0u128;
    for (target, bytes) in &frame.messages {
        let outcome = match manager.process_message(
            frame.number,
            frame.fee_multiplier,
            target,
            bytes,
            &mut overlay,
        ) {
            Ok(processed) => {
                total += processed.fee;
                (processed.status, processed.cost, processed.fee)
            }
            Err(
                ManagerError::Malformed(_)
                | ManagerError::BadTarget(_)
                | ManagerError::NotAnOperation(_),
            ) => (MessageStatus::Malformed, 0, 0),
            Err(_) => (MessageStatus::Rejected, 0, 0),
        };
        outcomes.push(outcome);
    }
    fees::credit(&mut overlay, &frame.fee_recipient, total).unwrap();
    let root = manager.store().root_after(&overlay.into_changes()).unwrap();
    (outcomes, root)
}

/// Executes `frame` on the executor and checks it against the oracle; returns the statuses
/// and reasons.
fn check(executor: &Manager, oracle: &Manager, frame: Frame) -> Vec<(MessageStatus, String)> {
    let (expected, root) = one_by_one(oracle, &frame);
    let result = executor.execute_frame(&frame).unwrap();
    let got: Vec<(MessageStatus, u64, u128)> = result
        .receipt
        .outcomes
        .iter()
        .map(|o| {
            // `process_message` reports no cost for a message it refuses; the receipt gives
            // one when the refusal came at fee settlement (a replayed nonce).
            let cost = match o.status() {
                MessageStatus::Applied | MessageStatus::Failed => o.cost,
                _ => 0,
            };
            (o.status(), cost, o.fee.map(u128::from).unwrap_or_default())
        })
        .collect();
    let reasons: Vec<&str> = result
        .receipt
        .outcomes
        .iter()
        .map(|o| o.reason.as_str())
        .collect();
    assert_eq!(
        got, expected,
        "frame {} against one-by-one application; executor's reasons: {reasons:?}",
        frame.number
    );
    assert_eq!(
        result.head.state_root, root,
        "root of frame {}",
        frame.number
    );
    // Keep the oracle's store in step for the next frame.
    let serial = oracle.execute_frame_serial(&frame).unwrap();
    assert_eq!(serial, result);
    got.into_iter()
        .zip(reasons)
        .map(|((status, ..), reason)| (status, reason.to_owned()))
        .collect()
}

#[test]
fn conflicting_transfers_bundles_and_refusals_match_one_by_one_application() {
    use MessageStatus::{Applied, Failed, Malformed, Rejected};
    for threads in [1, 2, 4] {
        let (mut alice, mut bob, carol) = (client(1), client(2), client(3));
        let (executor, oracle) = managers(&[&alice, &bob, &carol], threads);
        let mut frame = Frame::new(1).fee_recipient(RECIPIENT).fee_multiplier(2);
        // A transfer, then its replay.
        let (target, bytes) = parts(alice.transfer(NATIVE_TOKEN, bob.public_key(), 5));
        frame = frame.message(target.clone(), bytes.clone());
        frame = frame.message(target, bytes);
        // A bad signature (its nonce stays unused), and bytes that are no message.
        let (target, mut bytes) = parts(bob.transfer(NATIVE_TOKEN, carol.public_key(), 1));
        bob.set_next_nonce(bob.next_nonce() - 1);
        // The signature is followed by the target (2 + 32 bytes) at the end.
        let in_signature = bytes.len() - 40;
        bytes[in_signature] ^= 1;
        frame = frame.message(target, bytes);
        frame = frame.message(NATIVE_TOKEN.0.to_vec(), b"not a message".to_vec());
        // Conflicting transfers around a bundle whose second transfer overdraws.
        let (target, bytes) = parts(bob.transfer(NATIVE_TOKEN, alice.public_key(), 7));
        frame = frame.message(target, bytes);
        let requests = vec![
            alice.transfer(NATIVE_TOKEN, carol.public_key(), 10),
            alice.transfer(NATIVE_TOKEN, carol.public_key(), INITIAL_BALANCE * 2),
        ];
        let (target, bytes) = bundle(&alice, requests);
        frame = frame.message(target, bytes);
        let (target, bytes) = parts(alice.transfer(NATIVE_TOKEN, bob.public_key(), 3));
        frame = frame.message(target, bytes);
        let outcomes = check(&executor, &oracle, frame);
        let statuses: Vec<MessageStatus> = outcomes.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            statuses,
            [
                Applied, Rejected, Rejected, Malformed, Applied, Failed, Applied
            ],
            "{threads} threads: {outcomes:?}"
        );
        assert!(outcomes[1].1.contains("nonce"), "{outcomes:?}");
        assert!(outcomes[2].1.contains("signature"), "{outcomes:?}");
    }
}

/// A bundle deploying a token and minting it, first in the frame for its signer.
#[test]
fn deploy_and_mint_bundle_first_for_its_signer_matches_one_by_one_application() {
    let (mut alice, bob) = (client(1), client(2));
    let (executor, oracle) = managers(&[&alice, &bob], 2);
    let (token, deploy) = alice.deploy(
        TokenSpec::new("Bundle", "BDL")
            .mintable(true)
            .mint_authority(alice.public_key()),
    );
    let mint = alice.mint(token, bob.public_key(), 40);
    let (target, bytes) = bundle(&alice, vec![deploy, mint]);
    let frame = Frame::new(1)
        .fee_recipient(RECIPIENT)
        .message(target, bytes);
    let outcomes = check(&executor, &oracle, frame);
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].0, MessageStatus::Applied, "{outcomes:?}");
}

/// The same bundle after an earlier message of the same signer in the frame: applied one by
/// one, the bundle's nonces follow the earlier message's and its mint resolves the token the
/// bundle deploys (DESIGN §3, "inside a bundle ... resolves too").
#[test]
fn deploy_and_mint_bundle_after_an_earlier_message_of_its_signer_applies() {
    let (mut alice, bob) = (client(1), client(2));
    let (executor, oracle) = managers(&[&alice, &bob], 2);
    let first = parts(alice.transfer(NATIVE_TOKEN, bob.public_key(), 5));
    let (token, deploy) = alice.deploy(
        TokenSpec::new("Bundle", "BDL")
            .mintable(true)
            .mint_authority(alice.public_key()),
    );
    let mint = alice.mint(token, bob.public_key(), 40);
    let (target, bytes) = bundle(&alice, vec![deploy, mint]);
    let frame = Frame::new(1)
        .fee_recipient(RECIPIENT)
        .message(first.0, first.1)
        .message(target, bytes);
    let outcomes = check(&executor, &oracle, frame);
    let statuses: Vec<MessageStatus> = outcomes.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        statuses,
        [MessageStatus::Applied, MessageStatus::Applied],
        "{outcomes:?}"
    );
}
