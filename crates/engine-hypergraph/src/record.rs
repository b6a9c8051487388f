//! The records the hypergraph engine keeps in state, and the reads users make of them.
//!
//! - Hypergraph metadata: at `metadata_address(graph)`, a [`MetadataRecord`] with type domain
//!   [`HYPERGRAPH`] and a `HypergraphMetadata` payload (config with explicit limits, owner).
//! - Every other key of a hypergraph's domain holds a `HypergraphRecord`, whose oneof says its
//!   kind: a vertex (data blob) at the vertex's key, a hyperedge (member addresses) at the
//!   hyperedge's key, a membership index (the live hyperedges holding a vertex) at
//!   [`membership_key`]`(vertex key)`.

use prost::Message;
use switchyard_proto::v1::hypergraph_record::{Hyperedge, Membership, Record, Vertex};
use switchyard_proto::v1::{HypergraphConfig, HypergraphMetadata, HypergraphRecord};
use switchyard_router::domains::{HYPERGRAPH, instance_domain, metadata_address};
use switchyard_router::{Address, Domain, Key, MetadataRecord, StateError, StateRead};

use crate::error::{Failure, HypergraphError};

/// The domain of the hypergraph `deployer` deploys with `nonce`:
/// BLAKE3(HYPERGRAPH || deployer || nonce as 8 big-endian bytes).
///
/// ```
/// let a = switchyard_hypergraph::hypergraph_domain(&[1; 32], 1);
/// assert_ne!(a, switchyard_hypergraph::hypergraph_domain(&[1; 32], 2));
/// ```
pub fn hypergraph_domain(deployer: &Key, nonce: u64) -> Domain {
    instance_domain(&HYPERGRAPH, deployer, nonce)
}

/// The key, inside a vertex's own domain, of its membership index:
/// BLAKE3("switchyard/hypergraph/members" || vertex key).
///
/// ```
/// let key = switchyard_hypergraph::membership_key(&[2; 32]);
/// assert_ne!(key, [2; 32]);
/// ```
pub fn membership_key(vertex: &Key) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update(b"switchyard/hypergraph/members")
        .update(vertex);
    *hasher.finalize().as_bytes()
}

/// The address of the membership index of the vertex at `vertex`.
pub fn membership_address(vertex: &Address) -> Address {
    Address::new(vertex.domain, membership_key(&vertex.key))
}

/// What the engine knows about a hypergraph, as its metadata record holds it. Both limits are
/// explicit: a deploy that leaves one at 0 stores the engine default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HypergraphInfo {
    /// The key allowed to update the hypergraph.
    pub owner: Key,
    /// The keys allowed to add and remove vertices and hyperedges.
    pub writers: Vec<Key>,
    /// The schema identifier the vertex data follows; empty for none.
    pub schema: String,
    /// The largest vertex data blob, in bytes.
    pub max_vertex_size: u32,
    /// The most members of a hyperedge.
    pub max_hyperedge_members: u32,
}

/// What a [`StateError::Corrupt`] about a hypergraph's metadata names.
const METADATA_RECORD: &str = "hypergraph metadata record";
/// What a [`StateError::Corrupt`] about any other hypergraph record names.
const RECORD: &str = "hypergraph record";

fn corrupt(what: &'static str, reason: String) -> StateError {
    StateError::Corrupt { what, reason }
}

impl HypergraphInfo {
    /// The configuration in force, as the wire type (limits explicit).
    pub fn config(&self) -> HypergraphConfig {
        HypergraphConfig {
            writers: self.writers.iter().map(|w| w.to_vec()).collect(),
            schema: self.schema.clone(),
            max_vertex_size: self.max_vertex_size,
            max_hyperedge_members: self.max_hyperedge_members,
        }
    }

