//! The generated workloads have the shape the benchmarks and the determinism tests rely on,
//! checked by decoding every message.

use std::collections::{BTreeMap, BTreeSet};

use switchyard_node::workload::NETWORK_ID;
use switchyard_node::workload::{
    INITIAL_BALANCE, MixedParams, TransferParams, Workload, mixed, transfers,
};
use switchyard_proto::v1::message_request::Request;
use switchyard_proto::v1::{MessageRequest, MessageStatus, Transaction};
use switchyard_proto::{AnyMessage, CanonicalMessage};
use switchyard_router::Key;
use switchyard_router::auth::verify_request;
use switchyard_router::domains::NATIVE_TOKEN;

use crate::memory_manager;

/// A decoded transfer: (sender, nonce, recipient, amount).
fn decode_transfer(target: &[u8], bytes: &[u8]) -> (Key, u64, Key, u128) {
    assert_eq!(target, NATIVE_TOKEN.0.as_slice(), "target");
    let request = MessageRequest::from_canonical_bytes(bytes).unwrap();
    let Some(Request::Transaction(transaction)) = &request.request else {
        panic!("not a transfer: {request:?}");
    };
    let Transaction {
        to,
        amount,
        auth: Some(auth),
        ..
    } = transaction.as_ref()
    else {
        panic!("not a signed transfer: {request:?}");
    };
    assert_eq!(auth.target, NATIVE_TOKEN.0.to_vec(), "signed target");
    (
        auth.public_key.as_slice().try_into().unwrap(),
        auth.nonce,
        to.as_slice().try_into().unwrap(),
        amount.unwrap_or_default().into(),
    )
}

/// Every frame's transfers, decoded; checks frame numbering and that each sender's nonces
/// follow on from 1 across frames.
fn decoded(workload: &Workload) -> Vec<Vec<(Key, u64, Key, u128)>> {
    let mut nonces: BTreeMap<Key, u64> = BTreeMap::new();
    let funded: BTreeSet<Key> = workload.genesis.balances.iter().map(|(k, _)| *k).collect();
    workload
        .frames
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            assert_eq!(frame.number, i as u64 + 1);
            frame
                .messages
                .iter()
                .map(|(target, bytes)| {
                    let transfer = decode_transfer(target, bytes);
                    let (sender, nonce, _, amount) = transfer;
                    let expected = nonces.entry(sender).or_insert(0);
                    *expected += 1;
                    assert_eq!(nonce, *expected, "nonce of a sender");
                    assert!(funded.contains(&sender), "sender without genesis balance");
                    assert!((1..=1_000).contains(&amount), "amount {amount}");
                    transfer
                })
                .collect()
        })
        .collect()
}

#[test]
fn conflict_free_transfers_touch_each_account_once_per_frame() {
    for (seed, accounts, messages, frame_size) in [(1, 40, 60, 20), (2, 64, 96, 32), (3, 11, 25, 5)]
    {
        let workload = transfers(TransferParams {
            seed,
            accounts,
            messages,
            frame_size,
            conflict_ppm: 0,
        });
        assert_eq!(workload.messages(), messages);
        assert_eq!(workload.frames.len(), messages.div_ceil(frame_size));
        for (frame, transfers) in decoded(&workload).iter().enumerate() {
            assert!(transfers.len() <= frame_size);
            let mut touched = BTreeSet::new();
            for (sender, _, recipient, _) in transfers {
                assert_ne!(sender, recipient);
                assert!(touched.insert(*sender), "frame {frame}: a sender twice");
                assert!(
                    touched.insert(*recipient),
                    "frame {frame}: a recipient twice"
                );
            }
        }
    }
}

#[test]
fn fully_conflicting_transfers_all_go_to_one_account() {
    let workload = transfers(TransferParams {
        seed: 5,
        accounts: 30,
        messages: 45,
        frame_size: 15,
        conflict_ppm: 1_000_000,
    });
    let frames = decoded(&workload);
    let recipients: BTreeSet<Key> = frames.iter().flatten().map(|t| t.2).collect();
    let senders: BTreeSet<Key> = frames.iter().flatten().map(|t| t.0).collect();
    assert_eq!(recipients.len(), 1, "{recipients:?}");
    assert!(senders.is_disjoint(&recipients), "the hot account sends");
    assert!(senders.len() > 15);
    // Senders still send at most once per frame.
    for transfers in &frames {
        let in_frame: BTreeSet<Key> = transfers.iter().map(|t| t.0).collect();
        assert_eq!(in_frame.len(), transfers.len());
    }
}

#[test]
fn partly_conflicting_transfers_mix_both_kinds() {
    let workload = transfers(TransferParams {
        seed: 6,
        accounts: 80,
        messages: 120,
        frame_size: 40,
        conflict_ppm: 500_000,
    });
    let hot =
        decoded(&workload)
            .iter()
            .flatten()
            .fold(BTreeMap::<Key, usize>::new(), |mut counts, t| {
                *counts.entry(t.2).or_default() += 1;
                counts
            });
    let (_, most) = hot.iter().max_by_key(|(_, n)| **n).unwrap();
    // About half go to the hot account (binomial(120, 1/2): 40..80 is far beyond 3 sigma).
    assert!((40..80).contains(most), "{most} of 120 to the hot account");
}

