//! The switchyard global engine: the **prover registry**, the keys that serve shards
//! (identified by 32-byte filters) and sign frame headers. Register a [`GlobalEngine`] with
//! the manager as an `Arc<dyn switchyard_router::Engine>`; build signed prover operations with
//! a [`ProverClient`]; seed the registry with [`genesis`].
//!
//! # Operations
//! Every operation is sent to the global domain `GLOBAL` (`0xff` x 32), the only domain the
//! engine owns (it has no instances); any other target is [`GlobalError::WrongTarget`]. The
//! prover is the authenticated signer (`Call::signer`), except for a kick.
//! - **Join** (`ProverJoin`): ask to serve filters (1 to [`MAX_FILTERS_PER_OPERATION`]), with
//!   a delegate address for rewards (64 bytes; empty = the prover's own native account) and a
//!   proof of possession of the key: an Ed25519 signature over [`pop_message`]
//!   (`"switchyard/v1/ProverPop"` + public key), verified by the engine.
//! - **Confirm** (`ProverConfirm`): confirm a join (→ active) or a leave (→ left), no earlier
//!   than `confirm_min_delay` (360) and no later than `confirm_max_delay` (720) frames after it.
//! - **Reject** (`ProverReject`): withdraw a join (→ rejected), within the same window.
//! - **Leave** (`ProverLeave`): an active or paused filter → leaving; then confirm it.
//! - **Pause** (`ProverPause`): active → paused. **Resume** (`ProverResume`): paused → active,
//!   within `resume_window` (1440) frames of the pause.
//! - **Update** (`ProverUpdate`): a new delegate address (64 bytes); no status changes.
//! - **Kick** (`ProverKick`): signed by any registered, not kicked prover, with evidence: two
//!   different frame headers for the same frame number signed by the kicked prover. The engine
//!   checks both headers' network id against `ctx.network_id`, their frame numbers, that both
//!   name the kicked prover, that they differ (signatures aside) and both signatures (strict
//!   Ed25519 over [`frame_header_signing_bytes`]: `"switchyard/v1/FrameHeader"`, network id,
//!   canonical header bytes with the signature empty) against the kicked prover's registered
//!   key. Every filter of the prover becomes kicked, and it can never join again.
//!
//! Operations that name filters act on those (all must be legal, or nothing happens); an empty
//! filter (leave: an empty list) means **all** the prover's filters: the legal moves happen,
//! the others are skipped, and if none is legal the first refusal (in filter order) is the
//! answer. Windows are in frames (`ctx.frame_number`), never clocks.
//!
//! # The state machine
//! Statuses are per (prover, filter). The table below is [`transition`], the one table in
//! code (tests iterate over it, so a new status or operation cannot be forgotten). *after
//! delay* means the move is legal from `since + confirm_min_delay` on (before it:
//! [`GlobalError::WindowNotOpen`]); a cell named in italics is a [`Rejection`], reported as
//! [`GlobalError::Transition`] (or [`GlobalError::WindowClosed`] when the status is one a
//! window closing made implicit). Join, leave, pause and resume need no delay.
//!
//! | status \ op | Join | Confirm | Reject | Leave | Pause | Resume | Update | Kick |
//! |---|---|---|---|---|---|---|---|---|
//! | none | joining | *NotJoined* | *NotJoined* | *NotJoined* | *NotJoined* | *NotJoined* | *NotRegistered* | *NotRegistered* |
//! | joining | *AlreadyJoining* | active, after delay | rejected, after delay | *NotServing* | *NotActive* | *NotPaused* | stay | kicked |
//! | active | *AlreadyServing* | *NothingToConfirm* | *NotJoining* | leaving | paused | *NotPaused* | stay | kicked |
//! | paused | *AlreadyServing* | *NothingToConfirm* | *NotJoining* | leaving | *AlreadyPaused* | active | stay | kicked |
//! | leaving | *AlreadyServing* | left, after delay | *NotJoining* | *AlreadyLeaving* | *NotActive* | *NotPaused* | stay | kicked |
//! | left | joining | *NothingToConfirm* | *NotJoining* | *NotServing* | *NotActive* | *NotPaused* | stay | kicked |
//! | rejected | joining | *NothingToConfirm* | *NotJoining* | *NotServing* | *NotActive* | *NotPaused* | stay | kicked |
//! | expired | joining | *JoinExpired* | *JoinExpired* | *NotServing* | *NotActive* | *NotPaused* | stay | kicked |
//! | kicked | *Kicked* | *Kicked* | *Kicked* | *Kicked* | *Kicked* | *Kicked* | *Kicked* | *AlreadyKicked* |
//!
//! Implicit transitions (no operation, no write; [`effective`] applies them whenever a status
//! is read): a join neither confirmed nor rejected by `since + confirm_max_delay` reads as
//! **expired** (the prover may join again); a leave not confirmed by then reads as **left**;
//! a pause not resumed by `since + resume_window` reads as **left**. "none" is a filter the
//! prover never joined; every filter of a kicked prover, and any filter it asks to join,
//! reads as **kicked**. Update and kick act on the prover: each of its filters must allow them.
//!
//! # State
//! All records are in the global domain (see [`prover_address`] and its siblings):
//! - the registry configuration ([`RegistryConfig`]) at [`config_address`];
//! - one [`ProverRecord`] per prover at [`prover_address`]`(key)`: delegate, per-filter stored
//!   status and since-frame (at most [`MAX_FILTERS_PER_PROVER`] filters ever), kicked flag,
//!   the last frame a join added a filter;
//! - one status index per stored status at [`status_index_address`]`(status)`: the
//!   (prover, filter, since) entries in it, at most `max_status_entries` (1024). When the
//!   index of a live status (joining, active, paused, leaving) is full, entries whose window
//!   closed are dropped first, then the move is refused ([`GlobalError::IndexFull`]); the
//!   index of a terminal status (left, rejected, kicked) drops its oldest entries instead
//!   (it is recent history; the prover record stays authoritative). Entries are per stored
//!   status: a join that expired is still listed as joining until pruned or moved;
//! - one filter index per filter at [`filter_index_address`]`(filter)`: the provers in a live
//!   status on it, at most `max_filter_entries` (256), pruned of lapsed entries when full,
//!   else [`GlobalError::FilterFull`].
//!
//! Every transition rewrites the prover record, the two status indexes and the filter index
//! it changes, so queries never scan. These indexes make prover operations that change a
//! status conflict with each other in a frame (they are rare); an update writes only the
//! prover record.
//!
//! # Queries
//! [`Engine::query`](switchyard_router::Engine::query) answers a `GlobalQuery` (tag `0x0320`)
//! sent to `GLOBAL` with a `GlobalQueryResponse` (tag `0x0321`): a prover by key; the
//! (prover, filter) pairs in a status (read from the indexes of the stored statuses that can
//! read as it); the provers of a filter (its index); the registry configuration. `at_frame`
//! applies the implicit transitions as of that frame (0 reports stored statuses).
//!
//! # Cost
//! Every prover operation costs **0** (this engine's `cost`, not a rule of the manager); the
//! manager still settles the nonce. Anything else is `EngineError::Unsupported`, never 0.
//!
//! # Access sets
//! Every operation reads the configuration and writes the record of the prover it is about
//! and the signer's native account (nonce settlement); a kick also reads the signer's record.
//! It writes the index of every stored status its cells in the table move from or to
//! ([`touched_indexes`]) and the index of every filter it may change: those it names, else
//! (an all-filters operation, a kick) the filters of the prover's record in the state the
//! access set is computed on. That is safe because the only operation that adds a filter
//! within a frame is a join, whose new filters are joining and cannot be confirmed, rejected,
//! left, paused or resumed in the same frame (the confirm delay is at least one frame); a kick
//! of a prover that joined filters in the same frame is refused
//! ([`GlobalError::JoinedThisFrame`]) and can be sent again in the next one.
//!
//! # Errors
//! Refusals are [`GlobalError`] values inside `EngineError::Rejected` (get them back with
//! `err.downcast_ref::<GlobalError>()`). Shape, target, proof-of-possession and evidence
//! checks need no state and come from `validate`: the message is rejected with no effect at
//! all (not even its nonce). State checks (the table, windows, registration, bounds) come
//! from `apply`: no effect but the nonce.
//!
//! # Type tags
//! | tag | message |
//! |---|---|
//! | 0x0301 to 0x0308 | ProverJoin, ProverLeave, ProverPause, ProverResume, ProverConfirm, ProverReject, ProverKick, ProverUpdate |
//! | 0x0309 | FrameHeader |
//! | 0x0320 | GlobalQuery |
//! | 0x0321 | GlobalQueryResponse |
//!
//! ```
//! use switchyard_router::{Call, Engine, ExecutionContext, MemoryView, fees, auth::SigningKey};
//! use switchyard_global::{GlobalEngine, GlobalGenesis, ProverClient, Status, prover, write_genesis};
//!
//! let mut state = MemoryView::default();
//! write_genesis(&mut state, &GlobalGenesis::default())?;
//! let engine = GlobalEngine::new();
//! let mut alice = ProverClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
//!
//! // What the manager does for each operation: authenticate, validate, settle, apply.
//! let mut run = |op: switchyard_router::SignedRequest, frame: u64, state: &mut MemoryView| {
//!     switchyard_router::auth::verify_request(&op.request, 7)?;
//!     let ctx = ExecutionContext::new(frame, 7);
//!     let call = Call::from_request(&op.request)?;
//!     engine.validate(&ctx, &call, state)?;
//!     let fee = fees::fee_for(&engine.cost(&op.request)?, ctx.fee_multiplier)?;
//!     assert_eq!(fee, 0);
//!     fees::settle(state, &call.signer, call.nonce, fee)?;
//!     engine.apply(&ctx, &call, state)?;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! };
//! run(alice.join(&[[9; 32]], None), 10, &mut state)?;
//! assert!(run(alice.confirm(None), 11, &mut state).is_err(), "the window is not open yet");
//! run(alice.confirm(None), 370, &mut state)?;
//! let record = prover(&state, &alice.public_key())?.unwrap();
//! assert_eq!(record.filters[&[9; 32]].status, Status::Active);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod builders;
mod config;
mod engine;
mod error;
mod genesis;
mod op;
mod query;
mod record;
mod status;

pub use builders::ProverClient;
pub use config::{RegistryConfig, registry_config};
pub use engine::{GlobalEngine, PROTOCOL, PROTOCOL_VERSION};
pub use error::{GenesisError, GlobalError, Result};
pub use genesis::{GenesisProver, GlobalGenesis, genesis, genesis_view, write_genesis};
pub use op::{MAX_FILTERS_PER_OPERATION, POP_DOMAIN, frame_header_signing_bytes, pop_message};
pub use record::{
    Filter, FilterEntry, FilterState, MAX_FILTERS_PER_PROVER, ProverRecord, StatusEntry,
    config_address, filter_index, filter_index_address, prover, prover_address, status_index,
    status_index_address,
};
pub use status::{
    Next, Operation, Rejection, Status, effective, touched_indexes, transition, window_end,
};
pub use switchyard_router::SignedRequest;

pub(crate) use engine::ENGINE_NAME;