    /// The metadata record storing this hypergraph.
    pub fn to_metadata(&self) -> MetadataRecord {
        let stored = HypergraphMetadata {
            config: Some(self.config()),
            owner: self.owner.to_vec(),
        };
        MetadataRecord {
            type_domain: HYPERGRAPH,
            payload: stored.encode_to_vec(),
        }
    }

    /// Reads a hypergraph from its metadata record's payload (the type domain is the caller's
    /// business). A payload that does not decode is [`StateError::Corrupt`].
    pub fn from_payload(payload: &[u8]) -> Result<Self, StateError> {
        let stored = HypergraphMetadata::decode(payload)
            .map_err(|e| corrupt(METADATA_RECORD, e.to_string()))?;
        let config = stored.config.unwrap_or_default();
        let key = |bytes: &[u8]| {
            Key::try_from(bytes)
                .map_err(|_| corrupt(METADATA_RECORD, format!("key of {} bytes", bytes.len())))
        };
        Ok(Self {
            owner: key(&stored.owner)?,
            writers: config
                .writers
                .iter()
                .map(|w| key(w))
                .collect::<Result<_, _>>()?,
            schema: config.schema,
            max_vertex_size: config.max_vertex_size,
            max_hyperedge_members: config.max_hyperedge_members,
        })
    }
}

/// Reads the hypergraph at `domain`: `Ok(None)` when there is no metadata record; a record
/// owned by another engine, or one that does not decode, is [`StateError::Corrupt`].
pub fn hypergraph_info(
    state: &dyn StateRead,
    domain: &Domain,
) -> Result<Option<HypergraphInfo>, StateError> {
    match load_hypergraph(state, domain) {
        Ok(info) => Ok(Some(info)),
        Err(Failure::Hypergraph(HypergraphError::UnknownHypergraph { .. })) => Ok(None),
        Err(Failure::Hypergraph(other)) => Err(corrupt(METADATA_RECORD, other.to_string())),
        Err(Failure::State(error)) => Err(error),
    }
}

/// Loads a hypergraph's metadata for an operation on it: none is
/// [`HypergraphError::UnknownHypergraph`], another engine's is
/// [`HypergraphError::NotAHypergraph`].
pub(crate) fn load_hypergraph(
    state: &dyn StateRead,
    domain: &Domain,
) -> Result<HypergraphInfo, Failure> {
    let bytes = state
        .get(&metadata_address(*domain))?
        .ok_or(HypergraphError::UnknownHypergraph { domain: *domain })?;
    let (type_domain, payload) = MetadataRecord::split(&bytes)?;
    if type_domain != HYPERGRAPH {
        return Err(HypergraphError::NotAHypergraph {
            domain: *domain,
            type_domain,
        }
        .into());
    }
    Ok(HypergraphInfo::from_payload(payload)?)
}

/// Whether `domain` holds a hypergraph: its metadata record exists and names [`HYPERGRAPH`]
/// (the payload is not decoded).
pub(crate) fn is_hypergraph(state: &dyn StateRead, domain: &Domain) -> Result<bool, StateError> {
    match state.get(&metadata_address(*domain))? {
        None => Ok(false),
        Some(bytes) => Ok(MetadataRecord::type_domain_of(&bytes)? == HYPERGRAPH),
    }
}

/// The kind of a stored [`HypergraphRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Vertex,
    Hyperedge,
    Membership,
}

impl Kind {
    /// The kind's name in errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Vertex => "vertex",
            Kind::Hyperedge => "hyperedge",
            Kind::Membership => "membership index",
        }
    }
}

/// The kind of stored record bytes, from their first byte alone: a record is one oneof field,
/// so it starts with that field's tag (field 1, 2 or 3, length-delimited). The contents are
/// not decoded (a vertex's blob may be large); the records are written by this engine only.
pub(crate) fn kind_of(bytes: &[u8]) -> Result<Kind, StateError> {
    match bytes.first() {
        Some(0x0a) => Ok(Kind::Vertex),
        Some(0x12) => Ok(Kind::Hyperedge),
        Some(0x1a) => Ok(Kind::Membership),
        _ => Err(corrupt(
            RECORD,
            format!("record of {} bytes has no known kind", bytes.len()),
        )),
    }
}

