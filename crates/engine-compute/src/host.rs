//! The host functions a module may import (module name [`HOST_MODULE`]), and the state one
//! execution runs against.
//!
//! | import | type | what it does |
//! |---|---|---|
//! | `input_len` | `() -> i32` | the input's length |
//! | `input_read` | `(dst: i32)` | copies the whole input to memory at `dst` |
//! | `get` | `(key: i32, dst: i32, cap: i32) -> i32` | reads the 32-byte key at `key`: `-1` when no value is stored, else the value's length, with its first `min(len, cap)` bytes copied to `dst` |
//! | `set` | `(key: i32, src: i32, len: i32)` | writes `len` bytes at `src` as the key's value |
//! | `remove` | `(key: i32)` | deletes the key's value |
//! | `output` | `(src: i32, len: i32)` | sets the execution's output (replacing any earlier one) |
//!
//! `get` needs the key in the request's `read_keys` or `write_keys`; `set` and `remove` need it
//! in `write_keys`; anything else traps with an access violation. Every host call burns
//! [`HOST_CALL_FUEL`] plus one fuel per byte it copies. Pointers and lengths are unsigned; an
//! access outside the module's memory (exported as `"memory"`) traps.

use std::collections::BTreeMap;
use std::fmt;

use wasmi::{Caller, Error as WasmError, Linker, Memory, StoreLimits, TrapCode, ValType};

use switchyard_router::Key;

use crate::error::ComputeError;
use crate::record::value_digest;

/// The module name every host function is imported from.
pub const HOST_MODULE: &str = "switchyard";

/// Fuel every host call burns, on top of one fuel per byte it copies.
pub const HOST_CALL_FUEL: u64 = 100;

/// The host functions: name, parameter types, result types.
pub(crate) const HOST_FUNCTIONS: [(&str, &[ValType], &[ValType]); 6] = [
    ("input_len", &[], &[ValType::I32]),
    ("input_read", &[ValType::I32], &[]),
    (
        "get",
        &[ValType::I32, ValType::I32, ValType::I32],
        &[ValType::I32],
    ),
    ("set", &[ValType::I32, ValType::I32, ValType::I32], &[]),
    ("remove", &[ValType::I32], &[]),
    ("output", &[ValType::I32, ValType::I32], &[]),
];

/// A declared key during an execution: its current value and what the request allows.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The value as the execution sees it: read from state before the call, then as written.
    pub(crate) value: Option<Vec<u8>>,
    /// Declared in `write_keys`.
    pub(crate) writable: bool,
    /// Written (or deleted) by the execution.
    pub(crate) written: bool,
    /// The digest of the value read from state, when the execution read it before writing it.
    pub(crate) read_digest: Option<Key>,
}

/// What one execution runs against: its input, its declared keys, its output, and the limits
/// of its memory and table.
#[derive(Debug)]
pub(crate) struct Host {
    pub(crate) input: Vec<u8>,
    pub(crate) keys: BTreeMap<Key, Slot>,
    pub(crate) output: Vec<u8>,
    pub(crate) memory: Option<Memory>,
    pub(crate) limits: StoreLimits,
    pub(crate) max_output: usize,
    pub(crate) max_value: usize,
}

/// Why a host function trapped; turned back into a [`ComputeError`] after the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostTrap(pub(crate) ComputeError);

impl fmt::Display for HostTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl wasmi::errors::HostError for HostTrap {}

fn trap(error: ComputeError) -> WasmError {
    WasmError::host(HostTrap(error))
}

/// Burns `amount` fuel, or traps out of fuel when less is left.
fn charge(caller: &mut Caller<'_, Host>, amount: u64) -> Result<(), WasmError> {
    let fuel = caller.get_fuel()?;
    match fuel.checked_sub(amount) {
        Some(left) => caller.set_fuel(left),
        None => {
            caller.set_fuel(0)?;
            Err(TrapCode::OutOfFuel.into())
        }
    }
}

/// An unsigned pointer or length.
fn unsigned(value: i32) -> usize {
    value as u32 as usize
}

fn memory(caller: &Caller<'_, Host>) -> Result<Memory, WasmError> {
    caller
        .data()
        .memory
        .ok_or_else(|| trap(ComputeError::NoMemory))
}

/// Copies `len` bytes of the module's memory at `ptr`.
fn read_bytes(caller: &Caller<'_, Host>, ptr: i32, len: usize) -> Result<Vec<u8>, WasmError> {
    let memory = memory(caller)?;
    let mut bytes = vec![0; len];
    memory.read(caller, unsigned(ptr), &mut bytes)?;
    Ok(bytes)
}

