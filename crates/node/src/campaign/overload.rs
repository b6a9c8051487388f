//! The overload run: a real `switchyard serve` child process with a small mempool, flooded for
//! a bounded time by many concurrent clients (small signed transfers with memos, and large
//! hypergraph vertex adds), each sending its next message as soon as the last was answered.
//!
//! What it requires (each a failure otherwise):
//! - **memory**: the node's peak resident set (`VmHWM` of `/proc/PID/status`, read after the
//!   flood and the drain) stays under [`OverloadOptions::rss_bound_kb`]. The documented bound,
//!   [`DEFAULT_RSS_BOUND_KB`] (384 MiB for 64 clients), is what the node may hold: about
//!   40 MiB idle; per connection its HTTP/2 buffers and one request in flight (at most
//!   64 KiB here); the allocator's heaps of the threads that admit and execute, with the large
//!   messages' buffers they keep for reuse (mimalloc returns freed memory after 10 s); the
//!   mempool's byte bound (1 MiB here) and one frame's decoded messages and overlays.
//!   Measured on 2 cores with 64 clients, 16 of them large, batched admission: 150 to 155 MiB
//!   in release over 10 to 40 s floods, flat; 155 to 190 MiB in debug over 5 to 15 s. The
//!   bound is about twice that: room for a slower machine, none for growth with time (an
//!   admission that validated each submit on a blocking thread of its own grew to 770 MiB
//!   and 310 threads in a 40 s flood);
//! - **refusals**: the excess is refused with `RESOURCE_EXHAUSTED` (at least one), and nothing
//!   else is refused;
//! - **responsiveness**: while flooding, a prober on its own connection asks the standard
//!   health service (which must answer SERVING every time) and a token balance query every
//!   100 ms; the query's 99th percentile latency stays under [`OverloadOptions::query_p99`];
//! - **no loss**: every message the node accepted (Submit answered with its hash) is reported
//!   committed by the `Status` RPC within [`OverloadOptions::drain_timeout`] of the flood's
//!   end: accepted = committed.
//!
//! A refused message is sent again (the same bytes, so its nonce is never skipped) until it is
//! accepted or the flood ends.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;
use switchyard_hypergraph::{HypergraphClient, HypergraphSpec};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::node_client::NodeClient;
use switchyard_proto::v1::status_response::State;
use switchyard_proto::v1::{QueryRequest, StatusRequest, SubmitRequest, TokenQuery, token_query};
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_router::{Domain, Key, SignedRequest};
use switchyard_testkit::rng::SplitMix64;
use switchyard_token::TokenClient;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::process::{ServeCommand, ServeProcess, channel};
use crate::NodeError;

/// The documented bound of the node's peak resident set under the flood, KiB (384 MiB; see
/// the module docs for what it is made of).
pub const DEFAULT_RSS_BOUND_KB: u64 = 384 * 1024;

/// The overload run's network id.
const NETWORK_ID: u32 = 7_331;
/// Most messages one client sends.
const MAX_SUBMITS_PER_CLIENT: u64 = 10_000_000;
/// How often the prober asks.
const PROBE_EVERY: Duration = Duration::from_millis(100);
/// Longest one probe may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Status workers after the flood.
const STATUS_WORKERS: usize = 16;
/// Distinct vertex keys per large client (vertices are replaced, so the state stays small).
const VERTEX_KEYS: u64 = 16;
/// Most refusals described in the report.
const MAX_DETAILS: usize = 10;

/// What an overload run does.
#[derive(Debug, Clone)]
pub struct OverloadOptions {
    /// The `switchyard` binary to run.
    pub binary: PathBuf,
    /// Concurrent clients, each signing for its own funded key.
    pub clients: usize,
    /// How many of them send large messages.
    pub large_clients: usize,
    /// Size of a large message's vertex data, bytes (at most 64 KiB).
    pub large_bytes: usize,
    /// How long the clients flood.
    pub duration: Duration,
    /// `--mempool-max` of the node.
    pub mempool_max: usize,
    /// `--mempool-max-bytes` of the node.
    pub mempool_max_bytes: usize,
    /// `--frame-interval-ms` of the node.
    pub frame_interval_ms: u64,
    /// Bound of the node's peak resident set, KiB.
    pub rss_bound_kb: u64,
    /// Bound of the query's 99th percentile latency while flooding.
    pub query_p99: Duration,
    /// Longest to wait after the flood for every accepted message to be committed.
    pub drain_timeout: Duration,
    /// Seed of the memos and vertex data.
    pub seed: u64,
    /// Where the data dir and the node's log go (default: a temporary directory, kept on
    /// failure).
    pub work_dir: Option<PathBuf>,
}

