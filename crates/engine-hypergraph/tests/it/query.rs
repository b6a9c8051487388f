//! Queries answered by the engine over a state: vertex, hyperedge, hyperedges of a vertex,
//! config; and the typed refusals of bad queries.

use switchyard_hypergraph::{HypergraphError, HypergraphSpec};
use switchyard_proto::v1::hypergraph_query::{
    Config, Hyperedge, HyperedgesOfVertex, Query, Vertex,
};
use switchyard_proto::v1::hypergraph_query_response::{self as response, Response};
use switchyard_proto::v1::{
    HypergraphConfig, HypergraphQuery, HypergraphQueryResponse, TokenQuery,
};
use switchyard_proto::{AnyMessage, CanonicalMessage};
use switchyard_router::domains::HYPERGRAPH;
use switchyard_router::{Address, Domain, Engine, EngineError};

use crate::common::*;

pub fn ask(chain: &Chain, target: Domain, query: Query) -> Result<Response, EngineError> {
    let query = AnyMessage::HypergraphQuery(HypergraphQuery { query: Some(query) });
    let bytes = chain.engine.query(&target, &query, &chain.state)?;
    Ok(HypergraphQueryResponse::from_canonical_bytes(&bytes)
        .unwrap()
        .response
        .unwrap())
}

#[test]
fn every_question_is_answered_from_state() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy(
        &mut alice,
        HypergraphSpec::new()
            .writer(client(1).public_key())
            .schema("s")
            .max_hyperedge_members(5),
    );
    let v = chain.add_vertex(&mut alice, graph, [1; 32], b"data");
    chain
        .submit(&alice.hyperedge_add(graph, [2; 32], &[v]))
        .unwrap();

    let vertex = |key: [u8; 32]| Query::Vertex(Vertex { key: key.to_vec() });
    assert_eq!(
        ask(&chain, graph, vertex([1; 32])).unwrap(),
        Response::Vertex(response::Vertex {
            found: true,
            data: b"data".to_vec()
        })
    );
    assert_eq!(
        ask(&chain, graph, vertex([3; 32])).unwrap(),
        Response::Vertex(response::Vertex {
            found: false,
            data: vec![]
        })
    );
    // A hyperedge's key holds no vertex.
    assert!(matches!(
        ask(&chain, graph, vertex([2; 32])).unwrap(),
        Response::Vertex(response::Vertex { found: false, .. })
    ));
    assert_eq!(
        ask(
            &chain,
            graph,
            Query::Hyperedge(Hyperedge { key: vec![2; 32] })
        )
        .unwrap(),
        Response::Hyperedge(response::Hyperedge {
            found: true,
            members: vec![v.to_bytes().to_vec()]
        })
    );
    assert_eq!(
        ask(
            &chain,
            graph,
            Query::HyperedgesOfVertex(HyperedgesOfVertex {
                vertex: v.to_bytes().to_vec()
            })
        )
        .unwrap(),
        Response::HyperedgesOfVertex(response::Hyperedges {
            hyperedges: vec![Address::new(graph, [2; 32]).to_bytes().to_vec()]
        })
    );
    assert_eq!(
        ask(&chain, graph, Query::Config(Config {})).unwrap(),
        Response::Config(response::Config {
            config: Some(HypergraphConfig {
                writers: vec![alice.public_key().to_vec()],
                schema: "s".into(),
                max_vertex_size: switchyard_hypergraph::DEFAULT_MAX_VERTEX_SIZE,
                max_hyperedge_members: 5,
            }),
            owner: alice.public_key().to_vec(),
        })
    );
}

#[track_caller]
fn refused(result: Result<Response, EngineError>) -> HypergraphError {
    result
        .unwrap_err()
        .downcast_ref::<HypergraphError>()
        .cloned()
        .unwrap()
}

#[test]
fn bad_queries_are_typed_refusals() {
    let mut alice = client(1);
    let mut chain = Chain::new(&[alice.public_key()]);
    let graph = chain.deploy_own(&mut alice);
    let other = chain.deploy_own(&mut alice);
    let foreign_vertex = Address::new(other, [1; 32]).to_bytes().to_vec();
    assert!(matches!(
        refused(ask(
            &chain,
            graph,
            Query::HyperedgesOfVertex(HyperedgesOfVertex {
                vertex: foreign_vertex
            })
        )),
        HypergraphError::BadQuery { .. }
    ));
    assert!(matches!(
        refused(ask(
            &chain,
            graph,
            Query::HyperedgesOfVertex(HyperedgesOfVertex {
                vertex: vec![1; 32]
            })
        )),
        HypergraphError::BadQuery { .. }
    ));
    assert_eq!(
        refused(ask(
            &chain,
            graph,
            Query::Vertex(Vertex { key: vec![1; 3] })
        )),
        HypergraphError::BadKeyLength {
            field: "vertex key",
            len: 3
        }
    );
    assert_eq!(
        refused(ask(&chain, HYPERGRAPH, Query::Config(Config {}))),
        HypergraphError::UnknownHypergraph { domain: HYPERGRAPH }
    );
    // No question, or a question for another engine.
    for query in [
        AnyMessage::HypergraphQuery(HypergraphQuery { query: None }),
        AnyMessage::TokenQuery(TokenQuery { query: None }),
    ] {
        let error = chain
            .engine
            .query(&graph, &query, &chain.state)
            .unwrap_err();
        assert!(matches!(
            error.downcast_ref::<HypergraphError>(),
            Some(HypergraphError::BadQuery { .. })
        ));
    }
}
