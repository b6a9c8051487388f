//! The WebAssembly side of the engine: module validation against the engine's limits, the
//! bounded cache of compiled modules, and one metered execution.
//!
//! The interpreter is wasmi, configured for determinism: fuel metering on (wasmi's
//! per-operator costs), **eager** compilation (with lazy translation the first caller of a
//! function would pay its translation fuel, so fuel, and so receipts, would depend on which
//! node had the module cached), no floating point (float types and instructions fail
//! validation), no start function, one memory at most, and bounded value and call stacks.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use switchyard_router::Key;
use wasmi::{
    CompilationMode, Engine as WasmEngine, ExternType, FuncType, Linker, Module, Store,
    StoreLimitsBuilder, TrapCode,
};
use wasmparser::{DataKind, Encoding, Operator, Parser, Payload, TypeRef};

use crate::config::{ComputeConfig, MAX_STACK_BYTES, PAGE_BYTES};
use crate::error::{ComputeError, Failure};
use crate::host::{HOST_FUNCTIONS, HOST_MODULE, Host, HostTrap, Slot, linker};

/// What the compiled-module cache holds and how it has served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Modules cached.
    pub modules: usize,
    /// Their size as deployed, in bytes.
    pub bytes: usize,
    /// Lookups that found the module.
    pub hits: u64,
    /// Lookups that had to compile it.
    pub misses: u64,
}

#[derive(Debug)]
struct CacheEntry {
    module: Module,
    bytes: usize,
    last_used: u64,
}

#[derive(Debug, Default)]
struct CacheState {
    entries: BTreeMap<Key, CacheEntry>,
    bytes: usize,
    tick: u64,
    hits: u64,
    misses: u64,
}

/// Compiled modules by code id, bounded by count and by bytes; the least recently used go
/// first. Only speed depends on it: with eager compilation, an execution burns the same fuel
/// whether its module was cached or not.
#[derive(Debug)]
struct ModuleCache {
    state: Mutex<CacheState>,
    max_modules: usize,
    max_bytes: usize,
}

impl ModuleCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        // A panic while the lock was held cannot leave the map inconsistent (every update is
        // one insert or remove): carry on with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, code_id: &Key) -> Option<Module> {
        let mut state = self.lock();
        state.tick = state.tick.wrapping_add(1);
        let tick = state.tick;
        let found = state.entries.get_mut(code_id).map(|entry| {
            entry.last_used = tick;
            entry.module.clone()
        });
        match found {
            Some(_) => state.hits = state.hits.saturating_add(1),
            None => state.misses = state.misses.saturating_add(1),
        }
        found
    }

    fn insert(&self, code_id: Key, module: Module, bytes: usize) {
        if bytes > self.max_bytes || self.max_modules == 0 {
            return;
        }
        let mut state = self.lock();
        if state.entries.contains_key(&code_id) {
            return;
        }
        while state.entries.len() >= self.max_modules
            || state.bytes.saturating_add(bytes) > self.max_bytes
        {
            let Some(oldest) = state
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(id, _)| *id)
            else {
                break;
            };
            if let Some(evicted) = state.entries.remove(&oldest) {
                state.bytes = state.bytes.saturating_sub(evicted.bytes);
            }
        }
        state.tick = state.tick.wrapping_add(1);
        let last_used = state.tick;
        state.bytes = state.bytes.saturating_add(bytes);
        state.entries.insert(
            code_id,
            CacheEntry {
                module,
                bytes,
                last_used,
            },
        );
    }

    fn stats(&self) -> CacheStats {
        let state = self.lock();
        CacheStats {
            modules: state.entries.len(),
            bytes: state.bytes,
            hits: state.hits,
            misses: state.misses,
        }
    }

    fn clear(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.bytes = 0;
    }
}

/// A validated module: compiled, with the exports an execution may call.
pub(crate) struct Validated {
    pub(crate) module: Module,
    /// Exported functions of type `[] -> []`, in name order.
    pub(crate) exports: Vec<String>,
}

/// What an execution produced.
#[derive(Debug)]
pub(crate) struct Executed {
    pub(crate) output: Vec<u8>,
    pub(crate) fuel_used: u64,
    /// The declared keys with their values after the call.
    pub(crate) keys: BTreeMap<Key, Slot>,
}