impl OverloadOptions {
    /// 64 clients (16 of them large, 48 KiB) flooding `binary` for `duration`; a mempool of
    /// 64 messages or 1 MiB, sealed into a frame every 200 ms: the node commits at most 320
    /// messages (5 MiB) a second, well below what 64 clients offer even to a debug build.
    pub fn new(binary: impl Into<PathBuf>, duration: Duration) -> Self {
        Self {
            binary: binary.into(),
            clients: 64,
            large_clients: 16,
            large_bytes: 48 << 10,
            duration,
            mempool_max: 64,
            mempool_max_bytes: 1 << 20,
            frame_interval_ms: 200,
            rss_bound_kb: DEFAULT_RSS_BOUND_KB,
            query_p99: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(60),
            seed: 1,
            work_dir: None,
        }
    }
}

/// What an overload run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OverloadReport {
    /// Concurrent clients.
    pub clients: usize,
    /// Flood time, seconds.
    pub seconds: f64,
    /// The node's peak resident set, KiB.
    pub peak_rss_kb: u64,
    /// Its bound, KiB.
    pub rss_bound_kb: u64,
    /// Submits refused with RESOURCE_EXHAUSTED.
    pub refusals: u64,
    /// Submits refused otherwise, or failed.
    pub other_errors: u64,
    /// Messages accepted (Submit answered with a hash).
    pub accepted: u64,
    /// Of them, large ones.
    pub accepted_large: u64,
    /// Accepted messages the `Status` RPC reported committed after the flood.
    pub committed: u64,
    /// Seconds from the flood's end until every accepted message was committed.
    pub drain_seconds: f64,
    /// Health checks while flooding.
    pub health_checks: u64,
    /// Of them, answers other than SERVING (or no answer).
    pub health_failures: u64,
    /// Queries while flooding.
    pub queries: u64,
    /// Of them, failed ones.
    pub query_failures: u64,
    /// Query latency, milliseconds.
    pub query_p50_ms: f64,
    /// Query latency, milliseconds.
    pub query_p99_ms: f64,
    /// Query latency, milliseconds.
    pub query_max_ms: f64,
    /// Bound of the 99th percentile, milliseconds.
    pub query_p99_bound_ms: f64,
    /// What failed (empty when the run passed).
    pub failures: Vec<String>,
    /// Where the data dir and log are, when kept.
    pub kept: Option<PathBuf>,
}

impl OverloadReport {
    /// Whether every requirement held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// One line per figure, for people.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "overload: {} clients for {:.1} s\n  peak RSS {:.1} MiB (bound {:.0} MiB)\n  refusals (RESOURCE_EXHAUSTED) {}, other errors {}\n  accepted {} ({} large), committed {} (drained in {:.1} s)\n  health checks {} ({} not SERVING), queries {} ({} failed): p50 {:.1} ms, p99 {:.1} ms (bound {:.0} ms), max {:.1} ms\n",
            self.clients,
            self.seconds,
            self.peak_rss_kb as f64 / 1024.0,
            self.rss_bound_kb as f64 / 1024.0,
            self.refusals,
            self.other_errors,
            self.accepted,
            self.accepted_large,
            self.committed,
            self.drain_seconds,
            self.health_checks,
            self.health_failures,
            self.queries,
            self.query_failures,
            self.query_p50_ms,
            self.query_p99_ms,
            self.query_p99_bound_ms,
            self.query_max_ms,
        );
        for failure in &self.failures {
            text.push_str(&format!("  FAILED {failure}\n"));
        }
        if let Some(dir) = &self.kept {
            text.push_str(&format!("  data dir and log kept in {}\n", dir.display()));
        }
        text
    }
}

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&blake3::derive_key(
        "switchyard overload key",
        &i.to_le_bytes(),
    ))
}

fn rpc(call: &'static str) -> impl FnOnce(tonic::Status) -> NodeError {
    move |status| NodeError::Rpc {
        call,
        status: Box::new(status),
    }
}

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> NodeError {
    move |source| NodeError::Io { context, source }
}

#[derive(Debug, Default)]
struct Tally {
    refusals: AtomicU64,
    other_errors: AtomicU64,
    accepted_large: AtomicU64,
    accepted: Mutex<Vec<[u8; 32]>>,
    details: Mutex<Vec<String>>,
}

