//! No input makes the engine panic or leave its declared access set.

use proptest::prelude::*;
use switchyard_hypergraph::HypergraphSpec;
use switchyard_proto::v1::MessageRequest;
use switchyard_router::domains::HYPERGRAPH;
use switchyard_router::{Address, Call, Domain, Engine, EngineError, StateError};

use crate::common::{Chain, Checked, client};

/// A chain with a hypergraph holding a vertex and a hyperedge over it.
fn chain_with_graph() -> (Chain, Domain) {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy(
        &mut alice,
        HypergraphSpec::new().writer(client(1).public_key()),
    );
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"v");
    chain
        .submit(&alice.hyperedge_add(graph, [2; 32], &[v]))
        .unwrap();
    (chain, graph)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary requests, sent to arbitrary targets by arbitrary signers: errors, never
    /// panics, and apply stays inside the access set it declared.
    #[test]
    fn arbitrary_requests_never_panic_or_leave_their_access_set(
        request in any::<MessageRequest>(),
        choice in 0u8..3,
        random in any::<[u8; 32]>(),
        writer in any::<bool>(),
    ) {
        let (mut chain, graph) = chain_with_graph();
        let target = match choice {
            0 => HYPERGRAPH,
            1 => graph,
            _ => Domain(random),
        };
        let ctx = chain.ctx();
        let engine = chain.engine.clone();
        let _ = engine.cost(&request);
        let signer = if writer { client(1).public_key() } else { random };
        let call = Call { request: &request, target, signer, nonce: 1 };
        let _ = engine.validate(&ctx, &call, &chain.state);
        if let Ok(access) = engine.access(&ctx, &call, &chain.state) {
            let mut checked = Checked::new(&mut chain.state, &access);
            if let Err(error) = engine.apply(&ctx, &call, &mut checked) {
                prop_assert!(
                    !matches!(error, EngineError::State(StateError::AccessViolation { .. })),
                    "{}", error
                );
            }
        } else {
            let mut scratch = chain.state.clone();
            prop_assert!(engine.apply(&ctx, &call, &mut scratch).is_err());
        }
    }

    /// Hyperedge operations over members drawn from existing and random addresses keep to
    /// their access sets too.
    #[test]
    fn hyperedge_operations_over_any_members_keep_to_their_access_set(
        picks in proptest::collection::vec((0u8..4, any::<[u8; 32]>()), 1..6),
        remove in any::<bool>(),
    ) {
        let (mut chain, graph) = chain_with_graph();
        let mut alice = client(1);
        chain.sync(&mut alice);
        let members: Vec<Address> = picks
            .iter()
            .map(|(kind, bytes)| match kind {
                0 => Address::new(graph, [1; 32]),
                1 => Address::new(graph, [2; 32]),
                2 => Address::new(graph, *bytes),
                _ => Address::new(Domain(*bytes), *bytes),
            })
            .collect();
        let op = if remove {
            alice.hyperedge_remove(graph, [2; 32], &members)
        } else {
            alice.hyperedge_add(graph, [3; 32], &members)
        };
        // The chain asserts the access discipline; the outcome may be either.
        let _ = chain.submit(&op);
    }

    /// Records that do not decode (written by someone else, or corrupted) are errors, never
    /// panics, and never an access violation.
    #[test]
    fn corrupt_records_are_errors_not_panics(
        metadata in proptest::collection::vec(any::<u8>(), 0..80),
        vertex in proptest::collection::vec(any::<u8>(), 0..80),
        index in proptest::collection::vec(any::<u8>(), 0..80),
        edge in proptest::collection::vec(any::<u8>(), 0..80),
    ) {
        let (mut chain, graph) = chain_with_graph();
        let mut alice = client(1);
        chain.sync(&mut alice);
        let v = Address::new(graph, [1; 32]);
        let ops = [
            alice.vertex_add(graph, [1; 32], b"x".to_vec()),
            alice.vertex_remove(graph, [1; 32]),
            alice.hyperedge_add(graph, [3; 32], &[v]),
            alice.hyperedge_remove(graph, [2; 32], &[v]),
            alice.update(graph, HypergraphSpec::new(), None),
        ];
        chain.state.entries.insert(switchyard_router::domains::metadata_address(graph), metadata);
        chain.state.entries.insert(v, vertex);
        chain.state.entries.insert(switchyard_hypergraph::membership_address(&v), index);
        chain.state.entries.insert(Address::new(graph, [2; 32]), edge);
        for op in &ops {
            let call = Call::from_request(&op.request).unwrap();
            let ctx = chain.ctx();
            let access = chain.engine.access(&ctx, &call, &chain.state).unwrap();
            let mut scratch = chain.state.clone();
            let mut checked = Checked::new(&mut scratch, &access);
            if let Err(error) = chain.engine.apply(&ctx, &call, &mut checked) {
                prop_assert!(
                    !matches!(error, EngineError::State(StateError::AccessViolation { .. })),
                    "{}", error
                );
            }
        }
    }
}
