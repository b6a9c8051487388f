//! Update: owner only; writers, schema and owner replaced; limits only tighten.

use switchyard_hypergraph::{HypergraphError, HypergraphInfo, HypergraphSpec};
use switchyard_proto::v1::{HypergraphConfig, HypergraphUpdate};

use crate::common::*;

fn setup() -> (
    Chain,
    switchyard_hypergraph::HypergraphClient,
    switchyard_router::Domain,
) {
    let mut alice = client(1);
    let bob = client(2);
    let mut chain = Chain::new(&[alice.public_key(), bob.public_key()]);
    let graph = chain.deploy(
        &mut alice,
        HypergraphSpec::new()
            .writer(client(1).public_key())
            .max_vertex_size(100)
            .max_hyperedge_members(10),
    );
    (chain, alice, graph)
}

#[test]
fn the_owner_replaces_writers_and_schema_tightens_limits_and_hands_over() {
    let (mut chain, mut alice, graph) = setup();
    let mut bob = client(2);
    chain
        .submit(
            &alice.update(
                graph,
                HypergraphSpec::new()
                    .writer(bob.public_key())
                    .schema("v2")
                    .max_vertex_size(50),
                None,
            ),
        )
        .unwrap();
    assert_eq!(
        chain.info(graph),
        HypergraphInfo {
            owner: alice.public_key(),
            writers: vec![bob.public_key()],
            schema: "v2".into(),
            max_vertex_size: 50,
            max_hyperedge_members: 10,
        },
        "a limit of 0 keeps the current one"
    );
    // Equal limits are allowed (no loosening); then ownership moves to bob.
    chain
        .submit(
            &alice.update(
                graph,
                HypergraphSpec::new()
                    .max_vertex_size(50)
                    .max_hyperedge_members(3),
                Some(bob.public_key()),
            ),
        )
        .unwrap();
    let info = chain.info(graph);
    assert_eq!(info.owner, bob.public_key());
    assert!(
        info.writers.is_empty(),
        "writers are replaced, even by none"
    );
    assert_eq!((info.max_vertex_size, info.max_hyperedge_members), (50, 3));
    // alice is no longer the owner.
    let op = alice.update(graph, HypergraphSpec::new(), None);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::NotOwner {
            signer: alice.public_key(),
            owner: bob.public_key()
        }
    );
    chain
        .submit(&bob.update(graph, HypergraphSpec::new().writer([9; 32]), None))
        .unwrap();
    assert_eq!(chain.info(graph).writers, vec![[9; 32]]);
}

#[test]
fn loosening_a_limit_is_refused_naming_the_field() {
    let (mut chain, mut alice, graph) = setup();
    let op = alice.update(graph, HypergraphSpec::new().max_vertex_size(101), None);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::LimitLoosened {
            field: "max_vertex_size",
            current: 100,
            requested: 101
        }
    );
    let op = alice.update(graph, HypergraphSpec::new().max_hyperedge_members(11), None);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::LimitLoosened {
            field: "max_hyperedge_members",
            current: 10,
            requested: 11
        }
    );
    assert_eq!(chain.info(graph).max_vertex_size, 100);
}

#[test]
fn a_non_owner_and_malformed_updates_are_refused() {
    let (mut chain, mut alice, graph) = setup();
    let mut bob = client(2);
    let op = bob.update(graph, HypergraphSpec::new().writer(bob.public_key()), None);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::NotOwner {
            signer: bob.public_key(),
            owner: alice.public_key()
        }
    );
    let op = alice.sign(
        graph,
        HypergraphUpdate {
            config: Some(HypergraphConfig::default()),
            new_owner: vec![1; 5],
            auth: None,
        },
    );
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::BadKeyLength {
            field: "new owner",
            len: 5
        }
    );
    let op = alice.sign(graph, HypergraphUpdate::default());
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::MissingField {
            operation: "HypergraphUpdate",
            field: "config"
        }
    );
    // An update of a domain that holds no hypergraph.
    let nowhere = switchyard_router::Domain([0x42; 32]);
    let op = alice.update(nowhere, HypergraphSpec::new(), None);
    assert_eq!(
        refused_at_apply(&mut chain, &op),
        HypergraphError::UnknownHypergraph { domain: nowhere }
    );
}