impl Tally {
    fn other(&self, what: String) {
        self.other_errors.fetch_add(1, Ordering::Relaxed);
        let mut details = self.details.lock();
        if details.len() < MAX_DETAILS {
            details.push(what);
        }
    }
}

#[derive(Debug, Default)]
struct Probes {
    health_checks: u64,
    health_failures: u64,
    queries: Vec<Duration>,
    query_failures: u64,
}

/// Runs an overload run (see the module docs). Unmet requirements are in the report's
/// failures; an error means the run itself could not go on (the node would not start).
pub fn run(options: &OverloadOptions) -> Result<OverloadReport, NodeError> {
    if options.clients == 0 || options.large_clients > options.clients {
        return Err(NodeError::Argument {
            name: "--clients",
            reason: "at least one client, and no more large clients than clients".into(),
        });
    }
    let temp = match &options.work_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(io("creating the run's directory"))?),
    };
    let work_dir = match (&options.work_dir, &temp) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temp)) => temp.path().to_path_buf(),
        (None, None) => return Err(NodeError::Server("no work dir".into())),
    };
    std::fs::create_dir_all(&work_dir).map_err(io("creating the run's directory"))?;
    let genesis = work_dir.join("genesis.json");
    let accounts: Vec<serde_json::Value> = (0..options.clients)
        .map(|i| {
            serde_json::json!({
                "key": hex::encode(key(i).verifying_key().to_bytes()),
                "balance": (1u128 << 100).to_string(),
            })
        })
        .collect();
    std::fs::write(
        &genesis,
        serde_json::json!({ "network_id": NETWORK_ID, "accounts": accounts }).to_string(),
    )
    .map_err(io("writing the genesis"))?;
    let data_dir = work_dir.join("data");
    let _ = std::fs::remove_dir_all(&data_dir);
    let command = ServeCommand {
        binary: options.binary.clone(),
        data_dir,
        flags: [
            "--genesis".to_owned(),
            genesis.to_string_lossy().into_owned(),
            "--mempool-max".into(),
            options.mempool_max.to_string(),
            "--mempool-max-bytes".into(),
            options.mempool_max_bytes.to_string(),
            // Frames are sealed on the interval only (a frame never fills before the mempool
            // does): the node drains at most `mempool_max` messages per interval.
            "--frame-max".into(),
            options.mempool_max.saturating_mul(4).to_string(),
            "--frame-interval-ms".into(),
            options.frame_interval_ms.to_string(),
        ]
        .into(),
        log: work_dir.join("node.log"),
    };
    let runtime = crate::server::runtime()?;
    let node = ServeProcess::start(&command)?;
    let mut report = runtime.block_on(flood(&node, options))?;
    report.peak_rss_kb = node.peak_rss_kb().unwrap_or(0);
    report.rss_bound_kb = options.rss_bound_kb;
    node.kill()?;
    if report.peak_rss_kb == 0 {
        report
            .failures
            .push("the node's peak RSS could not be read from /proc".into());
    } else if report.peak_rss_kb > options.rss_bound_kb {
        report.failures.push(format!(
            "peak RSS {} KiB over the bound of {} KiB",
            report.peak_rss_kb, options.rss_bound_kb
        ));
    }
    if !report.passed() {
        report.kept = Some(match temp {
            Some(temp) => temp.keep(),
            None => work_dir,
        });
    }
    Ok(report)
}

/// One client's message source.
enum Source {
    Small(TokenClient, Key),
    Large(HypergraphClient, Domain),
}

impl Source {
    fn next(&mut self, rng: &mut SplitMix64, counter: u64, large_bytes: usize) -> SignedRequest {
        match self {
            Source::Small(client, to) => {
                let memo_len = usize::try_from(rng.below(257)).unwrap_or(0);
                client.transfer_with_memo(NATIVE_TOKEN, *to, 1, random_bytes(rng, memo_len))
            }
            Source::Large(client, graph) => {
                let mut key = [0u8; 32];
                if let Some(first) = key.first_chunk_mut::<8>() {
                    *first = (counter % VERTEX_KEYS).to_le_bytes();
                }
                client.vertex_add(*graph, key, random_bytes(rng, large_bytes))
            }
        }
    }
}

