//! The compute engine: the [`Engine`] implementation.

use std::collections::BTreeMap;

use prost::Message;
use switchyard_proto::AnyMessage;
use switchyard_proto::v1::staged_execution::{Read, Write};
use switchyard_proto::v1::{
    Capability, CodeInfo, ComputeApp, ExecutionResult, MessageRequest, StagedExecution,
};
use switchyard_router::domains::{COMPUTE, metadata_address, native_account};
use switchyard_router::{
    AccessSet, Address, BigUint, Call, Domain, Engine, EngineError, ExecutionContext, Key, Output,
    StateRead, StateWrite,
};

use crate::config::ComputeConfig;
use crate::error::{ComputeError, Failure};
use crate::host::Slot;
use crate::op::{Action, Execute, Kind, Op, kind_of, parse};
use crate::record::{
    StoredCode, app_domain, app_record, code_address, execution_id, load_app, load_code,
    load_staged, staged_address, stored_key, value_digest,
};
use crate::runtime::{CacheStats, Runtime};

/// The engine's name in the route table, metrics and errors.
pub(crate) const ENGINE_NAME: &str = "compute";

/// The protocol identifier the engine advertises.
pub const PROTOCOL: &str = "switchyard/compute";

/// The version of [`PROTOCOL`] the engine implements.
pub const PROTOCOL_VERSION: u32 = 1;

/// The compute engine. Holds its [`ComputeConfig`], the interpreter and the bounded cache of
/// compiled modules; `Send + Sync`, called from many threads at once.
///
/// It owns the compute base domain (deploys); applications route to it through their metadata
/// records.
#[derive(Debug)]
pub struct ComputeEngine {
    config: ComputeConfig,
    runtime: Runtime,
}

impl Default for ComputeEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl ComputeEngine {
    /// An engine with the default [`ComputeConfig`].
    pub fn new() -> Self {
        Self::with_config(ComputeConfig::default())
    }

    /// An engine with the given configuration.
    pub fn with_config(config: ComputeConfig) -> Self {
        let runtime = Runtime::new(&config);
        Self { config, runtime }
    }

    /// The engine's configuration.
    pub fn config(&self) -> &ComputeConfig {
        &self.config
    }

    /// What the compiled-module cache holds and how it has served.
    pub fn cache_stats(&self) -> CacheStats {
        self.runtime.cache_stats()
    }

    /// Empties the compiled-module cache (executions then compile their module again; their
    /// fuel, results and receipts do not change).
    pub fn clear_cache(&self) {
        self.runtime.clear_cache();
    }

    /// Validates a module as a `CodeDeploy` would, without deploying it: the engine's limits,
    /// full validation (no floating point), the imports. Returns the callable exports (type
    /// `[] -> []`), in name order.
    ///
    /// ```
    /// let engine = switchyard_compute::ComputeEngine::new();
    /// let exports = engine.validate_module(&switchyard_compute::examples::counter_module())?;
    /// assert_eq!(exports, ["get", "increment"]);
    /// let float = wat::parse_str(r#"(module (func (export "f") (drop (f32.const 1))))"#)?;
    /// assert!(engine.validate_module(&float).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate_module(&self, wasm: &[u8]) -> Result<Vec<String>, ComputeError> {
        if wasm.len() > self.config.max_module_bytes {
            return Err(ComputeError::ModuleTooLarge {
                len: wasm.len(),
                limit: self.config.max_module_bytes,
            });
        }
        Ok(self
            .runtime
            .validate(crate::record::code_id(wasm), wasm)?
            .exports)
    }

    fn parse<'a>(&self, call: &Call<'a>) -> Result<Op<'a>, EngineError> {
        parse(call, &self.config)
    }
}

