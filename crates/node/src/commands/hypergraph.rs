//! `switchyard hypergraph ...`: deploy and update hypergraphs, add and remove vertices and
//! hyperedges (signed with [`HypergraphClient`]), and read them through the node's queries.

use serde_json::{Value, json};
use switchyard_hypergraph::{HypergraphClient, HypergraphSpec};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{
    HypergraphConfig, HypergraphQuery, HypergraphQueryResponse, hypergraph_query,
    hypergraph_query_response,
};
use switchyard_router::{Address, Domain, Key};

use super::parse::{
    BytesArgs, address_arg, bytes_json, domain_arg, key_arg, show_address, show_bytes,
    stored_address, stored_key,
};
use super::{ClientArgs, Output, send};
use crate::NodeError;
use crate::client::Client;
use crate::keys::{load_key, parse_account};

/// `switchyard hypergraph ...`
///
/// Keys (vertices, hyperedges) are 64 hex characters or `name:TEXT` (the BLAKE3 of TEXT);
/// a member is a key of the same hypergraph, or `DOMAIN/KEY` in another one.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum HypergraphCommand {
    /// Deploy a hypergraph owned by the signer; prints its domain.
    Deploy {
        /// Signing key: a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// A key allowed to write (repeat for more) [default: the deployer].
        #[arg(long = "writer")]
        writers: Vec<String>,
        /// Schema identifier the vertex data follows (opaque to the engine).
        #[arg(long)]
        schema: Option<String>,
        /// Largest vertex in bytes [default: 65536].
        #[arg(long)]
        max_vertex_size: Option<u32>,
        /// Most members of a hyperedge [default: 64].
        #[arg(long)]
        max_members: Option<u32>,
    },
    /// Change a hypergraph's writers, schema or limits, or hand it over (owner only); what
    /// is not given stays as it is.
    Update {
        /// Signing key (the owner): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
        /// The new writers (repeat for more; replaces the list) [default: unchanged].
        #[arg(long = "writer")]
        writers: Vec<String>,
        /// Remove every writer.
        #[arg(long, conflicts_with = "writers")]
        clear_writers: bool,
        /// New schema identifier [default: unchanged].
        #[arg(long)]
        schema: Option<String>,
        /// Tighter largest vertex in bytes [default: unchanged].
        #[arg(long)]
        max_vertex_size: Option<u32>,
        /// Tighter most members of a hyperedge [default: unchanged].
        #[arg(long)]
        max_members: Option<u32>,
        /// Hand the hypergraph to this account.
        #[arg(long)]
        new_owner: Option<String>,
    },
    /// Add (or replace) a vertex (a writer).
    VertexAdd {
        /// Signing key (a writer): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
        /// The vertex key: 64 hex characters, or name:TEXT.
        #[arg(long)]
        vertex: String,
        /// The vertex data.
        #[command(flatten)]
        data: BytesArgs,
    },
    /// Remove a vertex (a writer); refused while a hyperedge holds it.
    VertexRemove {
        /// Signing key (a writer): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
        /// The vertex key: 64 hex characters, or name:TEXT.
        #[arg(long)]
        vertex: String,
    },
    /// Add a hyperedge over existing vertices (a writer).
    EdgeAdd {
        /// Signing key (a writer): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
        /// The hyperedge key: 64 hex characters, or name:TEXT.
        #[arg(long)]
        edge: String,
        /// A member vertex: a key of this hypergraph, or DOMAIN/KEY (repeat for more).
        #[arg(long = "member", required = true)]
        members: Vec<String>,
    },
    /// Remove a hyperedge (a writer); its members are read from the node first.
    EdgeRemove {
        /// Signing key (a writer): a key file, or dev:NAME.
        #[arg(long, env = "SWITCHYARD_KEY")]
        key: String,
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
        /// The hyperedge key: 64 hex characters, or name:TEXT.
        #[arg(long)]
        edge: String,
    },
    /// A vertex's data.
    Vertex {
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
        /// The vertex key: 64 hex characters, or name:TEXT.
        vertex: String,
    },
    /// A hyperedge's members.
    Edge {
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
        /// The hyperedge key: 64 hex characters, or name:TEXT.
        edge: String,
    },
    /// The hyperedges that hold a vertex.
    EdgesOf {
        /// The vertex's hypergraph (hex).
        #[arg(long)]
        graph: String,
        /// The vertex key: 64 hex characters, or name:TEXT.
        vertex: String,
    },
    /// A hypergraph's configuration and owner.
    Config {
        /// The hypergraph's domain (hex).
        #[arg(long)]
        graph: String,
    },
}

