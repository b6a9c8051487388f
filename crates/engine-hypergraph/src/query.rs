//! Answers to [`HypergraphQuery`]: a vertex, a hyperedge, the hyperedges of a vertex (from its
//! membership index), a hypergraph's configuration. Read-only, over whatever committed state
//! the caller hands in.

use switchyard_proto::v1::hypergraph_query::Query;
use switchyard_proto::v1::hypergraph_query_response::{
    Config, Hyperedge, Hyperedges, Response, Vertex,
};
use switchyard_proto::v1::{HypergraphQuery, HypergraphQueryResponse};
use switchyard_proto::{AnyMessage, CanonicalMessage};
use switchyard_router::{Address, Domain, EngineError, StateRead};

use crate::error::HypergraphError;
use crate::record::{HypergraphInfo, hyperedge, hyperedges_of, hypergraph_info, vertex};

/// Answers `query`, sent to the hypergraph `target`, as the canonical bytes of a
/// [`HypergraphQueryResponse`].
pub(crate) fn answer(
    target: &Domain,
    query: &AnyMessage,
    state: &dyn StateRead,
) -> Result<Vec<u8>, EngineError> {
    let AnyMessage::HypergraphQuery(HypergraphQuery { query: Some(query) }) = query else {
        return Err(refuse(HypergraphError::BadQuery {
            reason: format!(
                "expected a HypergraphQuery with a question, got tag {}",
                query.tag()
            ),
        }));
    };
    let info = require_hypergraph(target, state)?;
    let response = match query {
        Query::Vertex(asked) => {
            let key = crate::op::key("vertex key", &asked.key).map_err(refuse)?;
            let data = vertex(state, &Address::new(*target, key))?;
            Response::Vertex(Vertex {
                found: data.is_some(),
                data: data.unwrap_or_default(),
            })
        }
        Query::Hyperedge(asked) => {
            let key = crate::op::key("hyperedge key", &asked.key).map_err(refuse)?;
            let members = hyperedge(state, &Address::new(*target, key))?;
            Response::Hyperedge(Hyperedge {
                found: members.is_some(),
                members: members
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.to_bytes().to_vec())
                    .collect(),
            })
        }
        Query::HyperedgesOfVertex(asked) => {
            let vertex = Address::from_slice(&asked.vertex).map_err(|e| {
                refuse(HypergraphError::BadQuery {
                    reason: format!("vertex: {e}"),
                })
            })?;
            if vertex.domain != *target {
                return Err(refuse(HypergraphError::BadQuery {
                    reason: format!(
                        "vertex {vertex} is not in hypergraph {target}, where the query was sent"
                    ),
                }));
            }
            Response::HyperedgesOfVertex(Hyperedges {
                hyperedges: hyperedges_of(state, &vertex)?
                    .iter()
                    .map(|h| h.to_bytes().to_vec())
                    .collect(),
            })
        }
        Query::Config(_) => Response::Config(Config {
            config: Some(info.config()),
            owner: info.owner.to_vec(),
        }),
    };
    Ok(HypergraphQueryResponse {
        response: Some(response),
    }
    .to_canonical_bytes())
}

fn require_hypergraph(
    target: &Domain,
    state: &dyn StateRead,
) -> Result<HypergraphInfo, EngineError> {
    hypergraph_info(state, target)?
        .ok_or_else(|| refuse(HypergraphError::UnknownHypergraph { domain: *target }))
}

fn refuse(error: HypergraphError) -> EngineError {
    EngineError::rejected(crate::ENGINE_NAME, "HypergraphQuery", error)
}
