//! switchyard state: the transactional state the engines read and write, and the stores that
//! persist it.
//!
//! - [`Overlay`]: a write overlay implementing the router's [`StateRead`] / [`StateWrite`]
//!   views over any base state. [`Overlay::with_access`] enforces an operation's declared
//!   [`AccessSet`], refusing anything else with [`StateError::AccessViolation`]. Overlays nest,
//!   which is how a bundle rolls back, and their [`ChangeSet`]s merge in frame order.
//! - [`Store`]: the last committed frame's [`Head`], true [`Snapshot`]s for parallel reads,
//!   and atomic frame commits (changes, receipt, root and head in one transaction).
//!   [`MemoryStore`] keeps state in a hash map, committed in place when no snapshot holds
//!   the frame and on a copy otherwise (tests, benches); [`RedbStore`] is the
//!   crash-safe embedded default, one redb file in the node's data directory; [`LogStore`]
//!   serves the state from memory (bounded by [`LogStoreOptions::max_state_bytes`]) and makes
//!   each frame durable by appending it to a log synced once per commit, with checkpoints in
//!   the background: a commit's cost grows with the frame, not with the state.
//! - [`StateRoot`]: a lattice (homomorphic multiset) hash over BLAKE3 of the whole state, in
//!   the manner of Solana's accounts lattice hash: order-independent and updated at a cost
//!   proportional to a frame's changes. [`Lattice`] documents the construction.
//!
//! The manager owns a store as `Arc<dyn Store>`; engines never see one, only the overlays
//! they are handed.
//!
//! ```
//! use switchyard_router::{AccessSet, Address, Domain, StateRead, StateWrite, StateError};
//! use switchyard_state::{MemoryStore, Overlay, Store};
//!
//! let store = MemoryStore::new();
//! let (alice, bob) = (Address::new(Domain([1; 32]), [1; 32]), Address::new(Domain([1; 32]), [2; 32]));
//! let snapshot = store.snapshot()?;
//!
//! // An operation that declared it writes `alice` only.
//! let mut access = AccessSet::new();
//! access.write(alice);
//! let mut overlay = Overlay::with_access(&*snapshot, &access);
//! overlay.put(alice, b"100".to_vec())?;
//! let refused = overlay.put(bob, b"1".to_vec());
//! assert!(matches!(refused, Err(StateError::AccessViolation { address, op: "write" }) if address == bob));
//!
//! let head = store.commit(1, overlay.changes(), &mut |root| root.0.to_vec())?;
//! assert_eq!(store.snapshot()?.get(&alice)?, Some(b"100".to_vec()));
//! assert_eq!(snapshot.get(&alice)?, None); // the old snapshot does not see the commit
//! assert_eq!(head.state_root, store.recompute_root()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod changes;
mod error;
mod lattice;
mod log_store;
mod memory;
mod overlay;
mod redb_store;
mod store;

pub use changes::ChangeSet;
pub use error::{Result, StoreError};
pub use lattice::{Lattice, StateRoot};
pub use log_store::{LogStore, LogStoreOptions};
pub use memory::MemoryStore;
pub use overlay::Overlay;
pub use redb_store::{RedbOptions, RedbStore};
pub use store::{Head, Snapshot, Store};

#[doc(no_inline)]
pub use switchyard_router::{AccessSet, Address, StateError, StateRead, StateWrite};
