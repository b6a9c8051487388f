//! The conformance kit: what every engine must guarantee, checked through a real manager.
//!
//! Given the engines to register (the engine under test, plus the token engine whose native
//! token pays fees), a genesis, frames of that engine's operations and a few queries,
//! [`Conformance::run`] checks, in this order:
//!
//! 1. **Determinism**: the frames give the same receipts and state roots in the serial
//!    reference and on 1, 2 and 4 worker threads, each run on its own memory store.
//! 2. **Access-set discipline**: on those (valid) frames, no engine's `apply` ever meets the
//!    state view's refusal of an undeclared address (every engine is wrapped in a watcher
//!    that records such refusals).
//! 3. **No effect on refusal**: replayed one message at a time through `process_message`, a
//!    refused message writes nothing, and a failed one writes nothing but its signers'
//!    native accounts (fee and nonce).
//! 4. **No panics**: `cost`, `validate_message`, `lock`, `process_message` and `query` never
//!    panic on mutated copies of the messages and queries (bit flips, truncations,
//!    insertions, foreign tags, random targets), and property 3 holds for the mutations too.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use switchyard_manager::{Frame, Manager};
use switchyard_proto::v1::{MessageRequest, MessageStatus};
use switchyard_proto::{AnyMessage, CanonicalMessage, decode_any};
use switchyard_router::domains::native_account;
use switchyard_router::{
    AccessSet, Address, BigUint, Call, Domain, Engine, EngineError, ExecutionContext, Output,
    StateError, StateRead, StateWrite,
};
use switchyard_state::{ChangeSet, MemoryStore, Overlay, Store};

use crate::rng::SplitMix64;
use crate::{Result, TestkitError};

/// Worker-thread counts the determinism check runs the frames on, besides the serial reference.
const THREADS: [usize; 3] = [1, 2, 4];

/// A conformance run: engines, genesis, frames and queries. Build it, then [`Conformance::run`].
///
/// ```
/// use std::sync::Arc;
/// use switchyard_testkit::Conformance;
/// use switchyard_testkit::workload::{MixedParams, NETWORK_ID, mixed};
/// use switchyard_token::TokenEngine;
///
/// let workload = mixed(MixedParams { seed: 1, accounts: 4, messages: 20, frame_size: 10, adversarial: false });
/// let report = Conformance::new(NETWORK_ID)
///     .engine(Arc::new(TokenEngine::new()))
///     .genesis(workload.genesis_changes()?)
///     .frames(workload.frames)
///     .mutations_per_message(2)
///     .run()?;
/// assert!(report.applied > 0);
/// # Ok::<(), switchyard_testkit::TestkitError>(())
/// ```
#[derive(Debug)]
pub struct Conformance {
    engines: Vec<Arc<dyn Engine>>,
    network_id: u32,
    genesis: ChangeSet,
    frames: Vec<Frame>,
    queries: Vec<(Vec<u8>, Vec<u8>)>,
    mutations_per_message: usize,
    seed: u64,
}

/// What a passing run checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Frames executed (per run).
    pub frames: usize,
    /// Messages in them.
    pub messages: usize,
    /// Outcomes applied, failed, rejected and malformed (of the serial run).
    pub applied: usize,
    /// See `applied`.
    pub failed: usize,
    /// See `applied`.
    pub rejected: usize,
    /// See `applied`.
    pub malformed: usize,
    /// Mutated inputs fed to every entry point.
    pub mutations: usize,
    /// Queries answered (unmutated).
    pub queries_answered: usize,
}

impl Conformance {
    /// An empty run on `network_id`.
    pub fn new(network_id: u32) -> Self {
        Self {
            engines: Vec::new(),
            network_id,
            genesis: ChangeSet::default(),
            frames: Vec::new(),
            queries: Vec::new(),
            mutations_per_message: 8,
            seed: 0x5EED,
        }
    }

    /// Registers an engine (in order; register the token engine for fees and nonces).
    #[must_use]
    pub fn engine(mut self, engine: Arc<dyn Engine>) -> Self {
        self.engines.push(engine);
        self
    }

    /// The genesis state, committed as frame 0. Default: empty.
    #[must_use]
    pub fn genesis(mut self, changes: ChangeSet) -> Self {
        self.genesis = changes;
        self
    }

