//! Integration tests of the switchyard node: crash safety of frames
//! committed to redb by a SIGKILLed child process, the `switchyard` command line, and the
//! shape of the generated workloads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

mod bad_input;
mod campaign;
mod cli;
mod crash;
mod engines_cli;
mod follower;
mod node_common;
mod observability;
mod reference;
mod serve;
mod workloads;

use std::sync::Arc;

use switchyard_manager::Manager;
use switchyard_node::bench::genesis_changes;
use switchyard_node::workload::{NETWORK_ID, Workload};
use switchyard_state::{MemoryStore, Store};

/// A manager with the token engine, the workloads' network id and `threads` workers on
/// `store`, with the workload's genesis committed as frame 0 when the store is empty.
fn manager_on(store: Arc<dyn Store>, threads: usize, workload: &Workload) -> Manager {
    let manager = Manager::builder()
        .engines(switchyard_node::engines::all())
        .network_id(NETWORK_ID)
        .threads(threads)
        .store(store)
        .build()
        .unwrap();
    if manager.head().is_none() {
        manager
            .genesis(0, &genesis_changes(workload).unwrap())
            .unwrap();
    }
    manager
}

/// [`manager_on`] a fresh memory store.
fn memory_manager(threads: usize, workload: &Workload) -> Manager {
    manager_on(Arc::new(MemoryStore::new()), threads, workload)
}
