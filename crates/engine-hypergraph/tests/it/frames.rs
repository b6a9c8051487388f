//! Frames through a real manager (the native token paying fees): an operation that reads what
//! an earlier message of the same frame changed sees exactly what serial order says, at 1, 2
//! and 4 threads; results and queries go through the manager; disjoint writers on disjoint
//! hypergraphs do not conflict.

use std::sync::Arc;

use switchyard_hypergraph::{HypergraphClient, HypergraphEngine, HypergraphSpec};
use switchyard_manager::{Frame, FrameResult, Manager};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::hypergraph_query::{HyperedgesOfVertex, Query, Vertex};
use switchyard_proto::v1::hypergraph_query_response::{self as response, Response};
use switchyard_proto::v1::{HypergraphQuery, HypergraphQueryResponse, MessageStatus};
use switchyard_router::auth::SigningKey;
use switchyard_router::{Address, Call, Domain, Engine, ExecutionContext, Key, MemoryView};
use switchyard_state::ChangeSet;
use switchyard_token::{NativeGenesis, TokenEngine};

use crate::common::NET;

/// A client for signer `n` whose key is derived from `n` (its public key is a real point).
fn signer(n: u8) -> HypergraphClient {
    HypergraphClient::new(SigningKey::from_bytes(&[n; 32]), NET, 1)
}

fn manager(threads: usize) -> Manager {
    Manager::builder()
        .engine(Arc::new(TokenEngine::new()))
        .engine(Arc::new(HypergraphEngine::new()))
        .network_id(NET)
        .threads(threads)
        .build()
        .unwrap()
}

fn genesis(keys: &[Key]) -> ChangeSet {
    let config = NativeGenesis {
        balances: keys.iter().map(|k| (*k, 1_000_000_000)).collect(),
        ..Default::default()
    };
    switchyard_token::genesis(&config)
        .unwrap()
        .into_iter()
        .collect()
}

fn status(result: &FrameResult) -> Vec<MessageStatus> {
    result
        .receipt
        .outcomes
        .iter()
        .map(|o| MessageStatus::try_from(o.status).unwrap())
        .collect()
}

/// The scenario: alice owns G (writers alice and carol), bob owns H. Returns the frames and
/// the two domains.
fn frames() -> (Vec<Frame>, Domain, Domain, Vec<Key>) {
    let (mut alice, mut bob, mut carol) = (signer(1), signer(2), signer(3));
    let keys = vec![alice.public_key(), bob.public_key(), carol.public_key()];
    let (g, deploy_g) = alice.deploy(
        HypergraphSpec::new()
            .writer(alice.public_key())
            .writer(carol.public_key()),
    );
    let (h, deploy_h) = bob.deploy(HypergraphSpec::new().writer(bob.public_key()));
    let at = |graph: Domain, n: u8| Address::new(graph, [n; 32]);
    let frame = |number: u64, ops: Vec<switchyard_router::SignedRequest>| {
        ops.into_iter().fold(Frame::new(number), |frame, op| {
            let (target, bytes) = op.into_parts();
            frame.message(target.0, bytes)
        })
    };
    let first = frame(1, vec![deploy_g, deploy_h]);
    let second = frame(
        2,
        vec![
            alice.vertex_add(g, [1; 32], b"v1".to_vec()),
            alice.vertex_add(g, [2; 32], b"v2".to_vec()),
            alice.vertex_add(g, [3; 32], b"v3".to_vec()),
            bob.vertex_add(h, [1; 32], b"w1".to_vec()),
        ],
    );
    // Each dependency below is through a hypergraph address only: the signers differ.
    let third = frame(
        3,
        vec![
            // Removes v1 ...
            carol.vertex_remove(g, [1; 32]),
            // ... so this hyperedge add reads a vertex removed earlier in the frame: refused.
            alice.hyperedge_add(g, [0xe1; 32], &[at(g, 1), at(g, 2)]),
            // Pins v3 from another hypergraph ...
            bob.hyperedge_add(h, [0xf1; 32], &[at(h, 1), at(g, 3)]),
            // ... so removing v3 later in the frame is refused.
            carol.vertex_remove(g, [3; 32]),
            // Independent work.
            bob.vertex_add(h, [2; 32], b"w2".to_vec()),
            alice.hyperedge_add(g, [0xe2; 32], &[at(g, 2)]),
        ],
    );
    // The other way round: a vertex added earlier in the frame may be a member.
    let fourth = frame(
        4,
        vec![
            carol.vertex_add(g, [1; 32], b"v1 again".to_vec()),
            alice.hyperedge_add(g, [0xe1; 32], &[at(g, 1), at(g, 2)]),
        ],
    );
    (vec![first, second, third, fourth], g, h, keys)
}

