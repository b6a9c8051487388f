//! The engine's defaults and hard caps.

/// The largest vertex data blob of a hypergraph deployed with `max_vertex_size` 0, in bytes:
/// 64 KiB.
pub const DEFAULT_MAX_VERTEX_SIZE: u32 = 64 * 1024;

/// The largest `max_vertex_size` a hypergraph may configure, in bytes: 256 KiB (a quarter of
/// the default 1 MiB message limit).
pub const HARD_MAX_VERTEX_SIZE: u32 = 256 * 1024;

/// The most members of a hyperedge of a hypergraph deployed with `max_hyperedge_members` 0.
pub const DEFAULT_MAX_MEMBERS: u32 = 64;

/// The largest `max_hyperedge_members` a hypergraph may configure. A hyperedge add or remove
/// writes one membership index per member, so this bounds the writes of one operation.
pub const HARD_MAX_MEMBERS: u32 = 256;

/// The most live hyperedges one vertex may belong to: its membership index lists at most this
/// many 64-byte addresses (16 KiB), so no record grows without limit. A hyperedge add that
/// would go beyond is refused ([`HypergraphError::TooManyHyperedgesOfVertex`](crate::HypergraphError::TooManyHyperedgesOfVertex)).
pub const MAX_HYPEREDGES_PER_VERTEX: usize = 256;

/// The most writer keys a hypergraph may list.
pub const MAX_WRITERS: usize = 64;

/// The longest schema identifier, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 256;
