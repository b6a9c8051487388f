//! Seed inputs of every target, made from the world: the valid messages of the held-back
//! frames, replays of the warm-up frames, queries the world answers, receipts and records.

use std::collections::BTreeMap;

use switchyard_proto::v1::{self, MessageRequest};
use switchyard_proto::{AnyMessage, decode_any};
use switchyard_router::domains::{metadata_address, native_account};
use switchyard_router::fees::AccountRecord;
use switchyard_router::{Call, Key};
use switchyard_state::Store;

use crate::input::{FrameInput, write_frame, write_message};
use crate::world::{World, managers, world};

/// Replays of the warm-up frames among the message seeds.
const REPLAYS: usize = 6;

/// The seeds of target `name` (empty for an unknown name).
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    let world = world();
    match name {
        "decode" => decode_seeds(world),
        "records" => record_seeds(world),
        "cost" => messages(world).map(|(_, message)| message).collect(),
        "validate" | "lock" | "process" => messages(world)
            .map(|(target, message)| write_message(&world.targets, &target, &message))
            .collect(),
        "query" => queries(world)
            .into_iter()
            .map(|(target, query)| write_message(&world.targets, &target, &query))
            .collect(),
        "frame" => frame_seeds(world),
        _ => Vec::new(),
    }
}

/// The held-back messages (valid at the world's head), then a few replays.
fn messages(world: &World) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    world
        .next
        .iter()
        .flatten()
        .chain(world.executed.iter().take(REPLAYS))
        .cloned()
}

/// Each held-back frame alone, all of them together (also with signatures marked verified
/// and a higher fee multiplier), and a frame of replays.
fn frame_seeds(world: &World) -> Vec<Vec<u8>> {
    let mut frames: Vec<FrameInput> = world
        .next
        .iter()
        .map(|messages| FrameInput {
            signatures_verified: false,
            fee_multiplier: 1,
            messages: messages.clone(),
        })
        .collect();
    let all: Vec<(Vec<u8>, Vec<u8>)> = world.next.iter().flatten().cloned().collect();
    frames.push(FrameInput {
        signatures_verified: false,
        fee_multiplier: 2,
        messages: all.clone(),
    });
    frames.push(FrameInput {
        signatures_verified: true,
        fee_multiplier: 1,
        messages: all,
    });
    frames.push(FrameInput {
        signatures_verified: false,
        fee_multiplier: 1,
        messages: world.executed.iter().take(REPLAYS).cloned().collect(),
    });
    frames
        .iter()
        .map(|frame| write_frame(&world.targets, frame))
        .collect()
}

/// Up to three messages of each tag: operations, bundles, queries, answers and receipts.
fn decode_seeds(world: &World) -> Vec<Vec<u8>> {
    let managers = managers();
    let _one = managers.enter();
    let mut candidates: Vec<Vec<u8>> = world
        .next
        .iter()
        .flatten()
        .chain(&world.executed)
        .map(|(_, message)| message.clone())
        .collect();
    for (target, query) in queries(world) {
        if let Ok(answer) = managers.serial.query(&target, &query) {
            candidates.push(answer.response);
        }
        candidates.push(query);
    }
    for number in 1..=world.head.frame_number {
        if let Ok(Some(receipt)) = world.store.receipt(number) {
            candidates.push(receipt);
        }
    }
    let mut per_tag: BTreeMap<u32, usize> = BTreeMap::new();
    let mut seeds = Vec::new();
    for bytes in candidates {
        let tag = match decode_any(&bytes) {
            Ok(message) => message.tag().0,
            Err(_) => u32::MAX,
        };
        let count = per_tag.entry(tag).or_default();
        if *count < 3 && !seeds.contains(&bytes) {
            *count += 1;
            seeds.push(bytes);
        }
    }
    seeds
}

/// The signers of the world's messages.
fn signers(world: &World) -> Vec<Key> {
    let mut signers = Vec::new();
    for (_, message) in world.next.iter().flatten().chain(&world.executed) {
        let requests: Vec<MessageRequest> = match decode_any(message) {
            Ok(AnyMessage::MessageBundle(bundle)) => bundle.requests,
            Ok(other) => other.into_request().into_iter().collect(),
            Err(_) => Vec::new(),
        };
        for request in &requests {
            if let Ok(call) = Call::from_request(request)
                && !signers.contains(&call.signer)
            {
                signers.push(call.signer);
            }
        }
    }
    signers
}

