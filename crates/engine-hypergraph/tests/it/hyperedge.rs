//! Hyperedge add and remove: members across hypergraphs, the membership index, and each
//! refusal with state checked afterwards.

use switchyard_hypergraph::{
    HARD_MAX_MEMBERS, HypergraphError, HypergraphSpec, MAX_HYPEREDGES_PER_VERTEX,
    membership_address, membership_key,
};
use switchyard_proto::v1::HyperedgeAdd;
use switchyard_router::domains::{METADATA_KEY, native_account};
use switchyard_router::{Address, Domain};

use crate::common::*;

#[test]
fn a_hyperedge_over_vertices_of_two_hypergraphs_is_indexed_at_every_member() {
    let mut alice = client(1);
    let mut bob = client(2);
    let mut chain = Chain::new(&[alice.public_key(), bob.public_key()]);
    let mine = chain.deploy_own(&mut alice);
    let theirs = chain.deploy_own(&mut bob);
    let v = chain.add_vertex(&mut alice, mine, [1; 32], b"v");
    let w = chain.add_vertex(&mut bob, theirs, [1; 32], b"w");
    let e = Address::new(mine, [7; 32]);
    // Alice needs no permission from bob's hypergraph to reference its vertex.
    chain
        .submit(&alice.hyperedge_add(mine, [7; 32], &[w, v]))
        .unwrap();
    assert_eq!(
        chain.hyperedge(e),
        Some(vec![w, v]),
        "members keep their order"
    );
    assert_eq!(chain.hyperedges_of(v), vec![e]);
    assert_eq!(chain.hyperedges_of(w), vec![e]);
    assert!(chain.state.entries.contains_key(&membership_address(&w)));
    assert_eq!(
        membership_address(&w).domain,
        theirs,
        "indexed in the vertex's domain"
    );

    // A second hyperedge in bob's hypergraph over the same vertex: both listed, sorted.
    let f = Address::new(theirs, [8; 32]);
    chain
        .submit(&bob.hyperedge_add(theirs, [8; 32], &[w]))
        .unwrap();
    let mut both = vec![e, f];
    both.sort();
    assert_eq!(chain.hyperedges_of(w), both);
    // Neither owner may now remove w.
    let op = bob.vertex_remove(theirs, [1; 32]);
    assert!(matches!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::VertexInUse { .. }
    ));

    // Removing e releases v entirely (its index is deleted) and w partly.
    chain
        .submit(&alice.hyperedge_remove(mine, [7; 32], &[w, v]))
        .unwrap();
    assert_eq!(chain.hyperedge(e), None);
    assert_eq!(chain.hyperedges_of(v), vec![]);
    assert!(!chain.state.entries.contains_key(&membership_address(&v)));
    assert_eq!(chain.hyperedges_of(w), vec![f]);
    chain.submit(&alice.vertex_remove(mine, [1; 32])).unwrap();
    // The key is free again: a new hyperedge may use it.
    let x = chain.add_vertex(&mut alice, mine, [2; 32], b"x");
    chain
        .submit(&alice.hyperedge_add(mine, [7; 32], &[x]))
        .unwrap();
    assert_eq!(chain.hyperedges_of(x), vec![e]);
}

#[test]
fn members_outside_a_hypergraph_or_missing_are_refused() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"v");
    let account = native_account(alice.public_key());
    let nowhere = Address::new(Domain([0x42; 32]), [1; 32]);
    for member in [account, nowhere] {
        let op = alice.hyperedge_add(graph, [9; 32], &[v, member]);
        assert_eq!(
            refused_at_apply(&mut chain, &op),
            HypergraphError::MemberNotInHypergraph { address: member },
            "{member:?}"
        );
    }
    let missing = Address::new(graph, [2; 32]);
    let op = alice.hyperedge_add(graph, [9; 32], &[v, missing]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::UnknownMember { address: missing }
    );
    // A hyperedge is not a vertex.
    chain
        .submit(&alice.hyperedge_add(graph, [3; 32], &[v]))
        .unwrap();
    let edge = Address::new(graph, [3; 32]);
    let op = alice.hyperedge_add(graph, [9; 32], &[edge]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::UnknownMember { address: edge }
    );
    assert_eq!(chain.hyperedge(Address::new(graph, [9; 32])), None);
    assert_eq!(chain.hyperedges_of(v), vec![edge]);
}

#[test]
fn malformed_member_lists_are_refused_by_validate() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"v");
    let raw = |members: Vec<Vec<u8>>| HyperedgeAdd {
        key: vec![9; 32],
        members,
        auth: None,
    };
    let cases = vec![
        (raw(vec![]), HypergraphError::NoMembers),
        (
            raw(vec![v.to_bytes().to_vec(), vec![1; 63]]),
            HypergraphError::BadMemberAddress { index: 1, len: 63 },
        ),
        (
            raw(vec![v.to_bytes().to_vec(), v.to_bytes().to_vec()]),
            HypergraphError::DuplicateMember { address: v },
        ),
        (
            raw(vec![Address::new(graph, METADATA_KEY).to_bytes().to_vec()]),
            HypergraphError::ReservedKey {
                field: "member key",
            },
        ),
        (
            raw((0..=HARD_MAX_MEMBERS)
                .map(|n| {
                    let mut key = [0; 32];
                    key[..4].copy_from_slice(&n.to_be_bytes());
                    Address::new(graph, key).to_bytes().to_vec()
                })
                .collect()),
            HypergraphError::TooManyMembers {
                count: HARD_MAX_MEMBERS as usize + 1,
                limit: HARD_MAX_MEMBERS,
            },
        ),
        (
            HyperedgeAdd {
                key: METADATA_KEY.to_vec(),
                members: vec![v.to_bytes().to_vec()],
                auth: None,
            },
            HypergraphError::ReservedKey {
                field: "hyperedge key",
            },
        ),
    ];
    for (op, expected) in cases {
        let op = alice.sign(graph, op);
        assert_eq!(refused_at_validate(&mut chain, &mut alice, &op), expected);
    }
}

