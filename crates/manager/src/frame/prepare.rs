//! Phase 1, **prepare** (also the first step of every byte-level entry point): decode each
//! message strictly, route and price its requests, and compute its access set (and, in a
//! frame, its footprint in the dependency graph).

use rayon::prelude::*;
use switchyard_proto::v1::{MessageRequest, MessageStatus};
use switchyard_proto::{Limits, decode_any_with};
use switchyard_router::auth::{Binding, SignatureCheck};
use switchyard_router::domains::native_account;
use switchyard_router::fees::fee_for;
use switchyard_router::{
    AccessSet, Call, Domain, Engine, ExecutionContext, Key, RouteTable, StateRead,
};
use switchyard_state::Overlay;

use super::executor::FrameExecutor;
use super::messages::{FrameMessages, Slot};
use super::run::FrameRun;
use super::schedule::Footprint;
use crate::{ManagerError, Result};

impl FrameExecutor {
    /// Phase 1 for every message of the frame: decode strictly, route, price, and compute the
    /// access set, with the message's footprint in the dependency graph (taken while its
    /// access set is in cache; none for a refused message or in the serial reference).
    pub(crate) fn prepare_phase<'r>(&'r self, run: &FrameRun<'_>) -> FrameMessages<'r> {
        let env = PrepareEnv {
            routes: &self.routes,
            ctx: &run.ctx,
        };
        let uses_graph = run.mode.uses_graph();
        let prepare = |(target, bytes): &(Vec<u8>, Vec<u8>)| -> (Slot<'r>, Option<Footprint>) {
            let slot = parse_target(target)
                .and_then(|target| {
                    let requests = decode_requests(bytes, &self.limits)?;
                    route_message(env, &target, requests, run.committed)
                })
                .map_err(Refused::new);
            let footprint = match (&slot, uses_graph) {
                (Ok(prepared), true) => Some(Footprint::of(&prepared.access)),
                _ => None,
            };
            (slot, footprint)
        };
        let (slots, footprints) = match run.mode.on_workers() {
            true => run.frame.messages.par_iter().map(prepare).unzip(),
            false => run.frame.messages.iter().map(prepare).unzip(),
        };
        FrameMessages::prepared(slots, footprints)
    }
}

/// One request, routed and priced.
#[derive(Debug, Clone)]
pub(crate) struct Routed<'r> {
    /// The request.
    pub(crate) request: MessageRequest,
    /// The domain it is sent to (its signed target).
    pub(crate) target: Domain,
    /// The engine that handles it, borrowed from the route table: the workers of a frame
    /// would otherwise all count references on the same few `Arc`s, one shared cache line.
    pub(crate) engine: &'r dyn Engine,
    /// Its fee: cost x fee multiplier.
    pub(crate) fee: u128,
    /// The signer's key.
    pub(crate) signer: Key,
    /// The nonce it carries.
    pub(crate) nonce: u64,
}

/// A message ready to schedule: its requests (one, or a bundle's) and the union of their
/// access sets (signers' native accounts included).
#[derive(Debug, Clone)]
pub(crate) struct Prepared<'r> {
    pub(crate) requests: Vec<Routed<'r>>,
    pub(crate) access: AccessSet,
    pub(crate) cost: u64,
    /// The bundle's digest, which every request's signature commits to; `None` for a
    /// request sent alone.
    pub(crate) bundle: Option<[u8; 32]>,
}

/// A message's requests as decoded: one sent alone, or a bundle's with its digest.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) requests: Vec<MessageRequest>,
    pub(crate) bundle: Option<[u8; 32]>,
}

impl Routed<'_> {
    /// The request as its engine sees it.
    pub(crate) fn call(&self) -> Call<'_> {
        Call {
            request: &self.request,
            target: self.target,
            signer: self.signer,
            nonce: self.nonce,
        }
    }
}

impl Prepared<'_> {
    /// The name of the engine of the first request, for metrics labels.
    pub(crate) fn engine_name(&self) -> &'static str {
        self.requests.first().map_or("none", |r| r.engine.name())
    }
}

/// A message refused before execution: no effect at all.
#[derive(Debug)]
pub(crate) struct Refused {
    /// `Malformed` (not canonical) or `Rejected` (everything else).
    pub(crate) status: MessageStatus,
    /// Why: boxed, so that a frame's slots (mostly prepared messages) stay small to move.
    pub(crate) error: Box<ManagerError>,
}

impl Refused {
    pub(crate) fn new(error: ManagerError) -> Self {
        Self {
            status: error.status(),
            error: Box::new(error),
        }
    }
}

/// Decodes a message strictly into its requests: a request or a bare operation gives one, a
/// bundle gives its requests (at least one) and its digest. Anything else is an error.
pub(crate) fn decode_requests(bytes: &[u8], limits: &Limits) -> Result<Decoded> {
    match decode_any_with(bytes, limits)? {
        switchyard_proto::AnyMessage::MessageBundle(bundle) => {
            if bundle.requests.is_empty() {
                return Err(ManagerError::NotAnOperation("empty bundle".into()));
            }
            let digest = switchyard_router::auth::bundle_digest(&bundle);
            Ok(Decoded {
                requests: bundle.requests,
                bundle: Some(digest),
            })
        }
        other => {
            let tag = other.tag();
            let request = other
                .into_request()
                .ok_or_else(|| ManagerError::NotAnOperation(format!("message with tag {tag}")))?;
            if request.request.is_none() {
                return Err(ManagerError::NotAnOperation("empty request".into()));
            }
            Ok(Decoded {
                requests: vec![request],
                bundle: None,
            })
        }
    }
}

