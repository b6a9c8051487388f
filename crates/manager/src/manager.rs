//! The `Manager` façade and its byte-level API (DESIGN §7).

use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use switchyard_metrics::{Metrics, Op, Status};
use switchyard_proto::v1::{Capability, MessageStatus};
use switchyard_router::auth::{SignatureCheck, verify_batch};
use switchyard_router::{
    BigUint, Domain, ExecutionContext, Key, MemoryView, RouteTable, StateRead, StateWrite,
};
use switchyard_state::{ChangeSet, Head, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::frame::executor::FrameExecutor;
use crate::frame::message::apply_message;
use crate::frame::prepare::{
    PrepareEnv, Prepared, decode_requests, parse_target, route_message, signature_checks,
    signer_of, validate,
};
use crate::frame::run::RunMode;
use crate::locks::{LockLease, LockTable};
use crate::{Frame, FrameResult, ManagerBuilder, ManagerError, Result};

/// What `process_message` did to the state it was handed.
#[derive(Debug)]
pub struct Processed {
    /// `Applied`, or `Failed` (the operation's effects were rolled back, its fee kept).
    pub status: MessageStatus,
    /// The cost in units.
    pub cost: u64,
    /// The fee charged.
    pub fee: u128,
    /// Why the operation failed, when it did.
    pub error: Option<ManagerError>,
    /// What each request produced, as the receipt would carry it (empty when none did).
    pub results: Vec<Vec<u8>>,
}

/// An answer to [`Manager::query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    /// The canonical bytes of the engine's response message.
    pub response: Vec<u8>,
    /// The committed frame the answer was read from.
    pub head: Head,
}

/// What [`Manager::validate_messages`] learnt of a valid message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Validated {
    /// Each request's signer and nonce, in the message's order (one for a request sent
    /// alone, one per request for a bundle): what a node needs to tell a client which nonce
    /// its next operation takes while earlier ones wait to be executed.
    pub signers: Vec<(Key, u64)>,
}

impl Validated {
    fn of(prepared: &Prepared<'_>) -> Self {
        Self {
            signers: prepared
                .requests
                .iter()
                .map(|routed| (routed.signer, routed.nonce))
                .collect(),
        }
    }
}