fn read_key(caller: &Caller<'_, Host>, ptr: i32) -> Result<Key, WasmError> {
    let memory = memory(caller)?;
    let mut key = [0; 32];
    memory.read(caller, unsigned(ptr), &mut key)?;
    Ok(key)
}

fn input_len(caller: Caller<'_, Host>) -> Result<i32, WasmError> {
    let mut caller = caller;
    charge(&mut caller, HOST_CALL_FUEL)?;
    Ok(caller.data().input.len() as i32)
}

fn input_read(mut caller: Caller<'_, Host>, dst: i32) -> Result<(), WasmError> {
    let len = caller.data().input.len();
    charge(&mut caller, HOST_CALL_FUEL.saturating_add(len as u64))?;
    let memory = memory(&caller)?;
    let (bytes, host) = memory.data_and_store_mut(&mut caller);
    let start = unsigned(dst);
    let target = start
        .checked_add(len)
        .and_then(|end| bytes.get_mut(start..end))
        .ok_or(TrapCode::MemoryOutOfBounds)?;
    target.copy_from_slice(&host.input);
    Ok(())
}

fn get(mut caller: Caller<'_, Host>, key: i32, dst: i32, cap: i32) -> Result<i32, WasmError> {
    charge(&mut caller, HOST_CALL_FUEL)?;
    let key = read_key(&caller, key)?;
    let slot = caller
        .data_mut()
        .keys
        .get_mut(&key)
        .ok_or_else(|| trap(ComputeError::AccessViolation { key, op: "read" }))?;
    if !slot.written && slot.read_digest.is_none() {
        slot.read_digest = Some(value_digest(slot.value.as_deref()));
    }
    let Some(len) = slot.value.as_ref().map(Vec::len) else {
        return Ok(-1);
    };
    let copied = len.min(unsigned(cap));
    charge(&mut caller, copied as u64)?;
    let memory = memory(&caller)?;
    let (bytes, host) = memory.data_and_store_mut(&mut caller);
    let start = unsigned(dst);
    let target = start
        .checked_add(copied)
        .and_then(|end| bytes.get_mut(start..end))
        .ok_or(TrapCode::MemoryOutOfBounds)?;
    let value = host
        .keys
        .get(&key)
        .and_then(|slot| slot.value.as_deref())
        .and_then(|value| value.get(..copied))
        .unwrap_or_default();
    target.copy_from_slice(value);
    Ok(len as i32)
}

/// The slot of `key` for a write, or an access violation.
fn writable(host: &mut Host, key: Key) -> Result<&mut Slot, WasmError> {
    match host.keys.get_mut(&key) {
        Some(slot) if slot.writable => Ok(slot),
        _ => Err(trap(ComputeError::AccessViolation { key, op: "write" })),
    }
}

fn set(mut caller: Caller<'_, Host>, key: i32, src: i32, len: i32) -> Result<(), WasmError> {
    let len = unsigned(len);
    let limit = caller.data().max_value;
    if len > limit {
        return Err(trap(ComputeError::ValueTooLarge { len, limit }));
    }
    charge(&mut caller, HOST_CALL_FUEL.saturating_add(len as u64))?;
    let key = read_key(&caller, key)?;
    let value = read_bytes(&caller, src, len)?;
    let slot = writable(caller.data_mut(), key)?;
    slot.value = Some(value);
    slot.written = true;
    Ok(())
}

fn remove(mut caller: Caller<'_, Host>, key: i32) -> Result<(), WasmError> {
    charge(&mut caller, HOST_CALL_FUEL)?;
    let key = read_key(&caller, key)?;
    let slot = writable(caller.data_mut(), key)?;
    slot.value = None;
    slot.written = true;
    Ok(())
}

fn output(mut caller: Caller<'_, Host>, src: i32, len: i32) -> Result<(), WasmError> {
    let len = unsigned(len);
    let limit = caller.data().max_output;
    if len > limit {
        return Err(trap(ComputeError::OutputTooLarge { len, limit }));
    }
    charge(&mut caller, HOST_CALL_FUEL.saturating_add(len as u64))?;
    let bytes = read_bytes(&caller, src, len)?;
    caller.data_mut().output = bytes;
    Ok(())
}

/// A linker defining every host function, built once per engine.
pub(crate) fn linker(engine: &wasmi::Engine) -> Result<Linker<Host>, WasmError> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(HOST_MODULE, "input_len", input_len)?;
    linker.func_wrap(HOST_MODULE, "input_read", input_read)?;
    linker.func_wrap(HOST_MODULE, "get", get)?;
    linker.func_wrap(HOST_MODULE, "set", set)?;
    linker.func_wrap(HOST_MODULE, "remove", remove)?;
    linker.func_wrap(HOST_MODULE, "output", output)?;
    Ok(linker)
}
