//! The switchyard token engine: fungible `u128` tokens, the native token that pays fees, and
//! escrowed (pending) transfers. Register a [`TokenEngine`] with the manager as an
//! `Arc<dyn switchyard_router::Engine>`; build signed operations with a [`TokenClient`].
//!
//! # Operations
//! - **Deploy** (`TokenDeploy`, sent to the token base domain `TOKEN`): creates a token at
//!   [`token_domain`]`(deployer, nonce)` owned by the deployer, and credits its initial supply
//!   to the initial holder (default: the deployer).
//! - **Update** (`TokenUpdate`, owner only): set or revoke (for good) the mint authority, lower
//!   the max supply (never below the current supply), hand over ownership.
//! - **Transfer** (`Transaction`): moves units between accounts, checked arithmetic throughout.
//! - **Mint** (`MintTransaction`): the mint authority of a mintable token creates units, never
//!   beyond the max supply; the supply lives in the token's metadata record.
//! - **Pending** (`PendingTransaction`): *create* moves units from the sender into an escrow
//!   [`escrow_id`]`(token, sender, nonce)`; the recipient may *accept* at any frame up to and
//!   including the expiry frame; from the next frame on only the sender may *refund*.
//!
//! The engine acts on the [`Call`](switchyard_router::Call) the manager hands it: the signer is
//! already authenticated (the manager verifies every signature, and refuses a message sent to
//! another domain than its auth block signs), so the engine never verifies signatures. A deploy
//! goes to `TOKEN` only, and no other operation may go there.
//!
//! Decisions: a zero amount is refused ([`TokenError::ZeroAmount`]), as is a transfer or escrow
//! from an account to itself ([`TokenError::SelfTransfer`]): both can only be mistakes. Both are
//! shape errors, found by `validate`, so the message is rejected with no effect and **no fee**
//! (see the manager's `a_zero_amount_transfer_is_rejected_with_no_fee` test).
//!
//! # Results and queries
//! A deploy's result (carried by its receipt outcome) is the new token's 32-byte domain; no
//! other operation returns a result. [`Engine::query`](switchyard_router::Engine::query)
//! answers a `TokenQuery` sent to a token's domain with a `TokenQueryResponse`: an account's
//! balance, the token's info, or the escrows waiting for an account to accept them (read
//! through the account's pending index, never by scanning; at most
//! [`MAX_PENDING_PER_ACCOUNT`] unexpired ones per account, a create beyond is
//! [`TokenError::TooManyPending`]).
//!
//! # State
//! A token's metadata record sits at `metadata_address(token)` with type domain `TOKEN` (see
//! [`TokenInfo`]); the balance of account `k` at `(token, k)` as an `AccountRecord` (in the
//! native token this record also holds the signer's nonce, so a native transfer writes two
//! records); an escrow at `(token, escrow id)` (see [`Escrow`]). The native token is created by
//! [`genesis`]; its supply is the sum of the initial balances.
//!
//! Fees and nonces are **not** this engine's business: the manager settles them with
//! `switchyard_router::fees::settle` on the same overlay before [`Engine::apply`](switchyard_router::Engine::apply), so `apply`
//! sees the signer's native balance after the fee.
//!
//! # Builders
//! [`TokenClient`] signs every operation above for one key and network, tracking the signer's
//! next nonce (start it at stored nonce + 1; [`TokenClient::set_next_nonce`] resets it), and
//! returns a [`SignedRequest`] (target domain + signed request + canonical bytes).
//! [`TokenSpec`] and [`UpdateSpec`] describe deploys and updates.
//!
//! # Errors
//! Refusals are [`TokenError`] values inside `EngineError::Rejected` (get them back with
//! `err.downcast_ref::<TokenError>()`): shape errors come from `validate` (and again from
//! `access`/`apply`, which re-read the request), state errors from `apply`. A failed state
//! access is `EngineError::State`.
//!
//! # Cost
//! `cost = base(kind) + per_byte x len(canonical bytes of the MessageRequest)`, where the
//! canonical bytes include the 4-byte type tag and the signature. Default [`CostSchedule`]:
//! deploy 10 000, update 2 000, transfer 1 000, mint 1 500, pending create 1 500, pending
//! accept 1 000, pending refund 1 000 (a pending transaction without an action is priced as an
//! accept), per byte 1. An operation of another engine is `EngineError::Unsupported`, never 0.
//!
//! # Access sets
//! Transfers read the token's metadata record and write the two balances, so transfers between
//! disjoint accounts never conflict; mint, update and deploy write the metadata record; accept
//! and refund write the escrow and the signer's balance; create and accept also write the
//! recipient's pending index. Every set also declares the signer's
//! native account (written by fee settlement) and never the fee recipient.
//!
//! ```
//! use switchyard_router::{Call, Engine, ExecutionContext, MemoryView, fees, auth::SigningKey};
//! use switchyard_router::domains::NATIVE_TOKEN;
//! use switchyard_token::{NativeGenesis, TokenClient, TokenEngine, balance, write_genesis};
//!
//! let mut alice = TokenClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
//! let bob = [2; 32];
//! let mut state = MemoryView::default();
//! write_genesis(&mut state, &NativeGenesis { balances: vec![(alice.public_key(), 10_000)], ..Default::default() })?;
//!
//! let engine = TokenEngine::new();
//! let ctx = ExecutionContext::new(1, 7);
//! let op = alice.transfer(NATIVE_TOKEN, bob, 500);
//! // The manager's job: verify the signature, then hand the engine the authenticated call.
//! switchyard_router::auth::verify_request(&op.request, 7)?;
//! let call = Call::from_request(&op.request)?;
//! engine.validate(&ctx, &call, &state)?;
//! let fee = fees::fee_for(&engine.cost(&op.request)?, ctx.fee_multiplier)?;
//! fees::settle(&mut state, &call.signer, call.nonce, fee)?; // the manager's job too
//! engine.apply(&ctx, &call, &mut state)?;
//!
//! assert_eq!(balance(&state, &NATIVE_TOKEN, &bob)?, 500);
//! assert_eq!(balance(&state, &NATIVE_TOKEN, &alice.public_key())?, 10_000 - 500 - fee);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod builders;
mod engine;
mod error;
mod genesis;
mod op;
mod query;
mod record;

pub use builders::{TokenClient, TokenSpec, UpdateSpec};
pub use engine::{CostSchedule, PROTOCOL, PROTOCOL_VERSION, TokenEngine};
pub use error::{GenesisError, Result, TokenError};
pub use genesis::{NativeGenesis, genesis, write_genesis};
pub use record::{
    Escrow, MAX_PENDING_PER_ACCOUNT, TokenInfo, balance, escrow, escrow_id, pending_index_key,
    token_domain, token_info,
};
pub use switchyard_router::SignedRequest;

pub(crate) use engine::ENGINE_NAME;