/// The interpreter, its host functions and its module cache.
pub(crate) struct Runtime {
    engine: WasmEngine,
    /// The host functions; `Err` only if defining them failed (a duplicate name, which the
    /// fixed list has not), reported as a critical failure by every execution.
    linker: Result<Linker<Host>, String>,
    cache: ModuleCache,
    config: ComputeConfig,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("cache", &self.cache.stats())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime for `config`.
    pub(crate) fn new(config: &ComputeConfig) -> Self {
        let mut wasm = wasmi::Config::default();
        wasm.consume_fuel(true)
            .compilation_mode(CompilationMode::Eager)
            .floats(false)
            .wasm_multi_memory(false)
            .allow_start_fn(false)
            .set_max_recursion_depth(config.max_call_depth.max(1))
            .set_max_stack_height(MAX_STACK_BYTES);
        let engine = WasmEngine::new(&wasm);
        let linker = linker(&engine).map_err(|e| e.to_string());
        Self {
            engine,
            linker,
            cache: ModuleCache {
                state: Mutex::new(CacheState::default()),
                max_modules: config.cache_modules,
                max_bytes: config.cache_bytes,
            },
            config: config.clone(),
        }
    }

    pub(crate) fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    pub(crate) fn clear_cache(&self) {
        self.cache.clear();
    }

    /// Validates `wasm` (deploy time): the engine's limits first, by a walk over its sections,
    /// then full validation and compilation, then the types of its imports. The compiled
    /// module goes into the cache.
    pub(crate) fn validate(&self, code_id: Key, wasm: &[u8]) -> Result<Validated, ComputeError> {
        check_limits(wasm, &self.config)?;
        let module = Module::new(&self.engine, wasm).map_err(|e| ComputeError::InvalidModule {
            reason: e.to_string(),
        })?;
        for import in module.imports() {
            let expected = HOST_FUNCTIONS
                .iter()
                .find(|(name, _, _)| *name == import.name());
            let matches = match (import.ty(), expected) {
                (ExternType::Func(ty), Some((_, params, results))) => {
                    ty.params() == *params && ty.results() == *results
                }
                _ => false,
            };
            if !matches {
                return Err(ComputeError::ForbiddenImport {
                    module: import.module().to_owned(),
                    name: import.name().to_owned(),
                    reason: "its type is not the host function's",
                });
            }
        }
        let mut exports: Vec<String> = module
            .exports()
            .filter(|export| matches!(export.ty(), ExternType::Func(ty) if is_callable(ty)))
            .map(|export| export.name().to_owned())
            .collect();
        exports.sort();
        self.cache.insert(code_id, module.clone(), wasm.len());
        Ok(Validated { module, exports })
    }

    /// The compiled module of stored code: from the cache, or validated and compiled again.
    pub(crate) fn module(&self, code_id: &Key, wasm: &[u8]) -> Result<Module, ComputeError> {
        match self.cache.get(code_id) {
            Some(module) => Ok(module),
            None => Ok(self.validate(*code_id, wasm)?.module),
        }
    }

    /// Calls `function` of `module` with `input` under `fuel_limit`, against the declared
    /// `keys`. Every failure (a trap, running out of fuel, an access violation, too much
    /// output) is a [`ComputeError`]; nothing here panics or unwinds into the caller.
    pub(crate) fn execute(
        &self,
        module: &Module,
        function: &str,
        input: Vec<u8>,
        keys: BTreeMap<Key, Slot>,
        fuel_limit: u64,
    ) -> Result<Executed, Failure> {
        let linker = self
            .linker
            .as_ref()
            .map_err(|reason| Failure::Critical(format!("host functions unavailable: {reason}")))?;
        match module.get_export(function) {
            Some(ExternType::Func(ty)) if is_callable(&ty) => {}
            Some(ExternType::Func(ty)) => {
                return Err(ComputeError::WrongSignature {
                    function: function.to_owned(),
                    found: type_text(&ty),
                }
                .into());
            }
            _ => {
                return Err(ComputeError::MissingExport {
                    function: function.to_owned(),
                }
                .into());
            }
        }
        let memory_bytes = u64::from(self.config.max_memory_pages).saturating_mul(PAGE_BYTES);
        let limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(memory_bytes).unwrap_or(usize::MAX))
            .table_elements(self.config.max_table_elements as usize)
            .instances(1)
            .memories(1)
            .tables(self.config.max_tables as usize)
            .build();
        let host = Host {
            input,
            keys,
            output: Vec::new(),
            memory: None,
            limits,
            max_output: self.config.max_output_bytes,
            max_value: self.config.max_value_bytes,
        };
        let mut store = Store::new(&self.engine, host);
        store.limiter(|host| &mut host.limits);
        let internal = |e: wasmi::Error| ComputeError::Trap {
            reason: e.to_string(),
            fuel_used: 0,
        };
        store.set_fuel(fuel_limit).map_err(internal)?;
        let called = linker
            .instantiate_and_start(&mut store, module)
            .and_then(|instance| {
                let memory = instance.get_memory(&store, "memory");
                store.data_mut().memory = memory;
                match instance.get_func(&store, function) {
                    Some(func) => func.call(&mut store, &[], &mut []),
                    None => Err(wasmi::Error::new("the export vanished")),
                }
            });
        let left = store.get_fuel().map_err(internal)?;
        let fuel_used = fuel_limit.saturating_sub(left);
        if let Err(error) = called {
            return Err(classify(&error, fuel_limit, fuel_used).into());
        }
        let host = store.into_data();
        Ok(Executed {
            output: host.output,
            fuel_used,
            keys: host.keys,
        })
    }
}

