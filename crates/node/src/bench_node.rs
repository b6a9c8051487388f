//! `switchyard bench --suite node`: a node on loopback, in this process, driven by concurrent
//! gRPC clients submitting signed transfers for a bounded time, twice: one message per `Submit`
//! call, then [`SUBMIT_BATCH`] messages per `SubmitBatch` call; each compared with the in-process
//! executor on the same kind of workload and store in the same run.
//!
//! The transfers are signed before the clock starts (as the in-process executor's are), so
//! that the figures are the node's work, not the clients' signing, which on a loopback bench
//! shares the node's cores; a client that runs out of them signs more as it goes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;
use switchyard_manager::{Frame, Manager};
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_state::RedbStore;
use switchyard_token::TokenClient;

use switchyard_proto::v1::SubmitRequest;

use crate::NodeError;
use crate::client::Client;
use crate::config::ServeConfig;
use crate::genesis::Genesis;

/// Options of the node suite.
#[derive(Debug, Clone, Copy)]
pub struct NodeSuiteOptions {
    /// Concurrent clients, each signing for its own account.
    pub clients: usize,
    /// How long the clients submit.
    pub duration: Duration,
    /// Messages per frame (node and in-process executor).
    pub frame_max: usize,
}

/// The node suite's report.
#[derive(Debug, Clone, Serialize)]
pub struct NodeSuiteReport {
    /// Always "node".
    pub suite: &'static str,
    /// Concurrent clients.
    pub clients: usize,
    /// The in-process executor on the same workload and store (signatures verified in frame):
    /// the faster of [`Self::in_process_samples`].
    pub in_process_tps: f64,
    /// The in-process executor's runs, before and after the node's.
    pub in_process_samples: [f64; 2],
    /// Peak resident memory of the process, KiB.
    pub peak_rss_kb: u64,
    /// Transfers signed before the clock started, for each run (see the module docs).
    pub presigned: u64,
    /// The run with one message per `Submit` call.
    pub unary: PathFigures,
    /// The run with [`SUBMIT_BATCH`] messages per `SubmitBatch` call.
    pub batched: PathFigures,
}

/// The figures of one run of the clients.
#[derive(Debug, Clone, Serialize)]
pub struct PathFigures {
    /// Messages per call: 1 (`Submit`) or [`SUBMIT_BATCH`] (`SubmitBatch`).
    pub batch: usize,
    /// Messages committed (applied) end to end.
    pub committed: u64,
    /// Committed messages per second, first submit to last commit.
    pub end_to_end_tps: f64,
    /// A call's round trip, milliseconds.
    pub submit_p50_ms: f64,
    /// A call's round trip, milliseconds.
    pub submit_p99_ms: f64,
    /// Submit to committed (head observed), milliseconds.
    pub commit_p50_ms: f64,
    /// Submit to committed (head observed), milliseconds.
    pub commit_p99_ms: f64,
    /// `end_to_end_tps / in_process_tps`.
    pub ratio: f64,
    /// Whether `ratio` reaches [`RATIO_TARGET`].
    pub met: bool,
}

impl PathFigures {
    fn new(batch: usize, timings: Timings, in_process_tps: f64) -> Self {
        let (committed, end_to_end_tps, mut submits, mut commits) = timings;
        let ratio = match in_process_tps > 0.0 {
            true => end_to_end_tps / in_process_tps,
            false => 0.0,
        };
        Self {
            batch,
            committed,
            end_to_end_tps,
            submit_p50_ms: percentile_ms(&mut submits, 50),
            submit_p99_ms: percentile_ms(&mut submits, 99),
            commit_p50_ms: percentile_ms(&mut commits, 50),
            commit_p99_ms: percentile_ms(&mut commits, 99),
            ratio,
            met: ratio >= RATIO_TARGET,
        }
    }
}

/// The end-to-end throughput the node should reach, as a fraction of the in-process
/// executor's. The `SubmitBatch` run is held to it; with one message per `Submit`, the cost of
/// a gRPC call on both ends bounds the node well below it (see `docs/performance.md`).
pub const RATIO_TARGET: f64 = 0.5;

