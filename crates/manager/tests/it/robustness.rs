//! Arbitrary bytes and targets through every entry point: typed errors, never a panic, never a
//! silent zero cost, and a frame always reports one outcome per message.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use switchyard_manager::{Frame, Manager};
use switchyard_proto::v1::MessageStatus;
use switchyard_router::domains::{COMPUTE, GLOBAL, HYPERGRAPH, NATIVE_TOKEN, TOKEN};
use switchyard_state::Overlay;
use switchyard_token::TokenSpec;

use crate::common::*;

/// Tags of every message kind, so that bodies get past the tag check.
const TAGS: &[u32] = &[
    0x0311, 0x0312, 0x0301, 0x0302, 0x0303, 0x0304, 0x0305, 0x0306, 0x0307, 0x0308, 0x0309, 0x0401,
    0x0402, 0x0403, 0x0404, 0x0405, 0x0406, 0x0407, 0x0503, 0x0504, 0x0505, 0x0509, 0x050C, 0x050F,
    0x0601, 0x0602, 0x0603, 0x060C, 0x060F, 0x0901,
];

/// Valid signed messages of every engine with their targets, to mutate.
fn valid_messages() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut alice = client(1, 1);
    let (gold, deploy) = alice.deploy(TokenSpec::new("Gold", "GLD").initial_supply(5));
    vec![
        (
            NATIVE_TOKEN.0.to_vec(),
            alice.transfer(NATIVE_TOKEN, account(2), 5).to_bytes(),
        ),
        (TOKEN.0.to_vec(), deploy.to_bytes()),
        (
            NATIVE_TOKEN.0.to_vec(),
            bundle(vec![
                client(2, 1).transfer(NATIVE_TOKEN, account(1), 1).request,
                client(3, 1).mint(gold, account(1), 1).request,
            ]),
        ),
        (
            COMPUTE.0.to_vec(),
            bytes(&signed(
                code_execute(&[addr(COMPUTE, 1)], &[addr(HYPERGRAPH, 2)], b"x"),
                3,
                COMPUTE,
                1,
            )),
        ),
        (
            HYPERGRAPH.0.to_vec(),
            bytes(&signed(vertex_add([1; 32], b"v"), 4, HYPERGRAPH, 1)),
        ),
        (
            GLOBAL.0.to_vec(),
            bytes(&signed(prover_join(), 5, GLOBAL, 1)),
        ),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, u8),
    Remove(usize),
}

fn mutate(mut bytes: Vec<u8>, mutation: Mutation) -> Vec<u8> {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match mutation {
        Mutation::Flip(i, bit) => {
            let i = at(i, bytes.len());
            if let Some(byte) = bytes.get_mut(i) {
                *byte ^= 1 << (bit % 8);
            }
        }
        Mutation::Truncate(i) => bytes.truncate(at(i, bytes.len())),
        Mutation::Insert(i, byte) => {
            let i = at(i, bytes.len() + 1);
            bytes.insert(i, byte);
        }
        Mutation::Remove(i) => {
            if !bytes.is_empty() {
                let i = at(i, bytes.len());
                bytes.remove(i);
            }
        }
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
    ]
}

fn random_messages() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..160),
        (select(TAGS), vec(any::<u8>(), 0..120)).prop_map(|(tag, body)| {
            let mut bytes = tag.to_be_bytes().to_vec();
            bytes.extend(body);
            bytes
        }),
    ]
}

fn targets() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        select(vec![
            NATIVE_TOKEN.0.to_vec(),
            TOKEN.0.to_vec(),
            COMPUTE.0.to_vec(),
            HYPERGRAPH.0.to_vec(),
            GLOBAL.0.to_vec(),
        ]),
        vec(any::<u8>(), 0..70),
        vec(any::<u8>(), 64..=64),
    ]
}

/// (target, message) pairs: random, valid, valid with its bytes or its target mutated.
fn inputs() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    prop_oneof![
        2 => (targets(), random_messages()),
        1 => select(valid_messages()),
        3 => (select(valid_messages()), mutations())
            .prop_map(|((target, bytes), m)| (target, mutate(bytes, m))),
        2 => (select(valid_messages()), mutations(), mutations())
            .prop_map(|((target, bytes), a, b)| (target, mutate(mutate(bytes, a), b))),
        1 => (select(valid_messages()), mutations())
            .prop_map(|((target, bytes), m)| (mutate(target, m), bytes)),
    ]
}

fn manager() -> Manager {
    let manager = full_manager(&TestEngines::new(), 2);
    manager.genesis(0, &rich_genesis(5)).unwrap();
    manager
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn arbitrary_input_to_every_entry_point_never_panics() {
    let manager = manager();
    let next_frame = AtomicU64::new(1);
    runner(160)
        .run(&inputs(), |(target, message)| {
            if manager.cost(&message).is_ok() {
                prop_assert!(
                    switchyard_proto::decode_any(&message).is_ok(),
                    "priced undecodable bytes"
                );
            }
            let frame_number = next_frame.load(Ordering::SeqCst);
            let _ = manager.validate_message(frame_number, &target, &message);
            let _ = manager.lock(frame_number, &target, &message);
            manager.unlock_all();
            let snapshot = manager.store().snapshot().unwrap();
            let mut overlay = Overlay::new(snapshot.as_ref());
            if let Ok(processed) =
                manager.process_message(frame_number, 1, &target, &message, &mut overlay)
            {
                prop_assert!(matches!(
                    processed.status,
                    MessageStatus::Applied | MessageStatus::Failed
                ));
            }
            let result = manager
                .execute_frame(&Frame::new(frame_number).message(target, message.clone()))
                .unwrap();
            next_frame.fetch_add(1, Ordering::SeqCst);
            prop_assert_eq!(result.receipt.outcomes.len(), 1);
            let outcome = &result.receipt.outcomes[0];
            prop_assert_eq!(
                &outcome.message_hash,
                &blake3::hash(&message).as_bytes().to_vec()
            );
            prop_assert!(status(outcome) != MessageStatus::Unspecified);
            Ok(())
        })
        .unwrap();
    assert_eq!(next_frame.into_inner(), 161, "every case ran a frame");
    assert!(!manager.cancellation_token().is_cancelled());
}

#[test]
fn frames_of_arbitrary_messages_report_every_message() {
    let manager = manager();
    let next_frame = AtomicU64::new(1);
    runner(32)
        .run(&vec(inputs(), 0..8), |messages| {
            let frame_number = next_frame.load(Ordering::SeqCst);
            let frame = messages
                .iter()
                .fold(Frame::new(frame_number), |frame, (target, bytes)| {
                    frame.message(target.clone(), bytes.clone())
                });
            let result = manager.execute_frame(&frame).unwrap();
            next_frame.fetch_add(1, Ordering::SeqCst);
            prop_assert_eq!(result.receipt.outcomes.len(), messages.len());
            prop_assert_eq!(result.head, manager.head().unwrap());
            for outcome in &result.receipt.outcomes {
                let applied = matches!(
                    status(outcome),
                    MessageStatus::Applied | MessageStatus::Failed
                );
                prop_assert!(applied || fee(outcome) == 0);
                prop_assert!(applied || !outcome.reason.is_empty());
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(next_frame.into_inner(), 33, "every case ran a frame");
}
