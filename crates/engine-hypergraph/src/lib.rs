//! The switchyard hypergraph engine: where applications keep their data. A hypergraph is a
//! domain of **vertices** (data blobs at 32-byte keys) and **hyperedges** (ordered sets of
//! member vertices, possibly in other hypergraphs), written only by the hypergraph's writer
//! keys, with referential integrity: a hyperedge's members exist for as long as it lives.
//! Register a [`HypergraphEngine`] with the manager as an `Arc<dyn switchyard_router::Engine>`;
//! build signed operations with a [`HypergraphClient`].
//!
//! # Operations
//! - **Deploy** (`HypergraphDeploy`, sent to the hypergraph base domain `HYPERGRAPH`): creates
//!   a hypergraph at [`hypergraph_domain`]`(deployer, nonce)` owned by the deployer, with its
//!   writers, optional schema id and limits. A limit left at 0 is the engine default
//!   ([`DEFAULT_MAX_VERTEX_SIZE`] = 64 KiB, [`DEFAULT_MAX_MEMBERS`] = 64), stored explicitly;
//!   no limit may exceed its hard cap ([`HARD_MAX_VERTEX_SIZE`] = 256 KiB,
//!   [`HARD_MAX_MEMBERS`] = 256). At most [`MAX_WRITERS`] writers, a schema of at most
//!   [`MAX_SCHEMA_BYTES`].
//! - **Update** (`HypergraphUpdate`, owner only): the writers and schema of its config replace
//!   the current ones; a limit of 0 keeps the current one and any other value may only tighten
//!   it ([`HypergraphError::LimitLoosened`]); `new_owner` hands over ownership. Tightening
//!   applies to later operations; what is stored stays.
//! - **Vertex add** (`VertexAdd`, a writer): creates or replaces the blob at a key, at most the
//!   hypergraph's `max_vertex_size` bytes (an empty blob is a vertex too).
//! - **Vertex remove** (`VertexRemove`, a writer): refused while a live hyperedge holds the
//!   vertex, with [`HypergraphError::VertexInUse`] naming that hyperedge.
//! - **Hyperedge add** (`HyperedgeAdd`, a writer): a key and 1 to `max_hyperedge_members`
//!   distinct member addresses, each an existing vertex of this hypergraph or of another one
//!   (a domain whose metadata record names `HYPERGRAPH`). The writers of the member's
//!   hypergraph are not asked: being referenced only pins a vertex. A key that already holds a
//!   hyperedge is refused ([`HypergraphError::HyperedgeExists`]): remove it first.
//! - **Hyperedge remove** (`HyperedgeRemove`, a writer): the key and the members exactly as
//!   stored (so the access set follows from the request; a different list is
//!   [`HypergraphError::MembersMismatch`]).
//!
//! Frames are totally ordered, so plain ordered semantics hold (no add/remove-set CRDT), and
//! no clock ever enters state. The engine acts on the [`Call`](switchyard_router::Call) the
//! manager hands it: the signer is already authenticated, so it never verifies signatures.
//! Vertex and hyperedge keys (and members' keys) may not be the metadata key `0xff` x 32.
//!
//! # Results and queries
//! A deploy's result is the new hypergraph's 32-byte domain; no other operation returns one.
//! [`Engine::query`](switchyard_router::Engine::query) answers a `HypergraphQuery` sent to a
//! hypergraph's domain with a `HypergraphQueryResponse`: a vertex (`found` and its data), a
//! hyperedge (`found` and its members), the hyperedges of a vertex of that domain (read from
//! its membership index, never by scanning), or the configuration and owner.
//!
//! | tag | message |
//! |---|---|
//! | 0x0420 | `HypergraphQuery` |
//! | 0x0421 | `HypergraphQueryResponse` |
//!
//! # State
//! - The metadata record at `metadata_address(graph)`: type domain `HYPERGRAPH`, then a
//!   `HypergraphMetadata` (config with explicit limits, owner); see [`HypergraphInfo`].
//! - A vertex at `(graph, key)`, a hyperedge at `(graph, key)`: a `HypergraphRecord` whose
//!   oneof holds the kind, so a vertex never reads as a hyperedge or an index. An operation
//!   finding the other kind at its key is refused ([`HypergraphError::WrongKind`]).
//! - A vertex's **membership index** at `(vertex domain, `[`membership_key`]`(vertex key))`,
//!   with `membership_key(k) = BLAKE3("switchyard/hypergraph/members" || k)`: the addresses of
//!   the live hyperedges that hold it, sorted, at most [`MAX_HYPEREDGES_PER_VERTEX`] (256, so
//!   16 KiB); deleted when empty. A hyperedge add and remove rewrite the index of every member,
//!   in whatever hypergraph it lives. A writer who stores a vertex at a key that is the index
//!   key of one of its vertices cannot then put that vertex in a hyperedge
//!   ([`HypergraphError::IndexKeyTaken`]).
//!
//! Fees and nonces are **not** this engine's business: the manager settles them on the same
//! overlay before `apply`, and keeps them when the operation fails.
//!
//! # Errors
//! Refusals are [`HypergraphError`] values inside `EngineError::Rejected` (get them back with
//! `err.downcast_ref::<HypergraphError>()`): shape errors (key and address lengths, the
//! reserved key, duplicates, hard caps, targets) come from `validate`, so the message is
//! rejected with no fee; state errors (writer, owner, existence, the hypergraph's own limits,
//! member domains) from `apply`, which changes nothing but the fee and nonce.
//!
//! # Cost
//! `cost = base(kind) + per_member x members + per_byte x len(canonical bytes of the
//! MessageRequest)`, where `members` is the number of members a hyperedge add or remove lists
//! (0 for the other operations: each member costs an index write) and the canonical bytes
//! include the 4-byte type tag and the signature. Default [`CostSchedule`]: deploy 10 000,
//! update 2 000, vertex add 1 000, vertex remove 1 000, hyperedge add 1 500, hyperedge remove
//! 1 500, per member 200, per byte 1. An operation of another engine is
//! `EngineError::Unsupported`, never 0.
//!
//! # Access sets
//! Exact, and computed from the request alone. Every operation but a deploy **reads** its
//! hypergraph's metadata record (writers, limits) and never writes it, except an update;
//! a deploy writes the new metadata record. A vertex add writes the vertex; a vertex remove
//! writes the vertex and reads its membership index. A hyperedge add writes the hyperedge and
//! every member's membership index and reads every member and its domain's metadata record;
//! a hyperedge remove writes the hyperedge and every member's index. Every set also declares
//! the signer's native account (fee settlement) and never the fee recipient. So operations by
//! different signers on different hypergraphs share no address but reads, and run in
//! parallel.
//!
//! ```
//! use switchyard_router::{Address, Call, Engine, ExecutionContext, MemoryView, auth::SigningKey};
//! use switchyard_hypergraph::{HypergraphClient, HypergraphEngine, HypergraphSpec, hyperedges_of, vertex};
//!
//! let engine = HypergraphEngine::new();
//! let ctx = ExecutionContext::new(1, 7);
//! let mut state = MemoryView::default();
//! let mut alice = HypergraphClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
//! // The manager's job around each call (signature check, fee and nonce) is left out here.
//! let mut run = |op: switchyard_router::SignedRequest, state: &mut MemoryView| {
//!     let call = Call::from_request(&op.request)?;
//!     engine.validate(&ctx, &call, state)?;
//!     Ok::<_, Box<dyn std::error::Error>>(engine.apply(&ctx, &call, state)?)
//! };
//!
//! let (graph, deploy) = alice.deploy(HypergraphSpec::new().writer(alice.public_key()));
//! assert_eq!(run(deploy, &mut state)?.result, graph.0.to_vec());
//! run(alice.vertex_add(graph, [1; 32], b"hello".to_vec()), &mut state)?;
//! let v = Address::new(graph, [1; 32]);
//! run(alice.hyperedge_add(graph, [2; 32], &[v]), &mut state)?;
//!
//! assert_eq!(vertex(&state, &v)?, Some(b"hello".to_vec()));
//! assert_eq!(hyperedges_of(&state, &v)?, vec![Address::new(graph, [2; 32])]);
//! // The vertex is pinned by the hyperedge.
//! assert!(run(alice.vertex_remove(graph, [1; 32]), &mut state).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod builders;
mod engine;
mod error;
mod limits;
mod op;
mod query;
mod record;

pub use builders::{HypergraphClient, HypergraphSpec};
pub use engine::{CostSchedule, HypergraphEngine, PROTOCOL, PROTOCOL_VERSION};
pub use error::{HypergraphError, Result};
pub use limits::{
    DEFAULT_MAX_MEMBERS, DEFAULT_MAX_VERTEX_SIZE, HARD_MAX_MEMBERS, HARD_MAX_VERTEX_SIZE,
    MAX_HYPEREDGES_PER_VERTEX, MAX_SCHEMA_BYTES, MAX_WRITERS,
};
pub use record::{
    HypergraphInfo, hyperedge, hyperedges_of, hypergraph_domain, hypergraph_info,
    membership_address, membership_key, vertex,
};
pub use switchyard_router::SignedRequest;

pub(crate) use engine::ENGINE_NAME;