/// Messages per `SubmitBatch` call in the batched run.
pub const SUBMIT_BATCH: usize = 64;

/// Transfers the in-process executor runs (frames of the suite's frame size).
const IN_PROCESS_MESSAGES: u64 = 200_000;

/// How submissions travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Submission {
    /// One message per `Submit`.
    Unary,
    /// Up to this many messages per `SubmitBatch`.
    Batch(usize),
}

/// One client's transfers, signed in nonce order from nonce 1.
type Signed = Vec<(Vec<u8>, Vec<u8>)>;

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&blake3::derive_key(
        "switchyard bench node key",
        &i.to_le_bytes(),
    ))
}

fn genesis(clients: usize) -> Genesis {
    Genesis {
        network_id: 1337,
        balances: (0..clients)
            .map(|i| (key(i).verifying_key().to_bytes(), 1u128 << 100))
            .collect(),
        ..Genesis::default()
    }
}

fn percentile_ms(values: &mut [Duration], p: usize) -> f64 {
    values.sort();
    let Some(last) = values.len().checked_sub(1) else {
        return 0.0;
    };
    values
        .get(last * p / 100)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Runs the node suite.
pub fn node_suite(options: NodeSuiteOptions) -> Result<NodeSuiteReport, NodeError> {
    let before = in_process(options, IN_PROCESS_MESSAGES)?;
    // Enough signed transfers for the node to run as fast as the executor for the whole run.
    let clients = options.clients.max(1);
    let per_client = (before * options.duration.as_secs_f64()) as usize / clients + 1;
    let pools = presign(clients, per_client);
    let presigned = pools.iter().map(Vec::len).sum::<usize>() as u64;
    let pools = Arc::new(pools);
    let runtime = crate::server::runtime()?;
    let unary = runtime.block_on(end_to_end(options, Submission::Unary, Arc::clone(&pools)))?;
    let batched = runtime.block_on(end_to_end(options, Submission::Batch(SUBMIT_BATCH), pools))?;
    // The executor again after the node runs, and the faster of the two: one short run on a
    // shared machine varies by ~20%, and the ratios should not profit from a slow one.
    let after = in_process(options, IN_PROCESS_MESSAGES)?;
    let in_process_tps = before.max(after);
    Ok(NodeSuiteReport {
        suite: "node",
        clients: options.clients,
        in_process_tps,
        in_process_samples: [before, after],
        peak_rss_kb: crate::bench::peak_rss_kb(),
        presigned,
        unary: PathFigures::new(1, unary, in_process_tps),
        batched: PathFigures::new(SUBMIT_BATCH, batched, in_process_tps),
    })
}

/// Each client's first `per_client` transfers (to the next client), signed on every core.
fn presign(clients: usize, per_client: usize) -> Vec<Signed> {
    let sign = |i: usize| -> Signed {
        let mut signer = TokenClient::new(key(i), 1337, 1);
        let to = key((i + 1) % clients).verifying_key().to_bytes();
        (0..per_client)
            .map(|_| {
                let (target, bytes) = signer.transfer(NATIVE_TOKEN, to, 1).into_parts();
                (target.0.to_vec(), bytes)
            })
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(clients);
    let mut pools: Vec<Signed> = (0..clients).map(|_| Vec::new()).collect();
    std::thread::scope(|scope| {
        let sign = &sign;
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..clients)
                        .step_by(threads)
                        .map(|i| (i, sign(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for worker in workers {
            for (i, pool) in worker.join().unwrap_or_default() {
                if let Some(slot) = pools.get_mut(i) {
                    *slot = pool;
                }
            }
        }
    });
    pools
}

type Timings = (u64, f64, Vec<Duration>, Vec<Duration>);

async fn end_to_end(
    options: NodeSuiteOptions,
    submission: Submission,
    pools: Arc<Vec<Signed>>,
) -> Result<Timings, NodeError> {
    let dir = tempfile::tempdir().map_err(|source| NodeError::Io {
        context: "creating a temporary data dir",
        source,
    })?;
    let genesis_path = dir.path().join("genesis.json");
    let accounts: Vec<serde_json::Value> = genesis(options.clients)
        .balances
        .iter()
        .map(|(k, b)| serde_json::json!({ "key": hex::encode(k), "balance": b.to_string() }))
        .collect();
    std::fs::write(
        &genesis_path,
        serde_json::json!({ "network_id": 1337, "accounts": accounts }).to_string(),
    )
    .map_err(|source| NodeError::Io {
        context: "writing the genesis",
        source,
    })?;
    let mut config = ServeConfig::dev(dir.path().join("data"));
    config.dev = false;
    config.genesis = Some(genesis_path);
    config.frame_max = options.frame_max;
    config.frame_interval = Duration::from_millis(100);
    let node = crate::server::start(config).await?;
    let url = format!("http://{}", node.started.grpc_addr);

    let submitted: Arc<Mutex<HashMap<Vec<u8>, Instant>>> = Arc::default();
    let outcomes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let commits: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let committed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let last_commit: Arc<Mutex<Option<Instant>>> = Arc::default();

    // The watcher: one receipt per new head.
    let mut watcher = Client::connect(&url).await?;
    let mut heads = watcher.watch().await?;
    let watch = {
        let (submitted, commits, committed, last_commit) = (
            Arc::clone(&submitted),
            Arc::clone(&commits),
            Arc::clone(&committed),
            Arc::clone(&last_commit),
        );
        let outcomes = Arc::clone(&outcomes);
        tokio::spawn(async move {
            let mut seen = 0;
            while let Ok(Some(head)) = heads.message().await {
                let now = Instant::now();
                for frame in seen.max(1)..=head.frame_number {
                    let Ok(receipt) = watcher.receipt(frame).await else {
                        continue;
                    };
                    // Every message is the clients' (a message can commit before its client
                    // records the answer: it counts, without a latency).
                    let mut submitted = submitted.lock();
                    for outcome in &receipt.outcomes {
                        if let Some(at) = submitted.remove(&outcome.message_hash) {
                            commits.lock().push(now.duration_since(at));
                        }
                        if outcome.status() == switchyard_proto::v1::MessageStatus::Applied {
                            committed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    outcomes.fetch_add(
                        receipt.outcomes.len() as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    *last_commit.lock() = Some(now);
                }
                seen = head.frame_number.saturating_add(1);
            }
        })
    };

    let started = Instant::now();
    let deadline = started + options.duration;
    let mut tasks = Vec::new();
    for i in 0..options.clients {
        let url = url.clone();
        let submitted = Arc::clone(&submitted);
        let pools = Arc::clone(&pools);
        tasks.push(tokio::spawn(async move {
            let Ok(client) = Client::connect(&url).await else {
                return (Vec::new(), 0);
            };
            let pool = pools.get(i).map_or(&[][..], Vec::as_slice);
            let clients = options.clients.max(1);
            let mut messages = Messages {
                presigned: pool.iter(),
                signer: TokenClient::new(key(i), 1337, pool.len() as u64 + 1),
                to: key((i + 1) % clients).verifying_key().to_bytes(),
            };
            match submission {
                Submission::Unary => unary(client, &mut messages, &submitted, deadline).await,
                Submission::Batch(size) => {
                    batched(client, &mut messages, &submitted, deadline, size).await
                }
            }
        }));
    }
    let mut submits = Vec::new();
    let mut admitted = 0u64;
    for task in tasks {
        let (latencies, count) = task.await.unwrap_or_default();
        submits.extend(latencies);
        admitted += count;
    }
    // Let the last frames commit (bounded).
    let drain_deadline = Instant::now() + Duration::from_secs(30);
    while outcomes.load(std::sync::atomic::Ordering::Relaxed) < admitted
        && Instant::now() < drain_deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.shutdown();
    node.wait().await?;
    watch.abort();
    let count = committed.load(std::sync::atomic::Ordering::Relaxed);
    let elapsed = last_commit
        .lock()
        .map_or(options.duration, |t| t.duration_since(started));
    let tps = count as f64 / elapsed.as_secs_f64().max(1e-9);
    let commits = std::mem::take(&mut *commits.lock());
    Ok((count, tps, submits, commits))
}

/// A client's transfers: the presigned ones, then signed as it goes.
struct Messages<'a> {
    presigned: std::slice::Iter<'a, (Vec<u8>, Vec<u8>)>,
    signer: TokenClient,
    to: [u8; 32],
}

impl Messages<'_> {
    fn next(&mut self) -> (Vec<u8>, Vec<u8>) {
        match self.presigned.next() {
            Some(message) => message.clone(),
            None => {
                let (target, bytes) = self.signer.transfer(NATIVE_TOKEN, self.to, 1).into_parts();
                (target.0.to_vec(), bytes)
            }
        }
    }
}

type Submitted = Arc<Mutex<HashMap<Vec<u8>, Instant>>>;

/// One `Submit` at a time, each retried until admitted (so nonces stay in order).
async fn unary(
    mut client: Client,
    messages: &mut Messages<'_>,
    submitted: &Submitted,
    deadline: Instant,
) -> (Vec<Duration>, u64) {
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let (target, message) = messages.next();
        loop {
            let at = Instant::now();
            let answer = client
                .raw()
                .submit(SubmitRequest {
                    target: target.clone(),
                    message: message.clone(),
                })
                .await;
            match answer {
                Ok(response) => {
                    submitted
                        .lock()
                        .insert(response.into_inner().message_hash, at);
                    latencies.push(at.elapsed());
                    break;
                }
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err(_) => return admitted(latencies),
            }
        }
    }
    admitted(latencies)
}

/// A unary client's figures: one latency per admitted message.
fn admitted(latencies: Vec<Duration>) -> (Vec<Duration>, u64) {
    let count = latencies.len() as u64;
    (latencies, count)
}

/// One `SubmitBatch` of `size` at a time; the refused (a full mempool refuses a batch's
/// tail) go again at the head of the next call, so nonces stay in order.
async fn batched(
    mut client: Client,
    messages: &mut Messages<'_>,
    submitted: &Submitted,
    deadline: Instant,
    size: usize,
) -> (Vec<Duration>, u64) {
    let mut latencies = Vec::new();
    let mut admitted = 0u64;
    let mut waiting: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(size);
    while Instant::now() < deadline {
        while waiting.len() < size {
            waiting.push(messages.next());
        }
        let at = Instant::now();
        let Ok(results) = client.submit_batch(waiting.clone()).await else {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        };
        latencies.push(at.elapsed());
        let mut refused = Vec::new();
        {
            let mut submitted = submitted.lock();
            for (message, result) in waiting.drain(..).zip(results) {
                match result.code {
                    0 => {
                        submitted.insert(result.message_hash, at);
                        admitted += 1;
                    }
                    _ => refused.push(message),
                }
            }
        }
        if !refused.is_empty() {
            waiting = refused;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    (latencies, admitted)
}

/// The in-process executor: the same clients' transfers in frames of `frame_max`, on a
/// fresh redb store, signatures verified in the frame.
fn in_process(options: NodeSuiteOptions, messages: u64) -> Result<f64, NodeError> {
    let dir = tempfile::tempdir().map_err(|source| NodeError::Io {
        context: "creating a temporary data dir",
        source,
    })?;
    let manager = Manager::builder()
        .engines(crate::engines::all())
        .store(Arc::new(RedbStore::open(dir.path())?))
        .network_id(1337)
        .build()?;
    manager.genesis(0, &genesis(options.clients).changes()?)?;
    let clients = options.clients.max(1);
    let per_client = usize::try_from(messages).unwrap_or(usize::MAX) / clients;
    let pools = presign(clients, per_client);
    // Round robin over the clients, each in nonce order.
    let all: Vec<(Vec<u8>, Vec<u8>)> = (0..per_client)
        .flat_map(|n| pools.iter().filter_map(move |pool| pool.get(n).cloned()))
        .collect();
    let messages = all.len() as u64;
    let started = Instant::now();
    for (number, chunk) in (1..).zip(all.chunks(options.frame_max.max(1))) {
        let mut frame = Frame::new(number);
        frame.messages = chunk.to_vec();
        manager.execute_frame(&frame)?;
    }
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    manager.close()?;
    Ok(messages as f64 / elapsed)
}