/// `len` bytes from `rng`.
fn random_bytes(rng: &mut SplitMix64, len: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(len.saturating_add(8));
    while bytes.len() < len {
        bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

async fn flood(
    node: &ServeProcess,
    options: &OverloadOptions,
) -> Result<OverloadReport, NodeError> {
    let url = node.grpc.clone();
    // Setup: each large client deploys its hypergraph, committed before the flood.
    let mut sources = Vec::with_capacity(options.clients);
    let mut deploys = Vec::new();
    let publics: Vec<Key> = (0..options.clients)
        .map(|i| key(i).verifying_key().to_bytes())
        .collect();
    let mut setup = NodeClient::new(channel(&url).await?);
    for i in 0..options.clients {
        let to = publics
            .get((i + 1) % publics.len())
            .copied()
            .unwrap_or([0; 32]);
        if i < options.large_clients {
            let mut client = HypergraphClient::new(key(i), NETWORK_ID, 1);
            let (graph, deploy) = client.deploy(HypergraphSpec::new().writer(client.public_key()));
            let hash = submit_once(&mut setup, &deploy).await?;
            deploys.push(hash);
            sources.push(Source::Large(client, graph));
        } else {
            sources.push(Source::Small(TokenClient::new(key(i), NETWORK_ID, 1), to));
        }
    }
    let setup_deadline = Instant::now() + Duration::from_secs(60);
    for hash in &deploys {
        if !wait_committed(&mut setup, *hash, setup_deadline).await? {
            return Err(NodeError::Answer(
                "a hypergraph deploy was not committed within 60 s".into(),
            ));
        }
    }

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut tasks = Vec::new();
    for (i, source) in sources.into_iter().enumerate() {
        let client = NodeClient::new(channel(&url).await?);
        let tally = Arc::clone(&tally);
        let seed = options.seed
            ^ u64::try_from(i)
                .unwrap_or(0)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let large_bytes = options.large_bytes;
        tasks.push(tokio::spawn(flood_client(
            client,
            source,
            seed,
            large_bytes,
            deadline,
            tally,
        )));
    }
    let probes = tokio::spawn(probe(channel(&url).await?, deadline));
    for task in tasks {
        let _ = task.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let probes = probes
        .await
        .map_err(|e| NodeError::Server(format!("prober task: {e}")))?;

    // Every accepted message must end in a receipt.
    let drain_started = Instant::now();
    let accepted = std::mem::take(&mut *tally.accepted.lock());
    let committed = Arc::new(AtomicU64::new(0));
    let drain_deadline = drain_started + options.drain_timeout;
    let chunk = accepted.len().div_ceil(STATUS_WORKERS).max(1);
    let mut workers = Vec::new();
    for hashes in accepted.chunks(chunk) {
        let hashes = hashes.to_vec();
        let mut client = NodeClient::new(channel(&url).await?);
        let committed = Arc::clone(&committed);
        workers.push(tokio::spawn(async move {
            for hash in hashes {
                match wait_committed(&mut client, hash, drain_deadline).await {
                    Ok(true) => {
                        committed.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => return,
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let drain_seconds = drain_started.elapsed().as_secs_f64();

    let mut queries = probes.queries.clone();
    queries.sort();
    let percentile = |p: usize| {
        queries
            .len()
            .checked_sub(1)
            .and_then(|last| queries.get(last * p / 100))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let mut report = OverloadReport {
        clients: options.clients,
        seconds,
        refusals: tally.refusals.load(Ordering::Relaxed),
        other_errors: tally.other_errors.load(Ordering::Relaxed),
        accepted: u64::try_from(accepted.len()).unwrap_or(u64::MAX),
        accepted_large: tally.accepted_large.load(Ordering::Relaxed),
        committed: committed.load(Ordering::Relaxed),
        drain_seconds,
        health_checks: probes.health_checks,
        health_failures: probes.health_failures,
        queries: u64::try_from(probes.queries.len()).unwrap_or(u64::MAX) + probes.query_failures,
        query_failures: probes.query_failures,
        query_p50_ms: percentile(50),
        query_p99_ms: percentile(99),
        query_max_ms: percentile(100),
        query_p99_bound_ms: options.query_p99.as_secs_f64() * 1e3,
        ..OverloadReport::default()
    };
    let mut failures = Vec::new();
    if report.refusals == 0 {
        failures.push("no submit was refused with RESOURCE_EXHAUSTED: the flood did not exceed the node's capacity".into());
    }
    if report.other_errors > 0 {
        failures.push(format!(
            "{} submits failed otherwise than RESOURCE_EXHAUSTED: {:?}",
            report.other_errors,
            tally.details.lock()
        ));
    }
    if report.accepted == 0 {
        failures.push("no message was accepted".into());
    }
    if report.committed != report.accepted {
        failures.push(format!(
            "{} messages accepted but only {} committed within {:?}",
            report.accepted, report.committed, options.drain_timeout
        ));
    }
    if report.health_checks == 0 || report.health_failures > 0 {
        failures.push(format!(
            "health: {} of {} checks not SERVING",
            report.health_failures, report.health_checks
        ));
    }
    if probes.queries.is_empty() || report.query_failures > 0 {
        failures.push(format!(
            "queries: {} of {} failed",
            report.query_failures, report.queries
        ));
    }
    if report.query_p99_ms > report.query_p99_bound_ms {
        failures.push(format!(
            "query p99 {:.1} ms over the bound of {:.0} ms",
            report.query_p99_ms, report.query_p99_bound_ms
        ));
    }
    report.failures = failures;
    Ok(report)
}

async fn submit_once(
    client: &mut NodeClient<Channel>,
    request: &SignedRequest,
) -> Result<[u8; 32], NodeError> {
    let message = request.to_bytes();
    let hash = *blake3::hash(&message).as_bytes();
    client
        .submit(SubmitRequest {
            target: request.target.0.to_vec(),
            message,
        })
        .await
        .map_err(rpc("submit"))?;
    Ok(hash)
}

/// Polls the status of `hash` until committed (`true`) or `deadline` (`false`).
async fn wait_committed(
    client: &mut NodeClient<Channel>,
    hash: [u8; 32],
    deadline: Instant,
) -> Result<bool, NodeError> {
    loop {
        let status = client
            .status(StatusRequest {
                message_hash: hash.to_vec(),
            })
            .await
            .map_err(rpc("status"))?
            .into_inner();
        if status.state() == State::Committed {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn flood_client(
    mut client: NodeClient<Channel>,
    mut source: Source,
    seed: u64,
    large_bytes: usize,
    deadline: Instant,
    tally: Arc<Tally>,
) {
    let mut rng = SplitMix64::new(seed);
    let large = matches!(source, Source::Large(..));
    for counter in 0..MAX_SUBMITS_PER_CLIENT {
        if Instant::now() >= deadline {
            return;
        }
        let request = source.next(&mut rng, counter, large_bytes);
        let message = request.to_bytes();
        let hash = *blake3::hash(&message).as_bytes();
        let submit = SubmitRequest {
            target: request.target.0.to_vec(),
            message,
        };
        // The same bytes until accepted or the flood ends (bounded by the deadline).
        loop {
            match client.submit(submit.clone()).await {
                Ok(_) => {
                    tally.accepted.lock().push(hash);
                    if large {
                        tally.accepted_large.fetch_add(1, Ordering::Relaxed);
                    }
                    break;
                }
                Err(status) if status.code() == tonic::Code::ResourceExhausted => {
                    tally.refusals.fetch_add(1, Ordering::Relaxed);
                    if Instant::now() >= deadline {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                Err(status) => {
                    tally.other(format!("{:?}: {}", status.code(), status.message()));
                    return;
                }
            }
        }
    }
}

/// Health and a balance query every [`PROBE_EVERY`] until `deadline`, on their own connection.
async fn probe(channel: Channel, deadline: Instant) -> Probes {
    let mut health = HealthClient::new(channel.clone());
    let mut node = NodeClient::new(channel);
    let query = TokenQuery {
        query: Some(token_query::Query::Balance(token_query::Balance {
            account: key(0).verifying_key().to_bytes().to_vec(),
        })),
    }
    .to_canonical_bytes();
    let mut probes = Probes::default();
    while Instant::now() < deadline {
        probes.health_checks += 1;
        let answer = tokio::time::timeout(
            PROBE_TIMEOUT,
            health.check(HealthCheckRequest {
                service: String::new(),
            }),
        )
        .await;
        let serving = matches!(
            answer,
            Ok(Ok(ref response)) if response.get_ref().status() == ServingStatus::Serving
        );
        if !serving {
            probes.health_failures += 1;
        }
        let asked = Instant::now();
        let answer = tokio::time::timeout(
            PROBE_TIMEOUT,
            node.query(QueryRequest {
                target: NATIVE_TOKEN.0.to_vec(),
                query: query.clone(),
            }),
        )
        .await;
        match answer {
            Ok(Ok(_)) => probes.queries.push(asked.elapsed()),
            _ => probes.query_failures += 1,
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
    probes
}
