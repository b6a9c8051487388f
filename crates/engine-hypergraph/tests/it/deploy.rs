//! Deploy: the new domain as result, the metadata record with defaults, and every refusal.

use switchyard_hypergraph::{
    DEFAULT_MAX_MEMBERS, DEFAULT_MAX_VERTEX_SIZE, HARD_MAX_MEMBERS, HARD_MAX_VERTEX_SIZE,
    HypergraphError, HypergraphInfo, HypergraphSpec, MAX_SCHEMA_BYTES, MAX_WRITERS,
    hypergraph_domain,
};
use switchyard_proto::v1::{HypergraphConfig, HypergraphDeploy};
use switchyard_router::domains::{HYPERGRAPH, NATIVE_TOKEN, metadata_address};
use switchyard_router::{Call, Engine, MetadataRecord};

use crate::common::*;

#[test]
fn a_deploy_creates_the_metadata_record_with_explicit_defaults_and_returns_the_domain() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let expected = hypergraph_domain(&alice.public_key(), 1);
    let graph = chain.deploy(
        &mut alice,
        HypergraphSpec::new().writer([2; 32]).schema("app/v1"),
    );
    assert_eq!(graph, expected);
    assert_eq!(
        chain.last_result,
        graph.0.to_vec(),
        "the result is the domain"
    );
    let record = chain.state.entries[&metadata_address(graph)].clone();
    assert_eq!(MetadataRecord::type_domain_of(&record), Ok(HYPERGRAPH));
    assert_eq!(
        chain.info(graph),
        HypergraphInfo {
            owner: alice.public_key(),
            writers: vec![[2; 32]],
            schema: "app/v1".into(),
            max_vertex_size: DEFAULT_MAX_VERTEX_SIZE,
            max_hyperedge_members: DEFAULT_MAX_MEMBERS,
        }
    );
    assert_eq!(chain.native(alice.public_key()).nonce, 1);

    // A second deploy by the same signer gets another domain; limits are kept as given.
    let other = chain.deploy(
        &mut alice,
        HypergraphSpec::new()
            .max_vertex_size(10)
            .max_hyperedge_members(2),
    );
    assert_ne!(other, graph);
    let info = chain.info(other);
    assert_eq!((info.max_vertex_size, info.max_hyperedge_members), (10, 2));
    assert!(info.writers.is_empty());
}

#[test]
fn bad_configurations_are_refused_by_validate_naming_the_field() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let too_many: HypergraphSpec =
        (0..=MAX_WRITERS as u8).fold(HypergraphSpec::new(), |spec, n| spec.writer([n; 32]));
    let cases: Vec<(HypergraphSpec, HypergraphError)> = vec![
        (
            too_many,
            HypergraphError::TooManyWriters {
                count: MAX_WRITERS + 1,
                limit: MAX_WRITERS,
            },
        ),
        (
            HypergraphSpec::new().writer([3; 32]).writer([3; 32]),
            HypergraphError::DuplicateWriter { writer: [3; 32] },
        ),
        (
            HypergraphSpec::new().schema("s".repeat(MAX_SCHEMA_BYTES + 1)),
            HypergraphError::SchemaTooLong {
                len: MAX_SCHEMA_BYTES + 1,
                limit: MAX_SCHEMA_BYTES,
            },
        ),
        (
            HypergraphSpec::new().max_vertex_size(HARD_MAX_VERTEX_SIZE + 1),
            HypergraphError::LimitAboveCap {
                field: "max_vertex_size",
                requested: HARD_MAX_VERTEX_SIZE + 1,
                cap: HARD_MAX_VERTEX_SIZE,
            },
        ),
        (
            HypergraphSpec::new().max_hyperedge_members(HARD_MAX_MEMBERS + 1),
            HypergraphError::LimitAboveCap {
                field: "max_hyperedge_members",
                requested: HARD_MAX_MEMBERS + 1,
                cap: HARD_MAX_MEMBERS,
            },
        ),
    ];
    for (spec, expected) in cases {
        let (_, op) = alice.deploy(spec);
        assert_eq!(refused_at_validate(&mut chain, &mut alice, &op), expected);
    }

    // A writer key of the wrong length, and no config at all.
    let op = alice.sign(
        HYPERGRAPH,
        HypergraphDeploy {
            config: Some(HypergraphConfig {
                writers: vec![vec![1; 31]],
                ..Default::default()
            }),
            auth: None,
        },
    );
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::BadKeyLength {
            field: "writer",
            len: 31
        }
    );
    let op = alice.sign(HYPERGRAPH, HypergraphDeploy::default());
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::MissingField {
            operation: "HypergraphDeploy",
            field: "config"
        }
    );
    // The largest allowed limits pass.
    chain.deploy(
        &mut alice,
        HypergraphSpec::new()
            .max_vertex_size(HARD_MAX_VERTEX_SIZE)
            .max_hyperedge_members(HARD_MAX_MEMBERS),
    );
}

#[test]
fn a_deploy_goes_to_the_base_domain_only() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let op = alice.sign(
        NATIVE_TOKEN,
        HypergraphDeploy {
            config: Some(HypergraphConfig::default()),
            auth: None,
        },
    );
    assert_eq!(
        refused_at_validate(&mut chain, &mut alice, &op),
        HypergraphError::DeployTarget {
            target: NATIVE_TOKEN
        }
    );
    let graph = chain.deploy_own(&mut alice);
    let mut wrong = alice.vertex_add(graph, [1; 32], vec![]);
    wrong.target = HYPERGRAPH;
    let call = Call {
        request: &wrong.request,
        target: HYPERGRAPH,
        signer: alice.public_key(),
        nonce: alice.next_nonce(),
    };
    assert_eq!(
        at_validate(chain.run(&call)),
        HypergraphError::BaseDomainTarget {
            operation: "VertexAdd"
        }
    );
}

#[test]
fn a_deploy_over_an_existing_hypergraph_is_refused() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    // The same signer and nonce again (as after a state rollback elsewhere): the domain is taken.
    alice.set_next_nonce(1);
    let (same, op) = alice.deploy(HypergraphSpec::new());
    assert_eq!(same, graph);
    let call = Call::from_request(&op.request).unwrap();
    let ctx = chain.ctx();
    let mut state = chain.state.clone();
    let error = chain.engine.apply(&ctx, &call, &mut state).unwrap_err();
    assert_eq!(
        error.downcast_ref::<HypergraphError>(),
        Some(&HypergraphError::HypergraphExists { domain: graph })
    );
}
