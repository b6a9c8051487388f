//! The `Engine` trait: what every execution engine implements (DESIGN §4).

use num_bigint::BigUint;
use switchyard_proto::v1::{Capability, MessageRequest};

use crate::{AccessSet, Domain, EngineError, ExecutionContext, StateRead, StateWrite};

/// How a failure is handled (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The message's fault: recorded, processing goes on.
    Rejected,
    /// Passing: retried with capped exponential backoff, a bounded number of times, then
    /// escalated to critical.
    Temporary,
    /// The node cannot go on safely: shut down.
    Critical,
}

/// An execution engine. Registered with the manager as `Arc<dyn Engine>`.
///
/// Every method is a deterministic function of its inputs: no clock, no randomness, no I/O
/// outside the state view handed in, no hash-map iteration order, no floating point in
/// anything that reaches state or receipts. No method panics, whatever the input; bad input
/// is an [`EngineError`]. Methods may be called from many threads at once.
///
/// Fee and nonce settlement is not the engine's job: the manager settles every signed
/// operation through [`crate::fees`] on the same overlay before calling [`Engine::apply`].
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// Unique, stable name ("token", "hypergraph", "global", "compute"); used in metrics
    /// labels and errors.
    fn name(&self) -> &'static str;

    /// The base domains this engine owns in the route table. Called once, when the table is built.
    fn base_domains(&self) -> Vec<Domain>;

    /// Protocol identifiers and versions the engine advertises.
    fn capabilities(&self) -> Vec<Capability>;

    /// The operation's cost in units; its fee is cost x the frame's fee multiplier. Depends on
    /// the request alone. An operation this engine does not handle is an error, never 0.
    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError>;

    /// The checks that need no state written earlier in the same frame: shape, limits and,
    /// unless `ctx.signatures_verified`, the signature. `state` is the last committed state,
    /// for optional pre-checks.
    fn validate(
        &self,
        ctx: &ExecutionContext,
        target: &Domain,
        request: &MessageRequest,
        state: &dyn StateRead,
    ) -> Result<(), EngineError>;

    /// The addresses the operation will read and write. `apply` may touch nothing else.
    /// `state` is committed state, plus earlier requests of the same bundle.
    fn access(
        &self,
        ctx: &ExecutionContext,
        target: &Domain,
        request: &MessageRequest,
        state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError>;

    /// Performs the operation on a view that permits only its access set. On error the caller
    /// discards every write made through `state`; the engine need not undo anything.
    fn apply(
        &self,
        ctx: &ExecutionContext,
        target: &Domain,
        request: &MessageRequest,
        state: &mut dyn StateWrite,
    ) -> Result<(), EngineError>;

    /// Called once when the node starts; the default does nothing.
    fn start(&self) -> Result<(), EngineError> {
        Ok(())
    }

    /// Called once when the node stops; with `force` the engine should not wait for anything.
    /// The default does nothing.
    fn stop(&self, force: bool) -> Result<(), EngineError> {
        let _ = force;
        Ok(())
    }
}