/// The manager: routes messages to engines, prices, validates, locks and applies them, and
/// executes and commits frames. Cheap to clone; every clone is the same manager.
#[derive(Clone)]
pub struct Manager {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// Runs frames, and holds what every entry point routes and records with.
    pub(crate) executor: FrameExecutor,
    pub(crate) locks: Mutex<LockTable>,
    pub(crate) head_tx: watch::Sender<Option<Head>>,
    /// Frames run one at a time.
    pub(crate) frame_lock: Mutex<()>,
    pub(crate) timeouts: crate::lifecycle::Timeouts,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("routes", &self.inner.executor.routes)
            .field("network_id", &self.inner.executor.network_id)
            .field("threads", &self.inner.executor.pool.current_num_threads())
            .field("head", &self.inner.executor.store.head())
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// A builder; see [`ManagerBuilder`].
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::default()
    }

    /// The cost of a message in units, as a frame would charge it: each request is routed
    /// by the target its auth block signs, exactly as the frame executor routes it (through
    /// the route table, against the last committed state, a bundle's earlier deploys
    /// included), and priced by that engine; a bundle costs the sum of its requests. A
    /// malformed, empty or unknown message, or one no engine routes, is an error, never a
    /// silent 0. Signatures are not checked: an unsigned request with its auth block filled in
    /// (see `Signer::prepare`) can be priced before it is signed.
    pub fn cost(&self, message: &[u8]) -> Result<BigUint> {
        let started = Instant::now();
        let mut engine = "none";
        let result = (|| {
            if self.inner.executor.cancel.is_cancelled() {
                return Err(ManagerError::Cancelled);
            }
            let decoded = decode_requests(message, &self.inner.executor.limits)?;
            let first = decoded
                .requests
                .first()
                .ok_or_else(|| ManagerError::NotAnOperation("empty bundle".into()))?;
            let (_, _, target) = signer_of(first)?;
            let snapshot = self.inner.executor.store.snapshot()?;
            let ctx = self.context(0, 1);
            let env = PrepareEnv {
                routes: &self.inner.executor.routes,
                ctx: &ctx,
            };
            let prepared = route_message(env, &target, decoded, snapshot.as_ref())?;
            engine = prepared.engine_name();
            Ok(BigUint::from(prepared.cost))
        })();
        self.observe(engine, Op::Cost, &result, started);
        result
    }

    /// Validates a message against the last committed state: routing, signatures, and each
    /// engine's shape and limit checks.
    pub fn validate_message(&self, frame_number: u64, target: &[u8], message: &[u8]) -> Result<()> {
        self.on_committed(
            Op::Validate,
            frame_number,
            target,
            message,
            |ctx, prepared, committed| self.check(ctx, prepared, committed),
        )
    }

    /// Validates many messages against one snapshot of the last committed state: for each
    /// `(target, message)`, the verdict [`Manager::validate_message`] would give, in order.
    /// The signatures of all of them are batch-verified at once (as a frame verifies them);
    /// when the batch fails, each message's signatures are verified one by one, so that only
    /// the bad ones are refused. Each message is recorded in the request metrics as one
    /// validate call. For admission, where concurrent submissions are gathered: batch
    /// verification costs about half as much per signature as one at a time.
    pub fn validate_messages<T, M>(
        &self,
        frame_number: u64,
        messages: &[(T, M)],
    ) -> Vec<Result<Validated>>
    where
        T: AsRef<[u8]>,
        M: AsRef<[u8]>,
    {
        let started = Instant::now();
        let Ok(snapshot) = self.inner.executor.store.snapshot() else {
            // Each message alone, so that each gets the store's error as it stands.
            return messages
                .iter()
                .map(|(target, message)| {
                    self.on_committed(
                        Op::Validate,
                        frame_number,
                        target.as_ref(),
                        message.as_ref(),
                        |ctx, prepared, committed| {
                            self.check(ctx, prepared, committed)?;
                            Ok(Validated::of(prepared))
                        },
                    )
                })
                .collect();
        };
        let state = snapshot.as_ref();
        let ctx = self.context(frame_number, 1);
        let network_id = self.inner.executor.network_id;
        // Decode, route and read every signature first; verify them all in one batch.
        let prepared: Vec<Result<(Prepared<'_>, Vec<SignatureCheck>)>> = messages
            .iter()
            .map(|(target, message)| {
                let prepared = self.prepare(&ctx, target.as_ref(), message.as_ref(), state)?;
                let checks = signature_checks(&prepared, network_id)?;
                Ok((prepared, checks))
            })
            .collect();
        let batch_ok = verify_batch(
            prepared
                .iter()
                .flatten()
                .flat_map(|(_, checks)| checks.iter()),
        );
        prepared
            .into_iter()
            .map(|entry| {
                let mut engine = "none";
                let result = entry.and_then(|(prepared, checks)| {
                    engine = prepared.engine_name();
                    if !batch_ok {
                        for check in &checks {
                            check.verify()?;
                        }
                    }
                    validate(&ctx, &prepared, state)?;
                    Ok(Validated::of(&prepared))
                });
                self.observe(engine, Op::Validate, &result, started);
                result
            })
            .collect()
    }

    /// Acquires the message's access set (signers' native accounts included) in the lock
    /// table, all or nothing, and returns the lease that holds it. A conflict with a lock held
    /// by an earlier call leaves nothing locked. Locks are global across engines and domains;
    /// they last until the lease is handed to [`Manager::unlock`] (which releases exactly what
    /// it acquired) or [`Manager::unlock_all`].
    pub fn lock(&self, frame_number: u64, target: &[u8], message: &[u8]) -> Result<LockLease> {
        self.on_committed(Op::Lock, frame_number, target, message, |_, prepared, _| {
            LockLease::acquire(&self.inner.locks, &prepared.access).map_err(|address| {
                self.inner.executor.metrics.lock_conflict();
                ManagerError::LockConflict { address }
            })
        })
    }

    /// Releases the locks of `lease`, and nothing else.
    pub fn unlock(&self, lease: LockLease) {
        lease.release(&self.inner.locks);
    }

    /// Releases every lock of every caller (the reference's release-everything behaviour).
    /// Leases taken before stay valid to unlock: they release nothing a newer lease holds.
    pub fn unlock_all(&self) {
        self.inner.locks.lock().clear();
    }

    /// Routes, validates and applies one message to `state` (committed state plus whatever the
    /// caller applied before), with fee and nonce settlement. An error means the message had
    /// no effect at all (malformed, unroutable, bad signature, wrong nonce, unpayable fee);
    /// `Ok` with status `Failed` means the operation failed, its effects were rolled back and
    /// its fee kept.
    pub fn process_message(
        &self,
        frame_number: u64,
        fee_multiplier: u64,
        target: &[u8],
        message: &[u8],
        state: &mut dyn StateWrite,
    ) -> Result<Processed> {
        let started = Instant::now();
        let mut engine = "none";
        let result = (|| {
            let ctx = self.context(frame_number, fee_multiplier);
            let prepared = self.prepare(&ctx, target, message, &*state)?;
            engine = prepared.engine_name();
            self.check(&ctx, &prepared, &*state)?;
            let applied = self
                .inner
                .executor
                .retry
                .run(&self.inner.executor.cancel, || {
                    apply_message(&ctx, &prepared, &*state)
                })?;
            if applied.status == MessageStatus::Rejected {
                return Err(applied.error.map_or_else(
                    || ManagerError::Internal("a rejected message carries no reason".into()),
                    |error| *error,
                ));
            }
            if let Some(changes) = &applied.changes {
                write_changes(state, changes)?;
            }
            Ok(Processed {
                status: applied.status,
                cost: prepared.cost,
                fee: applied.fee,
                error: applied.error.map(|error| *error),
                results: applied.results,
            })
        })();
        let status = match &result {
            Ok(p) if p.status == MessageStatus::Applied => Ok(()),
            Ok(p) => Err(p.error.as_ref()),
            Err(e) => Err(Some(e)),
        };
        self.observe_status(engine, Op::Apply, status, started);
        result
    }

    /// Answers a read-only query: `query` is the canonical bytes of an engine's query message
    /// (e.g. a `TokenQuery`), `target` the 32-byte domain (or 64-byte address) it is about.
    /// The query is decoded strictly, routed through the same route table as every message,
    /// must belong to the family of the engine that owns `target`, and is answered over a
    /// snapshot of the last committed frame, whose head comes with the answer.
    pub fn query(&self, target: &[u8], query: &[u8]) -> Result<QueryAnswer> {
        let started = Instant::now();
        let mut engine_name = "none";
        let result = (|| {
            if self.inner.executor.cancel.is_cancelled() {
                return Err(ManagerError::Cancelled);
            }
            let domain = parse_target(target)?;
            let message = switchyard_proto::decode_any_with(query, &self.inner.executor.limits)?;
            let tag = message.tag();
            let name = switchyard_proto::tag_name(tag).unwrap_or("message");
            let family = switchyard_router::families::of_tag(tag)
                .filter(|_| !message.is_operation())
                .ok_or_else(|| ManagerError::NotAQuery(format!("{name} (tag {tag})")))?;
            let snapshot = self.inner.executor.store.snapshot()?;
            let head = snapshot.head().ok_or(ManagerError::NoHead)?;
            let engine = self
                .inner
                .executor
                .routes
                .resolve(&domain, snapshot.as_ref())?;
            engine_name = engine.name();
            let family_engine = self
                .inner
                .executor
                .routes
                .resolve(&family.base_domain, &MemoryView::default())
                .ok();
            if family_engine.map(|e| e.name()) != Some(engine.name()) {
                return Err(ManagerError::WrongEngine {
                    query: name,
                    family: family.name,
                    domain,
                    engine: engine.name(),
                });
            }
            let response = engine.query(&domain, &message, snapshot.as_ref())?;
            Ok(QueryAnswer { response, head })
        })();
        self.observe(engine_name, Op::Query, &result, started);
        result
    }

    /// The protocols every engine advertises, deduplicated by protocol identifier (the first
    /// engine registered wins), in registration order.
    pub fn capabilities(&self) -> Vec<Capability> {
        let mut seen = std::collections::BTreeSet::new();
        let mut capabilities = Vec::new();
        for engine in self.inner.executor.routes.engines() {
            for capability in engine.capabilities() {
                if seen.insert(capability.protocol.clone()) {
                    capabilities.push(capability);
                }
            }
        }
        capabilities
    }

    /// Commits `changes` as the first frame of an empty store (the genesis state) and
    /// publishes its head.
    pub fn genesis(&self, frame_number: u64, changes: &ChangeSet) -> Result<Head> {
        let _one_frame_at_a_time = self.inner.frame_lock.lock();
        if let Some(head) = self.inner.executor.store.head() {
            return Err(ManagerError::FrameOutOfOrder {
                head: head.frame_number,
                found: frame_number,
            });
        }
        let head = self
            .inner
            .executor
            .store
            .commit(frame_number, changes, &mut |_| Vec::new())?;
        self.inner.head_tx.send_replace(Some(head));
        self.inner
            .executor
            .metrics
            .set_frame_height(head.frame_number);
        Ok(head)
    }

    /// Shuts the manager down and releases its store: cancels the manager's token (so no new
    /// frame or message starts), waits for the frame in progress to commit, and closes the
    /// store, whose files can then be opened again in the same process. Every clone of the
    /// manager is closed with it; later calls fail with [`ManagerError::Cancelled`] or a closed
    /// store. Engines are stopped separately, with [`Manager::stop`].
    pub fn close(&self) -> Result<()> {
        self.inner.executor.cancel.cancel();
        let _no_frame_in_progress = self.inner.frame_lock.lock();
        self.inner.executor.store.close()?;
        Ok(())
    }

    /// Executes a frame: prepare (decode, route, price, access sets), validate (signatures
    /// batch-verified in parallel) and schedule, execute on the worker pool as the access sets
    /// allow, commit atomically with the receipt, and publish the new head. The receipt and
    /// state root are those of [`Manager::execute_frame_serial`], whatever the number of
    /// threads.
    ///
    /// Errors are failures of the frame as a whole (store failures after retries, critical
    /// engine failures, a frame number that does not follow the head); a bad message is
    /// recorded in the receipt instead.
    pub fn execute_frame(&self, frame: &Frame) -> Result<FrameResult> {
        // Frames run one at a time. The lock is taken here, on the caller's thread: a worker
        // that blocked on it could be the one another frame's work waits for.
        let _one_frame_at_a_time = self.inner.frame_lock.lock();
        let executor = &self.inner.executor;
        // The whole frame runs on a worker: its parallel phases then start without handing
        // work from the caller's thread to the pool (and waking it) at each phase.
        let result = executor
            .pool
            .install(|| executor.run(frame, executor.pool_mode()))?;
        self.publish(result.head);
        Ok(result)
    }

    /// The serial reference: the same phases, one message after another in frame order, on
    /// the calling thread. Used by tests and benchmarks to check and measure the parallel
    /// executor.
    pub fn execute_frame_serial(&self, frame: &Frame) -> Result<FrameResult> {
        let _one_frame_at_a_time = self.inner.frame_lock.lock();
        let result = self.inner.executor.run(frame, RunMode::Reference)?;
        self.publish(result.head);
        Ok(result)
    }

    /// Publishes a new head to watchers and the height metric.
    fn publish(&self, head: Head) {
        self.inner
            .executor
            .metrics
            .set_frame_height(head.frame_number);
        self.inner.head_tx.send_replace(Some(head));
    }

    /// The head of the last committed frame.
    pub fn head(&self) -> Option<Head> {
        self.inner.executor.store.head()
    }

    /// A receiver of every new head, as frames commit.
    pub fn subscribe_heads(&self) -> watch::Receiver<Option<Head>> {
        self.inner.head_tx.subscribe()
    }

    /// The store frames are committed to.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.executor.store
    }

    /// The route table.
    pub fn routes(&self) -> &RouteTable {
        &self.inner.executor.routes
    }

    /// The metrics every entry point records.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.executor.metrics
    }

    /// The token that shuts the manager down; cancelled by a critical failure.
    pub fn cancellation_token(&self) -> CancellationToken {
        self.inner.executor.cancel.clone()
    }

    /// The network id signatures are checked against.
    pub fn network_id(&self) -> u32 {
        self.inner.executor.network_id
    }

    /// Worker threads of the frame executor.
    pub fn threads(&self) -> usize {
        self.inner.executor.pool.current_num_threads()
    }

    pub(crate) fn context(&self, frame_number: u64, fee_multiplier: u64) -> ExecutionContext {
        ExecutionContext {
            frame_number,
            fee_multiplier,
            network_id: self.inner.executor.network_id,
            fee_recipient: [0; 32],
        }
    }

    fn prepare(
        &self,
        ctx: &ExecutionContext,
        target: &[u8],
        message: &[u8],
        state: &dyn StateRead,
    ) -> Result<Prepared<'_>> {
        if self.inner.executor.cancel.is_cancelled() {
            return Err(ManagerError::Cancelled);
        }
        let target: Domain = parse_target(target)?;
        let requests = decode_requests(message, &self.inner.executor.limits)?;
        let env = PrepareEnv {
            routes: &self.inner.executor.routes,
            ctx,
        };
        route_message(env, &target, requests, state)
    }

    /// Verifies every request's signature (strictly, one by one): the manager is the one
    /// owner of authentication; then runs each engine's `validate` against `state`.
    fn check(
        &self,
        ctx: &ExecutionContext,
        prepared: &Prepared<'_>,
        state: &dyn StateRead,
    ) -> Result<()> {
        for check in signature_checks(prepared, self.inner.executor.network_id)? {
            check.verify()?;
        }
        validate(ctx, prepared, state)
    }

    /// Prepares `message` (decode, route, price, access set) against a snapshot of the last
    /// committed frame and runs `then` on it, recording the call in the request metrics as
    /// `op` under the message's engine.
    fn on_committed<T>(
        &self,
        op: Op,
        frame_number: u64,
        target: &[u8],
        message: &[u8],
        then: impl FnOnce(&ExecutionContext, &Prepared<'_>, &dyn StateRead) -> Result<T>,
    ) -> Result<T> {
        let started = Instant::now();
        let mut engine = "none";
        let result = (|| {
            let snapshot = self.inner.executor.store.snapshot()?;
            let ctx = self.context(frame_number, 1);
            let prepared = self.prepare(&ctx, target, message, snapshot.as_ref())?;
            engine = prepared.engine_name();
            then(&ctx, &prepared, snapshot.as_ref())
        })();
        self.observe(engine, op, &result, started);
        result
    }

    fn observe<T>(&self, engine: &str, op: Op, result: &Result<T>, started: Instant) {
        self.observe_status(
            engine,
            op,
            result.as_ref().map(|_| ()).map_err(Some),
            started,
        );
    }

    fn observe_status(
        &self,
        engine: &str,
        op: Op,
        result: std::result::Result<(), Option<&ManagerError>>,
        started: Instant,
    ) {
        let status = match result {
            Ok(()) => Status::Ok,
            Err(Some(error)) => metrics_status(error),
            Err(None) => Status::Rejected,
        };
        self.inner.executor.metrics.record_request(
            engine,
            op,
            status,
            started.elapsed().as_secs_f64(),
        );
    }
}

/// The metrics status of an error.
fn metrics_status(error: &ManagerError) -> Status {
    use switchyard_router::Severity;
    match error {
        ManagerError::Route(switchyard_router::RouteError::NoEngine { .. }) => Status::NoEngine,
        other if other.status() == MessageStatus::Malformed => Status::Malformed,
        other => match other.severity() {
            Severity::Rejected => Status::Rejected,
            Severity::Temporary => Status::Temporary,
            Severity::Critical => Status::Critical,
        },
    }
}

/// Writes a change set into a caller's state.
fn write_changes(state: &mut dyn StateWrite, changes: &ChangeSet) -> Result<()> {
    for (address, value) in changes.iter() {
        match value {
            Some(value) => state.put(*address, value.to_vec())?,
            None => state.delete(address)?,
        }
    }
    Ok(())
}