    /// The frames to run, numbered from 1.
    #[must_use]
    pub fn frames(mut self, frames: impl IntoIterator<Item = Frame>) -> Self {
        self.frames.extend(frames);
        self
    }

    /// A query (target, canonical query bytes) to answer after the frames, and to mutate.
    #[must_use]
    pub fn query(mut self, target: impl Into<Vec<u8>>, query: impl Into<Vec<u8>>) -> Self {
        self.queries.push((target.into(), query.into()));
        self
    }

    /// Mutated copies made of each message and query. Default 8.
    #[must_use]
    pub fn mutations_per_message(mut self, mutations: usize) -> Self {
        self.mutations_per_message = mutations;
        self
    }

    /// Seed of the mutations. Default fixed, so a run is repeatable.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Runs every check; the first violation is the error.
    pub fn run(self) -> Result<Report> {
        let violations = Arc::new(Mutex::new(Vec::new()));
        let mut report = self.check_determinism(&violations)?;
        if let Some((engine, detail)) = lock(&violations).first().cloned() {
            return Err(TestkitError::AccessViolation { engine, detail });
        }
        if report.applied == 0 {
            return Err(TestkitError::NothingApplied {
                messages: report.messages,
            });
        }
        self.check_refusals_have_no_effect()?;
        report.mutations = self.check_no_panics()?;
        report.queries_answered = self.answer_queries()?;
        Ok(report)
    }

    /// A manager with every engine (watched) on a fresh memory store, genesis committed.
    fn manager(&self, threads: usize, violations: &Violations) -> Result<Manager> {
        let mut builder = Manager::builder()
            .network_id(self.network_id)
            .threads(threads)
            .store(Arc::new(MemoryStore::new()));
        for engine in &self.engines {
            builder = builder.engine(Arc::new(Watched {
                inner: Arc::clone(engine),
                violations: Arc::clone(violations),
            }));
        }
        let manager = builder.build()?;
        manager.genesis(0, &self.genesis)?;
        Ok(manager)
    }

    /// Check 1 (and the data for check 2): every run gives the serial run's receipts and heads.
    fn check_determinism(&self, violations: &Violations) -> Result<Report> {
        let serial = self.manager(1, violations)?;
        let runs: Vec<(usize, Manager)> = THREADS
            .iter()
            .map(|&threads| Ok((threads, self.manager(threads, violations)?)))
            .collect::<Result<_>>()?;
        let mut report = Report {
            frames: self.frames.len(),
            ..Report::default()
        };
        for frame in &self.frames {
            let expected = serial.execute_frame_serial(frame)?;
            report.messages += frame.messages.len();
            for outcome in &expected.receipt.outcomes {
                match outcome.status() {
                    MessageStatus::Applied => report.applied += 1,
                    MessageStatus::Failed => report.failed += 1,
                    MessageStatus::Rejected => report.rejected += 1,
                    _ => report.malformed += 1,
                }
            }
            for (threads, manager) in &runs {
                let got = manager.execute_frame(frame)?;
                let differ = |detail: String| TestkitError::Nondeterministic {
                    frame: frame.number,
                    reference: "serial".into(),
                    run: format!("{threads} threads"),
                    detail,
                };
                for (want, have) in expected.receipt.outcomes.iter().zip(&got.receipt.outcomes) {
                    if want != have {
                        return Err(differ(format!(
                            "message {}: {want:?} against {have:?}",
                            want.index
                        )));
                    }
                }
                if expected.receipt.to_canonical_bytes() != got.receipt.to_canonical_bytes() {
                    return Err(differ("the receipts' bytes".into()));
                }
                if expected.head != got.head {
                    return Err(differ(format!(
                        "head {} against {}",
                        expected.head, got.head
                    )));
                }
            }
        }
        Ok(report)
    }

    /// Check 3: each message replayed through `process_message` on one state, in frame order.
    fn check_refusals_have_no_effect(&self) -> Result<()> {
        let violations = Arc::new(Mutex::new(Vec::new()));
        let manager = self.manager(1, &violations)?;
        let snapshot = manager.store().snapshot()?;
        let mut state = Overlay::new(snapshot.as_ref());
        for frame in &self.frames {
            for (index, (target, bytes)) in frame.messages.iter().enumerate() {
                process_checked(&manager, frame, index, target, bytes, &mut state)?;
            }
        }
        Ok(())
    }

