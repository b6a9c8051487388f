//! Shared fixtures: signers, genesis, signed messages, and a configurable test engine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use switchyard_manager::{Manager, ManagerBuilder};
use switchyard_proto::v1::{
    Capability, CodeExecute, FrameReceipt, MessageBundle, MessageOutcome, MessageRequest,
    MessageStatus, ProverJoin, VertexAdd, message_request::Request,
};
use switchyard_proto::{CanonicalMessage, Signed};
use switchyard_router::auth::{SigningKey, sign};
use switchyard_router::domains::native_account;
use switchyard_router::fees::AccountRecord;
use switchyard_router::{
    AccessSet, Address, BigUint, Call, Domain, Engine, EngineError, ExecutionContext, Key, Output,
    StateRead, StateWrite,
};
use switchyard_state::ChangeSet;
use switchyard_token::{NativeGenesis, TokenClient, TokenEngine};

/// The network every test signs for.
pub(crate) const NET: u32 = 7;
/// What the test engines charge per operation, in units.
pub(crate) const TEST_COST: u64 = 100;
/// Native balance every test signer starts with.
pub(crate) const RICH: u128 = 1_000_000_000;

/// The signing key of test signer `n`.
pub(crate) fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// The account (public key) of test signer `n`.
pub(crate) fn account(n: u8) -> Key {
    key(n).verifying_key().to_bytes()
}

/// A token client for signer `n` whose next nonce is `nonce`.
pub(crate) fn client(n: u8, nonce: u64) -> TokenClient {
    TokenClient::new(key(n), NET, nonce)
}

/// An address in `domain` with every key byte `n`.
pub(crate) fn addr(domain: Domain, n: u8) -> Address {
    Address::new(domain, [n; 32])
}

/// Genesis changes: the native token with these balances, plus `extra` records.
pub(crate) fn genesis_changes(balances: &[(Key, u128)], extra: &[(Address, Vec<u8>)]) -> ChangeSet {
    let config = NativeGenesis {
        balances: balances.to_vec(),
        ..Default::default()
    };
    let mut changes: ChangeSet = switchyard_token::genesis(&config)
        .unwrap()
        .into_iter()
        .map(|(address, value)| (address, Some(value)))
        .collect();
    for (address, value) in extra {
        changes.put(*address, value.clone());
    }
    changes
}

/// Genesis with signers `1..=n` holding [`RICH`] each.
pub(crate) fn rich_genesis(signers: u8) -> ChangeSet {
    let balances: Vec<(Key, u128)> = (1..=signers).map(|n| (account(n), RICH)).collect();
    genesis_changes(&balances, &[])
}

/// Signs `op` as signer `n` for `target` with `nonce`, as a request.
pub(crate) fn signed<T: Signed + Into<MessageRequest>>(
    mut op: T,
    n: u8,
    target: Domain,
    nonce: u64,
) -> MessageRequest {
    sign(&mut op, &key(n), &target, nonce, NET);
    op.into()
}

/// The canonical bytes of a request.
pub(crate) fn bytes(request: &MessageRequest) -> Vec<u8> {
    request.to_canonical_bytes()
}

/// The canonical bytes of a bundle of `requests`, each re-signed for the bundle by its
/// signer (one of the test keys `key(n)`), as the bundle builders do.
pub(crate) fn bundle(requests: Vec<MessageRequest>) -> Vec<u8> {
    sign_for_bundle(MessageBundle {
        requests,
        timestamp: 0,
    })
    .to_canonical_bytes()
}

