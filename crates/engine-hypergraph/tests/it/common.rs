//! A tiny chain for tests: native-token genesis, then the manager's pipeline for each signed
//! operation (decode, authenticate, validate, access, cost, fee settlement, apply on an
//! access-checking view, rollback of a failed apply but not of its fee).

use switchyard_hypergraph::{
    HypergraphClient, HypergraphEngine, HypergraphError, HypergraphInfo, HypergraphSpec,
    SignedRequest,
};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::MessageRequest;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::native_account;
use switchyard_router::fees::{self, AccountRecord};
use switchyard_router::{Address, Call, Domain, ExecutionContext, Key, MemoryView};
use switchyard_testkit::{Outcome, Pipeline};
use switchyard_token::{NativeGenesis, write_genesis};

pub const NET: u32 = 7;

/// A client for test signer `n` (key bytes `[n; 32]`), next nonce 1.
pub fn client(n: u8) -> HypergraphClient {
    HypergraphClient::new(SigningKey::from_bytes(&[n; 32]), NET, 1)
}

/// The access-checking view every engine harness uses.
pub use switchyard_testkit::Checked;

/// Where the pipeline stopped.
pub use switchyard_testkit::Failure;

pub struct Chain {
    pub state: MemoryView,
    pub engine: HypergraphEngine,
    pub frame: u64,
    /// The fee of the last operation that got through settlement.
    pub last_fee: u128,
    /// The output of the last successful apply.
    pub last_result: Vec<u8>,
}

impl Chain {
    /// A chain whose native token gives each of `signers` a large balance.
    pub fn new(signers: &[Key]) -> Self {
        let mut state = MemoryView::default();
        let genesis = NativeGenesis {
            balances: signers.iter().map(|k| (*k, 1_000_000_000_000)).collect(),
            ..Default::default()
        };
        write_genesis(&mut state, &genesis).unwrap();
        Self {
            state,
            engine: HypergraphEngine::new(),
            frame: 1,
            last_fee: 0,
            last_result: Vec::new(),
        }
    }

    pub fn ctx(&self) -> ExecutionContext {
        ExecutionContext::new(self.frame, NET)
    }

    /// Runs `op` through the whole pipeline.
    pub fn submit(&mut self, op: &SignedRequest) -> Result<(), Failure> {
        let request = MessageRequest::from_canonical_bytes(&op.to_bytes())
            .expect("the builders produce canonical bytes");
        let ctx = self.ctx();
        let outcome =
            Pipeline::new(&self.engine).submit(&ctx, &request, Some(op.target), &mut self.state);
        self.record(outcome)
    }

    /// Runs an authenticated call (validate, access, cost, settle, apply).
    pub fn run(&mut self, call: &Call<'_>) -> Result<(), Failure> {
        let ctx = self.ctx();
        let outcome = Pipeline::new(&self.engine).run(&ctx, call, &mut self.state);
        self.record(outcome)
    }

    /// Keeps the fee and the result of `outcome`.
    fn record(&mut self, outcome: Outcome) -> Result<(), Failure> {
        if let Some(fee) = outcome.fee {
            self.last_fee = fee;
        }
        self.last_result = outcome.result?;
        Ok(())
    }

    /// Sets `client`'s next nonce to its stored nonce + 1 (after operations refused before
    /// settlement, which consume no nonce).
    pub fn sync(&self, client: &mut HypergraphClient) {
        client.set_next_nonce(self.native(client.public_key()).nonce + 1);
    }

    pub fn native(&self, account: Key) -> AccountRecord {
        AccountRecord::load(&self.state, &native_account(account)).unwrap()
    }

    pub fn info(&self, graph: Domain) -> HypergraphInfo {
        switchyard_hypergraph::hypergraph_info(&self.state, &graph)
            .unwrap()
            .expect("hypergraph exists")
    }

    pub fn vertex(&self, at: Address) -> Option<Vec<u8>> {
        switchyard_hypergraph::vertex(&self.state, &at).unwrap()
    }

    pub fn hyperedge(&self, at: Address) -> Option<Vec<Address>> {
        switchyard_hypergraph::hyperedge(&self.state, &at).unwrap()
    }

    pub fn hyperedges_of(&self, vertex: Address) -> Vec<Address> {
        switchyard_hypergraph::hyperedges_of(&self.state, &vertex).unwrap()
    }

    /// Deploys a hypergraph of `owner` with `spec`, checking success; returns its domain.
    pub fn deploy(&mut self, owner: &mut HypergraphClient, spec: HypergraphSpec) -> Domain {
        let (graph, op) = owner.deploy(spec);
        self.submit(&op).unwrap();
        assert_eq!(self.last_result, graph.0.to_vec());
        graph
    }

    /// Deploys a hypergraph whose only writer is `owner`.
    pub fn deploy_own(&mut self, owner: &mut HypergraphClient) -> Domain {
        let spec = HypergraphSpec::new().writer(owner.public_key());
        self.deploy(owner, spec)
    }

    /// Adds vertex `key` to `graph` as `writer`, checking success; returns its address.
    pub fn add_vertex(
        &mut self,
        writer: &mut HypergraphClient,
        graph: Domain,
        key: Key,
        data: &[u8],
    ) -> Address {
        self.submit(&writer.vertex_add(graph, key, data.to_vec()))
            .unwrap();
        Address::new(graph, key)
    }

    /// `before` with only `signer`'s fee and nonce settled: what a rejected apply leaves.
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
            "a rejected apply leaves only its fee and nonce"
        );
    }
}

/// The hypergraph error of a rejection at `validate`.
#[track_caller]
pub fn at_validate(result: Result<(), Failure>) -> HypergraphError {
    match result {
        Err(Failure::Validate(error)) => error
            .downcast_ref::<HypergraphError>()
            .cloned()
            .unwrap_or_else(|| panic!("validate failed with a non-hypergraph error: {error}")),
        other => panic!("expected a validate rejection, got {other:?}"),
    }
}

/// The hypergraph error of a rejection at `apply`.
#[track_caller]
pub fn at_apply(result: Result<(), Failure>) -> HypergraphError {
    match result {
        Err(Failure::Apply(error)) => error
            .downcast_ref::<HypergraphError>()
            .cloned()
            .unwrap_or_else(|| panic!("apply failed with a non-hypergraph error: {error}")),
        other => panic!("expected an apply rejection, got {other:?}"),
    }
}

/// Submits `op`, expects a rejection at `validate`, and checks that nothing changed (no fee,
/// no nonce); `client`'s nonce is reset.
#[track_caller]
pub fn refused_at_validate(
    chain: &mut Chain,
    client: &mut HypergraphClient,
    op: &SignedRequest,
) -> HypergraphError {
    let before = chain.state.clone();
    let error = at_validate(chain.submit(op));
    assert_eq!(chain.state, before, "a validate rejection changes nothing");
    chain.sync(client);
    error
}

/// Submits `op`, expects a rejection at `apply`, and checks that only the fee and nonce
/// changed.
#[track_caller]
pub fn refused_at_apply(chain: &mut Chain, op: &SignedRequest) -> HypergraphError {
    let before = chain.state.clone();
    let error = at_apply(chain.submit(op));
    chain.assert_only_fee_charged(&before, op.signer);
    error
}
