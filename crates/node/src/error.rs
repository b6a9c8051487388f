//! Errors of the `switchyard` binary.

/// Result alias of this crate.
pub type Result<T, E = NodeError> = std::result::Result<T, E>;

/// Why a `switchyard` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// A hex argument was not hex.
    #[error("argument is not valid hex: {0}")]
    Hex(#[from] hex::FromHexError),
    /// Bytes were not a canonical message.
    #[error(transparent)]
    Decode(#[from] switchyard_proto::DecodeError),
    /// The manager failed.
    #[error(transparent)]
    Manager(#[from] switchyard_manager::ManagerError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] switchyard_state::StoreError),
    /// The token engine refused the genesis or an operation.
    #[error(transparent)]
    Token(#[from] switchyard_token::TokenError),
    /// An engine call failed.
    #[error(transparent)]
    Engine(#[from] switchyard_router::EngineError),
    /// Fee arithmetic failed.
    #[error(transparent)]
    Fee(#[from] switchyard_router::fees::FeeError),
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A worker pool could not be built.
    #[error("worker pool: {0}")]
    Pool(String),
    /// A benchmark found something wrong with its own results.
    #[error("benchmark: {0}")]
    Bench(String),
    /// A command-line argument is out of range.
    #[error("invalid argument {name}: {reason}")]
    Argument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