#[test]
fn transfers_are_deterministic_and_applied_in_full() {
    let params = TransferParams {
        seed: 9,
        accounts: 20,
        messages: 30,
        frame_size: 10,
        conflict_ppm: 250_000,
    };
    let workload = transfers(params);
    assert_eq!(workload.frames, transfers(params).frames);
    assert_ne!(
        workload.frames,
        transfers(TransferParams { seed: 10, ..params }).frames
    );
    assert!(
        workload
            .genesis
            .balances
            .iter()
            .all(|(_, balance)| *balance == INITIAL_BALANCE)
    );
    let manager = memory_manager(2, &workload);
    for frame in &workload.frames {
        let result = manager.execute_frame(frame).unwrap();
        for outcome in &result.receipt.outcomes {
            assert_eq!(outcome.status(), MessageStatus::Applied, "{outcome:?}");
        }
    }
}

/// Runs `workload` and returns a description of every refusal the workload did not intend:
/// a message rejected although every request in it is validly signed and uses its signer's
/// next nonce (not a replay). The generators must not produce those: a rejected message
/// leaves its nonce unused, so every later message of the signer would be rejected too, and
/// the workload would stop exercising anything but nonce checks.
fn unintended_rejections(workload: &Workload) -> (Vec<String>, BTreeMap<i32, usize>) {
    let manager = memory_manager(2, workload);
    let mut used: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut unintended = Vec::new();
    let mut statuses = BTreeMap::new();
    for frame in &workload.frames {
        let result = manager.execute_frame(frame).unwrap();
        for (outcome, (_, bytes)) in result.receipt.outcomes.iter().zip(&frame.messages) {
            *statuses.entry(outcome.status).or_default() += 1;
            let requests = match switchyard_proto::decode_any(bytes) {
                Ok(AnyMessage::MessageRequest(request)) => vec![request],
                Ok(AnyMessage::MessageBundle(bundle)) => bundle.requests,
                _ => continue,
            };
            let signed: Vec<(Vec<u8>, u64, bool)> = requests
                .iter()
                .filter_map(|r| {
                    let auth = r.auth()?;
                    let valid = verify_request(r, NETWORK_ID).is_ok();
                    Some((auth.public_key.clone(), auth.nonce, valid))
                })
                .collect();
            match outcome.status() {
                MessageStatus::Applied | MessageStatus::Failed => {
                    for (signer, nonce, _) in signed {
                        let last = used.entry(signer).or_default();
                        *last = (*last).max(nonce);
                    }
                }
                MessageStatus::Rejected => {
                    let intended = signed.iter().any(|(signer, nonce, valid)| {
                        !valid || *nonce <= used.get(signer).copied().unwrap_or(0)
                    });
                    if !intended {
                        unintended.push(format!(
                            "frame {} message {}: {}",
                            frame.number, outcome.index, outcome.reason
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    (unintended, statuses)
}

#[test]
fn mixed_workload_rejects_only_what_it_means_to() {
    for (seed, accounts, adversarial) in
        [(21, 4, false), (22, 6, false), (23, 5, true), (24, 8, true)]
    {
        let workload = mixed(MixedParams {
            seed,
            accounts,
            messages: 120,
            frame_size: 40,
            adversarial,
        });
        let (unintended, statuses) = unintended_rejections(&workload);
        assert!(
            unintended.is_empty(),
            "seed {seed}: {} of 120 messages rejected without being meant to \
             (statuses {statuses:?}):\n{}",
            unintended.len(),
            unintended.join("\n")
        );
        let applied = statuses
            .get(&(MessageStatus::Applied as i32))
            .copied()
            .unwrap_or(0);
        assert!(applied >= 40, "seed {seed}: only {applied} of 120 applied");
        assert!(statuses.contains_key(&(MessageStatus::Failed as i32)));
        if !adversarial {
            assert_eq!(statuses.get(&(MessageStatus::Rejected as i32)), None);
            assert_eq!(statuses.get(&(MessageStatus::Malformed as i32)), None);
        }
    }
}

#[test]
fn mixed_workload_is_deterministic_and_adversarial_only_when_asked() {
    let params = MixedParams {
        seed: 21,
        accounts: 4,
        messages: 120,
        frame_size: 40,
        adversarial: false,
    };
    let calm = mixed(params);
    assert_eq!(calm.frames, mixed(params).frames);
    assert_eq!(calm.messages(), 120);
    assert_eq!(calm.frames.len(), 3);
    // Non-adversarial: every message decodes strictly, and targets are 32-byte domains.
    for (target, bytes) in calm.frames.iter().flat_map(|f| &f.messages) {
        assert_eq!(target.len(), 32);
        assert!(switchyard_proto::decode_any(bytes).is_ok());
    }
    let hostile = mixed(MixedParams {
        adversarial: true,
        ..params
    });
    let undecodable = hostile
        .frames
        .iter()
        .flat_map(|f| &f.messages)
        .filter(|(target, bytes)| {
            target.len() != 32 || switchyard_proto::decode_any(bytes).is_err()
        })
        .count();
    assert!(undecodable > 0, "no malformed message or bad target");
}
