//! The manager's steps for one signed request, for engines' own unit tests: authenticate,
//! `validate`, `access`, `cost`, the fee, then on an overlay seen through [`Checked`]: fee
//! settlement and `apply`, with the access-set checks of DESIGN §4. The overlay is kept when
//! `apply` succeeds; when it fails only the settled fee and nonce are.

use std::collections::BTreeSet;

use switchyard_proto::v1::MessageRequest;
use switchyard_router::auth::{AuthError, verify_request};
use switchyard_router::fees::{self, FeeError};
use switchyard_router::{
    AccessSet, Address, BigUint, Call, Domain, Engine, EngineError, ExecutionContext,
    MAX_RESULT_BYTES, MemoryView, StateError,
};

use crate::Checked;

/// Where [`Pipeline`] stopped a request (shown through `Debug` when a test fails).
#[derive(Debug)]
pub enum Failure {
    /// The request's auth block or signature, checked before any engine sees it.
    Auth(AuthError),
    /// The engine's `validate` refused it: no effect, no fee.
    Validate(EngineError),
    /// The engine could not declare its access set.
    Access(EngineError),
    /// The engine could not price it.
    Cost(EngineError),
    /// The fee could not be computed or settled (bad nonce, unpayable): no effect.
    Settle(FeeError),
    /// `apply` failed: its effects rolled back, its fee and nonce kept.
    Apply(EngineError),
}

/// What [`Pipeline`] did with one request.
#[derive(Debug)]
#[must_use]
pub struct Outcome {
    /// The fee settled: `Some` once settlement succeeded, whether or not `apply` then did.
    pub fee: Option<u128>,
    /// The result bytes of a successful `apply`, or where the pipeline stopped.
    pub result: Result<Vec<u8>, Failure>,
}

/// The manager's steps for one request against `engine`, on a [`MemoryView`].
///
/// Always checked: `apply` touches nothing outside its access set and never fails by leaving
/// it, and a successful result is at most [`MAX_RESULT_BYTES`]. The options add the rest.
#[derive(Debug, Clone, Copy)]
pub struct Pipeline<'e, E: ?Sized> {
    engine: &'e E,
    validate: bool,
    exact_access: bool,
    free: bool,
}

impl<'e, E: Engine + ?Sized> Pipeline<'e, E> {
    /// The steps for `engine`: signature check and `validate` on, a successful `apply` must
    /// touch exactly its declared access set, any cost allowed.
    pub fn new(engine: &'e E) -> Self {
        Self {
            engine,
            validate: true,
            exact_access: true,
            free: false,
        }
    }

    /// Whether to check the signature ([`Pipeline::submit`]) and run the engine's
    /// `validate`; off reaches `access` and `apply` with what they would refuse.
    pub fn validate(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// Whether a successful `apply` must touch exactly its declared access set (not only
    /// stay within it).
    pub fn exact_access(mut self, on: bool) -> Self {
        self.exact_access = on;
        self
    }

    /// Whether to assert that the engine prices every request at 0.
    pub fn free(mut self, on: bool) -> Self {
        self.free = on;
        self
    }

    /// Authenticates `request` (auth block, then signature on `ctx.network_id`), asserting
    /// that it is signed for `target` when given, then runs it as [`Pipeline::run`] does.
    pub fn submit(
        &self,
        ctx: &ExecutionContext,
        request: &MessageRequest,
        target: Option<Domain>,
        state: &mut MemoryView,
    ) -> Outcome {
        let call = match Call::from_request(request) {
            Ok(call) => call,
            Err(error) => return refused(Failure::Auth(error)),
        };
        if let Some(target) = target {
            assert_eq!(
                call.target, target,
                "the builders sign the target they send to"
            );
        }
        if self.validate
            && let Err(error) = verify_request(request, ctx.network_id)
        {
            return refused(Failure::Auth(error));
        }
        self.run(ctx, &call, state)
    }

    /// Runs an authenticated `call`: `validate` (when on), `access`, `cost`, the fee, then on
    /// an overlay of `state` seen through [`Checked`] fee settlement and `apply`. `state`
    /// becomes the overlay when `apply` succeeds, the settled state when it fails, and is
    /// untouched when the request stops earlier.
    pub fn run(&self, ctx: &ExecutionContext, call: &Call<'_>, state: &mut MemoryView) -> Outcome {
        let (access, fee) = match self.prepare(ctx, call, state) {
            Ok(prepared) => prepared,
            Err(failure) => return refused(failure),
        };
        let mut overlay = state.clone();
        let mut checked = Checked::new(&mut overlay, &access);
        if let Err(error) = fees::settle(&mut checked, &call.signer, call.nonce, fee) {
            return refused(Failure::Settle(error));
        }
        let settled = checked.inner.clone();
        let applied = self.engine.apply(ctx, call, &mut checked);
        let touched = checked.touched.into_inner();
        for address in &touched {
            assert!(
                access.may_read(address),
                "touched {address:?} outside the access set"
            );
        }
        let result = match applied {
            Ok(output) => {
                if self.exact_access {
                    let declared: BTreeSet<Address> = access.addresses().copied().collect();
                    assert_eq!(
                        touched, declared,
                        "a successful apply touches exactly its access set"
                    );
                }
                assert!(
                    output.result.len() <= MAX_RESULT_BYTES,
                    "a result of {} bytes, over MAX_RESULT_BYTES",
                    output.result.len()
                );
                *state = overlay;
                Ok(output.result)
            }
            Err(error) => {
                assert!(
                    !matches!(
                        error,
                        EngineError::State(StateError::AccessViolation { .. })
                    ),
                    "apply left its access set: {error}"
                );
                *state = settled;
                Err(Failure::Apply(error))
            }
        };
        Outcome {
            fee: Some(fee),
            result,
        }
    }

    /// `validate` (when on), `access`, `cost` and the fee: what comes before settlement.
    fn prepare(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &MemoryView,
    ) -> Result<(AccessSet, u128), Failure> {
        if self.validate {
            self.engine
                .validate(ctx, call, state)
                .map_err(Failure::Validate)?;
        }
        let access = self
            .engine
            .access(ctx, call, state)
            .map_err(Failure::Access)?;
        let cost = self.engine.cost(call.request).map_err(Failure::Cost)?;
        if self.free {
            assert_eq!(
                cost,
                BigUint::ZERO,
                "{} operations are free",
                self.engine.name()
            );
        }
        let fee = fees::fee_for(&cost, ctx.fee_multiplier).map_err(Failure::Settle)?;
        Ok((access, fee))
    }
}

/// A request stopped before settlement: no fee, no effect.
fn refused(failure: Failure) -> Outcome {
    Outcome {
        fee: None,
        result: Err(failure),
    }
}
