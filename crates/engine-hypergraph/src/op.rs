//! Reading a `MessageRequest` into a typed hypergraph operation, with every shape check.
//!
//! `validate`, `access` and `apply` all go through [`parse`], so an operation is read the same
//! way at every entry point and `apply` never trusts that `validate` ran.

use std::collections::BTreeSet;

use switchyard_proto::v1::message_request::Request;
use switchyard_proto::v1::{HypergraphConfig, MessageRequest};
use switchyard_router::domains::{HYPERGRAPH, METADATA_KEY};
use switchyard_router::{Address, Call, EngineError, Key};

use crate::error::HypergraphError;
use crate::limits::{HARD_MAX_MEMBERS, HARD_MAX_VERTEX_SIZE, MAX_SCHEMA_BYTES, MAX_WRITERS};

/// The kind of a hypergraph operation, which also selects its base cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Deploy,
    Update,
    VertexAdd,
    VertexRemove,
    HyperedgeAdd,
    HyperedgeRemove,
}

/// The kind of a hypergraph operation, its name and the number of members it lists (0 but
/// for hyperedge operations); `None` for anything else (or an empty request).
pub(crate) fn kind_of(request: &MessageRequest) -> Option<(Kind, &'static str, usize)> {
    let (kind, members) = match request.request.as_ref()? {
        Request::HypergraphDeploy(_) => (Kind::Deploy, 0),
        Request::HypergraphUpdate(_) => (Kind::Update, 0),
        Request::VertexAdd(_) => (Kind::VertexAdd, 0),
        Request::VertexRemove(_) => (Kind::VertexRemove, 0),
        Request::HyperedgeAdd(h) => (Kind::HyperedgeAdd, h.members.len()),
        Request::HyperedgeRemove(h) => (Kind::HyperedgeRemove, h.members.len()),
        _ => return None,
    };
    Some((kind, request.operation(), members))
}

/// A checked configuration, as a deploy or an update gives it (a limit of 0: the engine
/// default at deploy, unchanged at update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) writers: Vec<Key>,
    pub(crate) schema: String,
    pub(crate) max_vertex_size: u32,
    pub(crate) max_hyperedge_members: u32,
}

/// What a hypergraph operation does, with its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action<'a> {
    Deploy(Config),
    Update {
        config: Config,
        new_owner: Option<Key>,
    },
    VertexAdd {
        key: Key,
        data: &'a [u8],
    },
    VertexRemove {
        key: Key,
    },
    HyperedgeAdd {
        key: Key,
        members: Vec<Address>,
    },
    HyperedgeRemove {
        key: Key,
        members: Vec<Address>,
    },
}

/// A checked hypergraph operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Op<'a> {
    /// Operation name, for errors.
    pub(crate) name: &'static str,
    /// The authenticated signer's public key.
    pub(crate) signer: Key,
    /// The signer's nonce.
    pub(crate) nonce: u64,
    /// What it does.
    pub(crate) action: Action<'a>,
}

/// Reads `call` as a hypergraph operation. Anything that is not a hypergraph operation is
/// [`EngineError::Unsupported`]; a hypergraph operation of the wrong shape is a
/// [`HypergraphError`] rejection.
pub(crate) fn parse<'a>(call: &Call<'a>) -> Result<Op<'a>, EngineError> {
    let Some((_, name, _)) = kind_of(call.request) else {
        return Err(EngineError::Unsupported {
            engine: crate::ENGINE_NAME,
            operation: call.operation(),
        });
    };
    parse_hypergraph(call, name).map_err(|e| EngineError::rejected(crate::ENGINE_NAME, name, e))
}

