//! Errors of the engine contract.

use crate::{Address, Domain, Severity};

/// A state access failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The address is outside the access set the operation declared.
    #[error("access violation: {op} of {address} is outside the declared access set")]
    AccessViolation {
        /// The address touched.
        address: Address,
        /// "read" or "write".
        op: &'static str,
    },
    /// A stored value could not be decoded.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// What was being read (e.g. "account record").
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The store itself failed (I/O, a closed database).
    #[error("state backend failed: {reason}")]
    Backend {
        /// What the backend reported.
        reason: String,
    },
}

impl StateError {
    /// How the manager handles this error: an access violation or corrupt record is the
    /// message's failure; a backend failure may pass.
    pub fn severity(&self) -> Severity {
        match self {
            StateError::AccessViolation { .. } | StateError::Corrupt { .. } => Severity::Rejected,
            StateError::Backend { .. } => Severity::Temporary,
        }
    }
}

/// Resolving the engine of a target domain, or building the route table, failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// No engine owns the domain, as a base domain or through a metadata record.
    #[error("no engine for domain {domain}")]
    NoEngine {
        /// The domain that could not be routed.
        domain: Domain,
    },
    /// The metadata record names a type domain no registered engine owns.
    #[error("domain {domain} has type domain {type_domain}, which no engine owns")]
    UnknownTypeDomain {
        /// The instance domain.
        domain: Domain,
        /// The type domain its metadata record names.
        type_domain: Domain,
    },
    /// Two engines were registered under one name.
    #[error("two engines are named {name:?}")]
    DuplicateName {
        /// The duplicated name.
        name: &'static str,
    },
    /// Two engines claim one base domain.
    #[error("engines {first:?} and {second:?} both claim base domain {domain}")]
    DuplicateDomain {
        /// The contested domain.
        domain: Domain,
        /// The engine registered first.
        first: &'static str,
        /// The engine registered second.
        second: &'static str,
    },
    /// Reading the metadata record failed.
    #[error("reading the metadata record of {domain}: {source}")]
    State {
        /// The domain being resolved.
        domain: Domain,
        /// The state error.
        source: StateError,
    },
}

/// An engine call failed. Engines keep their own typed errors (e.g. `TokenError`) inside
/// [`EngineError::Rejected`]; [`EngineError::downcast_ref`] gets them back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The operation is invalid or failed a check: the message's fault.
    #[error("{engine} rejected {operation}: {source}")]
    Rejected {
        /// Engine name.
        engine: &'static str,
        /// Operation name (e.g. "Transaction").
        operation: &'static str,
        /// The engine's typed error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The engine does not handle this operation.
    #[error("engine {engine} does not handle {operation}")]
    Unsupported {
        /// Engine name.
        engine: &'static str,
        /// Operation name.
        operation: &'static str,
    },
    /// A state access failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A passing failure (e.g. a resource briefly unavailable): worth retrying.
    #[error("{engine}: temporary failure: {reason}")]
    Temporary {
        /// Engine name.
        engine: &'static str,
        /// What failed.
        reason: String,
    },
    /// The engine is in a state it cannot go on from: the node must stop.
    #[error("{engine}: critical failure: {reason}")]
    Critical {
        /// Engine name.
        engine: &'static str,
        /// What failed.
        reason: String,
    },
}

impl EngineError {
    /// Wraps an engine's typed error as a rejection.
    pub fn rejected(
        engine: &'static str,
        operation: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        EngineError::Rejected {
            engine,
            operation,
            source: Box::new(source),
        }
    }

    /// How the manager handles the error.
    pub fn severity(&self) -> Severity {
        match self {
            EngineError::Rejected { .. } | EngineError::Unsupported { .. } => Severity::Rejected,
            EngineError::State(state) => state.severity(),
            EngineError::Temporary { .. } => Severity::Temporary,
            EngineError::Critical { .. } => Severity::Critical,
        }
    }

    /// The engine's typed error inside a rejection, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            EngineError::Rejected { source, .. } => source.downcast_ref::<E>(),
            _ => None,
        }
    }
}
