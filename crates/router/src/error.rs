//! Errors of the engine contract.

use num_bigint::BigUint;

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

/// Why bytes or text could not be read as a [`Domain`] or [`Address`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The input had the wrong number of bytes (an empty input included).
    #[error("{kind} must be {expected} bytes, got {actual}")]
    Length {
        /// "domain", "key" or "address".
        kind: &'static str,
        /// Required length in bytes.
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// The text was not hexadecimal.
    #[error("{kind} is not valid hex: {reason}")]
    Hex {
        /// "domain" or "address".
        kind: &'static str,
        /// What the hex decoder reported.
        reason: String,
    },
}

/// Why an operation's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request holds no operation.
    #[error("request holds no operation")]
    EmptyRequest,
    /// The operation has no auth block.
    #[error("{operation} has no auth block")]
    MissingAuth {
        /// Operation name.
        operation: &'static str,
    },
    /// The public key is not 32 bytes, or not a valid Ed25519 point.
    #[error("{operation}: invalid signer public key ({reason})")]
    BadPublicKey {
        /// Operation name.
        operation: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The signature is not 64 bytes.
    #[error("{operation}: signature must be 64 bytes, got {len}")]
    BadSignatureLength {
        /// Operation name.
        operation: &'static str,
        /// Length found.
        len: usize,
    },
    /// The signed target is not a 32-byte domain.
    #[error("{operation}: bad signed target ({reason})")]
    BadTarget {
        /// Operation name.
        operation: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The signature of a request sent alone does not verify against the signer's key and
    /// the bytes of a request signed alone (a request signed for a bundle is valid only inside
    /// that bundle).
    #[error("{operation}: signature does not verify for signer {signer} as a request signed alone")]
    InvalidSignature {
        /// Operation name.
        operation: &'static str,
        /// Hex of the signer's public key.
        signer: String,
    },
    /// A request of a bundle carries a signature made for the request alone: a request may be
    /// in a bundle only when its signer signed the whole bundle.
    #[error("request {index} ({operation}) of the bundle was signed alone, not for this bundle")]
    SignedAlone {
        /// Operation name.
        operation: &'static str,
        /// Position of the request in the bundle.
        index: usize,
    },
    /// A request of a bundle carries no valid signature over this bundle: requests were added,
    /// removed, reordered or replaced, another field of the bundle (its timestamp) changed, or
    /// the signature is not the signer's.
    #[error(
        "request {index} ({operation}) of the bundle is not signed by {signer} for this bundle: its requests, their order or its timestamp differ from what was signed"
    )]
    NotSignedForBundle {
        /// Operation name.
        operation: &'static str,
        /// Position of the request in the bundle.
        index: usize,
        /// Hex of the signer's public key.
        signer: String,
    },
}

/// Why fee and nonce settlement refused an operation (it then has no effect at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeeError {
    /// The nonce is not the stored nonce + 1 (a replay, or out of order).
    #[error("nonce {found} does not follow stored nonce {stored} of signer {signer}")]
    BadNonce {
        /// Hex of the signer's key.
        signer: String,
        /// The signer's stored nonce.
        stored: u64,
        /// The nonce the operation carries.
        found: u64,
    },
    /// The balance does not cover the fee.
    #[error("signer {signer} cannot pay fee {fee}: balance is {balance}")]
    Unpayable {
        /// Hex of the signer's key.
        signer: String,
        /// The fee due.
        fee: u128,
        /// The signer's balance.
        balance: u128,
    },
    /// cost x multiplier does not fit in 128 bits.
    #[error("fee for cost {cost} at multiplier {multiplier} overflows 128 bits")]
    Overflow {
        /// The operation's cost.
        cost: BigUint,
        /// The fee multiplier.
        multiplier: u64,
    },
    /// The fee recipient's balance would overflow.
    #[error("crediting {fee} would overflow the fee recipient's balance")]
    RecipientOverflow {
        /// The total credited.
        fee: u128,
    },
    /// Reading or writing the account failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Why a bundle could not be assembled from its proposal and signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A proposal needs at least one request.
    #[error("a bundle needs at least one request")]
    Empty,
    /// A request has no signature among those handed in.
    #[error("request {index} has no signature")]
    Unsigned {
        /// Position of the request.
        index: usize,
    },
    /// A signature names a request the proposal does not have.
    #[error("a signature for request {index}, but the proposal has {len} requests")]
    NoSuchRequest {
        /// The position named.
        index: usize,
        /// Requests in the proposal.
        len: usize,
    },
    /// A signature does not verify for its request (another key, or another proposal).
    #[error("the signature for request {index} is not valid for this proposal: {reason}")]
    BadSignature {
        /// Position of the request.
        index: usize,
        /// Why.
        reason: AuthError,
    },
}