/// A client for `key` at its next nonce on the node's network.
async fn signer(client: &mut Client, key: &str) -> Result<HypergraphClient, NodeError> {
    let key = load_key(key)?;
    Ok(HypergraphClient::from_signer(client.signer(key).await?))
}

/// Asks `query` of hypergraph `graph`.
async fn query(
    client: &mut Client,
    graph: Domain,
    query: hypergraph_query::Query,
) -> Result<hypergraph_query_response::Response, NodeError> {
    let bytes = HypergraphQuery { query: Some(query) }.to_canonical_bytes();
    let answer = client.query(&graph.0, bytes).await?;
    HypergraphQueryResponse::from_canonical_bytes(&answer.response)?
        .response
        .ok_or_else(|| NodeError::Answer("an empty hypergraph query response".into()))
}

/// The stored members of hyperedge `edge`, or an error naming a missing one.
async fn edge_members(
    client: &mut Client,
    graph: Domain,
    edge: Key,
) -> Result<Vec<Address>, NodeError> {
    let asked =
        hypergraph_query::Query::Hyperedge(hypergraph_query::Hyperedge { key: edge.to_vec() });
    match query(client, graph, asked).await? {
        hypergraph_query_response::Response::Hyperedge(found) if found.found => {
            found.members.iter().map(|m| stored_address(m)).collect()
        }
        hypergraph_query_response::Response::Hyperedge(_) => Err(NodeError::Answer(format!(
            "no hyperedge {} in hypergraph {graph}",
            hex::encode(edge)
        ))),
        _ => Err(NodeError::Answer("not a hyperedge".into())),
    }
}

/// The configuration in force and the owner of `graph`.
async fn config(
    client: &mut Client,
    graph: Domain,
) -> Result<(HypergraphConfig, Vec<u8>), NodeError> {
    let asked = hypergraph_query::Query::Config(hypergraph_query::Config {});
    match query(client, graph, asked).await? {
        hypergraph_query_response::Response::Config(answer) => {
            Ok((answer.config.unwrap_or_default(), answer.owner))
        }
        _ => Err(NodeError::Answer("not a hypergraph configuration".into())),
    }
}

fn config_json(graph: Domain, config: &HypergraphConfig, owner: &[u8]) -> Value {
    json!({
        "graph": hex::encode(graph.0),
        "owner": hex::encode(owner),
        "writers": config.writers.iter().map(hex::encode).collect::<Vec<_>>(),
        "schema": config.schema,
        "max_vertex_size": config.max_vertex_size,
        "max_hyperedge_members": config.max_hyperedge_members,
    })
}

fn accounts(texts: &[String]) -> Result<Vec<Key>, NodeError> {
    texts.iter().map(|t| parse_account(t)).collect()
}

