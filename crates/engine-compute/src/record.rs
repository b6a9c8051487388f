//! The records the compute engine keeps in state, where they live, and the reads users make of
//! them.
//!
//! - App metadata: at `metadata_address(app)`, a [`MetadataRecord`] with type domain
//!   [`COMPUTE`] and a [`ComputeApp`] payload.
//! - App state: at `(app, key)` for any key but the metadata key; written only by executions
//!   (through the host functions) and finalizes.
//! - Code: at `(system_domain(app), code id)`, a [`StoredCode`] (its [`CodeInfo`] and the
//!   module bytes).
//! - Staged executions: at `(system_domain(app), execution id)`, a [`StagedExecution`].
//!
//! The engine's own records live in a domain of their own, derived from the app's, so no
//! declared key of an execution can ever name them: an execution may only declare addresses of
//! the app's domain.

use prost::Message;
use switchyard_proto::v1::{CodeInfo, ComputeApp, StagedExecution};
use switchyard_router::domains::{COMPUTE, instance_domain, metadata_address};
use switchyard_router::{Address, Domain, Key, MetadataRecord, StateError, StateRead};

use crate::error::{ComputeError, Failure};

/// The domain of the application `deployer` deploys with `nonce`: BLAKE3(COMPUTE, deployer,
/// nonce).
///
/// ```
/// let a = switchyard_compute::app_domain(&[1; 32], 1);
/// assert_ne!(a, switchyard_compute::app_domain(&[1; 32], 2));
/// ```
pub fn app_domain(deployer: &Key, nonce: u64) -> Domain {
    instance_domain(&COMPUTE, deployer, nonce)
}

/// The domain holding an application's code and staged executions:
/// BLAKE3(`"switchyard/compute/system"` || app domain). No execution may declare an address
/// in it.
///
/// ```
/// let app = switchyard_compute::app_domain(&[1; 32], 1);
/// assert_ne!(switchyard_compute::system_domain(&app), app);
/// ```
pub fn system_domain(app: &Domain) -> Domain {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"switchyard/compute/system").update(&app.0);
    Domain(*hasher.finalize().as_bytes())
}

/// The id of a module: BLAKE3 of its bytes.
///
/// ```
/// let id = switchyard_compute::code_id(b"\0asm\x01\0\0\0");
/// assert_eq!(id, *blake3::hash(b"\0asm\x01\0\0\0").as_bytes());
/// ```
pub fn code_id(wasm: &[u8]) -> Key {
    *blake3::hash(wasm).as_bytes()
}

/// The id of the execution `executor` signs with `nonce` in `app`:
/// BLAKE3(app domain || executor key || nonce as 8 big-endian bytes).
///
/// ```
/// let app = switchyard_compute::app_domain(&[1; 32], 1);
/// let id = switchyard_compute::execution_id(&app, &[2; 32], 7);
/// assert_ne!(id, switchyard_compute::execution_id(&app, &[2; 32], 8));
/// ```
pub fn execution_id(app: &Domain, executor: &Key, nonce: u64) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update(&app.0)
        .update(executor)
        .update(&nonce.to_be_bytes());
    *hasher.finalize().as_bytes()
}

/// Where code `code_id` of `app` is stored.
pub fn code_address(app: &Domain, code_id: &Key) -> Address {
    Address::new(system_domain(app), *code_id)
}

/// Where staged execution `id` of `app` is stored.
pub fn staged_address(app: &Domain, id: &Key) -> Address {
    Address::new(system_domain(app), *id)
}

/// The digest a staged execution keeps of a value it read: BLAKE3 of `0x00` for an absent
/// value, of `0x01 || value` for a present one.
pub fn value_digest(value: Option<&[u8]>) -> Key {
    let mut hasher = blake3::Hasher::new();
    match value {
        None => hasher.update(&[0]),
        Some(value) => hasher.update(&[1]).update(value),
    };
    *hasher.finalize().as_bytes()
}