/// Reads a target given as a 32-byte domain or a 64-byte address.
pub(crate) fn parse_target(bytes: &[u8]) -> Result<Domain> {
    if bytes.len() == 64 {
        return switchyard_router::Address::from_slice(bytes)
            .map(|a| a.domain)
            .map_err(ManagerError::BadTarget);
    }
    Domain::from_slice(bytes).map_err(ManagerError::BadTarget)
}

/// The signer key, nonce and signed target of a request (not yet authenticated).
pub(crate) fn signer_of(request: &MessageRequest) -> Result<(Key, u64, Domain)> {
    if request.request.is_none() {
        return Err(ManagerError::NotAnOperation("empty request".into()));
    }
    let call = Call::from_request(request)?;
    Ok((call.signer, call.nonce, call.target))
}

/// Everything `prepare` needs from the manager.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PrepareEnv<'a, 'r> {
    pub(crate) routes: &'r RouteTable,
    pub(crate) ctx: &'a ExecutionContext,
}

/// Routes, prices and computes the access set of every request of a message (targets taken
/// from each request's signed target; the message target must be the first request's).
///
/// Requests of a bundle that target an instance deployed earlier in the same bundle resolve
/// against a scratch overlay on which the earlier requests were applied; the result depends
/// only on committed state and the bundle, so every thread count computes the same sets.
pub(crate) fn route_message<'r>(
    env: PrepareEnv<'_, 'r>,
    message_target: &Domain,
    decoded: Decoded,
    committed: &dyn StateRead,
) -> Result<Prepared<'r>> {
    let Decoded { requests, bundle } = decoded;
    let mut routed: Vec<Routed<'r>> = Vec::with_capacity(requests.len());
    let mut access = AccessSet::new();
    let mut scratch: Option<Overlay<'_>> = None;
    let mut total_cost: u64 = 0;
    for (position, request) in requests.into_iter().enumerate() {
        let (signer, nonce, target) = signer_of(&request)?;
        if position == 0 && target != *message_target {
            return Err(ManagerError::TargetMismatch {
                message: *message_target,
                signed: target,
            });
        }
        let engine: &'r dyn Engine = match env.routes.resolve(&target, committed) {
            Ok(engine) => engine.as_ref(),
            Err(first_error) => {
                // Maybe an earlier request of this bundle deploys it: replay them on a scratch overlay.
                if position == 0 {
                    return Err(first_error.into());
                }
                let overlay = scratch.get_or_insert_with(|| {
                    let mut overlay = Overlay::new(committed);
                    for earlier in &routed {
                        replay(env.ctx, earlier, &mut overlay);
                    }
                    overlay
                });
                env.routes.resolve(&target, &*overlay)?.as_ref()
            }
        };
        let view: &dyn StateRead = match scratch.as_ref() {
            Some(overlay) => overlay,
            None => committed,
        };
        let cost = engine.cost(&request)?;
        let fee = fee_for(&cost, env.ctx.fee_multiplier)?;
        let cost = u64::try_from(&cost).map_err(|_| ManagerError::CostOverflow {
            cost: cost.to_string(),
        })?;
        total_cost = total_cost
            .checked_add(cost)
            .ok_or(ManagerError::CostOverflow {
                cost: "bundle total".into(),
            })?;
        let entry = Routed {
            request,
            target,
            engine,
            fee,
            signer,
            nonce,
        };
        let mut request_access = engine.access(env.ctx, &entry.call(), view)?;
        request_access.write(native_account(signer));
        if access.is_empty() {
            access = request_access;
        } else {
            access.extend(&request_access);
        }
        if let Some(overlay) = scratch.as_mut() {
            replay(env.ctx, &entry, overlay);
        }
        routed.push(entry);
    }
    Ok(Prepared {
        requests: routed,
        access,
        cost: total_cost,
        bundle,
    })
}

/// Applies a request to a scratch overlay, ignoring failures: only its writes matter, for
/// routing later requests of the same bundle. Fees and nonces are not settled here: the scratch
/// sits on committed state, which does not know the signer's earlier messages in the frame.
fn replay(ctx: &ExecutionContext, routed: &Routed<'_>, overlay: &mut Overlay<'_>) {
    let _ = routed.engine.apply(ctx, &routed.call(), overlay);
}

/// The signature checks of a prepared message's requests, each bound the way the message
/// says: alone, or to its bundle.
pub(crate) fn signature_checks(
    prepared: &Prepared<'_>,
    network_id: u32,
) -> Result<Vec<SignatureCheck>> {
    prepared
        .requests
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let binding = match prepared.bundle {
                None => Binding::Alone,
                Some(digest) => Binding::InBundle { digest, index },
            };
            SignatureCheck::bound(&r.request, network_id, binding).map_err(ManagerError::from)
        })
        .collect()
}

/// Runs every engine's `validate` for a prepared message (its signatures already verified).
pub(crate) fn validate(
    ctx: &ExecutionContext,
    prepared: &Prepared<'_>,
    committed: &dyn StateRead,
) -> Result<()> {
    for routed in &prepared.requests {
        routed.engine.validate(ctx, &routed.call(), committed)?;
    }
    Ok(())
}