/// `bundle` with every request's signature replaced by one over the bundle (requests whose
/// signer is not a test key keep theirs).
pub(crate) fn sign_for_bundle(mut bundle: MessageBundle) -> MessageBundle {
    let digest = switchyard_router::auth::bundle_digest(&bundle);
    for (index, request) in bundle.requests.iter_mut().enumerate() {
        let Some(auth) = request.auth_mut() else {
            continue;
        };
        if let Some(signer) = (0..=u8::MAX)
            .map(key)
            .find(|k| k.verifying_key().to_bytes().as_slice() == auth.public_key.as_slice())
        {
            auth.signature = switchyard_router::auth::sign_in_bundle(&signer, NET, &digest, index)
                .to_bytes()
                .to_vec();
        }
    }
    bundle
}

/// A compute operation that declares exactly these reads and writes.
pub(crate) fn code_execute(reads: &[Address], writes: &[Address], input: &[u8]) -> CodeExecute {
    CodeExecute {
        code_id: vec![1; 32],
        function: "run".into(),
        input: input.to_vec(),
        read_keys: reads.iter().map(|a| a.to_bytes().to_vec()).collect(),
        write_keys: writes.iter().map(|a| a.to_bytes().to_vec()).collect(),
        fuel_limit: 10,
        ..Default::default()
    }
}

/// A hypergraph operation writing `data` at `(target, key)`; data `b"fail"` makes the test
/// engine reject it in `apply`.
pub(crate) fn vertex_add(key: Key, data: &[u8]) -> VertexAdd {
    VertexAdd {
        key: key.to_vec(),
        data: data.to_vec(),
        auth: None,
    }
}

/// A prover operation (global family).
pub(crate) fn prover_join() -> ProverJoin {
    ProverJoin {
        filters: vec![vec![3; 32]],
        proof_of_possession: vec![4; 48],
        delegate_address: vec![5; 32],
        auth: None,
    }
}

/// The native account record of `key` in `state`.
pub(crate) fn native(state: &dyn StateRead, key: &Key) -> AccountRecord {
    AccountRecord::load(state, &native_account(*key)).unwrap()
}

/// The fee the token engine charges for `request` at `multiplier`, computed without the manager.
pub(crate) fn token_fee(request: &MessageRequest, multiplier: u64) -> u128 {
    let cost = TokenEngine::new().cost(request).unwrap();
    u128::try_from(cost * BigUint::from(multiplier)).unwrap()
}

/// The status of a receipt outcome.
pub(crate) fn status(outcome: &MessageOutcome) -> MessageStatus {
    MessageStatus::try_from(outcome.status).unwrap()
}

/// The statuses of every outcome of a receipt.
pub(crate) fn statuses(receipt: &FrameReceipt) -> Vec<MessageStatus> {
    receipt.outcomes.iter().map(status).collect()
}

/// The fee of an outcome.
pub(crate) fn fee(outcome: &MessageOutcome) -> u128 {
    outcome.fee.map(u128::from).unwrap_or_default()
}

/// A builder with the token engine and the test network id.
pub(crate) fn token_builder() -> ManagerBuilder {
    Manager::builder()
        .engine(Arc::new(TokenEngine::new()))
        .network_id(NET)
}

/// Which calls an engine received.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    pub(crate) cost: AtomicUsize,
    pub(crate) validate: AtomicUsize,
    pub(crate) access: AtomicUsize,
    pub(crate) apply: AtomicUsize,
    pub(crate) start: AtomicUsize,
    pub(crate) stop: AtomicUsize,
}

impl Calls {
    /// Calls of the message methods (cost, validate, access, apply).
    pub(crate) fn messages(&self) -> usize {
        [&self.cost, &self.validate, &self.access, &self.apply]
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .sum()
    }
}

/// A latch a hung lifecycle hook waits on; opened by the test (or after a long bound).
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
}

impl Gate {
    /// Waits until opened, at most `bound`.
    pub(crate) fn wait(&self, bound: Duration) {
        let open = self.open.lock().unwrap();
        let _unused = self
            .changed
            .wait_timeout_while(open, bound, |open| !*open)
            .unwrap();
    }

    /// Releases every waiter.
    pub(crate) fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }
}

