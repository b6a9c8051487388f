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
    Decode(Box<switchyard_proto::DecodeError>),
    /// The manager failed.
    #[error(transparent)]
    Manager(Box<switchyard_manager::ManagerError>),
    /// The store failed.
    #[error(transparent)]
    Store(Box<switchyard_state::StoreError>),
    /// The token engine refused the genesis or an operation.
    #[error(transparent)]
    Token(Box<switchyard_token::TokenError>),
    /// An engine call failed.
    #[error(transparent)]
    Engine(Box<switchyard_router::EngineError>),
    /// Fee arithmetic failed.
    #[error(transparent)]
    Fee(Box<switchyard_router::fees::FeeError>),
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
    /// The message index of the data dir failed.
    #[error("message index: {0}")]
    Index(String),
    /// The configuration is invalid (a flag, variable or file value).
    #[error("config: {0}")]
    Config(String),
    /// The genesis could not be read or built.
    #[error("genesis: {0}")]
    Genesis(String),
    /// A key file could not be read or written.
    #[error("key: {0}")]
    Key(String),
    /// The server could not start or failed while running.
    #[error("server: {0}")]
    Server(String),
    /// A gRPC call to a node failed.
    #[error("{call}: {}", rpc_reason(status))]
    Rpc {
        /// The call.
        call: &'static str,
        /// What the node answered.
        status: Box<tonic::Status>,
    },
    /// The node could not be reached.
    #[error("cannot reach the node at {address}: {reason}")]
    Connect {
        /// The address tried.
        address: String,
        /// Why.
        reason: String,
    },
    /// The node answered something this client cannot use.
    #[error("unexpected answer: {0}")]
    Answer(String),
    /// A command-line argument is out of range.
    #[error("invalid argument {name}: {reason}")]
    Argument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// A status as one line: its code and message.
fn rpc_reason(status: &tonic::Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

/// Boxes the (large) errors of other crates, so that `NodeError` stays small.
macro_rules! boxed_from {
    ($($variant:ident($source:ty)),* $(,)?) => {
        $(
            impl From<$source> for NodeError {
                fn from(error: $source) -> Self {
                    NodeError::$variant(Box::new(error))
                }
            }
        )*
    };
}

boxed_from! {
    Decode(switchyard_proto::DecodeError),
    Manager(switchyard_manager::ManagerError),
    Store(switchyard_state::StoreError),
    Token(switchyard_token::TokenError),
    Engine(switchyard_router::EngineError),
    Fee(switchyard_router::fees::FeeError),
}
