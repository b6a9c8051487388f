//! The notary, written outside the workspace's engine crates, registered in a manager next to
//! the four built-in engines (none of them changed), passes the conformance kit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use switchyard_example_custom_engine::{NOTARY, NotaryEngine};
use switchyard_manager::{Frame, Manager};
use switchyard_proto::v1::{MessageStatus, VertexAdd};
use switchyard_router::auth::SigningKey;
use switchyard_router::{Address, Engine, Signer};
use switchyard_testkit::Conformance;
use switchyard_testkit::workload::NETWORK_ID;
use switchyard_token::NativeGenesis;

fn engines() -> Vec<Arc<dyn Engine>> {
    vec![
        Arc::new(switchyard_token::TokenEngine::new()),
        Arc::new(switchyard_hypergraph::HypergraphEngine::new()),
        Arc::new(switchyard_global::GlobalEngine::new()),
        Arc::new(switchyard_compute::ComputeEngine::new()),
        Arc::new(NotaryEngine),
    ]
}

/// Eight notaries, frames of notarizations: mostly new documents, some already notarized.
fn frames(signers: &mut [Signer]) -> Vec<Frame> {
    let mut frames = Vec::new();
    for number in 1..=4u64 {
        let mut frame = Frame::new(number);
        for (i, signer) in signers.iter_mut().enumerate() {
            // Every third document id repeats one from the frame before: a failure.
            let document = |frame: u64| {
                *blake3::hash(&[i.to_be_bytes(), frame.to_be_bytes()].concat()).as_bytes()
            };
            let id = if i % 3 == 0 && number > 1 {
                document(number - 1)
            } else {
                document(number)
            };
            let op = VertexAdd {
                key: id.to_vec(),
                data: blake3::hash(&id).as_bytes().to_vec(),
                auth: None,
            };
            let (target, bytes) = signer.sign(NOTARY, op).into_parts();
            frame = frame.message(target.0, bytes);
        }
        frames.push(frame);
    }
    frames
}

fn signers() -> Vec<Signer> {
    (1..=8u8)
        .map(|n| Signer::new(SigningKey::from_bytes(&[n; 32]), NETWORK_ID, 1))
        .collect()
}

fn genesis(signers: &[Signer]) -> switchyard_state::ChangeSet {
    let genesis = NativeGenesis {
        balances: signers
            .iter()
            .map(|s| (s.public_key(), 1_000_000))
            .collect(),
        ..Default::default()
    };
    switchyard_token::genesis(&genesis)
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn the_notary_runs_next_to_the_built_in_engines() {
    let mut signers = signers();
    let manager = Manager::builder()
        .engines(engines())
        .network_id(NETWORK_ID)
        .build()
        .unwrap();
    manager.genesis(0, &genesis(&signers)).unwrap();
    let frames = frames(&mut signers);
    let first = manager.execute_frame(&frames[0]).unwrap().receipt;
    assert!(
        first
            .outcomes
            .iter()
            .all(|o| o.status() == MessageStatus::Applied)
    );
    let second = manager.execute_frame(&frames[1]).unwrap().receipt;
    assert_eq!(second.outcomes[0].status(), MessageStatus::Failed);
    assert!(second.outcomes[0].reason.contains("notarized already"));
    // The manager prices it through the engine it routes to, as the frame did.
    let (_, bytes) = &frames[2].messages[1];
    assert_eq!(manager.cost(bytes).unwrap(), 500u32.into());
    let snapshot = manager.store().snapshot().unwrap();
    let id = *blake3::hash(&[1usize.to_be_bytes(), 1u64.to_be_bytes()].concat()).as_bytes();
    let record =
        switchyard_router::StateRead::get(snapshot.as_ref(), &Address::new(NOTARY, id)).unwrap();
    assert_eq!(record.map(|r| r.len()), Some(64));
}

#[test]
fn the_notary_passes_the_conformance_kit() {
    let mut signers = signers();
    let mut kit = Conformance::new(NETWORK_ID).genesis(genesis(&signers));
    for engine in engines() {
        kit = kit.engine(engine);
    }
    let report = kit.frames(frames(&mut signers)).run().unwrap();
    assert!(report.applied >= 20 && report.failed >= 3, "{report:?}");
}