/// How the test engine's `apply` misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApplyFault {
    /// Never.
    None,
    /// Always `EngineError::Critical`.
    Critical,
    /// `EngineError::Temporary` for the first `n` calls.
    Temporary(usize),
}

/// Why the test engine refused an operation.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TestError {
    /// The vertex data asked for a failure.
    #[error("vertex data asks to fail")]
    AskedToFail,
    /// A key that is not 32 bytes, or an address that is not 64.
    #[error("bad key of {0} bytes")]
    BadKey(usize),
}

/// An engine with a configurable name, base domains, cost and faults. Handles every operation
/// generically: `CodeExecute` declares its `read_keys`/`write_keys` (64-byte addresses) and
/// writes `input` to every write key; `VertexAdd` writes `data` at `(target, key)`; every
/// other operation declares nothing and does nothing. Counts every call it receives.
#[derive(Debug)]
pub(crate) struct TestEngine {
    name: &'static str,
    domains: Vec<Domain>,
    cost: u64,
    fault: ApplyFault,
    start_fails: bool,
    hang_start: Option<Arc<Gate>>,
    hang_stop: Option<Arc<Gate>>,
    protocols: Vec<&'static str>,
    pub(crate) calls: Calls,
}

impl TestEngine {
    /// An engine `name` owning `domains`.
    pub(crate) fn new(name: &'static str, domains: &[Domain]) -> Self {
        Self {
            name,
            domains: domains.to_vec(),
            cost: TEST_COST,
            fault: ApplyFault::None,
            start_fails: false,
            hang_start: None,
            hang_stop: None,
            protocols: vec![name],
            calls: Calls::default(),
        }
    }

    pub(crate) fn fault(mut self, fault: ApplyFault) -> Self {
        self.fault = fault;
        self
    }

    pub(crate) fn failing_start(mut self) -> Self {
        self.start_fails = true;
        self
    }

    pub(crate) fn hanging_start(mut self, gate: Arc<Gate>) -> Self {
        self.hang_start = Some(gate);
        self
    }

    pub(crate) fn hanging_stop(mut self, gate: Arc<Gate>) -> Self {
        self.hang_stop = Some(gate);
        self
    }

    pub(crate) fn protocols(mut self, protocols: &[&'static str]) -> Self {
        self.protocols = protocols.to_vec();
        self
    }

    pub(crate) fn arc(self) -> Arc<Self> {
        Arc::new(self)
    }

    fn reject(&self, request: &MessageRequest, error: TestError) -> EngineError {
        EngineError::rejected(self.name, request.operation(), error)
    }

    fn address(&self, request: &MessageRequest, bytes: &[u8]) -> Result<Address, EngineError> {
        Address::from_slice(bytes).map_err(|_| self.reject(request, TestError::BadKey(bytes.len())))
    }

    fn key(&self, request: &MessageRequest, bytes: &[u8]) -> Result<Key, EngineError> {
        Key::try_from(bytes).map_err(|_| self.reject(request, TestError::BadKey(bytes.len())))
    }
}

impl Engine for TestEngine {
    fn name(&self) -> &'static str {
        self.name
    }

    fn base_domains(&self) -> Vec<Domain> {
        self.domains.clone()
    }