#[test]
fn the_hypergraph_member_limit_and_the_writer_list_apply() {
    let mut alice = client(1);
    let mut bob = client(2);
    let mut chain = Chain::new(&[alice.public_key(), bob.public_key()]);
    let graph = chain.deploy(
        &mut alice,
        HypergraphSpec::new()
            .writer(client(1).public_key())
            .max_hyperedge_members(2),
    );
    let members: Vec<Address> = (1..=3u8)
        .map(|n| chain.add_vertex(&mut alice, graph, [n; 32], b""))
        .collect();
    let op = alice.hyperedge_add(graph, [9; 32], &members);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::TooManyMembers { count: 3, limit: 2 }
    );
    let op = bob.hyperedge_add(graph, [9; 32], &members[..2]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::NotWriter {
            signer: bob.public_key(),
            domain: graph
        }
    );
    chain
        .submit(&alice.hyperedge_add(graph, [9; 32], &members[..2]))
        .unwrap();
    let op = bob.hyperedge_remove(graph, [9; 32], &members[..2]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::NotWriter {
            signer: bob.public_key(),
            domain: graph
        }
    );
    assert_eq!(chain.hyperedges_of(members[0]).len(), 1);
}

#[test]
fn an_existing_key_is_refused_for_a_new_hyperedge() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"v");
    let w = chain.add_vertex(&mut alice, graph, [2; 32], b"w");
    chain
        .submit(&alice.hyperedge_add(graph, [9; 32], &[v]))
        .unwrap();
    let op = alice.hyperedge_add(graph, [9; 32], &[w]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::HyperedgeExists { key: [9; 32] }
    );
    let op = alice.hyperedge_add(graph, [2; 32], &[v]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::WrongKind {
            key: [2; 32],
            expected: "hyperedge",
            found: "vertex"
        }
    );
    assert_eq!(chain.hyperedges_of(w), vec![]);
}

#[test]
fn a_derived_index_key_taken_by_another_record_is_refused() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"v");
    // A writer stores a vertex at v's index key: v can no longer be indexed.
    chain.add_vertex(&mut alice, graph, membership_key(&[1; 32]), b"squatter");
    let op = alice.hyperedge_add(graph, [9; 32], &[v]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::IndexKeyTaken {
            address: v,
            found: "vertex"
        }
    );
    // A hyperedge stored at its own member's index key is refused too.
    let w = chain.add_vertex(&mut alice, graph, [2; 32], b"w");
    let op = alice.hyperedge_add(graph, membership_key(&[2; 32]), &[w]);
    assert!(matches!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::WrongKind { .. }
    ));
    assert_eq!(chain.hyperedges_of(w), vec![]);
}

#[test]
fn a_vertex_is_in_at_most_the_bounded_number_of_hyperedges() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"v");
    let edge_key = |n: usize| {
        let mut key = [0xe0; 32];
        key[..8].copy_from_slice(&(n as u64).to_be_bytes());
        key
    };
    for n in 0..MAX_HYPEREDGES_PER_VERTEX {
        chain
            .submit(&alice.hyperedge_add(graph, edge_key(n), &[v]))
            .unwrap();
    }
    assert_eq!(chain.hyperedges_of(v).len(), MAX_HYPEREDGES_PER_VERTEX);
    let op = alice.hyperedge_add(graph, edge_key(MAX_HYPEREDGES_PER_VERTEX), &[v]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::TooManyHyperedgesOfVertex {
            address: v,
            limit: MAX_HYPEREDGES_PER_VERTEX
        }
    );
}

#[test]
fn a_remove_must_name_an_existing_hyperedge_and_its_exact_members() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"v");
    let w = chain.add_vertex(&mut alice, graph, [2; 32], b"w");
    let op = alice.hyperedge_remove(graph, [9; 32], &[v]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::UnknownHyperedge { key: [9; 32] }
    );
    chain
        .submit(&alice.hyperedge_add(graph, [9; 32], &[v, w]))
        .unwrap();
    for wrong in [vec![w, v], vec![v]] {
        let op = alice.hyperedge_remove(graph, [9; 32], &wrong);
        assert_eq!(
            refused_at_apply(&mut chain, &op),
            HypergraphError::MembersMismatch { key: [9; 32] }
        );
    }
    let op = alice.hyperedge_remove(graph, [1; 32], &[v]);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::WrongKind {
            key: [1; 32],
            expected: "hyperedge",
            found: "vertex"
        }
    );
    assert_eq!(
        chain.hyperedge(Address::new(graph, [9; 32])),
        Some(vec![v, w])
    );
    chain
        .submit(&alice.hyperedge_remove(graph, [9; 32], &[v, w]))
        .unwrap();
    assert_eq!(chain.hyperedge(Address::new(graph, [9; 32])), None);
    assert_eq!(chain.hyperedges_of(v), vec![]);
    assert_eq!(chain.hyperedges_of(w), vec![]);
}