fn run(manager: &Manager, frames: &[Frame], keys: &[Key], serial: bool) -> Vec<FrameResult> {
    manager.genesis(0, &genesis(keys)).unwrap();
    frames
        .iter()
        .map(|frame| {
            if serial {
                manager.execute_frame_serial(frame).unwrap()
            } else {
                manager.execute_frame(frame).unwrap()
            }
        })
        .collect()
}

#[test]
fn a_hyperedge_add_after_a_removal_in_the_same_frame_fails_as_serial_order_says() {
    let (frames, g, h, keys) = frames();
    let reference = run(&manager(1), &frames, &keys, true);
    use MessageStatus::{Applied as A, Failed as F};
    assert_eq!(status(&reference[0]), [A, A]);
    assert_eq!(
        reference[0].receipt.outcomes[0].results,
        vec![g.0.to_vec()],
        "a deploy's result is its domain"
    );
    assert_eq!(reference[0].receipt.outcomes[1].results, vec![h.0.to_vec()]);
    assert_eq!(status(&reference[1]), [A; 4]);
    assert_eq!(status(&reference[2]), [A, F, A, F, A, A]);
    let third = &reference[2].receipt.outcomes;
    assert!(
        third[1].reason.contains("is not an existing vertex"),
        "{}",
        third[1].reason
    );
    assert!(
        third[3].reason.contains("is a member of hyperedge"),
        "{}",
        third[3].reason
    );
    assert!(
        third[1].fee.is_some() && third[3].fee.is_some(),
        "failures keep their fee"
    );
    assert_eq!(status(&reference[3]), [A, A]);

    for threads in [1, 2, 4] {
        let manager = manager(threads);
        let results = run(&manager, &frames, &keys, false);
        assert_eq!(results, reference, "{threads} threads");
        assert_eq!(
            manager.store().recompute_root().unwrap(),
            reference[3].head.state_root
        );
    }
}

fn ask(manager: &Manager, graph: Domain, query: Query) -> Response {
    let bytes = HypergraphQuery { query: Some(query) }.to_canonical_bytes();
    let answer = manager.query(&graph.0, &bytes).unwrap();
    HypergraphQueryResponse::from_canonical_bytes(&answer.response)
        .unwrap()
        .response
        .unwrap()
}

#[test]
fn queries_go_through_the_manager_to_the_hypergraph_domain() {
    let (frames, g, h, keys) = frames();
    let manager = manager(2);
    run(&manager, &frames, &keys, false);
    let v3 = Address::new(g, [3; 32]);
    assert_eq!(
        ask(
            &manager,
            g,
            Query::HyperedgesOfVertex(HyperedgesOfVertex {
                vertex: v3.to_bytes().to_vec()
            })
        ),
        Response::HyperedgesOfVertex(response::Hyperedges {
            hyperedges: vec![Address::new(h, [0xf1; 32]).to_bytes().to_vec()]
        })
    );
    assert_eq!(
        ask(&manager, g, Query::Vertex(Vertex { key: vec![1; 32] })),
        Response::Vertex(response::Vertex {
            found: true,
            data: b"v1 again".to_vec()
        })
    );
}

#[test]
fn operations_on_disjoint_hypergraphs_by_disjoint_writers_do_not_conflict() {
    let engine = HypergraphEngine::new();
    let ctx = ExecutionContext::new(1, NET);
    let state = MemoryView::default();
    let (mut alice, mut bob) = (signer(1), signer(2));
    let (g, h) = (Domain([1; 32]), Domain([2; 32]));
    let access = |op: &switchyard_router::SignedRequest| {
        let call = Call::from_request(&op.request).unwrap();
        engine.access(&ctx, &call, &state).unwrap()
    };
    let mine = [
        access(&alice.vertex_add(g, [1; 32], vec![1])),
        access(&alice.hyperedge_add(g, [2; 32], &[Address::new(g, [1; 32])])),
        access(&alice.vertex_remove(g, [3; 32])),
    ];
    let theirs = [
        access(&bob.vertex_add(h, [1; 32], vec![1])),
        access(&bob.hyperedge_add(h, [2; 32], &[Address::new(h, [1; 32])])),
        access(&bob.hyperedge_remove(h, [2; 32], &[Address::new(h, [1; 32])])),
    ];
    for a in &mine {
        for b in &theirs {
            assert!(!a.conflicts_with(b), "{a:?} conflicts with {b:?}");
        }
    }
    // Two writers of one hypergraph share only the metadata read while their keys differ.
    let mut carol = signer(3);
    let same_graph = access(&carol.vertex_add(g, [9; 32], vec![]));
    assert!(!mine[0].conflicts_with(&same_graph));
}
