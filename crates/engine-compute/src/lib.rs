//! The switchyard compute engine: applications that run deterministic WebAssembly under fuel
//! metering, against the keys each request declares. Register a [`ComputeEngine`] with the
//! manager as an `Arc<dyn switchyard_router::Engine>`; build signed operations with a
//! [`ComputeClient`]; the [`examples`] module has ready modules (a counter, a key-value store,
//! one that runs out of fuel), written in WAT.
//!
//! # Operations
//! - **Deploy** (`ComputeDeploy`, sent to the compute base domain `COMPUTE`): creates an
//!   application at [`app_domain`]`(deployer, nonce)` owned by the deployer, with its code
//!   deployers and its fuel ceiling per execution (0 = [`ComputeConfig::default_app_fuel`];
//!   never above [`ComputeConfig::max_fuel`]). Result: the app's 32-byte domain.
//! - **Update** (`ComputeUpdate`, owner only): replace or clear the code deployers, change the
//!   fuel ceiling, hand over ownership.
//! - **Code deploy** (`CodeDeploy`, owner or a code deployer): stores a module under its
//!   [`code_id`] (BLAKE3 of its bytes) after validating it: it parses and validates, imports
//!   only the [host functions](#host-functions), uses no floating point (float types and
//!   instructions fail validation), has no start function, and stays within the limits of
//!   [`ComputeConfig`] (size, functions, globals, one table of bounded size, one memory of
//!   bounded initial size, bounded data segments that fit the initial memory). An invalid
//!   module is refused with the validator's reason ([`ComputeError::InvalidModule`]) or the
//!   limit it broke. Result: the code id.
//! - **Execute** (`CodeExecute`): calls an exported function of type `[] -> []` with the
//!   input, under the request's fuel limit (at most the app's ceiling), in wasmi with eager
//!   compilation and per-operator fuel. The function reads its input and declared keys and
//!   writes its output and declared keys through the host functions. Result: an
//!   `ExecutionResult { output, fuel_used, execution_id }` (prost-encoded; the execution id
//!   only when staged). A trap, running out of fuel, an access violation, too large an output
//!   or value: the operation **fails**, its writes are rolled back, its fee is kept.
//! - **Staged execute** (`CodeExecute` with `staged`): runs the same way, but records its
//!   writes and a digest ([`value_digest`]) of every value it read from state under its
//!   [`execution_id`]`(app, executor, nonce)` instead of applying them. It expires
//!   [`ComputeConfig::staged_expiry_frames`] frames after the frame it was staged in.
//! - **Finalize** (`CodeFinalize`, the executor only): applies a staged execution's writes if
//!   none of the values it read changed since ([`ComputeError::StaleRead`] otherwise), up to
//!   and including its expiry frame ([`ComputeError::StagedExpired`] after it), and deletes the
//!   record. The finalize lists the staged execution's read and write keys again, so its
//!   access set follows from the request alone. With `discard`, the executor deletes the
//!   record without applying it, at any time (the only way to remove an expired or stale one).
//!   Result: the staged execution's `ExecutionResult`.
//!
//! The engine acts on the [`Call`](switchyard_router::Call) the manager hands it: the signer is
//! already authenticated, so the engine never verifies signatures.
//!
//! # Host functions
//! Imported from module `"switchyard"`; pointers and lengths are unsigned `i32`, keys are 32
//! bytes in the module's memory (exported as `"memory"`), naming `(app domain, key)`:
//! `input_len() -> i32`, `input_read(dst)`, `get(key, dst, cap) -> i32` (the value's length or
//! -1, copying at most `cap` bytes), `set(key, src, len)`, `remove(key)`, `output(src, len)`.
//! `get` needs the key declared in `read_keys` or `write_keys`, `set` and `remove` in
//! `write_keys`; anything else traps with [`ComputeError::AccessViolation`]. Each call burns
//! [`HOST_CALL_FUEL`] plus one fuel per byte it copies.
//!
//! # Results and queries
//! [`Engine::query`](switchyard_router::Engine::query) answers a `ComputeQuery` (type tag
//! `0x0620`) sent to an application's domain with a `ComputeQueryResponse` (`0x0621`): the
//! app's configuration, a code's metadata ([`code_info`]: size, deployer, frame, callable
//! exports), a staged execution ([`staged_execution`]), or a key of the app's state
//! ([`app_value`]).
//!
//! | tag | message |
//! |---|---|
//! | 0x0601 | ComputeDeploy |
//! | 0x0602 | ComputeUpdate |
//! | 0x0603 | CodeDeploy |
//! | 0x060C | CodeExecute |
//! | 0x060F | CodeFinalize |
//! | 0x0620 | ComputeQuery |
//! | 0x0621 | ComputeQueryResponse |
//!
//! # State
//! - `(app, 0xff x 32)`: the app's metadata record, type domain `COMPUTE`, payload a
//!   `ComputeApp` (name, owner, code deployers, fuel ceiling).
//! - `(app, key)` for every other key: the app's state, written by executions and finalizes.
//! - `(system_domain(app), code id)`: a code record (its `CodeInfo` and the module bytes).
//! - `(system_domain(app), execution id)`: a `StagedExecution` record.
//!
//! The engine's own records live in [`system_domain`]`(app)`, so no declared key can name
//! them: declared keys must be addresses of the app's own domain, never its metadata key.
//!
//! # Cost
//! `cost = base(kind) + per_byte x len(canonical bytes of the MessageRequest) + extra`, where
//! `extra` is `per_code_byte x module length` for a code deploy,
//! `ceil(fuel_limit / fuel_per_unit) + per_key x declared keys (+ staged)` for an execution,
//! and `per_key x declared keys` for a finalize; the input is part of the canonical bytes, so
//! an execution's cost is a function of its fuel limit, input size and declared keys, known
//! before it runs. Default [`CostSchedule`]: deploy 10 000, update 2 000, code deploy 20 000 +
//! 10 per module byte, execute 2 000 + 1 per 100 fuel, staged +1 000, finalize 2 000, per key
//! 50, per byte 1.
//!
//! # Access sets
//! Every set declares the signer's native account (fee and nonce settlement) and never the fee
//! recipient. Deploy writes the new app's metadata record; update writes the app's metadata
//! record; code deploy reads it and writes the code record. An execution reads the metadata
//! and code records, reads its `read_keys`, writes its `write_keys` (it reads each declared
//! key before the call) and, when staged, writes its staged record, and nothing else.
//! Finalize reads the metadata record, writes the staged record, reads its `read_keys` and
//! writes its `write_keys`. So executions of different apps, or of one app on disjoint keys,
//! never conflict.
//!
//! # Memory and limits
//! One execution holds at most [`ComputeConfig::execution_memory_bound`] bytes (about 3.2 MiB
//! by default): its linear memory (16 pages; `memory.grow` beyond fails), its table, the
//! interpreter's value stack ([`MAX_STACK_BYTES`]) and call stack (depth
//! [`ComputeConfig::max_call_depth`]; deeper recursion traps), its input and output and its
//! declared values. Compiled modules are shared through a cache bounded by count and bytes
//! ([`ComputeConfig::cache_modules`], [`ComputeConfig::cache_bytes`]); eager compilation makes
//! fuel, results and receipts independent of what the cache holds.
//!
//! ```
//! use switchyard_router::{Call, Engine, ExecutionContext, MemoryView};
//! use switchyard_router::auth::SigningKey;
//! use switchyard_compute::{AppSpec, ComputeClient, ComputeEngine, ExecuteSpec, ExecutionResult, examples};
//! use switchyard_proto::prost::Message;
//!
//! let engine = ComputeEngine::new();
//! let mut state = MemoryView::default();
//! let ctx = ExecutionContext::new(1, 7);
//! let mut alice = ComputeClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
//! let (app, deploy) = alice.deploy(AppSpec::new("counters"));
//! let (code, upload) = alice.deploy_code(app, examples::counter_module());
//! let run = alice.execute(app, ExecuteSpec::new(code, "increment").writes([examples::COUNTER_KEY]));
//!
//! let mut result = Vec::new();
//! for op in [deploy, upload, run] {
//!     // The manager's job: verify the signature, settle the fee, then hand the engine the call.
//!     let call = Call::from_request(&op.request)?;
//!     engine.validate(&ctx, &call, &state)?;
//!     result = engine.apply(&ctx, &call, &mut state)?.result;
//! }
//! let result = ExecutionResult::decode(result.as_slice())?;
//! assert_eq!(result.output, 1u64.to_le_bytes());
//! assert!(result.fuel_used > 0);
//! assert_eq!(switchyard_compute::app_value(&state, &app, &examples::COUNTER_KEY)?, Some(1u64.to_le_bytes().to_vec()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod builders;
mod config;
mod engine;
mod error;
pub mod examples;
mod host;
mod op;
mod query;
mod record;
mod runtime;

pub use builders::{AppSpec, AppUpdate, ComputeClient, DEFAULT_FUEL_LIMIT, ExecuteSpec};
pub use config::{ComputeConfig, CostSchedule, MAX_STACK_BYTES, PAGE_BYTES};
pub use engine::{ComputeEngine, PROTOCOL, PROTOCOL_VERSION};
pub use error::{ComputeError, Result};
pub use host::{HOST_CALL_FUEL, HOST_MODULE};
pub use record::{
    app_domain, app_info, app_value, code_address, code_id, code_info, execution_id,
    staged_address, staged_execution, system_domain, value_digest,
};
pub use runtime::CacheStats;
pub use switchyard_proto::v1::{CodeInfo, ComputeApp, ExecutionResult, StagedExecution};
pub use switchyard_router::SignedRequest;

pub(crate) use engine::ENGINE_NAME;
