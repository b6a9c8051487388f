//! The `Engine` trait: what every execution engine implements (DESIGN §4).

use std::sync::Arc;

use num_bigint::BigUint;
use switchyard_proto::AnyMessage;
use switchyard_proto::v1::{Capability, MessageRequest};

use crate::{AccessSet, Call, Domain, EngineError, ExecutionContext, StateRead, StateWrite};

/// The largest result one request may return from [`Engine::apply`], in bytes. The manager
/// fails an operation whose result is larger (its effects rolled back, its fee kept); an engine
/// documents its own, smaller, limit where it has one.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

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

/// What an applied operation produced, carried by the receipt's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Output {
    /// Result bytes (a deploy's new domain, an execution's output); empty for none. At most
    /// [`MAX_RESULT_BYTES`].
    pub result: Vec<u8>,
}

impl Output {
    /// An operation that produced nothing to report.
    pub fn none() -> Self {
        Self::default()
    }

    /// An operation that produced `result`.
    pub fn result(result: impl Into<Vec<u8>>) -> Self {
        Self {
            result: result.into(),
        }
    }
}

/// An execution engine. Registered with the manager as `Arc<dyn Engine>`.
///
/// Every method is a deterministic function of its inputs: no clock, no randomness, no I/O
/// outside the state view handed in, no hash-map iteration order, no floating point in
/// anything that reaches state or receipts. No method panics, whatever the input; bad input
/// is an [`EngineError`]. Methods may be called from many threads at once.
///
/// What the manager does around an engine, so that no engine repeats it:
/// - it **authenticates**: every signature is verified before an engine sees a request, and
///   the [`Call`] carries the authenticated signer;
/// - it **routes**: a request reaches the engine that owns its target domain (see
///   [`crate::RouteTable`]), and `cost` the engine of the operation's family (see
///   [`crate::families`]);
/// - it **settles fees and nonces** through [`crate::fees`] on the same overlay, before
///   [`Engine::apply`], and keeps them when the operation fails;
/// - it **enforces the access set**: `apply` runs on a view that refuses any address outside
///   what [`Engine::access`] declared.
///
/// The trait is implemented for `&T`, `Box<T>` and `Arc<T>` of any engine, so an engine can be
/// registered however the caller holds it.
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// Unique, stable name ("token", "hypergraph", "global", "compute"); used in metrics
    /// labels and errors.
    fn name(&self) -> &'static str;

    /// The base domains this engine owns in the route table. Called once, when the table is built.
    fn base_domains(&self) -> Vec<Domain>;

    /// Protocol identifiers and versions the engine advertises.
    fn capabilities(&self) -> Vec<Capability>;

    /// The operation's cost in units; its fee is cost x the frame's fee multiplier. Depends on
    /// the request alone (it is priced before its signature is checked). An operation this
    /// engine does not handle is an error, never 0.
    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError>;

    /// The checks that need no state written earlier in the same frame: shape and limits.
    /// `state` is the last committed state, for optional pre-checks. A refusal here rejects
    /// the message with no effect and no fee.
    fn validate(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &dyn StateRead,
    ) -> Result<(), EngineError>;

    /// The addresses the operation will read and write. `apply` may touch nothing else.
    /// `state` is committed state, plus earlier requests of the same bundle.
    fn access(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError>;

    /// Performs the operation on a view that permits only its access set, and returns what it
    /// produced. On error the caller discards every write made through `state`; the engine
    /// need not undo anything.
    fn apply(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError>;

    /// Answers a read-only query sent to `target` (a base domain of this engine or an instance
    /// it owns) over a committed snapshot, as the canonical bytes of the engine's response
    /// message. The query is already strictly decoded and belongs to this engine's family.
    /// The default answers [`EngineError::Unsupported`].
    fn query(
        &self,
        target: &Domain,
        query: &AnyMessage,
        state: &dyn StateRead,
    ) -> Result<Vec<u8>, EngineError> {
        let _ = (target, state);
        Err(EngineError::Unsupported {
            engine: self.name(),
            operation: query_name(query),
        })
    }

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

/// The name of a query message, for errors: its type tag, as no name table is at hand.
fn query_name(query: &AnyMessage) -> &'static str {
    switchyard_proto::tag_name(query.tag()).unwrap_or("query")
}

/// Forwards every method to the engine behind a pointer.
macro_rules! forward_engine {
    ($($pointer:ty),*) => {$(
        impl<T: Engine + ?Sized> Engine for $pointer {
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn base_domains(&self) -> Vec<Domain> {
                (**self).base_domains()
            }
            fn capabilities(&self) -> Vec<Capability> {
                (**self).capabilities()
            }
            fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
                (**self).cost(request)
            }
            fn validate(
                &self,
                ctx: &ExecutionContext,
                call: &Call<'_>,
                state: &dyn StateRead,
            ) -> Result<(), EngineError> {
                (**self).validate(ctx, call, state)
            }
            fn access(
                &self,
                ctx: &ExecutionContext,
                call: &Call<'_>,
                state: &dyn StateRead,
            ) -> Result<AccessSet, EngineError> {
                (**self).access(ctx, call, state)
            }
            fn apply(
                &self,
                ctx: &ExecutionContext,
                call: &Call<'_>,
                state: &mut dyn StateWrite,
            ) -> Result<Output, EngineError> {
                (**self).apply(ctx, call, state)
            }
            fn query(
                &self,
                target: &Domain,
                query: &AnyMessage,
                state: &dyn StateRead,
            ) -> Result<Vec<u8>, EngineError> {
                (**self).query(target, query, state)
            }
            fn start(&self) -> Result<(), EngineError> {
                (**self).start()
            }
            fn stop(&self, force: bool) -> Result<(), EngineError> {
                (**self).stop(force)
            }
        }
    )*};
}

forward_engine!(&T, Box<T>, Arc<T>);
