//! Integration tests of switchyard-state: overlays, both stores, state roots and crash safety.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod crash;
mod log_store;
mod overlay;
mod roots;
mod stores;

use std::collections::BTreeMap;

use switchyard_router::{Address, Domain};
use switchyard_state::ChangeSet;

/// A distinct address per `n`, spread over a few domains.
fn addr(n: u32) -> Address {
    let mut key = [0u8; 32];
    key[..4].copy_from_slice(&n.to_be_bytes());
    Address::new(Domain([(n % 3) as u8; 32]), key)
}

/// Frame `n` of a deterministic workload over 2000 addresses: puts of values of 0 to 47 bytes
/// (empty ones included), overwrites of earlier frames' values, and deletes.
fn workload_frame(n: u64, size: u32) -> ChangeSet {
    let mut changes = ChangeSet::new();
    for i in 0..size {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&n.to_le_bytes()).update(&i.to_le_bytes());
        let hash = hasher.finalize();
        let h = hash.as_bytes();
        let slot = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) % 2000;
        if h[4].is_multiple_of(8) {
            changes.delete(addr(slot));
        } else {
            let mut value = h.to_vec();
            value.extend_from_slice(&n.to_le_bytes());
            value.truncate(usize::from(h[5] % 41));
            changes.put(addr(slot), value);
        }
    }
    changes
}

/// Applies `changes` to a plain map, the reference model of the stores.
fn apply_to_model(model: &mut BTreeMap<Address, Vec<u8>>, changes: &ChangeSet) {
    for (address, value) in changes.iter() {
        match value {
            Some(value) => model.insert(*address, value.to_vec()),
            None => model.remove(address),
        };
    }
}

/// The receipt bytes the tests store: frame number then root.
fn receipt_for(frame: u64, root: &switchyard_state::StateRoot) -> Vec<u8> {
    let mut bytes = frame.to_be_bytes().to_vec();
    bytes.extend_from_slice(&root.0);
    bytes
}
