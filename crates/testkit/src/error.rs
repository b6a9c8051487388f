//! Errors of the conformance kit and the crash harness.

/// Result alias of this crate.
pub type Result<T, E = TestkitError> = std::result::Result<T, E>;

/// What the kit found wrong, or why it could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// Building a manager, committing genesis or executing a frame failed (boxed: the
    /// manager's error is large, and this one travels through every check).
    #[error("the manager failed: {0}")]
    Manager(Box<switchyard_manager::ManagerError>),
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(#[from] switchyard_state::StoreError),
    /// Generating a workload's genesis failed.
    #[error("the genesis could not be built: {0}")]
    Genesis(#[from] switchyard_token::TokenError),
    /// Two runs of the same frames disagreed.
    #[error("frame {frame} differs between {reference} and {run}: {detail}")]
    Nondeterministic {
        /// The frame number.
        frame: u64,
        /// The run compared against ("serial").
        reference: String,
        /// The run that differed ("2 threads").
        run: String,
        /// What differed.
        detail: String,
    },
    /// An engine's `apply` touched an address outside its declared access set on valid input.
    #[error("{engine} left its access set: {detail}")]
    AccessViolation {
        /// The engine.
        engine: &'static str,
        /// The state error it met.
        detail: String,
    },
    /// An entry point panicked.
    #[error("{entry_point} panicked on input {input}: {message}")]
    Panicked {
        /// The entry point ("cost", "process_message", ...).
        entry_point: &'static str,
        /// The input, as hex (target, then message).
        input: String,
        /// The panic's message.
        message: String,
    },
    /// A refused or failed message changed more than its signers' fee and nonce records.
    #[error(
        "frame {frame} message {index} ({status}) wrote {address}, which is not a signer's native account"
    )]
    EffectOnRefusal {
        /// The frame number.
        frame: u64,
        /// Position in the frame (or of the mutation).
        index: usize,
        /// How it ended ("rejected", "failed").
        status: &'static str,
        /// The address it wrote.
        address: switchyard_router::Address,
    },
    /// The frames given applied nothing, so the kit would check nothing.
    #[error(
        "no message of the {messages} given was applied: the generator produces no valid operation"
    )]
    NothingApplied {
        /// Messages given.
        messages: usize,
    },
    /// The crash harness could not run or read its child process.
    #[error("crash harness: {0}")]
    Child(String),
}

impl From<switchyard_manager::ManagerError> for TestkitError {
    fn from(error: switchyard_manager::ManagerError) -> Self {
        TestkitError::Manager(Box::new(error))
    }
}