/// The kind of the record at `address`, `None` when nothing is stored there.
pub(crate) fn kind_at(
    state: &dyn StateRead,
    address: &Address,
) -> Result<Option<Kind>, StateError> {
    state.get(address)?.map(|bytes| kind_of(&bytes)).transpose()
}

fn decode_record(bytes: &[u8]) -> Result<Record, StateError> {
    HypergraphRecord::decode(bytes)
        .map_err(|e| corrupt(RECORD, e.to_string()))?
        .record
        .ok_or_else(|| corrupt(RECORD, "record without a kind".to_owned()))
}

fn addresses(list: &[Vec<u8>]) -> Result<Vec<Address>, StateError> {
    list.iter()
        .map(|bytes| Address::from_slice(bytes).map_err(|e| corrupt(RECORD, e.to_string())))
        .collect()
}

/// The stored bytes of a vertex holding `data`.
pub(crate) fn encode_vertex(data: &[u8]) -> Vec<u8> {
    HypergraphRecord {
        record: Some(Record::Vertex(Vertex {
            data: data.to_vec(),
        })),
    }
    .encode_to_vec()
}

/// The stored bytes of a hyperedge over `members`.
pub(crate) fn encode_hyperedge(members: &[Address]) -> Vec<u8> {
    HypergraphRecord {
        record: Some(Record::Hyperedge(Hyperedge {
            members: members.iter().map(|m| m.to_bytes().to_vec()).collect(),
        })),
    }
    .encode_to_vec()
}

/// The stored bytes of a membership index listing `hyperedges`.
pub(crate) fn encode_membership(hyperedges: &[Address]) -> Vec<u8> {
    HypergraphRecord {
        record: Some(Record::Membership(Membership {
            hyperedges: hyperedges.iter().map(|h| h.to_bytes().to_vec()).collect(),
        })),
    }
    .encode_to_vec()
}

