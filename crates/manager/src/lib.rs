//! The switchyard manager: the façade a node talks to.
//!
//! A [`Manager`] holds the registered engines (as `Arc<dyn Engine>`, in a route table), a
//! [`Store`](switchyard_state::Store), the metrics and a worker pool. It offers:
//! - the byte-level API of DESIGN §7: [`Manager::cost`], [`Manager::validate_message`],
//!   [`Manager::lock`] (a [`LockLease`]) / [`Manager::unlock_all`], [`Manager::process_message`],
//!   [`Manager::query`], [`Manager::capabilities`], every entry point instrumented with
//!   metrics; a refusal says what kind it is with [`ManagerError::status`];
//! - authentication: the manager verifies every signature before an engine sees a request;
//! - the frame executor of DESIGN §6: [`Manager::execute_frame`] runs a [`Frame`] in parallel
//!   where access sets allow, with exactly the result of [`Manager::execute_frame_serial`], and
//!   commits it atomically with its receipt;
//! - lifecycle: [`Manager::start`] / [`Manager::stop`] with timeouts, a `CancellationToken`,
//!   and failure classes (rejected, temporary with bounded retries, critical).
//!
//! ```
//! use std::sync::Arc;
//! use switchyard_manager::{Frame, Manager};
//! use switchyard_proto::v1::MessageStatus;
//! use switchyard_router::{auth::SigningKey, domains::NATIVE_TOKEN};
//! use switchyard_state::ChangeSet;
//! use switchyard_token::{NativeGenesis, TokenClient, TokenEngine};
//!
//! let mut alice = TokenClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
//! let bob = [2; 32];
//! let manager = Manager::builder().engine(Arc::new(TokenEngine::new())).network_id(7).build()?;
//!
//! // Genesis: the native token with Alice's balance.
//! let genesis = NativeGenesis { balances: vec![(alice.public_key(), 1_000_000)], ..Default::default() };
//! let changes: ChangeSet = switchyard_token::genesis(&genesis)?.into_iter().collect();
//! manager.genesis(0, &changes)?;
//!
//! // Frame 1: one signed transfer.
//! let (target, bytes) = alice.transfer(NATIVE_TOKEN, bob, 250).into_parts();
//! let result = manager.execute_frame(&Frame::new(1).message(target.0, bytes))?;
//! assert_eq!(result.head.frame_number, 1);
//! assert_eq!(result.receipt.outcomes[0].status(), MessageStatus::Applied);
//! let snapshot = manager.store().snapshot()?;
//! assert_eq!(switchyard_token::balance(snapshot.as_ref(), &NATIVE_TOKEN, &bob)?, 250);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod builder;
mod error;
mod frame;
mod lifecycle;
mod locks;
mod manager;
mod retry;
#[cfg(test)]
mod test_support;

pub use builder::ManagerBuilder;
pub use error::{ManagerError, Result};
pub use frame::{Frame, FrameResult, verification_batch};
pub use lifecycle::Timeouts;
pub use locks::LockLease;
pub use manager::{Manager, Processed, QueryAnswer, Validated};
pub use retry::RetryPolicy;