    /// Check 4: every entry point on mutated inputs, against the state after all frames.
    fn check_no_panics(&self) -> Result<usize> {
        let violations = Arc::new(Mutex::new(Vec::new()));
        let manager = self.manager(1, &violations)?;
        for frame in &self.frames {
            manager.execute_frame_serial(frame)?;
        }
        let next = self.frames.last().map_or(1, |f| f.number.saturating_add(1));
        let probe = Frame::new(next);
        let snapshot = manager.store().snapshot()?;
        let mut rng = SplitMix64::new(self.seed);
        let mut mutations = 0;
        let inputs = self
            .frames
            .iter()
            .flat_map(|f| f.messages.iter())
            .chain(self.queries.iter());
        for (target, bytes) in inputs {
            for _ in 0..self.mutations_per_message {
                let (target, bytes) = mutate(&mut rng, target, bytes);
                mutations += 1;
                let input = || format!("{} {}", hex(&target), hex(&bytes));
                guarded("cost", &input, || {
                    let _ = manager.cost(&bytes);
                })?;
                guarded("validate_message", &input, || {
                    let _ = manager.validate_message(next, &target, &bytes);
                })?;
                guarded("lock", &input, || {
                    if let Ok(lease) = manager.lock(next, &target, &bytes) {
                        manager.unlock(lease);
                    }
                })?;
                guarded("query", &input, || {
                    let _ = manager.query(&target, &bytes);
                })?;
                let mut state = Overlay::new(snapshot.as_ref());
                let mut outcome = Ok(());
                guarded("process_message", &input, || {
                    outcome =
                        process_checked(&manager, &probe, mutations, &target, &bytes, &mut state);
                })?;
                outcome?;
            }
        }
        Ok(mutations)
    }

    /// The unmutated queries, answered after the frames: they must not fail for lack of a head.
    fn answer_queries(&self) -> Result<usize> {
        if self.queries.is_empty() {
            return Ok(0);
        }
        let violations = Arc::new(Mutex::new(Vec::new()));
        let manager = self.manager(1, &violations)?;
        for frame in &self.frames {
            manager.execute_frame_serial(frame)?;
        }
        let mut answered = 0;
        for (target, query) in &self.queries {
            if manager.query(target, query).is_ok() {
                answered += 1;
            }
        }
        Ok(answered)
    }
}

/// Runs one message through `process_message` on `state` and checks that a refusal wrote
/// nothing and a failure wrote only its signers' native accounts. `state` keeps the effects.
fn process_checked(
    manager: &Manager,
    frame: &Frame,
    index: usize,
    target: &[u8],
    bytes: &[u8],
    state: &mut Overlay<'_>,
) -> Result<()> {
    let mut recorder = Recorder {
        inner: state,
        written: Vec::new(),
    };
    let result = manager.process_message(
        frame.number,
        frame.fee_multiplier,
        target,
        bytes,
        &mut recorder,
    );
    let written = recorder.written;
    let (status, allowed): (&'static str, Vec<Address>) = match &result {
        Ok(processed) if processed.status == MessageStatus::Applied => return Ok(()),
        Ok(_) => ("failed", signer_accounts(bytes)),
        Err(error) if !matches!(error.status(), MessageStatus::Failed) => ("rejected", Vec::new()),
        // Not the message's fault (a store failure): nothing to hold the message to.
        Err(_) => return Ok(()),
    };
    match written
        .into_iter()
        .find(|address| !allowed.contains(address))
    {
        Some(address) => Err(TestkitError::EffectOnRefusal {
            frame: frame.number,
            index,
            status,
            address,
        }),
        None => Ok(()),
    }
}

/// The native accounts of every signer of a message's requests.
fn signer_accounts(bytes: &[u8]) -> Vec<Address> {
    let requests: Vec<MessageRequest> = match decode_any(bytes) {
        Ok(AnyMessage::MessageBundle(bundle)) => bundle.requests,
        Ok(other) => other.into_request().into_iter().collect(),
        Err(_) => Vec::new(),
    };
    requests
        .iter()
        .filter_map(|request| Call::from_request(request).ok())
        .map(|call| native_account(call.signer))
        .collect()
}

/// Runs `f`, turning a panic into [`TestkitError::Panicked`].
fn guarded(entry_point: &'static str, input: &dyn Fn() -> String, f: impl FnOnce()) -> Result<()> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| TestkitError::Panicked {
        entry_point,
        input: input(),
        message: panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic".into()),
    })
}