/// Stored records read from the world (and a few built), each after its decoder's selector.
fn record_seeds(world: &World) -> Vec<Vec<u8>> {
    let snapshot = world.store.snapshot().expect("a snapshot of the world");
    let signers = signers(world);
    let mut seeds = Vec::new();
    let mut push = |kind: u8, bytes: Vec<u8>| {
        let mut seed = vec![kind];
        seed.extend(bytes);
        if !seeds.contains(&seed) {
            seeds.push(seed);
        }
    };
    push(
        0,
        AccountRecord {
            balance: 1_000,
            nonce: 7,
        }
        .encode(),
    );
    for signer in signers.iter().take(3) {
        if let Ok(Some(bytes)) = snapshot.get(&native_account(*signer)) {
            push(0, bytes);
        }
    }
    for target in world.targets.iter().filter(|t| t.len() == 32).take(8) {
        let Ok(domain) = switchyard_router::Domain::from_slice(target) else {
            continue;
        };
        if let Ok(Some(bytes)) = snapshot.get(&metadata_address(domain)) {
            push(1, bytes);
        }
    }
    push(2, switchyard_global::ProverRecord::new([7; 32]).encode());
    for signer in &signers {
        if let Ok(Some(bytes)) = snapshot.get(&switchyard_global::prover_address(signer)) {
            push(2, bytes);
        }
    }
    push(3, switchyard_global::RegistryConfig::default().encode());
    push(
        4,
        switchyard_token::Escrow {
            sender: [1; 32],
            recipient: [2; 32],
            amount: 500,
            expiry_frame: 9,
        }
        .encode(),
    );
    push(5, switchyard_state::Lattice::new().to_bytes());
    seeds
}

/// Queries of every engine at every known domain that the world answers.
fn queries(world: &World) -> Vec<(Vec<u8>, Vec<u8>)> {
    use switchyard_proto::CanonicalMessage;
    use v1::{compute_query as cq, global_query as gq, hypergraph_query as hq, token_query as tq};

    let signers = signers(world);
    let account = signers.first().copied().unwrap_or_default().to_vec();
    let candidates: Vec<Vec<u8>> = vec![
        v1::TokenQuery {
            query: Some(tq::Query::Balance(tq::Balance {
                account: account.clone(),
            })),
        }
        .to_canonical_bytes(),
        v1::TokenQuery {
            query: Some(tq::Query::Info(tq::Info {})),
        }
        .to_canonical_bytes(),
        v1::TokenQuery {
            query: Some(tq::Query::Pending(tq::Pending {
                account: account.clone(),
            })),
        }
        .to_canonical_bytes(),
        v1::GlobalQuery {
            query: Some(gq::Query::Config(gq::Config {})),
            ..Default::default()
        }
        .to_canonical_bytes(),
        v1::GlobalQuery {
            query: Some(gq::Query::Prover(gq::Prover {
                key: account.clone(),
            })),
            ..Default::default()
        }
        .to_canonical_bytes(),
        v1::GlobalQuery {
            query: Some(gq::Query::ByStatus(gq::ByStatus { status: 1 })),
            ..Default::default()
        }
        .to_canonical_bytes(),
        v1::HypergraphQuery {
            query: Some(hq::Query::Config(hq::Config {})),
        }
        .to_canonical_bytes(),
        v1::HypergraphQuery {
            query: Some(hq::Query::Vertex(hq::Vertex { key: vec![1; 32] })),
        }
        .to_canonical_bytes(),
        v1::ComputeQuery {
            query: Some(cq::Query::App(cq::App {})),
        }
        .to_canonical_bytes(),
        v1::ComputeQuery {
            query: Some(cq::Query::State(cq::State { key: vec![1; 32] })),
        }
        .to_canonical_bytes(),
    ];
    let managers = managers();
    let mut answered = Vec::new();
    for target in world.targets.iter().filter(|t| t.len() == 32) {
        for query in &candidates {
            if managers.serial.query(target, query).is_ok() {
                answered.push((target.clone(), query.clone()));
            }
        }
    }
    // One of each that is refused: a query sent to another engine's domain.
    if let (Some(target), Some(query)) = (world.targets.first(), candidates.get(6)) {
        answered.push((target.clone(), query.clone()));
    }
    answered
}