/// Whether an export of type `ty` may be called by an execution: `[] -> []`.
fn is_callable(ty: &FuncType) -> bool {
    ty.params().is_empty() && ty.results().is_empty()
}

/// A function type as text, e.g. `[i32] -> [i64]`.
fn type_text(ty: &FuncType) -> String {
    let list = |types: &[wasmi::ValType]| {
        types
            .iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("[{}] -> [{}]", list(ty.params()), list(ty.results()))
}

/// The typed error of a failed call.
fn classify(error: &wasmi::Error, fuel_limit: u64, fuel_used: u64) -> ComputeError {
    if let Some(HostTrap(error)) = error.downcast_ref::<HostTrap>() {
        return error.clone();
    }
    if error.as_trap_code() == Some(TrapCode::OutOfFuel) {
        return ComputeError::OutOfFuel { limit: fuel_limit };
    }
    ComputeError::Trap {
        reason: error.to_string(),
        fuel_used,
    }
}

fn invalid(error: impl ToString) -> ComputeError {
    ComputeError::InvalidModule {
        reason: error.to_string(),
    }
}

fn limit(what: &'static str, found: u64, limit: u64) -> Result<(), ComputeError> {
    if found > limit {
        return Err(ComputeError::ModuleLimit { what, found, limit });
    }
    Ok(())
}

/// Checks the engine's limits by walking the module's sections (parsing, not yet validating):
/// only the host functions imported, and bounded functions, globals, tables, memory and data.
fn check_limits(wasm: &[u8], config: &ComputeConfig) -> Result<(), ComputeError> {
    let mut functions: u64 = 0;
    let mut tables: u64 = 0;
    let mut memories: u64 = 0;
    let mut initial_memory: u64 = 0;
    let mut data_bytes: u64 = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(invalid)? {
            Payload::Version { encoding, .. } if encoding != Encoding::Module => {
                return Err(invalid("components are not supported"));
            }
            Payload::ImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(invalid)?;
                    let refuse = |reason| ComputeError::ForbiddenImport {
                        module: import.module.to_owned(),
                        name: import.name.to_owned(),
                        reason,
                    };
                    if import.module != HOST_MODULE {
                        return Err(refuse(
                            "only the \"switchyard\" host functions may be imported",
                        ));
                    }
                    if !matches!(import.ty, TypeRef::Func(_)) {
                        return Err(refuse("only functions may be imported"));
                    }
                    if !HOST_FUNCTIONS
                        .iter()
                        .any(|(name, _, _)| *name == import.name)
                    {
                        return Err(refuse("no such host function"));
                    }
                    functions = functions.saturating_add(1);
                }
            }
            Payload::FunctionSection(reader) => {
                functions = functions.saturating_add(u64::from(reader.count()));
            }
            Payload::GlobalSection(reader) => {
                limit(
                    "globals",
                    u64::from(reader.count()),
                    u64::from(config.max_globals),
                )?;
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(invalid)?;
                    tables = tables.saturating_add(1);
                    limit(
                        "table elements",
                        table.ty.initial,
                        u64::from(config.max_table_elements),
                    )?;
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(invalid)?;
                    memories = memories.saturating_add(1);
                    limit(
                        "initial memory pages",
                        memory.initial,
                        u64::from(config.max_memory_pages),
                    )?;
                    initial_memory = memory.initial.saturating_mul(PAGE_BYTES);
                }
            }
            Payload::StartSection { .. } => return Err(ComputeError::StartFunction),
            Payload::DataSection(reader) => {
                limit(
                    "data segments",
                    u64::from(reader.count()),
                    u64::from(config.max_data_segments),
                )?;
                for (segment, data) in (0u32..).zip(reader) {
                    let data = data.map_err(invalid)?;
                    let len = data.data.len() as u64;
                    data_bytes = data_bytes.saturating_add(len);
                    limit("bytes of data", data_bytes, config.max_data_bytes)?;
                    if let DataKind::Active { offset_expr, .. } = data.kind
                        && let Ok(Operator::I32Const { value }) =
                            offset_expr.get_operators_reader().read()
                    {
                        let end = u64::from(value as u32).saturating_add(len);
                        if end > initial_memory {
                            return Err(ComputeError::DataOutOfBounds {
                                segment,
                                end,
                                memory: initial_memory,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    limit("functions", functions, u64::from(config.max_functions))?;
    limit("tables", tables, u64::from(config.max_tables))?;
    limit("memories", memories, 1)?;
    Ok(())
}
