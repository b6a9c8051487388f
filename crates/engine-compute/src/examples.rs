//! Example modules, written in WAT (`examples/wat/` in this crate) and compiled with the `wat`
//! crate: no external toolchain. Tests, benchmarks and the README deploy them.
//!
//! - [`counter_module`]: `increment` and `get` of a little-endian `u64` counter whose key is
//!   the input (32 bytes, or empty for the key `00..00`).
//! - [`kv_module`]: `put` (input: key then value), `get` (input: key; output: the value, empty
//!   when none) and `delete` (input: key).
//! - [`out_of_fuel_module`]: `run` loops for ever, so every execution runs out of fuel.
//!
//! ```
//! use switchyard_compute::{ComputeEngine, examples};
//!
//! let engine = ComputeEngine::new();
//! assert_eq!(engine.validate_module(&examples::kv_module())?, ["delete", "get", "put"]);
//! assert_eq!(engine.validate_module(&examples::out_of_fuel_module())?, ["run"]);
//! # Ok::<(), switchyard_compute::ComputeError>(())
//! ```

use switchyard_router::Key;

/// The counter's WAT source.
pub const COUNTER_WAT: &str = include_str!("../examples/wat/counter.wat");

/// The key-value store's WAT source.
pub const KV_WAT: &str = include_str!("../examples/wat/kv.wat");

/// The WAT source of the module that runs out of fuel.
pub const OUT_OF_FUEL_WAT: &str = include_str!("../examples/wat/out_of_fuel.wat");

/// The key of the counter an empty input names: `00..00`.
pub const COUNTER_KEY: Key = [0; 32];

/// Compiles WAT to a module. The sources above are compiled by this crate's tests, so this
/// never fails for them; should it fail, the empty module it returns is refused by every
/// deploy.
fn compile(source: &str) -> Vec<u8> {
    wat::parse_str(source).unwrap_or_default()
}

/// The counter module (see the module docs).
pub fn counter_module() -> Vec<u8> {
    compile(COUNTER_WAT)
}

/// The key-value store module (see the module docs).
pub fn kv_module() -> Vec<u8> {
    compile(KV_WAT)
}

/// The module whose `run` never ends (see the module docs).
pub fn out_of_fuel_module() -> Vec<u8> {
    compile(OUT_OF_FUEL_WAT)
}

/// The input of a key-value `put`: the key, then the value.
///
/// ```
/// let input = switchyard_compute::examples::kv_put_input(&[7; 32], b"v");
/// assert_eq!((input.len(), input[32]), (33, b'v'));
/// ```
pub fn kv_put_input(key: &Key, value: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(32 + value.len());
    input.extend_from_slice(key);
    input.extend_from_slice(value);
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_compiles() {
        for source in [COUNTER_WAT, KV_WAT, OUT_OF_FUEL_WAT] {
            assert!(wat::parse_str(source).is_ok(), "{source}");
        }
        assert!(!counter_module().is_empty());
    }
}