    fn capabilities(&self) -> Vec<Capability> {
        self.protocols
            .iter()
            .map(|protocol| Capability {
                protocol: (*protocol).to_owned(),
                version: 1,
                metadata: self.name.as_bytes().to_vec(),
            })
            .collect()
    }

    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
        self.calls.cost.fetch_add(1, Ordering::SeqCst);
        if request.request.is_none() {
            return Err(EngineError::Unsupported {
                engine: self.name,
                operation: request.operation(),
            });
        }
        Ok(BigUint::from(self.cost))
    }

    fn validate(
        &self,
        _ctx: &ExecutionContext,
        _call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<(), EngineError> {
        self.calls.validate.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn access(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError> {
        let (target, request) = (&call.target, call.request);
        self.calls.access.fetch_add(1, Ordering::SeqCst);
        let mut set = AccessSet::new();
        match &request.request {
            Some(Request::CodeExecute(op)) => {
                for read in &op.read_keys {
                    set.read(self.address(request, read)?);
                }
                for write in &op.write_keys {
                    set.write(self.address(request, write)?);
                }
            }
            Some(Request::VertexAdd(op)) => {
                set.write(Address::new(*target, self.key(request, &op.key)?));
            }
            _ => {}
        }
        Ok(set)
    }

    fn apply(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError> {
        let (target, request) = (&call.target, call.request);
        let call = self.calls.apply.fetch_add(1, Ordering::SeqCst) + 1;
        match self.fault {
            ApplyFault::Critical => {
                return Err(EngineError::Critical {
                    engine: self.name,
                    reason: "invariant broken".into(),
                });
            }
            ApplyFault::Temporary(n) if call <= n => {
                return Err(EngineError::Temporary {
                    engine: self.name,
                    reason: format!("busy on attempt {call}"),
                });
            }
            _ => {}
        }
        match &request.request {
            Some(Request::CodeExecute(op)) => {
                for read in &op.read_keys {
                    state.get(&self.address(request, read)?)?;
                }
                for write in &op.write_keys {
                    state.put(self.address(request, write)?, op.input.clone())?;
                }
                // An execution asked to echo returns its input as its result.
                if let Some(echo) = op.input.strip_prefix(b"echo:") {
                    return Ok(Output::result(echo));
                }
            }
            Some(Request::VertexAdd(op)) => {
                if op.data == b"fail" {
                    return Err(self.reject(request, TestError::AskedToFail));
                }
                state.put(
                    Address::new(*target, self.key(request, &op.key)?),
                    op.data.clone(),
                )?;
            }
            _ => {}
        }
        Ok(Output::none())
    }

    fn start(&self) -> Result<(), EngineError> {
        self.calls.start.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.hang_start {
            gate.wait(Duration::from_secs(30));
        }
        if self.start_fails {
            return Err(EngineError::Critical {
                engine: self.name,
                reason: "no device".into(),
            });
        }
        Ok(())
    }

    fn stop(&self, _force: bool) -> Result<(), EngineError> {
        self.calls.stop.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.hang_stop {
            gate.wait(Duration::from_secs(30));
        }
        Ok(())
    }
}

/// The three test engines owning the non-token base domains.
#[derive(Debug)]
pub(crate) struct TestEngines {
    pub(crate) global: Arc<TestEngine>,
    pub(crate) compute: Arc<TestEngine>,
    pub(crate) hypergraph: Arc<TestEngine>,
}

impl TestEngines {
    pub(crate) fn new() -> Self {
        use switchyard_router::domains::{COMPUTE, GLOBAL, HYPERGRAPH};
        Self {
            global: TestEngine::new("global", &[GLOBAL]).arc(),
            compute: TestEngine::new("compute", &[COMPUTE]).arc(),
            hypergraph: TestEngine::new("hypergraph", &[HYPERGRAPH]).arc(),
        }
    }

    /// Registers them (after the token engine) on `builder`.
    pub(crate) fn register(&self, builder: ManagerBuilder) -> ManagerBuilder {
        builder
            .engine(self.global.clone())
            .engine(self.compute.clone())
            .engine(self.hypergraph.clone())
    }

    /// Message calls received by all three.
    pub(crate) fn message_calls(&self) -> usize {
        self.global.calls.messages()
            + self.compute.calls.messages()
            + self.hypergraph.calls.messages()
    }
}

/// Every engine: token plus the three test engines, on `threads` workers.
pub(crate) fn full_manager(engines: &TestEngines, threads: usize) -> Manager {
    engines
        .register(token_builder())
        .threads(threads)
        .build()
        .unwrap()
}
