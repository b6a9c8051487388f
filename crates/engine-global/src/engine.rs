//! The global engine: the [`Engine`] implementation.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use switchyard_proto::AnyMessage;
use switchyard_proto::v1::{Capability, MessageRequest};
use switchyard_router::domains::{GLOBAL, native_account};
use switchyard_router::{
    AccessSet, BigUint, Call, Domain, Engine, EngineError, ExecutionContext, Key, Output,
    StateRead, StateWrite,
};

use crate::config::{RegistryConfig, registry_config};
use crate::error::{Failure, GlobalError};
use crate::op::{Action, Op, check_proofs, operation_of, parse};
use crate::record::{
    Filter, FilterIndex, FilterState, MAX_FILTERS_PER_PROVER, ProverRecord, StatusIndex,
    config_address, filter_index_address, prover, prover_address, status_index_address,
};
use crate::status::{Next, Operation, Status, touched_indexes, transition, window_end};

/// The engine's name in the route table, metrics and errors.
pub(crate) const ENGINE_NAME: &str = "global";

/// The protocol identifier the engine advertises.
pub const PROTOCOL: &str = "switchyard/global";

/// The version of [`PROTOCOL`] the engine implements.
pub const PROTOCOL_VERSION: u32 = 1;

/// The global engine: the prover registry. Stateless (its configuration lives in state, see
/// [`RegistryConfig`]); `Send + Sync`, cheap to clone. It owns the global domain and no
/// instances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalEngine;

impl GlobalEngine {
    /// The engine.
    pub fn new() -> Self {
        Self
    }
}