/// Runs a hypergraph command.
pub(crate) async fn run(
    client: &mut Client,
    args: &ClientArgs,
    command: HypergraphCommand,
) -> Result<Output, NodeError> {
    match command {
        HypergraphCommand::Deploy {
            key,
            writers,
            schema,
            max_vertex_size,
            max_members,
        } => {
            let mut graphs = signer(client, &key).await?;
            let writers = match writers.is_empty() {
                true => vec![graphs.public_key()],
                false => accounts(&writers)?,
            };
            let mut spec = writers
                .into_iter()
                .fold(HypergraphSpec::new(), HypergraphSpec::writer);
            if let Some(schema) = schema {
                spec = spec.schema(schema);
            }
            if let Some(size) = max_vertex_size {
                spec = spec.max_vertex_size(size);
            }
            if let Some(members) = max_members {
                spec = spec.max_hyperedge_members(members);
            }
            let (graph, request) = graphs.deploy(spec);
            let mut output = send(
                client,
                args,
                "deploy",
                &request,
                json!({ "graph": hex::encode(graph.0) }),
            )
            .await?;
            output.text = format!("hypergraph {graph}\n{}", output.text);
            Ok(output)
        }
        HypergraphCommand::Update {
            key,
            graph,
            writers,
            clear_writers,
            schema,
            max_vertex_size,
            max_members,
            new_owner,
        } => {
            let graph = domain_arg("--graph", &graph)?;
            let new_owner = new_owner.as_deref().map(parse_account).transpose()?;
            // Writers and schema replace the stored ones: keep those not given.
            let (current, _) = config(client, graph).await?;
            let writers = match (clear_writers, writers.is_empty()) {
                (true, _) => Vec::new(),
                (false, true) => current
                    .writers
                    .iter()
                    .map(|w| stored_key("writer", w))
                    .collect::<Result<_, _>>()?,
                (false, false) => accounts(&writers)?,
            };
            let mut spec = writers
                .into_iter()
                .fold(HypergraphSpec::new(), HypergraphSpec::writer)
                .schema(schema.unwrap_or(current.schema));
            if let Some(size) = max_vertex_size {
                spec = spec.max_vertex_size(size);
            }
            if let Some(members) = max_members {
                spec = spec.max_hyperedge_members(members);
            }
            let request = signer(client, &key).await?.update(graph, spec, new_owner);
            send(
                client,
                args,
                "update",
                &request,
                json!({ "graph": hex::encode(graph.0) }),
            )
            .await
        }
        HypergraphCommand::VertexAdd {
            key,
            graph,
            vertex,
            data,
        } => {
            let graph = domain_arg("--graph", &graph)?;
            let vertex = key_arg("--vertex", &vertex)?;
            let data = data.bytes()?;
            let size = data.len();
            let request = signer(client, &key).await?.vertex_add(graph, vertex, data);
            let address = show_address(&Address::new(graph, vertex));
            let mut output = send(
                client,
                args,
                "vertex-add",
                &request,
                json!({ "vertex": address, "bytes": size }),
            )
            .await?;
            output.text = format!("vertex {address}\n{}", output.text);
            Ok(output)
        }
        HypergraphCommand::VertexRemove { key, graph, vertex } => {
            let graph = domain_arg("--graph", &graph)?;
            let vertex = key_arg("--vertex", &vertex)?;
            let request = signer(client, &key).await?.vertex_remove(graph, vertex);
            let address = show_address(&Address::new(graph, vertex));
            send(
                client,
                args,
                "vertex-remove",
                &request,
                json!({ "vertex": address }),
            )
            .await
        }
        HypergraphCommand::EdgeAdd {
            key,
            graph,
            edge,
            members,
        } => {
            let graph = domain_arg("--graph", &graph)?;
            let edge = key_arg("--edge", &edge)?;
            let members = members
                .iter()
                .map(|m| address_arg("--member", m, Some(graph)))
                .collect::<Result<Vec<_>, _>>()?;
            let request = signer(client, &key)
                .await?
                .hyperedge_add(graph, edge, &members);
            let address = show_address(&Address::new(graph, edge));
            let mut output = send(
                client,
                args,
                "edge-add",
                &request,
                json!({
                    "edge": address,
                    "members": members.iter().map(show_address).collect::<Vec<_>>(),
                }),
            )
            .await?;
            output.text = format!("hyperedge {address}\n{}", output.text);
            Ok(output)
        }
        HypergraphCommand::EdgeRemove { key, graph, edge } => {
            let graph = domain_arg("--graph", &graph)?;
            let edge = key_arg("--edge", &edge)?;
            let members = edge_members(client, graph, edge).await?;
            let request = signer(client, &key)
                .await?
                .hyperedge_remove(graph, edge, &members);
            send(
                client,
                args,
                "edge-remove",
                &request,
                json!({ "edge": show_address(&Address::new(graph, edge)) }),
            )
            .await
        }
        HypergraphCommand::Vertex { graph, vertex } => {
            let graph = domain_arg("--graph", &graph)?;
            let vertex = key_arg("VERTEX", &vertex)?;
            let asked = hypergraph_query::Query::Vertex(hypergraph_query::Vertex {
                key: vertex.to_vec(),
            });
            let address = show_address(&Address::new(graph, vertex));
            match query(client, graph, asked).await? {
                hypergraph_query_response::Response::Vertex(found) => {
                    let text = match found.found {
                        true => show_bytes(&found.data),
                        false => format!("no vertex {address}"),
                    };
                    Ok(Output::new(
                        text,
                        json!({ "vertex": address, "found": found.found, "data": bytes_json(&found.data) }),
                    ))
                }
                _ => Err(NodeError::Answer("not a vertex".into())),
            }
        }
        HypergraphCommand::Edge { graph, edge } => {
            let graph = domain_arg("--graph", &graph)?;
            let edge = key_arg("EDGE", &edge)?;
            let asked = hypergraph_query::Query::Hyperedge(hypergraph_query::Hyperedge {
                key: edge.to_vec(),
            });
            let address = show_address(&Address::new(graph, edge));
            match query(client, graph, asked).await? {
                hypergraph_query_response::Response::Hyperedge(found) => {
                    let members = found
                        .members
                        .iter()
                        .map(|m| stored_address(m).map(|a| show_address(&a)))
                        .collect::<Result<Vec<_>, _>>()?;
                    let text = match found.found {
                        true => members.join("\n"),
                        false => format!("no hyperedge {address}"),
                    };
                    Ok(Output::new(
                        text,
                        json!({ "edge": address, "found": found.found, "members": members }),
                    ))
                }
                _ => Err(NodeError::Answer("not a hyperedge".into())),
            }
        }
        HypergraphCommand::EdgesOf { graph, vertex } => {
            let graph = domain_arg("--graph", &graph)?;
            let vertex = Address::new(graph, key_arg("VERTEX", &vertex)?);
            let asked =
                hypergraph_query::Query::HyperedgesOfVertex(hypergraph_query::HyperedgesOfVertex {
                    vertex: vertex.to_bytes().to_vec(),
                });
            match query(client, graph, asked).await? {
                hypergraph_query_response::Response::HyperedgesOfVertex(found) => {
                    let edges = found
                        .hyperedges
                        .iter()
                        .map(|e| stored_address(e).map(|a| show_address(&a)))
                        .collect::<Result<Vec<_>, _>>()?;
                    let text = match edges.is_empty() {
                        true => format!("no hyperedge holds {}", show_address(&vertex)),
                        false => edges.join("\n"),
                    };
                    Ok(Output::new(
                        text,
                        json!({ "vertex": show_address(&vertex), "edges": edges }),
                    ))
                }
                _ => Err(NodeError::Answer("not a list of hyperedges".into())),
            }
        }
        HypergraphCommand::Config { graph } => {
            let graph = domain_arg("--graph", &graph)?;
            let (config, owner) = config(client, graph).await?;
            let text = format!(
                "owner {}, {} writer(s){}, max vertex {} bytes, max {} members{}",
                hex::encode(&owner),
                config.writers.len(),
                match config.writers.is_empty() {
                    true => String::new(),
                    false => format!(
                        " ({})",
                        config
                            .writers
                            .iter()
                            .map(hex::encode)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
                config.max_vertex_size,
                config.max_hyperedge_members,
                match config.schema.is_empty() {
                    true => String::new(),
                    false => format!(", schema {:?}", config.schema),
                }
            );
            Ok(Output::new(text, config_json(graph, &config, &owner)))
        }
    }
}
