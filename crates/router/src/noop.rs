//! An engine that accepts every operation sent to its domains and does nothing: for tests of
//! the manager, of routing and of the conformance kit, where a real engine would be in the way.

use num_bigint::BigUint;
use switchyard_proto::v1::{Capability, MessageRequest};

use crate::{
    AccessSet, Call, Domain, Engine, EngineError, ExecutionContext, Output, StateRead, StateWrite,
};

/// An engine that owns the domains it is given, prices every operation at a fixed cost,
/// declares no access beyond what the manager adds (the signer's native account) and applies
/// nothing. It answers no queries.
///
/// ```
/// use std::sync::Arc;
/// use switchyard_router::{NoopEngine, RouteTable, MemoryView, domains};
///
/// let table = RouteTable::builder().engine(Arc::new(NoopEngine::new("noop", vec![domains::COMPUTE]))).build()?;
/// assert_eq!(table.resolve(&domains::COMPUTE, &MemoryView::default())?.name(), "noop");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoopEngine {
    name: &'static str,
    domains: Vec<Domain>,
    cost: u64,
}

impl NoopEngine {
    /// An engine named `name` owning `domains`, with cost 1 per operation.
    pub fn new(name: &'static str, domains: Vec<Domain>) -> Self {
        Self {
            name,
            domains,
            cost: 1,
        }
    }

    /// Sets the cost of every operation (default 1).
    #[must_use]
    pub fn with_cost(mut self, cost: u64) -> Self {
        self.cost = cost;
        self
    }
}

impl Engine for NoopEngine {
    fn name(&self) -> &'static str {
        self.name
    }

    fn base_domains(&self) -> Vec<Domain> {
        self.domains.clone()
    }

    fn capabilities(&self) -> Vec<Capability> {
        Vec::new()
    }

    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
        match request.request {
            Some(_) => Ok(BigUint::from(self.cost)),
            None => Err(EngineError::Unsupported {
                engine: self.name,
                operation: request.operation(),
            }),
        }
    }

    fn validate(
        &self,
        _ctx: &ExecutionContext,
        _call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    fn access(
        &self,
        _ctx: &ExecutionContext,
        _call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError> {
        Ok(AccessSet::new())
    }

    fn apply(
        &self,
        _ctx: &ExecutionContext,
        _call: &Call<'_>,
        _state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError> {
        Ok(Output::none())
    }
}