impl Engine for GlobalEngine {
    fn name(&self) -> &'static str {
        ENGINE_NAME
    }

    fn base_domains(&self) -> Vec<Domain> {
        vec![GLOBAL]
    }

    fn capabilities(&self) -> Vec<Capability> {
        vec![Capability {
            protocol: PROTOCOL.to_owned(),
            version: PROTOCOL_VERSION,
            metadata: b"join,confirm,reject,leave,pause,resume,update,kick".to_vec(),
        }]
    }

    /// Every prover operation costs 0; anything else is unsupported.
    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
        match operation_of(request) {
            Some(_) => Ok(BigUint::default()),
            None => Err(EngineError::Unsupported {
                engine: ENGINE_NAME,
                operation: request.operation(),
            }),
        }
    }

    fn validate(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<(), EngineError> {
        let op = parse(call)?;
        check_proofs(ctx, &op)
            .map_err(|e| EngineError::rejected(ENGINE_NAME, op.operation.name(), e))
    }

    fn access(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError> {
        let op = parse(call)?;
        access_of(&op, state).map_err(EngineError::State)
    }

    fn apply(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError> {
        let op = parse(call)?;
        execute(ctx, &op, state).map_err(|e| e.into_engine(op.operation.name()))?;
        Ok(Output::none())
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

/// The access set of a parsed operation: the configuration (read), the record of the prover
/// it is about (written), the kick signer's record (read), the indexes of every stored status
/// the operation's cells in the table move from or to, and the index of every filter it may
/// change: the filters it names, else (an operation on all filters, a kick) the filters of the
/// prover's record in `state`. See the crate docs for why the latter is safe.
fn access_of(op: &Op, state: &dyn StateRead) -> Result<AccessSet, switchyard_router::StateError> {
    let mut set = AccessSet::new();
    set.read(config_address());
    let subject = match &op.action {
        Action::Kick { prover, .. } => {
            set.read(prover_address(&op.signer));
            *prover
        }
        _ => op.signer,
    };
    set.write(prover_address(&subject));
    let filters: Vec<Filter> = match &op.action {
        Action::Join { filters, .. } => filters.clone(),
        Action::Scoped {
            filters: Some(filters),
        } => filters.clone(),
        Action::Update { .. } => Vec::new(),
        Action::Scoped { filters: None } | Action::Kick { .. } => prover(state, &subject)?
            .map(|record| record.filters.into_keys().collect())
            .unwrap_or_default(),
    };
    for filter in &filters {
        set.write(filter_index_address(filter));
    }
    for status in touched_indexes(op.operation) {
        set.write(status_index_address(status));
    }
    // Written by the manager's fee and nonce settlement (declared here too, so the set is
    // complete for any caller).
    set.write(native_account(op.signer));
    Ok(set)
}

/// One filter's move: from its stored state (none for a filter never joined) to a status.
struct Move {
    filter: Filter,
    from: Option<FilterState>,
    to: Status,
}

/// What the table says about `operation` on `filter` of `record` at `frame`: `Some(status)`
/// to move, `None` to stay, or the named refusal.
fn decide(
    operation: Operation,
    record: Option<&ProverRecord>,
    filter: &Filter,
    frame: u64,
    config: &RegistryConfig,
) -> Result<Option<Status>, GlobalError> {
    let stored = record.and_then(|r| r.filters.get(filter)).copied();
    let status = match (record, stored) {
        (Some(r), _) if r.kicked => Status::Kicked,
        (_, Some(state)) => state.at(frame, config),
        (_, None) => Status::None,
    };
    match transition(status, operation) {
        Next::To(to) => Ok(Some(to)),
        Next::AfterDelay(to) => {
            let since = stored.map_or(0, |s| s.since_frame);
            let opens = since.saturating_add(config.confirm_min_delay);
            if frame < opens {
                return Err(GlobalError::WindowNotOpen {
                    operation,
                    filter: *filter,
                    opens,
                    frame,
                });
            }
            Ok(Some(to))
        }
        Next::Stay => Ok(None),
        Next::Refuse(rejection) => match stored {
            Some(state) if state.status != status && status != Status::Kicked => {
                Err(GlobalError::WindowClosed {
                    operation,
                    filter: *filter,
                    stored: state.status,
                    status,
                    closed: window_end(state.status, state.since_frame, config).unwrap_or(0),
                    frame,
                    rejection,
                })
            }
            _ => Err(GlobalError::Transition {
                operation,
                filter: Some(*filter),
                status,
                rejection,
            }),
        },
    }
}

/// The refusal of an operation on a prover that has no record.
fn unregistered(operation: Operation) -> GlobalError {
    let rejection = match transition(Status::None, operation) {
        Next::Refuse(rejection) => rejection,
        _ => crate::status::Rejection::NotRegistered,
    };
    GlobalError::Transition {
        operation,
        filter: None,
        status: Status::None,
        rejection,
    }
}

/// The moves of `operation` on `filters` of `record` (every one must be legal), or on all
/// its filters when `filters` is `None` (the legal ones; none legal is the first refusal).
fn plan(
    operation: Operation,
    record: Option<&ProverRecord>,
    filters: Option<&[Filter]>,
    frame: u64,
    config: &RegistryConfig,
) -> Result<Vec<Move>, GlobalError> {
    let stored = |filter: &Filter| record.and_then(|r| r.filters.get(filter)).copied();
    let mut moves = Vec::new();
    match filters {
        Some(filters) => {
            for filter in filters {
                if let Some(to) = decide(operation, record, filter, frame, config)? {
                    moves.push(Move {
                        filter: *filter,
                        from: stored(filter),
                        to,
                    });
                }
            }
        }
        None => {
            let record = record.ok_or_else(|| unregistered(operation))?;
            let mut first_refusal = None;
            for filter in record.filters.keys() {
                match decide(operation, Some(record), filter, frame, config) {
                    Ok(Some(to)) => moves.push(Move {
                        filter: *filter,
                        from: stored(filter),
                        to,
                    }),
                    Ok(None) => {}
                    Err(error) => {
                        first_refusal.get_or_insert(error);
                    }
                }
            }
            if moves.is_empty()
                && let Some(error) = first_refusal
            {
                return Err(error);
            }
        }
    }
    Ok(moves)
}

/// The indexes an operation edits, loaded on first use and written once at the end.
struct Indexes<'c> {
    config: &'c RegistryConfig,
    frame: u64,
    statuses: BTreeMap<Status, StatusIndex>,
    filters: BTreeMap<Filter, FilterIndex>,
}

impl<'c> Indexes<'c> {
    fn new(config: &'c RegistryConfig, frame: u64) -> Self {
        Self {
            config,
            frame,
            statuses: BTreeMap::new(),
            filters: BTreeMap::new(),
        }
    }

    fn status(
        &mut self,
        state: &dyn StateRead,
        status: Status,
    ) -> Result<&mut StatusIndex, Failure> {
        Ok(match self.statuses.entry(status) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(StatusIndex::load(state, status)?),
        })
    }

    fn filter(
        &mut self,
        state: &dyn StateRead,
        filter: &Filter,
    ) -> Result<&mut FilterIndex, Failure> {
        Ok(match self.filters.entry(*filter) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(FilterIndex::load(state, filter)?),
        })
    }

    /// Moves `prover` on one filter: out of its old status's index, into the new one's, and
    /// into (or out of) the filter's index; updates the record.
    fn apply(
        &mut self,
        state: &dyn StateRead,
        record: &mut ProverRecord,
        step: &Move,
    ) -> Result<(), Failure> {
        let (config, frame) = (self.config, self.frame);
        let prover = record.key;
        if let Some(from) = step.from {
            self.status(state, from.status)?
                .remove(&prover, &step.filter);
        }
        self.status(state, step.to)?.insert(
            step.to,
            &prover,
            &step.filter,
            frame,
            config,
            frame,
        )?;
        self.filter(state, &step.filter)?.set(
            &step.filter,
            &prover,
            step.to,
            frame,
            config,
            frame,
        )?;
        record.filters.insert(
            step.filter,
            FilterState {
                status: step.to,
                since_frame: frame,
            },
        );
        Ok(())
    }

    /// Writes every index loaded (deleting the empty ones).
    fn store(self, state: &mut dyn StateWrite) -> Result<(), Failure> {
        for (status, index) in self.statuses {
            let address = status_index_address(status);
            if index.entries.is_empty() {
                state.delete(&address)?;
            } else {
                state.put(address, index.encode())?;
            }
        }
        for (filter, index) in self.filters {
            let address = filter_index_address(&filter);
            if index.entries.is_empty() {
                state.delete(&address)?;
            } else {
                state.put(address, index.encode())?;
            }
        }
        Ok(())
    }
}

/// Performs a parsed operation.
fn execute(ctx: &ExecutionContext, op: &Op, state: &mut dyn StateWrite) -> Result<(), Failure> {
    check_proofs(ctx, op)?;
    let frame = ctx.frame_number;
    let config = registry_config(state)?;
    let operation = op.operation;
    let subject = match &op.action {
        Action::Kick { prover, .. } => {
            let signer = prover_of(state, &op.signer)?;
            if signer.is_none_or(|s| s.kicked) {
                return Err(GlobalError::KickerNotRegistered { signer: op.signer }.into());
            }
            *prover
        }
        _ => op.signer,
    };
    let existing = prover_of(state, &subject)?;
    let moves = match &op.action {
        Action::Join { filters, .. } => {
            let moves = plan(operation, existing.as_ref(), Some(filters), frame, &config)?;
            let known = existing.as_ref().map_or(0, |r| r.filters.len());
            let added = moves.iter().filter(|m| m.from.is_none()).count();
            if known.saturating_add(added) > MAX_FILTERS_PER_PROVER {
                return Err(GlobalError::TooManyProverFilters {
                    prover: subject,
                    limit: MAX_FILTERS_PER_PROVER,
                }
                .into());
            }
            moves
        }
        Action::Scoped { filters } => plan(
            operation,
            existing.as_ref(),
            filters.as_deref(),
            frame,
            &config,
        )?,
        Action::Update { .. } | Action::Kick { .. } => {
            let record = existing.as_ref().ok_or_else(|| unregistered(operation))?;
            if matches!(op.action, Action::Kick { .. }) && record.last_join_frame == frame {
                return Err(GlobalError::JoinedThisFrame {
                    prover: subject,
                    frame,
                }
                .into());
            }
            // Per-prover operations: every filter must allow them.
            let filters: Vec<Filter> = record.filters.keys().copied().collect();
            plan(operation, Some(record), Some(&filters), frame, &config)?
        }
    };
    let mut record = existing.unwrap_or_else(|| ProverRecord::new(subject));
    match &op.action {
        Action::Join { delegate, .. } => {
            record.delegate = *delegate;
            if moves.iter().any(|m| m.from.is_none()) {
                record.last_join_frame = frame;
            }
        }
        Action::Update { delegate } => record.delegate = Some(*delegate),
        Action::Kick { .. } => record.kicked = true,
        Action::Scoped { .. } => {}
    }
    let mut indexes = Indexes::new(&config, frame);
    for step in &moves {
        indexes.apply(state, &mut record, step)?;
    }
    indexes.store(state)?;
    state.put(prover_address(&subject), record.encode())?;
    Ok(())
}

fn prover_of(state: &dyn StateRead, key: &Key) -> Result<Option<ProverRecord>, Failure> {
    Ok(prover(state, key)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::v1;

    #[test]
    fn prover_operations_cost_zero_and_others_are_unsupported() {
        let engine = GlobalEngine::new();
        let join: MessageRequest = v1::ProverJoin::default().into();
        assert_eq!(engine.cost(&join).unwrap(), BigUint::default());
        let kick: MessageRequest = v1::ProverKick::default().into();
        assert_eq!(engine.cost(&kick).unwrap(), BigUint::default());
        for other in [
            v1::Transaction::default().into(),
            v1::VertexAdd::default().into(),
            MessageRequest::default(),
        ] {
            assert!(matches!(
                engine.cost(&other),
                Err(EngineError::Unsupported {
                    engine: "global",
                    ..
                })
            ));
        }
    }

    #[test]
    fn the_engine_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<GlobalEngine>();
    }
}
