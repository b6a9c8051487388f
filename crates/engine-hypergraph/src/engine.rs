//! The hypergraph engine: the [`Engine`] implementation.

use prost::Message;
use switchyard_proto::AnyMessage;
use switchyard_proto::v1::{Capability, MessageRequest};
use switchyard_router::domains::{HYPERGRAPH, metadata_address, native_account};
use switchyard_router::{
    AccessSet, Address, BigUint, Call, Domain, Engine, EngineError, ExecutionContext, Key, Output,
    StateError, StateRead, StateWrite,
};

use crate::error::{Failure, HypergraphError};
use crate::limits::{DEFAULT_MAX_MEMBERS, DEFAULT_MAX_VERTEX_SIZE, MAX_HYPEREDGES_PER_VERTEX};
use crate::op::{Action, Config, Kind, Op, kind_of, parse};
use crate::record::{
    self, HypergraphInfo, encode_hyperedge, encode_membership, encode_vertex, hypergraph_domain,
    is_hypergraph, kind_at, load_hypergraph, load_membership, membership_address,
};

/// The engine's name in the route table, metrics and errors.
pub(crate) const ENGINE_NAME: &str = "hypergraph";

/// The protocol identifier the engine advertises.
pub const PROTOCOL: &str = "switchyard/hypergraph";

/// The version of [`PROTOCOL`] the engine implements.
pub const PROTOCOL_VERSION: u32 = 1;

/// What each hypergraph operation costs: a base cost per kind, a cost per member of a
/// hyperedge operation (each member's membership index is written), and a cost per byte of
/// the request's canonical encoding (type tag included). See the crate docs for the formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostSchedule {
    /// Base cost of a `HypergraphDeploy`. Default 10 000.
    pub deploy: u64,
    /// Base cost of a `HypergraphUpdate`. Default 2 000.
    pub update: u64,
    /// Base cost of a `VertexAdd`. Default 1 000.
    pub vertex_add: u64,
    /// Base cost of a `VertexRemove`. Default 1 000.
    pub vertex_remove: u64,
    /// Base cost of a `HyperedgeAdd`. Default 1 500.
    pub hyperedge_add: u64,
    /// Base cost of a `HyperedgeRemove`. Default 1 500.
    pub hyperedge_remove: u64,
    /// Cost per member listed by a hyperedge add or remove. Default 200.
    pub per_member: u64,
    /// Cost per byte of the request's canonical bytes. Default 1.
    pub per_byte: u64,
}

impl Default for CostSchedule {
    fn default() -> Self {
        Self {
            deploy: 10_000,
            update: 2_000,
            vertex_add: 1_000,
            vertex_remove: 1_000,
            hyperedge_add: 1_500,
            hyperedge_remove: 1_500,
            per_member: 200,
            per_byte: 1,
        }
    }
}

impl CostSchedule {
    fn base(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Deploy => self.deploy,
            Kind::Update => self.update,
            Kind::VertexAdd => self.vertex_add,
            Kind::VertexRemove => self.vertex_remove,
            Kind::HyperedgeAdd => self.hyperedge_add,
            Kind::HyperedgeRemove => self.hyperedge_remove,
        }
    }
}

/// The hypergraph engine. Stateless apart from its [`CostSchedule`]; `Send + Sync`, cheap to
/// clone.
///
/// It owns the hypergraph base domain (deploys); deployed hypergraphs route to it through
/// their metadata records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HypergraphEngine {
    costs: CostSchedule,
}

impl HypergraphEngine {
    /// An engine with the default [`CostSchedule`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An engine with the given cost schedule.
    pub fn with_costs(costs: CostSchedule) -> Self {
        Self { costs }
    }

    /// The engine's cost schedule.
    pub fn costs(&self) -> &CostSchedule {
        &self.costs
    }
}

