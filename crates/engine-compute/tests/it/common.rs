//! A tiny chain for tests: genesis, then the manager's pipeline for each signed operation
//! (decode, validate, access, cost, fee settlement, apply on an access-checking view, rollback
//! of a failed apply but not of its fee).

use std::sync::Arc;

use prost::Message;
use switchyard_compute::{
    AppSpec, ComputeClient, ComputeEngine, ComputeError, ExecuteSpec, ExecutionResult,
    SignedRequest, examples,
};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::MessageRequest;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::native_account;
use switchyard_router::fees::{self, AccountRecord};
use switchyard_router::{Domain, EngineError, ExecutionContext, Key, MemoryView};
use switchyard_testkit::Pipeline;
use switchyard_token::{NativeGenesis, write_genesis};

pub const NET: u32 = 7;
pub const RICH: u128 = 1_000_000_000_000;

/// A client for test signer `n` (key bytes `[n; 32]`), next nonce 1.
pub fn client(n: u8) -> ComputeClient {
    ComputeClient::new(SigningKey::from_bytes(&[n; 32]), NET, 1)
}

/// The access-checking view every engine harness uses.
pub use switchyard_testkit::Checked;

/// Where the pipeline stopped.
pub use switchyard_testkit::Failure;

pub struct Chain {
    pub state: MemoryView,
    pub engine: Arc<ComputeEngine>,
    pub frame: u64,
    /// The fee of the last operation that got through settlement.
    pub last_fee: u128,
}

impl Chain {
    /// A chain where signers `1..=signers` hold [`RICH`], at frame 1, with the default engine.
    pub fn new(signers: u8) -> Self {
        Self::with_engine(signers, ComputeEngine::new())
    }

    pub fn with_engine(signers: u8, engine: ComputeEngine) -> Self {
        let mut state = MemoryView::default();
        let genesis = NativeGenesis {
            balances: (1..=signers)
                .map(|n| (client(n).public_key(), RICH))
                .collect(),
            ..Default::default()
        };
        write_genesis(&mut state, &genesis).unwrap();
        Self {
            state,
            engine: Arc::new(engine),
            frame: 1,
            last_fee: 0,
        }
    }

    pub fn ctx(&self) -> ExecutionContext {
        ExecutionContext::new(self.frame, NET)
    }

    /// Runs `op` through the whole pipeline; returns the apply's result bytes.
    pub fn submit(&mut self, op: &SignedRequest) -> Result<Vec<u8>, Failure> {
        let request = MessageRequest::from_canonical_bytes(&op.to_bytes()).unwrap();
        let ctx = self.ctx();
        let outcome =
            Pipeline::new(&*self.engine).submit(&ctx, &request, Some(op.target), &mut self.state);
        if let Some(fee) = outcome.fee {
            self.last_fee = fee;
        }
        outcome.result
    }

    /// Moves to the next frame.
    pub fn next_frame(&mut self) {
        self.frame += 1;
    }

    pub fn native(&self, account: Key) -> AccountRecord {
        AccountRecord::load(&self.state, &native_account(account)).unwrap()
    }

    pub fn value(&self, app: Domain, key: Key) -> Option<Vec<u8>> {
        switchyard_compute::app_value(&self.state, &app, &key).unwrap()
    }

    /// Deploys an app with `client` (the engine's default ceiling).
    pub fn deploy_app(&mut self, client: &mut ComputeClient) -> Domain {
        let (app, op) = client.deploy(AppSpec::new("app"));
        assert_eq!(self.submit(&op).unwrap(), app.0.to_vec());
        app
    }

    /// Deploys `wasm` into `app` with `client`; returns the code id.
    pub fn deploy_code(&mut self, client: &mut ComputeClient, app: Domain, wasm: Vec<u8>) -> Key {
        let (id, op) = client.deploy_code(app, wasm);
        assert_eq!(self.submit(&op).unwrap(), id.to_vec());
        id
    }

    /// An app holding the counter and the key-value modules, deployed by signer 1.
    pub fn with_examples() -> (Self, ComputeClient, Domain, Key, Key) {
        let mut chain = Chain::new(4);
        let mut alice = client(1);
        let app = chain.deploy_app(&mut alice);
        let counter = chain.deploy_code(&mut alice, app, examples::counter_module());
        let kv = chain.deploy_code(&mut alice, app, examples::kv_module());
        (chain, alice, app, counter, kv)
    }

    /// Runs `spec` in `app` with `client`; returns its decoded result.
    pub fn execute(
        &mut self,
        client: &mut ComputeClient,
        app: Domain,
        spec: ExecuteSpec,
    ) -> Result<ExecutionResult, Failure> {
        let op = client.execute(app, spec);
        self.submit(&op)
            .map(|bytes| ExecutionResult::decode(bytes.as_slice()).unwrap())
    }

    /// `before` with only `signer`'s fee and nonce settled: what a failed apply leaves.
    pub fn assert_only_fee_charged(&self, before: &MemoryView, signer: Key) {
        let mut expected = before.clone();
        fees::settle(
            &mut expected,
            &signer,
            self.native(signer).nonce,
            self.last_fee,
        )
        .unwrap();
        assert_eq!(
            self.state, expected,
            "a failed apply leaves only its fee and nonce"
        );
    }
}

/// The compute error of a failure at `stage`.
#[track_caller]
fn compute_error(error: &EngineError) -> ComputeError {
    error
        .downcast_ref::<ComputeError>()
        .cloned()
        .unwrap_or_else(|| panic!("not a compute error: {error}"))
}

/// The compute error of a rejection at `validate`.
#[track_caller]
pub fn at_validate<T: std::fmt::Debug>(result: Result<T, Failure>) -> ComputeError {
    match result {
        Err(Failure::Validate(error)) => compute_error(&error),
        other => panic!("expected a validate rejection, got {other:?}"),
    }
}

/// The compute error of a failure at `apply`.
#[track_caller]
pub fn at_apply<T: std::fmt::Debug>(result: Result<T, Failure>) -> ComputeError {
    match result {
        Err(Failure::Apply(error)) => compute_error(&error),
        other => panic!("expected an apply failure, got {other:?}"),
    }
}

/// A check of an expected error, for tables of cases.
pub type Check = Box<dyn Fn(&ComputeError) -> bool>;

/// A module from WAT.
pub fn wasm(source: &str) -> Vec<u8> {
    wat::parse_str(source).unwrap()
}

/// A counter value as stored.
pub fn count(n: u64) -> Vec<u8> {
    n.to_le_bytes().to_vec()
}