/// One mutated copy of a (target, message): a bit flip, a truncation, an inserted or
/// replaced byte, another tag, trailing bytes, random bytes under the same tag, or a random
/// or truncated target.
fn mutate(rng: &mut SplitMix64, target: &[u8], bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut target = target.to_vec();
    let mut bytes = bytes.to_vec();
    let at = |rng: &mut SplitMix64, len: usize| rng.below(len.max(1) as u64) as usize;
    match rng.below(9) {
        0 => {
            let i = at(rng, bytes.len());
            if let Some(byte) = bytes.get_mut(i) {
                *byte ^= 1 << rng.below(8);
            }
        }
        1 => bytes.truncate(at(rng, bytes.len())),
        2 => {
            let i = at(rng, bytes.len() + 1).min(bytes.len());
            bytes.insert(i, rng.next_u64() as u8);
        }
        3 => {
            let i = at(rng, bytes.len());
            if let Some(byte) = bytes.get_mut(i) {
                *byte = rng.next_u64() as u8;
            }
        }
        4 => {
            // Another known tag over the same body.
            let tags: [u32; 6] = [0x0311, 0x0312, 0x0509, 0x0404, 0x0301, 0x060C];
            let tag = tags.get(at(rng, tags.len())).copied().unwrap_or(0x0311);
            if bytes.len() >= 4 {
                bytes.splice(0..4, tag.to_be_bytes());
            }
        }
        5 => bytes.extend((0..1 + rng.below(8)).map(|_| rng.next_u64() as u8)),
        6 => {
            let len = bytes.len().saturating_sub(4);
            bytes.truncate(4);
            bytes.extend((0..len).map(|_| rng.next_u64() as u8));
        }
        7 => target = (0..32).map(|_| rng.next_u64() as u8).collect(),
        _ => target.truncate(at(rng, target.len())),
    }
    (target, bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Access violations seen by watched engines: (engine, what).
type Violations = Arc<Mutex<Vec<(&'static str, String)>>>;

fn lock(violations: &Violations) -> std::sync::MutexGuard<'_, Vec<(&'static str, String)>> {
    violations
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An engine that forwards everything and records every access violation its `apply` meets.
#[derive(Debug)]
struct Watched {
    inner: Arc<dyn Engine>,
    violations: Violations,
}

impl Engine for Watched {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn base_domains(&self) -> Vec<Domain> {
        self.inner.base_domains()
    }
    fn capabilities(&self) -> Vec<switchyard_proto::v1::Capability> {
        self.inner.capabilities()
    }
    fn cost(&self, request: &MessageRequest) -> std::result::Result<BigUint, EngineError> {
        self.inner.cost(request)
    }
    fn validate(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &dyn StateRead,
    ) -> std::result::Result<(), EngineError> {
        self.inner.validate(ctx, call, state)
    }
    fn access(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &dyn StateRead,
    ) -> std::result::Result<AccessSet, EngineError> {
        self.inner.access(ctx, call, state)
    }
    fn apply(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> std::result::Result<Output, EngineError> {
        let result = self.inner.apply(ctx, call, state);
        if let Err(EngineError::State(error @ StateError::AccessViolation { .. })) = &result {
            lock(&self.violations).push((
                self.inner.name(),
                format!(
                    "{} (frame {}, {})",
                    error,
                    ctx.frame_number,
                    call.operation()
                ),
            ));
        }
        result
    }
    fn query(
        &self,
        target: &Domain,
        query: &AnyMessage,
        state: &dyn StateRead,
    ) -> std::result::Result<Vec<u8>, EngineError> {
        self.inner.query(target, query, state)
    }
}

/// A state that records every address written through it.
struct Recorder<'s, 'b> {
    inner: &'s mut Overlay<'b>,
    written: Vec<Address>,
}

impl StateRead for Recorder<'_, '_> {
    fn get(&self, address: &Address) -> std::result::Result<Option<Vec<u8>>, StateError> {
        self.inner.get(address)
    }
}

impl StateWrite for Recorder<'_, '_> {
    fn put(&mut self, address: Address, value: Vec<u8>) -> std::result::Result<(), StateError> {
        self.written.push(address);
        self.inner.put(address, value)
    }
    fn delete(&mut self, address: &Address) -> std::result::Result<(), StateError> {
        self.written.push(*address);
        self.inner.delete(address)
    }
}