impl Engine for HypergraphEngine {
    fn name(&self) -> &'static str {
        ENGINE_NAME
    }

    fn base_domains(&self) -> Vec<Domain> {
        vec![HYPERGRAPH]
    }

    fn capabilities(&self) -> Vec<Capability> {
        vec![Capability {
            protocol: PROTOCOL.to_owned(),
            version: PROTOCOL_VERSION,
            metadata: b"deploy,update,vertex,hyperedge,query".to_vec(),
        }]
    }

    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
        let Some((kind, _, members)) = kind_of(request) else {
            return Err(EngineError::Unsupported {
                engine: ENGINE_NAME,
                operation: request.operation(),
            });
        };
        let bytes = 4 + request.encoded_len() as u128;
        // Three u64 x (at most) u64 products and their sum fit a u128 with room to spare.
        let cost = u128::from(self.costs.base(kind))
            + u128::from(self.costs.per_member) * members as u128
            + u128::from(self.costs.per_byte) * bytes;
        Ok(BigUint::from(cost))
    }

    fn validate(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<(), EngineError> {
        parse(call).map(|_| ())
    }

    fn access(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError> {
        let op = parse(call)?;
        Ok(access_of(&call.target, &op))
    }

    fn apply(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError> {
        let op = parse(call)?;
        execute(&call.target, &op, state).map_err(|e| e.into_engine(op.name))
    }

    fn query(
        &self,
        target: &Domain,
        query: &AnyMessage,
        state: &dyn StateRead,
    ) -> Result<Vec<u8>, EngineError> {
        crate::query::answer(target, query, state)
    }
}

/// The access set of a parsed operation. It needs no state: every address follows from the
/// request (a hyperedge remove lists the members whose indexes it rewrites).
fn access_of(target: &Domain, op: &Op<'_>) -> AccessSet {
    let mut set = AccessSet::new();
    let at = |key: Key| Address::new(*target, key);
    match &op.action {
        Action::Deploy(_) => {
            set.write(metadata_address(hypergraph_domain(&op.signer, op.nonce)));
        }
        Action::Update { .. } => {
            set.write(metadata_address(*target));
        }
        Action::VertexAdd { key, .. } => {
            set.read(metadata_address(*target)).write(at(*key));
        }
        Action::VertexRemove { key } => {
            set.read(metadata_address(*target))
                .write(at(*key))
                .read(membership_address(&at(*key)));
        }
        Action::HyperedgeAdd { key, members } => {
            set.read(metadata_address(*target)).write(at(*key));
            for member in members {
                set.read(metadata_address(member.domain))
                    .read(*member)
                    .write(membership_address(member));
            }
        }
        Action::HyperedgeRemove { key, members } => {
            set.read(metadata_address(*target)).write(at(*key));
            for member in members {
                set.write(membership_address(member));
            }
        }
    }
    // Written by the manager's fee and nonce settlement (declared here too, so the set is
    // complete for any caller).
    set.write(native_account(op.signer));
    set
}

/// Performs a parsed operation. A deploy returns the new hypergraph's domain; nothing else
/// returns a result.
fn execute(target: &Domain, op: &Op<'_>, state: &mut dyn StateWrite) -> Result<Output, Failure> {
    match &op.action {
        Action::Deploy(config) => {
            let domain = deploy(op, config, state)?;
            return Ok(Output::result(domain.0));
        }
        Action::Update { config, new_owner } => update(target, op, config, *new_owner, state)?,
        Action::VertexAdd { key, data } => vertex_add(target, op, key, data, state)?,
        Action::VertexRemove { key } => vertex_remove(target, op, key, state)?,
        Action::HyperedgeAdd { key, members } => hyperedge_add(target, op, key, members, state)?,
        Action::HyperedgeRemove { key, members } => {
            hyperedge_remove(target, op, key, members, state)?;
        }
    }
    Ok(Output::none())
}

/// Creates the hypergraph and returns its domain. Limits left at 0 become the engine defaults,
/// stored explicitly (a later change of the defaults does not change existing hypergraphs).
fn deploy(op: &Op<'_>, config: &Config, state: &mut dyn StateWrite) -> Result<Domain, Failure> {
    let domain = hypergraph_domain(&op.signer, op.nonce);
    let metadata = metadata_address(domain);
    if state.get(&metadata)?.is_some() {
        return Err(HypergraphError::HypergraphExists { domain }.into());
    }
    let or_default = |value: u32, default: u32| if value == 0 { default } else { value };
    let info = HypergraphInfo {
        owner: op.signer,
        writers: config.writers.clone(),
        schema: config.schema.clone(),
        max_vertex_size: or_default(config.max_vertex_size, DEFAULT_MAX_VERTEX_SIZE),
        max_hyperedge_members: or_default(config.max_hyperedge_members, DEFAULT_MAX_MEMBERS),
    };
    state.put(metadata, info.to_metadata().encode())?;
    Ok(domain)
}

/// Replaces writers and schema, tightens limits (0 keeps one), hands over ownership.
fn update(
    target: &Domain,
    op: &Op<'_>,
    config: &Config,
    new_owner: Option<Key>,
    state: &mut dyn StateWrite,
) -> Result<(), Failure> {
    let mut info = load_hypergraph(state, target)?;
    if info.owner != op.signer {
        return Err(HypergraphError::NotOwner {
            signer: op.signer,
            owner: info.owner,
        }
        .into());
    }
    let tighten = |field, current: u32, requested: u32| match requested {
        0 => Ok(current),
        requested if requested > current => Err(HypergraphError::LimitLoosened {
            field,
            current,
            requested,
        }),
        requested => Ok(requested),
    };
    info.max_vertex_size = tighten(
        "max_vertex_size",
        info.max_vertex_size,
        config.max_vertex_size,
    )?;
    info.max_hyperedge_members = tighten(
        "max_hyperedge_members",
        info.max_hyperedge_members,
        config.max_hyperedge_members,
    )?;
    info.writers = config.writers.clone();
    info.schema = config.schema.clone();
    if let Some(owner) = new_owner {
        info.owner = owner;
    }
    state.put(metadata_address(*target), info.to_metadata().encode())?;
    Ok(())
}

/// Loads the target hypergraph and checks that the signer is one of its writers.
fn writable(
    target: &Domain,
    op: &Op<'_>,
    state: &dyn StateRead,
) -> Result<HypergraphInfo, Failure> {
    let info = load_hypergraph(state, target)?;
    if !info.writers.contains(&op.signer) {
        return Err(HypergraphError::NotWriter {
            signer: op.signer,
            domain: *target,
        }
        .into());
    }
    Ok(info)
}

fn vertex_add(
    target: &Domain,
    op: &Op<'_>,
    key: &Key,
    data: &[u8],
    state: &mut dyn StateWrite,
) -> Result<(), Failure> {
    let info = writable(target, op, state)?;
    if data.len() > info.max_vertex_size as usize {
        return Err(HypergraphError::VertexTooLarge {
            size: data.len(),
            limit: info.max_vertex_size,
        }
        .into());
    }
    let address = Address::new(*target, *key);
    expect_kind(state, &address, record::Kind::Vertex)?;
    state.put(address, encode_vertex(data))?;
    Ok(())
}

/// Refuses a record of another kind than `expected` at `address`; returns whether one of the
/// expected kind is there.
fn expect_kind(
    state: &dyn StateRead,
    address: &Address,
    expected: record::Kind,
) -> Result<bool, Failure> {
    match kind_at(state, address)? {
        None => Ok(false),
        Some(kind) if kind == expected => Ok(true),
        Some(found) => Err(HypergraphError::WrongKind {
            key: address.key,
            expected: expected.name(),
            found: found.name(),
        }
        .into()),
    }
}

fn vertex_remove(
    target: &Domain,
    op: &Op<'_>,
    key: &Key,
    state: &mut dyn StateWrite,
) -> Result<(), Failure> {
    writable(target, op, state)?;
    let address = Address::new(*target, *key);
    if !expect_kind(state, &address, record::Kind::Vertex)? {
        return Err(HypergraphError::UnknownVertex { key: *key }.into());
    }
    // An index key holding another kind of record lists nothing.
    if let Ok(index) = load_membership(state, &address)?
        && let Some(hyperedge) = index.first()
    {
        return Err(HypergraphError::VertexInUse {
            key: *key,
            hyperedge: *hyperedge,
        }
        .into());
    }
    state.delete(&address)?;
    Ok(())
}

fn hyperedge_add(
    target: &Domain,
    op: &Op<'_>,
    key: &Key,
    members: &[Address],
    state: &mut dyn StateWrite,
) -> Result<(), Failure> {
    let info = writable(target, op, state)?;
    if members.len() > info.max_hyperedge_members as usize {
        return Err(HypergraphError::TooManyMembers {
            count: members.len(),
            limit: info.max_hyperedge_members,
        }
        .into());
    }
    let edge = Address::new(*target, *key);
    if expect_kind(state, &edge, record::Kind::Hyperedge)? {
        return Err(HypergraphError::HyperedgeExists { key: *key }.into());
    }
    for member in members {
        if member.domain != *target && !is_hypergraph(state, &member.domain)? {
            return Err(HypergraphError::MemberNotInHypergraph { address: *member }.into());
        }
        if kind_at(state, member)? != Some(record::Kind::Vertex) {
            return Err(HypergraphError::UnknownMember { address: *member }.into());
        }
        let mut index =
            load_membership(state, member)?.map_err(|found| HypergraphError::IndexKeyTaken {
                address: *member,
                found: found.name(),
            })?;
        if index.len() >= MAX_HYPEREDGES_PER_VERTEX {
            return Err(HypergraphError::TooManyHyperedgesOfVertex {
                address: *member,
                limit: MAX_HYPEREDGES_PER_VERTEX,
            }
            .into());
        }
        match index.binary_search(&edge) {
            Ok(_) => return Err(corrupt_index(member, &edge, "already lists").into()),
            Err(position) => index.insert(position, edge),
        }
        state.put(membership_address(member), encode_membership(&index))?;
    }
    // Written last: a member index key equal to the edge's key was refused above
    // (`IndexKeyTaken` would have found this edge otherwise, so check again).
    if kind_at(state, &edge)?.is_some() {
        return Err(HypergraphError::WrongKind {
            key: *key,
            expected: record::Kind::Hyperedge.name(),
            found: record::Kind::Membership.name(),
        }
        .into());
    }
    state.put(edge, encode_hyperedge(members))?;
    Ok(())
}

fn hyperedge_remove(
    target: &Domain,
    op: &Op<'_>,
    key: &Key,
    members: &[Address],
    state: &mut dyn StateWrite,
) -> Result<(), Failure> {
    writable(target, op, state)?;
    let edge = Address::new(*target, *key);
    let Some(stored) = record::hyperedge(state, &edge)? else {
        // Nothing there, or another kind: name which.
        expect_kind(state, &edge, record::Kind::Hyperedge)?;
        return Err(HypergraphError::UnknownHyperedge { key: *key }.into());
    };
    if stored != members {
        return Err(HypergraphError::MembersMismatch { key: *key }.into());
    }
    for member in members {
        let address = membership_address(member);
        let mut index = load_membership(state, member)?
            .map_err(|_| corrupt_index(member, &edge, "is not an index and cannot list"))?;
        let position = index
            .binary_search(&edge)
            .map_err(|_| corrupt_index(member, &edge, "does not list"))?;
        index.remove(position);
        if index.is_empty() {
            state.delete(&address)?;
        } else {
            state.put(address, encode_membership(&index))?;
        }
    }
    state.delete(&edge)?;
    Ok(())
}

/// A membership index that disagrees with the hyperedges: state this engine never writes.
fn corrupt_index(member: &Address, edge: &Address, what: &str) -> StateError {
    StateError::Corrupt {
        what: "membership index",
        reason: format!("the index of {member} {what} hyperedge {edge}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::v1;

    #[test]
    fn foreign_and_empty_operations_are_unsupported_never_free() {
        let engine = HypergraphEngine::new();
        let transfer: MessageRequest = v1::Transaction::default().into();
        assert!(matches!(
            engine.cost(&transfer),
            Err(EngineError::Unsupported {
                engine: "hypergraph",
                ..
            })
        ));
        assert!(matches!(
            engine.cost(&MessageRequest::default()),
            Err(EngineError::Unsupported { .. })
        ));
    }

    #[test]
    fn members_are_priced() {
        let engine = HypergraphEngine::new();
        let one: MessageRequest = v1::HyperedgeAdd {
            key: vec![1; 32],
            members: vec![vec![2; 64]],
            auth: None,
        }
        .into();
        let two: MessageRequest = v1::HyperedgeAdd {
            key: vec![1; 32],
            members: vec![vec![2; 64], vec![3; 64]],
            auth: None,
        }
        .into();
        let bytes = |r: &MessageRequest| 4 + r.encoded_len() as u64;
        assert_eq!(
            engine.cost(&one).unwrap(),
            BigUint::from(1_500 + 200 + bytes(&one))
        );
        assert_eq!(
            engine.cost(&two).unwrap(),
            BigUint::from(1_500 + 400 + bytes(&two))
        );
    }

    #[test]
    fn the_engine_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<HypergraphEngine>();
    }
}