/// The data of the vertex at `address`: `Ok(None)` when no vertex is stored there (nothing,
/// or a record of another kind).
///
/// ```
/// use switchyard_router::{Address, Domain, MemoryView};
/// let state = MemoryView::default();
/// let at = Address::new(Domain([1; 32]), [2; 32]);
/// assert_eq!(switchyard_hypergraph::vertex(&state, &at)?, None);
/// # Ok::<(), switchyard_router::StateError>(())
/// ```
pub fn vertex(state: &dyn StateRead, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
    match state.get(address)? {
        Some(bytes) if kind_of(&bytes)? == Kind::Vertex => match decode_record(&bytes)? {
            Record::Vertex(vertex) => Ok(Some(vertex.data)),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The members of the hyperedge at `address`, in their stored order: `Ok(None)` when no
/// hyperedge is stored there.
pub fn hyperedge(
    state: &dyn StateRead,
    address: &Address,
) -> Result<Option<Vec<Address>>, StateError> {
    match state.get(address)? {
        Some(bytes) if kind_of(&bytes)? == Kind::Hyperedge => match decode_record(&bytes)? {
            Record::Hyperedge(edge) => addresses(&edge.members).map(Some),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// The live hyperedges that hold the vertex at `vertex`, sorted by address, read from its
/// membership index (never by scanning); empty when it is in none. The index key holding a
/// record of another kind reads as an empty index.
pub fn hyperedges_of(state: &dyn StateRead, vertex: &Address) -> Result<Vec<Address>, StateError> {
    match state.get(&membership_address(vertex))? {
        Some(bytes) if kind_of(&bytes)? == Kind::Membership => match decode_record(&bytes)? {
            Record::Membership(index) => addresses(&index.hyperedges),
            _ => Ok(Vec::new()),
        },
        _ => Ok(Vec::new()),
    }
}

/// What an operation finds at a membership index key: the index (empty when absent), or the
/// kind of another record stored there.
pub(crate) fn load_membership(
    state: &dyn StateRead,
    vertex: &Address,
) -> Result<Result<Vec<Address>, Kind>, StateError> {
    let Some(bytes) = state.get(&membership_address(vertex))? else {
        return Ok(Ok(Vec::new()));
    };
    match kind_of(&bytes)? {
        Kind::Membership => match decode_record(&bytes)? {
            Record::Membership(index) => addresses(&index.hyperedges).map(Ok),
            _ => Err(corrupt(RECORD, "membership kind mismatch".to_owned())),
        },
        other => Ok(Err(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_router::MemoryView;

    #[test]
    fn info_round_trips_through_its_metadata_record() {
        let info = HypergraphInfo {
            owner: [1; 32],
            writers: vec![[2; 32], [3; 32]],
            schema: "example/v1".into(),
            max_vertex_size: 10,
            max_hyperedge_members: 3,
        };
        let record = info.to_metadata();
        assert_eq!(record.type_domain, HYPERGRAPH);
        assert_eq!(HypergraphInfo::from_payload(&record.payload).unwrap(), info);
    }

    #[test]
    fn the_three_kinds_never_read_as_one_another() {
        let a = Address::new(Domain([1; 32]), [2; 32]);
        for (bytes, kind) in [
            (encode_vertex(b""), Kind::Vertex),
            (encode_vertex(&[0x12; 300]), Kind::Vertex),
            (encode_hyperedge(&[a]), Kind::Hyperedge),
            (encode_membership(&[]), Kind::Membership),
            (encode_membership(&[a, a]), Kind::Membership),
        ] {
            assert_eq!(kind_of(&bytes).unwrap(), kind);
        }
        assert!(kind_of(&[]).is_err());
        assert!(kind_of(&[0x22, 0]).is_err());
    }

    #[test]
    fn reads_tell_records_apart() {
        let domain = Domain([4; 32]);
        let v = Address::new(domain, [1; 32]);
        let e = Address::new(domain, [2; 32]);
        let mut state = MemoryView::default();
        state.entries.insert(v, encode_vertex(b"data"));
        state.entries.insert(e, encode_hyperedge(&[v]));
        state
            .entries
            .insert(membership_address(&v), encode_membership(&[e]));
        assert_eq!(vertex(&state, &v).unwrap(), Some(b"data".to_vec()));
        assert_eq!(vertex(&state, &e).unwrap(), None);
        assert_eq!(hyperedge(&state, &e).unwrap(), Some(vec![v]));
        assert_eq!(hyperedge(&state, &v).unwrap(), None);
        assert_eq!(hyperedges_of(&state, &v).unwrap(), vec![e]);
        assert_eq!(hyperedges_of(&state, &e).unwrap(), vec![]);
        assert_eq!(load_membership(&state, &v).unwrap(), Ok(vec![e]));
        // An index key holding a vertex: the kind is reported.
        state
            .entries
            .insert(membership_address(&e), encode_vertex(b""));
        assert_eq!(load_membership(&state, &e).unwrap(), Err(Kind::Vertex));
        assert_eq!(hypergraph_info(&state, &domain).unwrap(), None);
    }

    #[test]
    fn a_foreign_metadata_record_is_not_a_hypergraph() {
        let domain = Domain([4; 32]);
        let mut state = MemoryView::default();
        state.entries.insert(
            metadata_address(domain),
            MetadataRecord {
                type_domain: Domain([1; 32]),
                payload: vec![],
            }
            .encode(),
        );
        assert!(!is_hypergraph(&state, &domain).unwrap());
        assert!(matches!(
            load_hypergraph(&state, &domain),
            Err(Failure::Hypergraph(HypergraphError::NotAHypergraph { .. }))
        ));
        assert!(hypergraph_info(&state, &domain).is_err());
    }
}
