//! Why the compute engine refused or failed an operation.

use switchyard_router::{Address, Domain, EngineError, Key, StateError};

/// Result alias of this crate.
pub type Result<T, E = ComputeError> = std::result::Result<T, E>;

fn hex_key(key: &Key) -> String {
    hex::encode(key)
}

/// A compute operation was refused, or its execution failed. Each variant names the check that
/// failed and the values it failed on. The engine returns these inside
/// [`EngineError::Rejected`]; get them back with `err.downcast_ref::<ComputeError>()`.
///
/// Refusals found by `validate` (the shape and limit checks, module validation included) reject
/// the message with no effect and no fee; those found by `apply` (state checks, and every
/// failure of the execution itself) fail it: its writes are rolled back and its fee is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ComputeError {
    // ---- shape (checked by `validate` and again by `apply`) ----
    /// A required field is absent or empty.
    #[error("{operation} is missing its {field}")]
    MissingField {
        /// Operation name.
        operation: &'static str,
        /// The absent field.
        field: &'static str,
    },
    /// A key field is not 32 bytes.
    #[error("{field} must be 32 bytes, got {len}")]
    BadKeyLength {
        /// The field (e.g. "code id").
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A declared address is not 64 bytes.
    #[error("{field} entry must be a 64-byte address, got {len} bytes")]
    BadAddressLength {
        /// The field ("read_keys" or "write_keys").
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A declared address lies outside the application's domain.
    #[error("{field} entry {address} is outside the application's domain {app}")]
    ForeignAddress {
        /// The field ("read_keys" or "write_keys").
        field: &'static str,
        /// The address.
        address: Address,
        /// The application's domain.
        app: Domain,
    },
    /// A declared address is the application's metadata record, which only the engine writes.
    #[error("{field} may not name the metadata key ff..ff")]
    ReservedKey {
        /// The field holding the key.
        field: &'static str,
    },
    /// An address or key is listed twice.
    #[error("{field} lists {} twice", hex_key(.key))]
    DuplicateKey {
        /// The field.
        field: &'static str,
        /// The repeated key.
        key: Key,
    },
    /// A list holds more entries than allowed.
    #[error("{field} has {count} entries, more than the {limit} allowed")]
    TooMany {
        /// The field.
        field: &'static str,
        /// Entries found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The application name is not 1 to 64 bytes.
    #[error("application name must be 1 to 64 bytes, got {len}")]
    NameLength {
        /// Its length in bytes.
        len: usize,
    },
    /// The function name is not 1 to 64 bytes.
    #[error("function name must be 1 to 64 bytes, got {len}")]
    FunctionNameLength {
        /// Its length in bytes.
        len: usize,
    },
    /// The input is larger than allowed.
    #[error("input of {len} bytes exceeds the limit of {limit}")]
    InputTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// An execution asked for no fuel at all.
    #[error("fuel limit must be non-zero")]
    ZeroFuel,
    /// A fuel limit (or an application's fuel ceiling) above the engine's limit.
    #[error("fuel {requested} exceeds the engine's limit of {limit} per execution")]
    FuelAboveEngineLimit {
        /// The fuel asked for.
        requested: u64,
        /// The engine's limit.
        limit: u64,
    },
    /// A deploy sent anywhere but the compute base domain.
    #[error("ComputeDeploy must target the compute base domain, not {target}")]
    DeployTarget {
        /// The target domain.
        target: Domain,
    },
    /// An operation on an application sent to the compute base domain.
    #[error("{operation} must target an application's domain, not the compute base domain")]
    BaseDomainTarget {
        /// Operation name.
        operation: &'static str,
    },
    /// An update that changes nothing.
    #[error("the update changes nothing")]
    EmptyUpdate,
    /// An update both replaces and clears the code deployers.
    #[error("an update cannot both replace and clear the code deployers")]
    ConflictingDeployers,
    /// A discarding finalize that lists keys.
    #[error("a discarding finalize must list no keys")]
    DiscardWithKeys,

    // ---- module validation (code deploy) ----
    /// The module is larger than allowed.
    #[error("module of {len} bytes exceeds the limit of {limit}")]
    ModuleTooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The module does not parse or validate; the reason is the validator's.
    #[error("invalid module: {reason}")]
    InvalidModule {
        /// What the validator reported.
        reason: String,
    },
    /// The module exceeds one of the engine's limits.
    #[error("module has {found} {what}, more than the {limit} allowed")]
    ModuleLimit {
        /// What was counted ("functions", "memory pages", ...).
        what: &'static str,
        /// The count found.
        found: u64,
        /// The limit.
        limit: u64,
    },
    /// The module imports something other than one of the engine's host functions.
    #[error("module imports {module}.{name}: {reason}")]
    ForbiddenImport {
        /// The import's module name.
        module: String,
        /// The import's field name.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The module has a start function (executions call exported functions only).
    #[error("module has a start function, which is not allowed")]
    StartFunction,
    /// An active data segment does not fit in the module's initial memory.
    #[error(
        "data segment {segment} ends at byte {end}, beyond the initial memory of {memory} bytes"
    )]
    DataOutOfBounds {
        /// The segment's index.
        segment: u32,
        /// Where it ends.
        end: u64,
        /// The initial memory size in bytes.
        memory: u64,
    },

    // ---- state (checked by `apply`) ----
    /// No application metadata record at the target domain.
    #[error("unknown application {domain}")]
    UnknownApp {
        /// The target domain.
        domain: Domain,
    },
    /// The metadata record at the target belongs to another engine.
    #[error("domain {domain} is not a compute application: its type domain is {type_domain}")]
    NotAnApp {
        /// The target domain.
        domain: Domain,
        /// The type domain its metadata record names.
        type_domain: Domain,
    },
    /// A deploy whose application domain already holds a metadata record.
    #[error("application {domain} already exists")]
    AppExists {
        /// The application domain.
        domain: Domain,
    },
    /// The signer of an update is not the application's owner.
    #[error("signer {} is not the owner ({}) of the application", hex_key(.signer), hex_key(.owner))]
    NotOwner {
        /// The signer.
        signer: Key,
        /// The owner.
        owner: Key,
    },
    /// The signer of a code deploy is neither the owner nor a code deployer.
    #[error("signer {} may not deploy code into this application", hex_key(.signer))]
    NotCodeDeployer {
        /// The signer.
        signer: Key,
    },
    /// The code is already deployed in the application.
    #[error("code {} is already deployed", hex_key(.code_id))]
    CodeExists {
        /// The code id.
        code_id: Key,
    },
    /// No code under this id in the application.
    #[error("unknown code {}", hex_key(.code_id))]
    UnknownCode {
        /// The code id.
        code_id: Key,
    },
    /// An execution's fuel limit above the application's ceiling.
    #[error("fuel limit {requested} exceeds the application's ceiling of {ceiling}")]
    FuelAboveCeiling {
        /// The fuel asked for.
        requested: u64,
        /// The application's ceiling.
        ceiling: u64,
    },

    // ---- execution (apply) ----
    /// The module exports no function of that name.
    #[error("module exports no function {function:?}")]
    MissingExport {
        /// The function asked for.
        function: String,
    },
    /// The exported function does not have the signature `[] -> []`.
    #[error("exported function {function:?} has type {found}, expected [] -> []")]
    WrongSignature {
        /// The function asked for.
        function: String,
        /// Its type.
        found: String,
    },
    /// The execution ran out of fuel.
    #[error("out of fuel: the limit of {limit} was exhausted")]
    OutOfFuel {
        /// The fuel limit.
        limit: u64,
    },
    /// The execution trapped (an `unreachable`, a bad memory access, a stack overflow, ...).
    #[error("execution trapped after {fuel_used} fuel: {reason}")]
    Trap {
        /// What trapped, as the interpreter reports it.
        reason: String,
        /// Fuel burnt up to the trap.
        fuel_used: u64,
    },
    /// A host call touched a key the request did not declare (or wrote a key it declared for
    /// reading only).
    #[error("access violation: {op} of key {} is not declared", hex_key(.key))]
    AccessViolation {
        /// The key (in the application's domain).
        key: Key,
        /// "read" or "write".
        op: &'static str,
    },
    /// The function produced more output than allowed.
    #[error("output of {len} bytes exceeds the limit of {limit}")]
    OutputTooLarge {
        /// The output's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The function wrote a value larger than allowed.
    #[error("value of {len} bytes exceeds the limit of {limit}")]
    ValueTooLarge {
        /// The value's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A host function needs the module's memory, and the module exports none named "memory".
    #[error("module exports no memory named \"memory\"")]
    NoMemory,

    // ---- staged executions ----
    /// A staged execution under this id already exists.
    #[error("staged execution {} already exists", hex_key(.id))]
    ExecutionExists {
        /// The execution id.
        id: Key,
    },
    /// No staged execution under this id.
    #[error("unknown staged execution {}", hex_key(.id))]
    UnknownExecution {
        /// The execution id.
        id: Key,
    },
    /// The signer of a finalize is not the executor.
    #[error("signer {} is not the executor {} of staged execution {}", hex_key(.signer), hex_key(.executor), hex_key(.id))]
    NotExecutor {
        /// The execution id.
        id: Key,
        /// The signer.
        signer: Key,
        /// The executor.
        executor: Key,
    },
    /// A finalize after the staged execution's expiry frame.
    #[error("staged execution {} expired at frame {expiry}; the current frame is {frame}", hex_key(.id))]
    StagedExpired {
        /// The execution id.
        id: Key,
        /// Its expiry frame.
        expiry: u64,
        /// The current frame.
        frame: u64,
    },
    /// A finalize whose keys differ from the staged execution's declared keys.
    #[error("finalize of {} must declare the staged execution's read and write keys", hex_key(.id))]
    FinalizeKeysMismatch {
        /// The execution id.
        id: Key,
    },
    /// A value the staged execution read has changed since.
    #[error("stale read: key {} changed since execution {} was staged", hex_key(.key), hex_key(.id))]
    StaleRead {
        /// The execution id.
        id: Key,
        /// The key whose value changed.
        key: Key,
    },

    // ---- queries ----
    /// A query the engine cannot answer: a query of another engine, or one without a question.
    #[error("{reason}")]
    BadQuery {
        /// What was wrong with it.
        reason: String,
    },
}

/// An internal failure: the engine's own refusal, or a state access that failed. Converted to
/// an [`EngineError`] at the trait boundary, with the operation name.
#[derive(Debug)]
pub(crate) enum Failure {
    Compute(ComputeError),
    State(StateError),
    /// The engine cannot run executions at all (see `Runtime::new`).
    Critical(String),
}

impl From<ComputeError> for Failure {
    fn from(error: ComputeError) -> Self {
        Failure::Compute(error)
    }
}

impl From<StateError> for Failure {
    fn from(error: StateError) -> Self {
        Failure::State(error)
    }
}

impl Failure {
    pub(crate) fn into_engine(self, operation: &'static str) -> EngineError {
        match self {
            Failure::Compute(error) => EngineError::rejected(crate::ENGINE_NAME, operation, error),
            Failure::State(error) => EngineError::State(error),
            Failure::Critical(reason) => EngineError::Critical {
                engine: crate::ENGINE_NAME,
                reason,
            },
        }
    }
}