fn parse_hypergraph<'a>(call: &Call<'a>, name: &'static str) -> Result<Op<'a>, HypergraphError> {
    let (target, request): (_, &'a MessageRequest) = (&call.target, call.request);
    let is_deploy = matches!(request.request, Some(Request::HypergraphDeploy(_)));
    if is_deploy && *target != HYPERGRAPH {
        return Err(HypergraphError::DeployTarget { target: *target });
    }
    if !is_deploy && *target == HYPERGRAPH {
        return Err(HypergraphError::BaseDomainTarget { operation: name });
    }
    let missing = |field| HypergraphError::MissingField {
        operation: name,
        field,
    };
    let action = match &request.request {
        Some(Request::HypergraphDeploy(d)) => {
            Action::Deploy(config(d.config.as_ref().ok_or_else(|| missing("config"))?)?)
        }
        Some(Request::HypergraphUpdate(u)) => Action::Update {
            config: config(u.config.as_ref().ok_or_else(|| missing("config"))?)?,
            new_owner: if u.new_owner.is_empty() {
                None
            } else {
                Some(key("new owner", &u.new_owner)?)
            },
        },
        Some(Request::VertexAdd(v)) => {
            let key = item_key("vertex key", &v.key)?;
            if v.data.len() > HARD_MAX_VERTEX_SIZE as usize {
                return Err(HypergraphError::VertexTooLarge {
                    size: v.data.len(),
                    limit: HARD_MAX_VERTEX_SIZE,
                });
            }
            Action::VertexAdd { key, data: &v.data }
        }
        Some(Request::VertexRemove(v)) => Action::VertexRemove {
            key: item_key("vertex key", &v.key)?,
        },
        Some(Request::HyperedgeAdd(h)) => Action::HyperedgeAdd {
            key: item_key("hyperedge key", &h.key)?,
            members: members(&h.members)?,
        },
        Some(Request::HyperedgeRemove(h)) => Action::HyperedgeRemove {
            key: item_key("hyperedge key", &h.key)?,
            members: members(&h.members)?,
        },
        // `kind_of` admitted only the hypergraph operations above.
        _ => return Err(missing("operation")),
    };
    Ok(Op {
        name,
        signer: call.signer,
        nonce: call.nonce,
        action,
    })
}

/// A 32-byte key.
pub(crate) fn key(field: &'static str, bytes: &[u8]) -> Result<Key, HypergraphError> {
    Key::try_from(bytes).map_err(|_| HypergraphError::BadKeyLength {
        field,
        len: bytes.len(),
    })
}

/// A 32-byte key naming a vertex or a hyperedge: the metadata key is reserved.
pub(crate) fn item_key(field: &'static str, bytes: &[u8]) -> Result<Key, HypergraphError> {
    let key = key(field, bytes)?;
    if key == METADATA_KEY {
        return Err(HypergraphError::ReservedKey { field });
    }
    Ok(key)
}

/// A 64-byte vertex address (domain, then key) whose key is not the metadata key.
pub(crate) fn vertex_address(index: usize, bytes: &[u8]) -> Result<Address, HypergraphError> {
    let address = Address::from_slice(bytes).map_err(|_| HypergraphError::BadMemberAddress {
        index,
        len: bytes.len(),
    })?;
    if address.key == METADATA_KEY {
        return Err(HypergraphError::ReservedKey {
            field: "member key",
        });
    }
    Ok(address)
}

/// A hyperedge's member list: 1 to [`HARD_MAX_MEMBERS`] distinct vertex addresses (the
/// hypergraph's own, possibly tighter, limit is checked by `apply`).
fn members(list: &[Vec<u8>]) -> Result<Vec<Address>, HypergraphError> {
    if list.is_empty() {
        return Err(HypergraphError::NoMembers);
    }
    if list.len() > HARD_MAX_MEMBERS as usize {
        return Err(HypergraphError::TooManyMembers {
            count: list.len(),
            limit: HARD_MAX_MEMBERS,
        });
    }
    let mut seen = BTreeSet::new();
    let mut members = Vec::with_capacity(list.len());
    for (index, bytes) in list.iter().enumerate() {
        let address = vertex_address(index, bytes)?;
        if !seen.insert(address) {
            return Err(HypergraphError::DuplicateMember { address });
        }
        members.push(address);
    }
    Ok(members)
}

/// Checks a configuration's shape: writers, schema, and limits within the hard caps.
fn config(config: &HypergraphConfig) -> Result<Config, HypergraphError> {
    if config.writers.len() > MAX_WRITERS {
        return Err(HypergraphError::TooManyWriters {
            count: config.writers.len(),
            limit: MAX_WRITERS,
        });
    }
    let mut writers = Vec::with_capacity(config.writers.len());
    for bytes in &config.writers {
        let writer = key("writer", bytes)?;
        if writers.contains(&writer) {
            return Err(HypergraphError::DuplicateWriter { writer });
        }
        writers.push(writer);
    }
    if config.schema.len() > MAX_SCHEMA_BYTES {
        return Err(HypergraphError::SchemaTooLong {
            len: config.schema.len(),
            limit: MAX_SCHEMA_BYTES,
        });
    }
    for (field, requested, cap) in [
        (
            "max_vertex_size",
            config.max_vertex_size,
            HARD_MAX_VERTEX_SIZE,
        ),
        (
            "max_hyperedge_members",
            config.max_hyperedge_members,
            HARD_MAX_MEMBERS,
        ),
    ] {
        if requested > cap {
            return Err(HypergraphError::LimitAboveCap {
                field,
                requested,
                cap,
            });
        }
    }
    Ok(Config {
        writers,
        schema: config.schema.clone(),
        max_vertex_size: config.max_vertex_size,
        max_hyperedge_members: config.max_hyperedge_members,
    })
}
