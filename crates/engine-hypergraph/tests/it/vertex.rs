//! Vertex add and remove: success paths, and each refusal with state checked afterwards.

use switchyard_hypergraph::{
    HARD_MAX_VERTEX_SIZE, HypergraphError, HypergraphSpec, membership_key,
};
use switchyard_proto::v1::{VertexAdd, VertexRemove};
use switchyard_router::Address;
use switchyard_router::domains::METADATA_KEY;

use crate::common::*;

#[test]
fn a_writer_adds_replaces_and_removes_a_vertex() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"first");
    assert_eq!(chain.vertex(v), Some(b"first".to_vec()));
    chain.add_vertex(&mut alice, graph, [1; 32], b"second");
    assert_eq!(chain.vertex(v), Some(b"second".to_vec()));
    let empty = chain.add_vertex(&mut alice, graph, [2; 32], b"");
    assert_eq!(
        chain.vertex(empty),
        Some(vec![]),
        "an empty blob is a vertex"
    );
    chain.submit(&alice.vertex_remove(graph, [1; 32])).unwrap();
    assert_eq!(chain.vertex(v), None);
    assert!(!chain.state.entries.contains_key(&v));
    // Added again after removal.
    chain.add_vertex(&mut alice, graph, [1; 32], b"third");
    assert_eq!(chain.vertex(v), Some(b"third".to_vec()));
}

#[test]
fn oversized_data_is_refused_against_the_hypergraph_limit_and_the_hard_cap() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy(
        &mut alice,
        HypergraphSpec::new()
            .writer(client(1).public_key())
            .max_vertex_size(8),
    );
    chain.add_vertex(&mut alice, graph, [1; 32], &[0; 8]);
    let op = alice.vertex_add(graph, [1; 32], vec![0; 9]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::VertexTooLarge { size: 9, limit: 8 }
    );
    assert_eq!(chain.vertex(Address::new(graph, [1; 32])), Some(vec![0; 8]));
    let op = alice.vertex_add(graph, [1; 32], vec![0; HARD_MAX_VERTEX_SIZE as usize + 1]);
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::VertexTooLarge {
            size: HARD_MAX_VERTEX_SIZE as usize + 1,
            limit: HARD_MAX_VERTEX_SIZE
        }
    );
}

#[test]
fn a_non_writer_cannot_add_or_remove() {
    let mut alice = client(1);
    let mut bob = client(2);
    let mut chain = Chain::new(&[alice.public_key(), bob.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    chain.add_vertex(&mut alice, graph, [1; 32], b"x");
    for op in [
        bob.vertex_add(graph, [2; 32], b"y".to_vec()),
        bob.vertex_remove(graph, [1; 32]),
    ] {
        assert_eq!(
            refused_at_apply(&mut chain, &op),
            HypergraphError::NotWriter {
                signer: bob.public_key(),
                domain: graph
            }
        );
    }
    // The owner is no writer unless listed.
    let locked = chain.deploy(&mut alice, HypergraphSpec::new());
    let op = alice.vertex_add(locked, [1; 32], vec![]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::NotWriter {
            signer: alice.public_key(),
            domain: locked
        }
    );
}

#[test]
fn malformed_and_reserved_keys_are_refused_by_validate() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let op = alice.vertex_add(graph, METADATA_KEY, b"x".to_vec());
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::ReservedKey {
            field: "vertex key"
        }
    );
    let op = alice.sign(
        graph,
        VertexAdd {
            key: vec![1; 33],
            data: vec![],
            auth: None,
        },
    );
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::BadKeyLength {
            field: "vertex key",
            len: 33
        }
    );
    let op = alice.sign(
        graph,
        VertexRemove {
            key: vec![],
            auth: None,
        },
    );
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::BadKeyLength {
            field: "vertex key",
            len: 0
        }
    );
    let op = alice.vertex_remove(graph, METADATA_KEY);
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::ReservedKey {
            field: "vertex key"
        }
    );
}

#[test]
fn removing_a_missing_vertex_or_another_kind_is_refused() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let op = alice.vertex_remove(graph, [1; 32]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::UnknownVertex { key: [1; 32] }
    );
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"x");
    chain
        .submit(&alice.hyperedge_add(graph, [2; 32], &[v]))
        .unwrap();
    // The hyperedge's key and the vertex's index key hold other kinds.
    let op = alice.vertex_remove(graph, [2; 32]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::WrongKind {
            key: [2; 32],
            expected: "vertex",
            found: "hyperedge"
        }
    );
    for op in [
        alice.vertex_add(graph, [2; 32], b"over an edge".to_vec()),
        alice.vertex_add(graph, membership_key(&[1; 32]), b"over an index".to_vec()),
    ] {
        let error = refused_at_apply(&mut chain, &op);
        assert!(
            matches!(
                error,
                HypergraphError::WrongKind {
                    expected: "vertex",
                    ..
                }
            ),
            "{error}"
        );
    }
    assert_eq!(chain.hyperedge(Address::new(graph, [2; 32])), Some(vec![v]));
}

#[test]
fn a_vertex_in_a_live_hyperedge_cannot_be_removed_and_the_refusal_names_the_hyperedge() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"x");
    let w = chain.add_vertex(&mut alice, graph, [2; 32], b"y");
    let members = [v, w];
    chain
        .submit(&alice.hyperedge_add(graph, [9; 32], &members))
        .unwrap();
    let op = alice.vertex_remove(graph, [1; 32]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::VertexInUse {
            key: [1; 32],
            hyperedge: Address::new(graph, [9; 32])
        }
    );
    assert_eq!(chain.vertex(v), Some(b"x".to_vec()));
    // Replacing its data is allowed: the vertex stays.
    chain.add_vertex(&mut alice, graph, [1; 32], b"x2");
    // Once the hyperedge is gone, the vertex may go.
    chain
        .submit(&alice.hyperedge_remove(graph, [9; 32], &members))
        .unwrap();
    chain.submit(&alice.vertex_remove(graph, [1; 32])).unwrap();
    assert_eq!(chain.vertex(v), None);
}