/// A code record: what queries answer about the code, and the module itself.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct StoredCode {
    /// The code's metadata.
    #[prost(message, optional, tag = "1")]
    pub(crate) info: Option<CodeInfo>,
    /// The module bytes.
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) wasm: Vec<u8>,
}

/// A stored value that does not read as the record it should be.
fn corrupt(what: &'static str, reason: impl ToString) -> StateError {
    StateError::Corrupt {
        what,
        reason: reason.to_string(),
    }
}

/// A 32-byte key of a stored record.
pub(crate) fn stored_key(what: &'static str, bytes: &[u8]) -> Result<Key, StateError> {
    Key::try_from(bytes).map_err(|_| corrupt(what, format!("key of {} bytes", bytes.len())))
}

/// Loads the application at `app` for an operation on it.
pub(crate) fn load_app(state: &dyn StateRead, app: &Domain) -> Result<ComputeApp, Failure> {
    let Some(bytes) = state.get(&metadata_address(*app))? else {
        return Err(ComputeError::UnknownApp { domain: *app }.into());
    };
    let (type_domain, payload) = MetadataRecord::split(&bytes)?;
    if type_domain != COMPUTE {
        return Err(ComputeError::NotAnApp {
            domain: *app,
            type_domain,
        }
        .into());
    }
    Ok(ComputeApp::decode(payload).map_err(|e| corrupt("application metadata record", e))?)
}

/// The metadata record storing `app`.
pub(crate) fn app_record(app: &ComputeApp) -> Vec<u8> {
    MetadataRecord {
        type_domain: COMPUTE,
        payload: app.encode_to_vec(),
    }
    .encode()
}

/// Reads the code record `code_id` of `app`, if there is one.
pub(crate) fn load_code(
    state: &dyn StateRead,
    app: &Domain,
    code_id: &Key,
) -> Result<Option<StoredCode>, StateError> {
    state
        .get(&code_address(app, code_id))?
        .map(|bytes| StoredCode::decode(bytes.as_slice()).map_err(|e| corrupt("code record", e)))
        .transpose()
}

/// Reads the staged execution `id` of `app`, if there is one.
pub(crate) fn load_staged(
    state: &dyn StateRead,
    app: &Domain,
    id: &Key,
) -> Result<Option<StagedExecution>, StateError> {
    state
        .get(&staged_address(app, id))?
        .map(|bytes| {
            StagedExecution::decode(bytes.as_slice())
                .map_err(|e| corrupt("staged execution record", e))
        })
        .transpose()
}

/// The configuration of the application at `app`: `Ok(None)` when there is none; a record
/// owned by another engine, or one that does not decode, is [`StateError::Corrupt`].
pub fn app_info(state: &dyn StateRead, app: &Domain) -> Result<Option<ComputeApp>, StateError> {
    match load_app(state, app) {
        Ok(info) => Ok(Some(info)),
        Err(Failure::Compute(ComputeError::UnknownApp { .. })) => Ok(None),
        Err(Failure::Compute(other)) => Err(corrupt("application metadata record", other)),
        Err(Failure::State(error)) => Err(error),
        Err(Failure::Critical(reason)) => Err(StateError::Backend { reason }),
    }
}

/// The metadata of code `code_id` in `app`, if it is deployed there.
pub fn code_info(
    state: &dyn StateRead,
    app: &Domain,
    code_id: &Key,
) -> Result<Option<CodeInfo>, StateError> {
    Ok(load_code(state, app, code_id)?.map(|code| code.info.unwrap_or_default()))
}

/// The staged execution `id` of `app`, if it is waiting for its finalize.
pub fn staged_execution(
    state: &dyn StateRead,
    app: &Domain,
    id: &Key,
) -> Result<Option<StagedExecution>, StateError> {
    load_staged(state, app, id)
}

/// The value at `key` of `app`'s state, if any.
pub fn app_value(
    state: &dyn StateRead,
    app: &Domain,
    key: &Key,
) -> Result<Option<Vec<u8>>, StateError> {
    state.get(&Address::new(*app, *key))
}
