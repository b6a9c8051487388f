//! Why the hypergraph engine refused an operation or a query.

use switchyard_router::{Address, Domain, EngineError, Key, StateError};

/// Result alias of this crate.
pub type Result<T, E = HypergraphError> = std::result::Result<T, E>;

fn hex_key(key: &Key) -> String {
    hex::encode(key)
}

/// A hypergraph operation or query was refused. Each variant names the check that failed and
/// the values it failed on. The engine returns these inside [`EngineError::Rejected`]; get
/// them back with `err.downcast_ref::<HypergraphError>()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HypergraphError {
    // ---- shape (checked by `validate` and again by `access` and `apply`) ----
    /// A required field is absent.
    #[error("{operation} is missing its {field}")]
    MissingField {
        /// Operation name.
        operation: &'static str,
        /// The absent field.
        field: &'static str,
    },
    /// A key field is not 32 bytes.
    #[error("{field} must be 32 bytes, got {len}")]
    BadKeyLength {
        /// The field (e.g. "vertex key").
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A vertex or hyperedge key (or a member's key) equals the reserved metadata key
    /// `0xff` x 32.
    #[error("{field} may not be the reserved metadata key ff..ff")]
    ReservedKey {
        /// The field holding the key.
        field: &'static str,
    },
    /// A deploy sent anywhere but the hypergraph base domain.
    #[error("HypergraphDeploy must target the hypergraph base domain, not {target}")]
    DeployTarget {
        /// The target domain.
        target: Domain,
    },
    /// A non-deploy operation sent to the hypergraph base domain.
    #[error("{operation} must target a hypergraph's domain, not the hypergraph base domain")]
    BaseDomainTarget {
        /// Operation name.
        operation: &'static str,
    },
    /// The writer list is longer than [`crate::MAX_WRITERS`].
    #[error("{count} writers exceed the limit of {limit}")]
    TooManyWriters {
        /// Writers listed.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A writer key is listed twice.
    #[error("writer {} is listed twice", hex_key(.writer))]
    DuplicateWriter {
        /// The repeated key.
        writer: Key,
    },
    /// The schema identifier is longer than [`crate::MAX_SCHEMA_BYTES`].
    #[error("schema of {len} bytes exceeds the limit of {limit}")]
    SchemaTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A configured limit exceeds the engine's hard cap.
    #[error("{field} {requested} exceeds the engine's cap of {cap}")]
    LimitAboveCap {
        /// "max_vertex_size" or "max_hyperedge_members".
        field: &'static str,
        /// The value asked for.
        requested: u32,
        /// The hard cap ([`crate::HARD_MAX_VERTEX_SIZE`] or [`crate::HARD_MAX_MEMBERS`]).
        cap: u32,
    },
    /// Vertex data longer than the engine's hard cap (checked without state) or the
    /// hypergraph's limit (checked by `apply`).
    #[error("vertex data of {size} bytes exceeds the limit of {limit} (max_vertex_size)")]
    VertexTooLarge {
        /// The data's length in bytes.
        size: usize,
        /// The limit in force.
        limit: u32,
    },
    /// A hyperedge without members.
    #[error("a hyperedge needs at least one member")]
    NoMembers,
    /// More members than the engine's hard cap (checked without state) or the hypergraph's
    /// limit (checked by `apply`).
    #[error("{count} members exceed the limit of {limit} (max_hyperedge_members)")]
    TooManyMembers {
        /// Members listed.
        count: usize,
        /// The limit in force.
        limit: u32,
    },
    /// A member address is not 64 bytes.
    #[error("member {index} must be a 64-byte address, got {len} bytes")]
    BadMemberAddress {
        /// Position of the member in the list.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// A member is listed twice.
    #[error("member {address} is listed twice")]
    DuplicateMember {
        /// The repeated address.
        address: Address,
    },

    // ---- state (checked by `apply`) ----
    /// No metadata record at the target domain.
    #[error("unknown hypergraph {domain}")]
    UnknownHypergraph {
        /// The domain.
        domain: Domain,
    },
    /// The metadata record at the domain belongs to another engine.
    #[error("domain {domain} is not a hypergraph: its type domain is {type_domain}")]
    NotAHypergraph {
        /// The domain.
        domain: Domain,
        /// The type domain its metadata record names.
        type_domain: Domain,
    },
    /// A deploy whose hypergraph domain already holds a metadata record.
    #[error("hypergraph {domain} already exists")]
    HypergraphExists {
        /// The domain.
        domain: Domain,
    },
    /// The signer of an update is not the hypergraph's owner.
    #[error("signer {} is not the owner ({}) of the hypergraph", hex_key(.signer), hex_key(.owner))]
    NotOwner {
        /// The signer.
        signer: Key,
        /// The owner.
        owner: Key,
    },
    /// The signer of a vertex or hyperedge operation is not one of the hypergraph's writers.
    #[error("signer {} is not a writer of hypergraph {domain}", hex_key(.signer))]
    NotWriter {
        /// The signer.
        signer: Key,
        /// The hypergraph.
        domain: Domain,
    },
    /// An update raises a limit (limits may only tighten).
    #[error("{field} may only tighten: current {current}, requested {requested}")]
    LimitLoosened {
        /// "max_vertex_size" or "max_hyperedge_members".
        field: &'static str,
        /// The limit in force.
        current: u32,
        /// The value asked for.
        requested: u32,
    },
    /// The key holds a record of another kind than the operation expects (a vertex add at a
    /// hyperedge's key, a hyperedge add at a vertex's key, anything at a membership index).
    #[error("key {} holds a {found}, not a {expected}", hex_key(.key))]
    WrongKind {
        /// The key.
        key: Key,
        /// The kind the operation needs there ("vertex", "hyperedge").
        expected: &'static str,
        /// The kind found ("vertex", "hyperedge", "membership index").
        found: &'static str,
    },
    /// No vertex at the key of a vertex remove.
    #[error("no vertex at key {}", hex_key(.key))]
    UnknownVertex {
        /// The key.
        key: Key,
    },
    /// A vertex that is a member of a live hyperedge cannot be removed.
    #[error("vertex {} is a member of hyperedge {hyperedge}", hex_key(.key))]
    VertexInUse {
        /// The vertex key.
        key: Key,
        /// A live hyperedge that holds it (the first in its membership index).
        hyperedge: Address,
    },
    /// A hyperedge add at a key that already holds a hyperedge (remove it first).
    #[error("hyperedge {} already exists", hex_key(.key))]
    HyperedgeExists {
        /// The key.
        key: Key,
    },
    /// No hyperedge at the key of a hyperedge remove.
    #[error("no hyperedge at key {}", hex_key(.key))]
    UnknownHyperedge {
        /// The key.
        key: Key,
    },
    /// A hyperedge remove whose member list is not the stored one.
    #[error("members given for hyperedge {} differ from its stored members", hex_key(.key))]
    MembersMismatch {
        /// The hyperedge key.
        key: Key,
    },
    /// A member's domain holds no hypergraph (no metadata record, or one of another engine).
    #[error("member {address} is not in a hypergraph domain")]
    MemberNotInHypergraph {
        /// The member address.
        address: Address,
    },
    /// A member address holds no vertex.
    #[error("member {address} is not an existing vertex")]
    UnknownMember {
        /// The member address.
        address: Address,
    },
    /// A member's membership-index key holds a vertex or hyperedge record (a writer stored one
    /// at the derived key), so the vertex cannot be indexed.
    #[error("the membership index key of member {address} holds a {found}")]
    IndexKeyTaken {
        /// The member address.
        address: Address,
        /// The kind of record found there.
        found: &'static str,
    },
    /// The vertex is already in the most hyperedges a vertex may belong to.
    #[error("member {address} is already in {limit} hyperedges, the most a vertex may be in")]
    TooManyHyperedgesOfVertex {
        /// The member address.
        address: Address,
        /// The limit ([`crate::MAX_HYPEREDGES_PER_VERTEX`]).
        limit: usize,
    },

    // ---- queries ----
    /// A query the engine cannot answer: a query of another kind, one without a question, or
    /// one about a vertex in another domain than the one it was sent to.
    #[error("{reason}")]
    BadQuery {
        /// What was wrong with it.
        reason: String,
    },
}

/// An internal failure: the engine's own refusal, or a state access that failed. Converted to
/// an [`EngineError`] at the trait boundary, with the operation name.
#[derive(Debug)]
pub(crate) enum Failure {
    Hypergraph(HypergraphError),
    State(StateError),
}

impl From<HypergraphError> for Failure {
    fn from(error: HypergraphError) -> Self {
        Failure::Hypergraph(error)
    }
}

impl From<StateError> for Failure {
    fn from(error: StateError) -> Self {
        Failure::State(error)
    }
}

impl Failure {
    pub(crate) fn into_engine(self, operation: &'static str) -> EngineError {
        match self {
            Failure::Hypergraph(error) => {
                EngineError::rejected(crate::ENGINE_NAME, operation, error)
            }
            Failure::State(error) => EngineError::State(error),
        }
    }
}