impl Engine for ComputeEngine {
    fn name(&self) -> &'static str {
        ENGINE_NAME
    }

    fn base_domains(&self) -> Vec<Domain> {
        vec![COMPUTE]
    }

    fn capabilities(&self) -> Vec<Capability> {
        vec![Capability {
            protocol: PROTOCOL.to_owned(),
            version: PROTOCOL_VERSION,
            metadata: b"deploy,update,code-deploy,execute,staged,finalize".to_vec(),
        }]
    }

    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
        let Some((kind, _)) = kind_of(request) else {
            return Err(EngineError::Unsupported {
                engine: ENGINE_NAME,
                operation: request.operation(),
            });
        };
        Ok(BigUint::from(cost_of(&self.config, kind, request)))
    }

    fn validate(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<(), EngineError> {
        let op = self.parse(call)?;
        if let Action::CodeDeploy { wasm, code_id } = &op.action {
            self.runtime
                .validate(*code_id, wasm)
                .map_err(|e| EngineError::rejected(ENGINE_NAME, op.name, e))?;
        }
        Ok(())
    }

    fn access(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError> {
        let op = self.parse(call)?;
        Ok(access_of(&call.target, &op))
    }

    fn apply(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError> {
        let op = self.parse(call)?;
        self.execute(ctx, &call.target, &op, state)
            .map_err(|e| e.into_engine(op.name))
    }

    fn query(
        &self,
        target: &Domain,
        query: &AnyMessage,
        state: &dyn StateRead,
    ) -> Result<Vec<u8>, EngineError> {
        crate::query::answer(target, query, state)
    }
}

/// The cost of a compute operation (see the crate docs for the formula).
fn cost_of(config: &ComputeConfig, kind: Kind, request: &MessageRequest) -> u128 {
    use switchyard_proto::v1::message_request::Request;
    let costs = &config.costs;
    let bytes = 4 + request.encoded_len() as u128;
    let per_byte = u128::from(costs.per_byte) * bytes;
    let per_key = |keys: usize| u128::from(costs.per_key) * keys as u128;
    let extra = match request.request.as_ref() {
        Some(Request::CodeDeploy(c)) => u128::from(costs.per_code_byte) * c.wasm.len() as u128,
        Some(Request::CodeExecute(e)) => {
            let fuel = u128::from(e.fuel_limit).div_ceil(u128::from(costs.fuel_per_unit.max(1)));
            let staged = if e.staged {
                u128::from(costs.staged)
            } else {
                0
            };
            fuel + staged + per_key(e.read_keys.len() + e.write_keys.len())
        }
        Some(Request::CodeFinalize(f)) => per_key(f.read_keys.len() + f.write_keys.len()),
        _ => 0,
    };
    let base = match kind {
        Kind::Deploy => costs.deploy,
        Kind::Update => costs.update,
        Kind::CodeDeploy => costs.code_deploy,
        Kind::Execute => costs.execute,
        Kind::Finalize => costs.finalize,
    };
    u128::from(base) + per_byte + extra
}

/// The access set of a parsed operation. It needs no state: every address follows from the
/// request.
fn access_of(target: &Domain, op: &Op<'_>) -> AccessSet {
    let mut set = AccessSet::new();
    let at = |key: &Key| Address::new(*target, *key);
    match &op.action {
        Action::Deploy { .. } => {
            set.write(metadata_address(app_domain(&op.signer, op.nonce)));
        }
        Action::Update { .. } => {
            set.write(metadata_address(*target));
        }
        Action::CodeDeploy { code_id, .. } => {
            set.read(metadata_address(*target))
                .write(code_address(target, code_id));
        }
        Action::Execute(e) => {
            set.read(metadata_address(*target))
                .read(code_address(target, &e.code_id));
            for key in &e.reads {
                set.read(at(key));
            }
            for key in &e.writes {
                set.write(at(key));
            }
            if e.staged {
                set.write(staged_address(
                    target,
                    &execution_id(target, &op.signer, op.nonce),
                ));
            }
        }
        Action::Finalize {
            id, reads, writes, ..
        } => {
            set.read(metadata_address(*target))
                .write(staged_address(target, id));
            for key in reads {
                set.read(at(key));
            }
            for key in writes {
                set.write(at(key));
            }
        }
    }
    // Written by the manager's fee and nonce settlement (declared here too, so the set is
    // complete for any caller).
    set.write(native_account(op.signer));
    set
}

impl ComputeEngine {
    /// Performs a parsed operation.
    fn execute(
        &self,
        ctx: &ExecutionContext,
        target: &Domain,
        op: &Op<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, Failure> {
        match &op.action {
            Action::Deploy {
                name,
                code_deployers,
                max_fuel,
            } => {
                let domain = app_domain(&op.signer, op.nonce);
                let metadata = metadata_address(domain);
                if state.get(&metadata)?.is_some() {
                    return Err(ComputeError::AppExists { domain }.into());
                }
                let app = ComputeApp {
                    name: (*name).to_owned(),
                    owner: op.signer.to_vec(),
                    code_deployers: code_deployers.iter().map(|k| k.to_vec()).collect(),
                    max_fuel: if *max_fuel == 0 {
                        self.config.default_app_fuel.min(self.config.max_fuel)
                    } else {
                        *max_fuel
                    },
                };
                state.put(metadata, app_record(&app))?;
                Ok(Output::result(domain.0))
            }
            Action::Update {
                code_deployers,
                max_fuel,
                new_owner,
            } => {
                let mut app = load_app(state, target)?;
                require_owner(&app, &op.signer)?;
                if let Some(deployers) = code_deployers {
                    app.code_deployers = deployers.iter().map(|k| k.to_vec()).collect();
                }
                if let Some(max_fuel) = max_fuel {
                    app.max_fuel = *max_fuel;
                }
                if let Some(owner) = new_owner {
                    app.owner = owner.to_vec();
                }
                state.put(metadata_address(*target), app_record(&app))?;
                Ok(Output::none())
            }
            Action::CodeDeploy { wasm, code_id } => {
                let app = load_app(state, target)?;
                let owner = stored_key("application metadata record", &app.owner)?;
                let allowed = owner == op.signer
                    || app
                        .code_deployers
                        .iter()
                        .any(|k| k.as_slice() == op.signer.as_slice());
                if !allowed {
                    return Err(ComputeError::NotCodeDeployer { signer: op.signer }.into());
                }
                let address = code_address(target, code_id);
                if state.get(&address)?.is_some() {
                    return Err(ComputeError::CodeExists { code_id: *code_id }.into());
                }
                let validated = self.runtime.validate(*code_id, wasm)?;
                let record = StoredCode {
                    info: Some(CodeInfo {
                        code_id: code_id.to_vec(),
                        size: wasm.len() as u64,
                        deployer: op.signer.to_vec(),
                        deployed_frame: ctx.frame_number,
                        exports: validated.exports,
                    }),
                    wasm: wasm.to_vec(),
                };
                state.put(address, record.encode_to_vec())?;
                Ok(Output::result(code_id.to_vec()))
            }
            Action::Execute(e) => self.run(ctx, target, op, e, state),
            Action::Finalize {
                id,
                reads,
                writes,
                discard,
            } => finalize(ctx, target, op, *id, reads, writes, *discard, state),
        }
    }

    /// Runs an execution and applies (or stages) its writes.
    fn run(
        &self,
        ctx: &ExecutionContext,
        target: &Domain,
        op: &Op<'_>,
        e: &Execute<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, Failure> {
        let app = load_app(state, target)?;
        if e.fuel_limit > app.max_fuel {
            return Err(ComputeError::FuelAboveCeiling {
                requested: e.fuel_limit,
                ceiling: app.max_fuel,
            }
            .into());
        }
        let code = load_code(state, target, &e.code_id)?
            .ok_or(ComputeError::UnknownCode { code_id: e.code_id })?;
        let module = self.runtime.module(&e.code_id, &code.wasm)?;
        // Every declared value is read before the call, so the host functions need no state.
        let mut keys = BTreeMap::new();
        for (key, writable) in e
            .reads
            .iter()
            .map(|k| (k, false))
            .chain(e.writes.iter().map(|k| (k, true)))
        {
            let value = state.get(&Address::new(*target, *key))?;
            keys.insert(
                *key,
                Slot {
                    value,
                    writable,
                    written: false,
                    read_digest: None,
                },
            );
        }
        let executed =
            self.runtime
                .execute(&module, e.function, e.input.to_vec(), keys, e.fuel_limit)?;
        let mut result = ExecutionResult {
            output: executed.output,
            fuel_used: executed.fuel_used,
            execution_id: Vec::new(),
        };
        if e.staged {
            let id = execution_id(target, &op.signer, op.nonce);
            let address = staged_address(target, &id);
            if state.get(&address)?.is_some() {
                return Err(ComputeError::ExecutionExists { id }.into());
            }
            let mut reads = Vec::new();
            let mut writes = Vec::new();
            for (key, slot) in &executed.keys {
                if let Some(digest) = slot.read_digest {
                    reads.push(Read {
                        key: key.to_vec(),
                        digest: digest.to_vec(),
                    });
                }
                if slot.written {
                    writes.push(Write {
                        key: key.to_vec(),
                        deleted: slot.value.is_none(),
                        value: slot.value.clone().unwrap_or_default(),
                    });
                }
            }
            let record = StagedExecution {
                executor: op.signer.to_vec(),
                code_id: e.code_id.to_vec(),
                function: e.function.to_owned(),
                staged_frame: ctx.frame_number,
                expiry_frame: ctx
                    .frame_number
                    .saturating_add(self.config.staged_expiry_frames),
                read_keys: addresses(target, &e.reads),
                write_keys: addresses(target, &e.writes),
                reads,
                writes,
                output: result.output.clone(),
                fuel_used: result.fuel_used,
            };
            state.put(address, record.encode_to_vec())?;
            result.execution_id = id.to_vec();
        } else {
            for (key, slot) in executed.keys {
                if slot.written {
                    let address = Address::new(*target, key);
                    match slot.value {
                        Some(value) => state.put(address, value)?,
                        None => state.delete(&address)?,
                    }
                }
            }
        }
        Ok(Output::result(result.encode_to_vec()))
    }
}

/// The 64-byte addresses of `keys` in `app`, as bytes.
fn addresses(app: &Domain, keys: &[Key]) -> Vec<Vec<u8>> {
    keys.iter()
        .map(|key| Address::new(*app, *key).to_bytes().to_vec())
        .collect()
}

fn require_owner(app: &ComputeApp, signer: &Key) -> Result<(), Failure> {
    let owner = stored_key("application metadata record", &app.owner)?;
    if owner != *signer {
        return Err(ComputeError::NotOwner {
            signer: *signer,
            owner,
        }
        .into());
    }
    Ok(())
}

/// Applies (or discards) staged execution `id`.
#[allow(clippy::too_many_arguments)]
fn finalize(
    ctx: &ExecutionContext,
    target: &Domain,
    op: &Op<'_>,
    id: Key,
    reads: &[Key],
    writes: &[Key],
    discard: bool,
    state: &mut dyn StateWrite,
) -> Result<Output, Failure> {
    load_app(state, target)?;
    let staged = load_staged(state, target, &id)?.ok_or(ComputeError::UnknownExecution { id })?;
    let executor = stored_key("staged execution record", &staged.executor)?;
    if executor != op.signer {
        return Err(ComputeError::NotExecutor {
            id,
            signer: op.signer,
            executor,
        }
        .into());
    }
    let address = staged_address(target, &id);
    if discard {
        state.delete(&address)?;
        return Ok(Output::none());
    }
    if ctx.frame_number > staged.expiry_frame {
        return Err(ComputeError::StagedExpired {
            id,
            expiry: staged.expiry_frame,
            frame: ctx.frame_number,
        }
        .into());
    }
    if staged.read_keys != addresses(target, reads)
        || staged.write_keys != addresses(target, writes)
    {
        return Err(ComputeError::FinalizeKeysMismatch { id }.into());
    }
    // Every declared key is read (the access set's reads), and each value the execution read
    // must be unchanged.
    let mut current = BTreeMap::new();
    for key in reads.iter().chain(writes) {
        current.insert(*key, state.get(&Address::new(*target, *key))?);
    }
    for read in &staged.reads {
        let key = stored_key("staged execution record", &read.key)?;
        let value = current.get(&key).and_then(Option::as_deref);
        if value_digest(value).as_slice() != read.digest.as_slice() {
            return Err(ComputeError::StaleRead { id, key }.into());
        }
    }
    for write in staged.writes {
        let key = stored_key("staged execution record", &write.key)?;
        let address = Address::new(*target, key);
        if write.deleted {
            state.delete(&address)?;
        } else {
            state.put(address, write.value)?;
        }
    }
    state.delete(&address)?;
    let result = ExecutionResult {
        output: staged.output,
        fuel_used: staged.fuel_used,
        execution_id: id.to_vec(),
    };
    Ok(Output::result(result.encode_to_vec()))
}
