//! The switchyard engine contract: everything an execution engine and the manager agree on.
//!
//! - [`Domain`] and [`Address`]: where state lives; the base domains of DESIGN §3.
//! - [`Engine`]: the trait every engine implements (price, validate, declare access, apply
//!   and return an [`Output`], answer queries), and the [`Call`] it is handed: a request with
//!   the signer the manager authenticated. [`NoopEngine`] does nothing, for tests.
//! - [`families`]: the one table from an operation's or query's type tag to the engine family
//!   that handles it.
//! - [`StateRead`] / [`StateWrite`]: the narrow views an engine reads and writes through;
//!   `switchyard-state` implements them with overlays that enforce the declared [`AccessSet`].
//! - [`RouteTable`]: resolves the engine for a target domain, by base domain or through the
//!   instance's [`MetadataRecord`] in state. One resolver serves every entry point.
//! - [`Signer`] and [`SignedRequest`]: how a submitter signs operations; every engine's
//!   typed client wraps a `Signer`. Multi-party bundles: one party makes a
//!   [`BundleProposal`] of [`UnsignedRequest`]s, each signer signs it, anyone assembles the
//!   [`SignedBundle`] (see [`auth`] for the signed bytes).
//! - [`auth`] and [`fees`]: signature checks (the manager's job, never an engine's) and the native-token fee and nonce settlement that
//!   every signed operation goes through, whichever engine it targets, and the crediting of a
//!   frame's fees to its recipient.
//! - [`AddressSet`] (what an [`AccessSet`] holds) and the [`SortedMap`] under it: ordered
//!   collections kept as a sorted vector while small, since most hold a message's handful of
//!   addresses; `switchyard-state`'s change sets use the same map.
//!
//! An engine crate depends on `switchyard-proto` and this crate only.
//!
//! ```
//! use std::sync::Arc;
//! use switchyard_router::{Address, Domain, RouteTable, MemoryView, RouteError};
//!
//! // A table with no engines routes nothing, and says which domain it could not route.
//! let table = RouteTable::builder().build()?;
//! let state = MemoryView::default();
//! let unknown: Domain = "ab".repeat(32).parse()?;
//! assert!(matches!(table.resolve(&unknown, &state), Err(RouteError::NoEngine { .. })));
//!
//! // Addresses print as hex and parse back.
//! let address = Address::new(switchyard_router::domains::TOKEN, [1; 32]);
//! assert_eq!(address.to_string().parse::<Address>()?, address);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod access;
mod address;
pub mod auth;
mod call;
mod context;
pub mod domains;
mod engine;
mod error;
pub mod families;
pub mod fees;
mod metadata;
mod noop;
mod route;
mod signer;
mod sorted_map;
mod view;

pub use access::{AccessSet, AddressSet, Iter as AddressSetIter};
pub use address::{Address, AddressHashBuilder, AddressHasher, Domain, Key};
pub use call::Call;
pub use context::ExecutionContext;
pub use engine::{Engine, MAX_RESULT_BYTES, Output, Severity};
pub use error::{AddressError, BundleError, EngineError, RouteError, StateError};
pub use metadata::MetadataRecord;
pub use noop::NoopEngine;
pub use route::{RouteTable, RouteTableBuilder};
pub use signer::{
    BundleProposal, BundleSignature, SignedBundle, SignedRequest, Signer, UnsignedRequest,
};
pub use sorted_map::{IntoIter as SortedMapIntoIter, Iter as SortedMapIter, SortedMap};
pub use view::{MemoryView, StateRead, StateWrite};

pub use num_bigint::BigUint;
pub use switchyard_proto as proto;
