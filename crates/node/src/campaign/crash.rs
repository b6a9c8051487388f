//! The crash campaign: a real `switchyard serve --dev` child process under a steady gRPC submit
//! load, SIGKILLed at random moments and restarted on the same data dir, run after run.
//!
//! Each run starts the node (free loopback ports), resynchronises every load key's nonce from
//! the `Account` RPC, and starts the load: one submitter per dev key (signed native transfers
//! of seeded amounts to the next dev key, each recorded by hash before it is sent), a watcher
//! that fetches the canonical receipt of every new head, and a status checker that asks the
//! `Status` RPC about accepted messages. After a delay drawn from a [`SplitMix64`] seeded with
//! the campaign's seed (printed, so a run can be repeated), the node is SIGKILLed mid-load.
//!
//! After every restart: the head is at or past every head the load saw, with the root it saw;
//! every receipt fetched before the kill is byte-identical; every message the `Status` RPC
//! reported committed is in its frame's receipt at its index, and still reported there.
//!
//! At the end the campaign rebuilds every frame from the node's receipts (each outcome's
//! message hash names the bytes the campaign submitted; fee multiplier and recipient come from
//! the receipt) and runs them in this process through a [`Manager`] with every engine on a
//! memory store from the same dev genesis, signatures checked again: every receipt and the
//! final head and root must equal the node's, as an uninterrupted run fed the same messages in
//! the same order. Any difference counts as a mismatch.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;
use switchyard_manager::{Frame, Manager};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::node_client::NodeClient;
use switchyard_proto::v1::status_response::State;
use switchyard_proto::v1::{
    AccountRequest, FrameReceipt, HeadRequest, NodeHead, ReceiptRequest, StatusRequest,
    SubmitRequest,
};
use switchyard_router::Key;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_state::MemoryStore;
use switchyard_testkit::rng::SplitMix64;
use switchyard_token::TokenClient;
use tonic::transport::Channel;

use super::process::{ServeCommand, ServeProcess, channel};
use crate::NodeError;
use crate::genesis::{DEV_NETWORK_ID, Genesis};
use crate::keys::{DEV_KEY_NAMES, dev_key};

/// Most mismatches described in the report (all are counted).
const MAX_DETAILS: usize = 20;
/// Most messages one submitter sends in one run.
const MAX_SUBMITS_PER_RUN: u64 = 1_000_000;
/// Most retries of one message the mempool refused.
const MAX_RETRIES: u32 = 1_000;
/// Longest the load's tasks may take to stop after the kill.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the watcher asks for the head.
const WATCH_EVERY: Duration = Duration::from_millis(20);
/// How often the status checker asks about accepted messages, and how many each time.
const STATUS_EVERY: Duration = Duration::from_millis(50);
const STATUS_BATCH: usize = 64;
/// Most frames the final check rebuilds.
const MAX_FRAMES: u64 = 1_000_000;

/// What a crash campaign does.
#[derive(Debug, Clone)]
pub struct CrashOptions {
    /// The `switchyard` binary to run.
    pub binary: PathBuf,
    /// Kills (each followed by a restart).
    pub runs: usize,
    /// Seed of the kill delays and the load's amounts.
    pub seed: u64,
    /// Shortest time from a start to its kill.
    pub min_run: Duration,
    /// Longest time from a start to its kill.
    pub max_run: Duration,
    /// Frame interval of the node, milliseconds.
    pub frame_interval_ms: u64,
    /// Where the data dir and the node's log go (default: a temporary directory, kept when
    /// there are mismatches).
    pub work_dir: Option<PathBuf>,
}

impl CrashOptions {
    /// `runs` runs of `binary` with the default timings (0.5 to 3 s per run).
    pub fn new(binary: impl Into<PathBuf>, runs: usize, seed: u64) -> Self {
        Self {
            binary: binary.into(),
            runs,
            seed,
            min_run: Duration::from_millis(500),
            max_run: Duration::from_millis(3_000),
            frame_interval_ms: 50,
            work_dir: None,
        }
    }
}

/// What a crash campaign saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrashReport {
    /// The seed (repeat a campaign's delays and amounts with it).
    pub seed: u64,
    /// Runs completed (a start, load, then a kill).
    pub runs: usize,
    /// SIGKILLs sent.
    pub kills: usize,
    /// The final head's frame number.
    pub frames: u64,
    /// Messages signed and sent.
    pub submitted: u64,
    /// Messages the node accepted (Submit answered with a hash).
    pub accepted: u64,
    /// Submits refused with RESOURCE_EXHAUSTED (retried).
    pub refused: u64,
    /// Messages in the final receipts.
    pub committed: u64,
    /// Receipt comparisons across restarts.
    pub receipts_checked: u64,
    /// Committed statuses checked against receipts across restarts.
    pub statuses_checked: u64,
    /// Frames rebuilt and re-executed in process at the end.
    pub frames_replayed: u64,
    /// Seconds the whole campaign took.
    pub seconds: f64,
    /// Differences found (must be 0).
    pub mismatches: usize,
    /// The first differences, described.
    pub details: Vec<String>,
    /// Where the data dir and log are, when kept.
    pub kept: Option<PathBuf>,
}

impl CrashReport {
    fn mismatch(&mut self, what: String) {
        self.mismatches += 1;
        if self.details.len() < MAX_DETAILS {
            self.details.push(what);
        }
    }

    /// One line per figure, for people.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "crash campaign: seed {}, runs {}, kills {}, mismatches {} ({:.1} s)\n  final head frame {}, submitted {}, accepted {}, refused (RESOURCE_EXHAUSTED) {}, committed {}\n  receipts compared across restarts {}, committed statuses checked {}, frames replayed in process {}\n",
            self.seed,
            self.runs,
            self.kills,
            self.mismatches,
            self.seconds,
            self.frames,
            self.submitted,
            self.accepted,
            self.refused,
            self.committed,
            self.receipts_checked,
            self.statuses_checked,
            self.frames_replayed,
        );
        for detail in &self.details {
            text.push_str(&format!("  MISMATCH {detail}\n"));
        }
        if let Some(dir) = &self.kept {
            text.push_str(&format!("  data dir and log kept in {}\n", dir.display()));
        }
        text
    }
}

/// A message the `Status` RPC reported committed.
#[derive(Debug, Clone, Copy)]
struct Reported {
    hash: [u8; 32],
    frame: u64,
    index: u32,
}

/// What the load saw, across runs.
#[derive(Debug, Default)]
struct Ledger {
    /// Every message signed, by hash: (target, canonical bytes).
    sent: HashMap<[u8; 32], (Vec<u8>, Vec<u8>)>,
    /// Accepted messages whose status is still to ask (this run).
    unchecked: VecDeque<[u8; 32]>,
    /// Canonical receipts fetched, by frame.
    receipts: BTreeMap<u64, Vec<u8>>,
    /// Messages reported committed.
    reported: Vec<Reported>,
    /// How many of them a restart already checked.
    reported_checked: usize,
    /// The highest head seen: (frame, root).
    head_seen: Option<(u64, Vec<u8>)>,
}

#[derive(Debug, Default)]
struct Counters {
    submitted: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
}

fn load_keys() -> Vec<SigningKey> {
    DEV_KEY_NAMES
        .iter()
        .filter_map(|name| dev_key(name))
        .collect()
}

fn rpc(call: &'static str) -> impl FnOnce(tonic::Status) -> NodeError {
    move |status| NodeError::Rpc {
        call,
        status: Box::new(status),
    }
}

/// Runs a crash campaign (see the module docs). Mismatches are in the report; an error means
/// the campaign itself could not run (the node would not start, an RPC failed on a live node).
pub fn run(options: &CrashOptions) -> Result<CrashReport, NodeError> {
    if options.runs == 0 || options.min_run > options.max_run {
        return Err(NodeError::Argument {
            name: "--runs",
            reason: "at least one run, and a shortest run no longer than the longest".into(),
        });
    }
    let temp = match &options.work_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(|source| NodeError::Io {
            context: "creating the campaign's directory",
            source,
        })?),
    };
    let work_dir = match (&options.work_dir, &temp) {
        (Some(dir), _) => dir.clone(),
        (None, Some(temp)) => temp.path().to_path_buf(),
        (None, None) => return Err(NodeError::Server("no work dir".into())),
    };
    std::fs::create_dir_all(&work_dir).map_err(|source| NodeError::Io {
        context: "creating the campaign's directory",
        source,
    })?;
    let command = ServeCommand {
        binary: options.binary.clone(),
        data_dir: work_dir.join("data"),
        flags: vec![
            "--dev".into(),
            "--frame-interval-ms".into(),
            options.frame_interval_ms.to_string(),
        ],
        log: work_dir.join("node.log"),
    };
    let runtime = crate::server::runtime()?;
    let mut rng = SplitMix64::new(options.seed);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let counters = Arc::new(Counters::default());
    let mut report = CrashReport {
        seed: options.seed,
        ..CrashReport::default()
    };
    let started = Instant::now();
    let spread = options.max_run.saturating_sub(options.min_run);
    let spread_ms = u64::try_from(spread.as_millis()).unwrap_or(u64::MAX);
    for run in 1..=options.runs {
        let node = ServeProcess::start(&command)?;
        if run > 1 {
            runtime.block_on(check_restart(&node.grpc, &ledger, false, &mut report))?;
        }
        let delay = options.min_run + Duration::from_millis(rng.below(spread_ms.saturating_add(1)));
        let load_seed = rng.next_u64();
        let killed = runtime.block_on(load_then_kill(
            node,
            delay,
            load_seed,
            Arc::clone(&ledger),
            Arc::clone(&counters),
        ))?;
        report.runs = run;
        report.kills += usize::from(killed);
        let head = ledger.lock().head_seen.as_ref().map_or(0, |(f, _)| *f);
        eprintln!(
            "crash run {run}/{}: killed after {delay:?}, head seen {head}, accepted so far {}",
            options.runs,
            counters.accepted.load(Ordering::Relaxed)
        );
    }
    // The last restart: check it, then rebuild every frame in process.
    let node = ServeProcess::start(&command)?;
    runtime.block_on(check_restart(&node.grpc, &ledger, true, &mut report))?;
    let frames = runtime.block_on(all_receipts(&node.grpc))?;
    node.kill()?;
    replay(&frames, &ledger.lock(), &mut report)?;
    report.submitted = counters.submitted.load(Ordering::Relaxed);
    report.accepted = counters.accepted.load(Ordering::Relaxed);
    report.refused = counters.refused.load(Ordering::Relaxed);
    report.seconds = started.elapsed().as_secs_f64();
    if report.mismatches > 0 {
        report.kept = Some(match temp {
            Some(temp) => temp.keep(),
            None => work_dir,
        });
    }
    Ok(report)
}

/// Starts the load on `node`, kills the node after `delay`, then stops the load. Returns
/// whether the kill was sent.
async fn load_then_kill(
    node: ServeProcess,
    delay: Duration,
    seed: u64,
    ledger: Arc<Mutex<Ledger>>,
    counters: Arc<Counters>,
) -> Result<bool, NodeError> {
    let url = node.grpc.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let keys = load_keys();
    let publics: Vec<Key> = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
    ledger.lock().unchecked.clear();
    for (i, key) in keys.into_iter().enumerate() {
        let mut client = NodeClient::new(channel(&url).await?);
        // Resynchronise the nonce: whatever the last run submitted and lost is gone.
        let nonce = client
            .account(AccountRequest {
                account: key.verifying_key().to_bytes().to_vec(),
            })
            .await
            .map_err(rpc("account"))?
            .into_inner()
            .nonce;
        let signer = TokenClient::new(key, DEV_NETWORK_ID, nonce.saturating_add(1));
        let to = publics
            .get((i + 1) % publics.len())
            .copied()
            .unwrap_or([0; 32]);
        let seed = seed ^ u64::try_from(i).unwrap_or(0).wrapping_mul(0x9E37_79B9);
        tasks.push(tokio::spawn(submitter(
            client,
            signer,
            to,
            seed,
            Arc::clone(&stop),
            Arc::clone(&ledger),
            Arc::clone(&counters),
        )));
    }
    tasks.push(tokio::spawn(watcher(
        NodeClient::new(channel(&url).await?),
        Arc::clone(&stop),
        Arc::clone(&ledger),
    )));
    tasks.push(tokio::spawn(status_checker(
        NodeClient::new(channel(&url).await?),
        Arc::clone(&stop),
        Arc::clone(&ledger),
    )));
    tokio::time::sleep(delay).await;
    let killed = tokio::task::spawn_blocking(move || node.kill())
        .await
        .map_err(|e| NodeError::Server(format!("kill task: {e}")))?;
    stop.store(true, Ordering::Relaxed);
    let deadline = tokio::time::Instant::now() + STOP_TIMEOUT;
    for task in tasks {
        let abort = task.abort_handle();
        if tokio::time::timeout_at(deadline, task).await.is_err() {
            abort.abort();
        }
    }
    killed.map(|()| true)
}

/// Signs and submits transfers until stopped or the node goes away; a message the mempool
/// refuses is sent again, the same bytes.
async fn submitter(
    mut client: NodeClient<Channel>,
    mut signer: TokenClient,
    to: Key,
    seed: u64,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
    counters: Arc<Counters>,
) {
    let mut rng = SplitMix64::new(seed);
    for _ in 0..MAX_SUBMITS_PER_RUN {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let amount = 1 + u128::from(rng.below(1_000));
        let (target, message) = signer.transfer(NATIVE_TOKEN, to, amount).into_parts();
        let hash = *blake3::hash(&message).as_bytes();
        ledger
            .lock()
            .sent
            .insert(hash, (target.0.to_vec(), message.clone()));
        counters.submitted.fetch_add(1, Ordering::Relaxed);
        let request = SubmitRequest {
            target: target.0.to_vec(),
            message,
        };
        let mut retries = 0;
        loop {
            match client.submit(request.clone()).await {
                Ok(_) => {
                    counters.accepted.fetch_add(1, Ordering::Relaxed);
                    ledger.lock().unchecked.push_back(hash);
                    break;
                }
                Err(status)
                    if status.code() == tonic::Code::ResourceExhausted
                        && retries < MAX_RETRIES
                        && !stop.load(Ordering::Relaxed) =>
                {
                    counters.refused.fetch_add(1, Ordering::Relaxed);
                    retries += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                // The node is gone (killed) or refused for good: this run's load ends here.
                Err(_) => return,
            }
        }
    }
}

/// Fetches the canonical receipt of every new head and remembers the highest head.
async fn watcher(
    mut client: NodeClient<Channel>,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
) {
    let mut next = ledger
        .lock()
        .receipts
        .last_key_value()
        .map_or(1, |(f, _)| f.saturating_add(1));
    while !stop.load(Ordering::Relaxed) {
        let Ok(head) = client
            .head(HeadRequest {})
            .await
            .map(tonic::Response::into_inner)
        else {
            return;
        };
        while next <= head.frame_number {
            let Ok(answer) = client
                .receipt(ReceiptRequest { frame_number: next })
                .await
                .map(tonic::Response::into_inner)
            else {
                return;
            };
            ledger.lock().receipts.insert(next, answer.canonical);
            next = next.saturating_add(1);
        }
        {
            let mut ledger = ledger.lock();
            if ledger
                .head_seen
                .as_ref()
                .is_none_or(|(frame, _)| *frame < head.frame_number)
            {
                ledger.head_seen = Some((head.frame_number, head.state_root));
            }
        }
        tokio::time::sleep(WATCH_EVERY).await;
    }
}

/// Asks the `Status` RPC about accepted messages; remembers those reported committed.
async fn status_checker(
    mut client: NodeClient<Channel>,
    stop: Arc<AtomicBool>,
    ledger: Arc<Mutex<Ledger>>,
) {
    while !stop.load(Ordering::Relaxed) {
        let batch: Vec<[u8; 32]> = {
            let mut ledger = ledger.lock();
            let n = ledger.unchecked.len().min(STATUS_BATCH);
            ledger.unchecked.drain(..n).collect()
        };
        for hash in batch {
            let Ok(status) = client
                .status(StatusRequest {
                    message_hash: hash.to_vec(),
                })
                .await
                .map(tonic::Response::into_inner)
            else {
                return;
            };
            let mut ledger = ledger.lock();
            match status.state() {
                State::Committed => ledger.reported.push(Reported {
                    hash,
                    frame: status.frame_number,
                    index: status.index,
                }),
                // Asked again later.
                _ => ledger.unchecked.push_back(hash),
            }
        }
        tokio::time::sleep(STATUS_EVERY).await;
    }
}

async fn receipt(
    client: &mut NodeClient<Channel>,
    frame: u64,
) -> Result<Option<(FrameReceipt, Vec<u8>)>, NodeError> {
    match client
        .receipt(ReceiptRequest {
            frame_number: frame,
        })
        .await
    {
        Ok(answer) => {
            let answer = answer.into_inner();
            let receipt = FrameReceipt::from_canonical_bytes(&answer.canonical)?;
            Ok(Some((receipt, answer.canonical)))
        }
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(rpc("receipt")(status)),
    }
}

/// The checks after a restart (see the module docs); the statuses reported since the last
/// restart, or every one with `all`.
async fn check_restart(
    url: &str,
    ledger: &Mutex<Ledger>,
    all: bool,
    report: &mut CrashReport,
) -> Result<(), NodeError> {
    let mut client = NodeClient::new(channel(url).await?);
    let head: NodeHead = client
        .head(HeadRequest {})
        .await
        .map_err(rpc("head"))?
        .into_inner();
    let (head_seen, receipts, reported) = {
        let mut ledger = ledger.lock();
        let from = match all {
            true => 0,
            false => ledger.reported_checked,
        };
        ledger.reported_checked = ledger.reported.len();
        (
            ledger.head_seen.clone(),
            ledger.receipts.clone(),
            ledger.reported.get(from..).unwrap_or_default().to_vec(),
        )
    };
    let mut cache: HashMap<u64, Option<(FrameReceipt, Vec<u8>)>> = HashMap::new();
    if let Some((frame, root)) = head_seen {
        if head.frame_number < frame {
            report.mismatch(format!(
                "head {} after the restart is behind head {frame} seen before the kill",
                head.frame_number
            ));
        } else if frame > 0 {
            let fetched = receipt(&mut client, frame).await?;
            match &fetched {
                Some((r, _)) if r.state_root == root => {}
                Some((r, _)) => report.mismatch(format!(
                    "frame {frame}: root {} after the restart, {} seen before the kill",
                    hex::encode(&r.state_root),
                    hex::encode(&root)
                )),
                None => report.mismatch(format!("frame {frame}: no receipt after the restart")),
            }
            cache.insert(frame, fetched);
        }
    }
    for (frame, before) in &receipts {
        let after = match cache.get(frame) {
            Some(fetched) => fetched.clone(),
            None => receipt(&mut client, *frame).await?,
        };
        report.receipts_checked += 1;
        match &after {
            Some((_, bytes)) if bytes == before => {}
            Some(_) => report.mismatch(format!(
                "frame {frame}: the receipt changed across a restart"
            )),
            None => report.mismatch(format!(
                "frame {frame}: the receipt is gone after a restart"
            )),
        }
        cache.insert(*frame, after);
    }
    for r in &reported {
        report.statuses_checked += 1;
        let fetched = match cache.get(&r.frame) {
            Some(fetched) => fetched.clone(),
            None => receipt(&mut client, r.frame).await?,
        };
        let found = fetched.as_ref().and_then(|(receipt, _)| {
            receipt
                .outcomes
                .iter()
                .find(|o| o.index == r.index)
                .map(|o| o.message_hash.as_slice() == r.hash.as_slice())
        });
        if found != Some(true) {
            report.mismatch(format!(
                "message {} reported committed in frame {} at {} is not there after a restart",
                hex::encode(r.hash),
                r.frame,
                r.index
            ));
        }
        cache.insert(r.frame, fetched);
        let status = client
            .status(StatusRequest {
                message_hash: r.hash.to_vec(),
            })
            .await
            .map_err(rpc("status"))?
            .into_inner();
        if status.state() != State::Committed
            || status.frame_number != r.frame
            || status.index != r.index
        {
            report.mismatch(format!(
                "message {}: status {:?} frame {} index {} after a restart, committed in frame {} at {} before",
                hex::encode(r.hash),
                status.state(),
                status.frame_number,
                status.index,
                r.frame,
                r.index
            ));
        }
    }
    Ok(())
}

/// Every committed frame's receipt, and the head, of the node at `url`.
async fn all_receipts(url: &str) -> Result<(NodeHead, Vec<(FrameReceipt, Vec<u8>)>), NodeError> {
    let mut client = NodeClient::new(channel(url).await?);
    let head = client
        .head(HeadRequest {})
        .await
        .map_err(rpc("head"))?
        .into_inner();
    let mut frames = Vec::new();
    for frame in 1..=head.frame_number.min(MAX_FRAMES) {
        let fetched = receipt(&mut client, frame).await?.ok_or_else(|| {
            NodeError::Answer(format!(
                "frame {frame} has no receipt below head {}",
                head.frame_number
            ))
        })?;
        frames.push(fetched);
    }
    Ok((head, frames))
}

/// Rebuilds every frame from the node's receipts and the messages the campaign signed, runs
/// them through an in-process manager from the dev genesis, and compares.
fn replay(
    (head, frames): &(NodeHead, Vec<(FrameReceipt, Vec<u8>)>),
    ledger: &Ledger,
    report: &mut CrashReport,
) -> Result<(), NodeError> {
    report.frames = head.frame_number;
    let reference = Manager::builder()
        .engines(crate::engines::all())
        .store(Arc::new(MemoryStore::new()))
        .network_id(DEV_NETWORK_ID)
        .threads(2)
        .build()?;
    reference.genesis(0, &Genesis::dev().changes()?)?;
    let started = Instant::now();
    for (receipt, canonical) in frames {
        let number = receipt.frame_number;
        let recipient: Key = match receipt.fee_recipient.len() {
            0 => [0; 32],
            _ => receipt
                .fee_recipient
                .as_slice()
                .try_into()
                .map_err(|_| NodeError::Answer(format!("frame {number}: fee recipient")))?,
        };
        let mut frame = Frame::new(number)
            .fee_multiplier(receipt.fee_multiplier)
            .fee_recipient(recipient);
        let mut complete = true;
        for (position, outcome) in receipt.outcomes.iter().enumerate() {
            if usize::try_from(outcome.index).ok() != Some(position) {
                report.mismatch(format!(
                    "frame {number}: outcome {position} has index {}",
                    outcome.index
                ));
            }
            let hash: Option<[u8; 32]> = outcome.message_hash.as_slice().try_into().ok();
            match hash.and_then(|h| ledger.sent.get(&h)) {
                Some((target, message)) => frame.messages.push((target.clone(), message.clone())),
                None => {
                    complete = false;
                    report.mismatch(format!(
                        "frame {number}: message {} was never submitted by the campaign",
                        hex::encode(&outcome.message_hash)
                    ));
                }
            }
        }
        report.committed += u64::try_from(frame.messages.len()).unwrap_or(u64::MAX);
        if !complete {
            // The reference cannot follow past a frame it cannot rebuild.
            return Ok(());
        }
        let result = reference.execute_frame(&frame)?;
        report.frames_replayed += 1;
        if &result.receipt.to_canonical_bytes() != canonical {
            report.mismatch(format!(
                "frame {number}: the uninterrupted run's receipt differs from the node's"
            ));
        }
    }
    let head_after = reference.head();
    match head_after {
        Some(h)
            if h.frame_number == head.frame_number
                && h.state_root.0.as_slice() == head.state_root.as_slice() => {}
        other => report.mismatch(format!(
            "the uninterrupted run ends at {other:?}, the node at frame {} root {}",
            head.frame_number,
            hex::encode(&head.state_root)
        )),
    }
    tracing::debug!(elapsed = ?started.elapsed(), "replay");
    reference.close()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Frames = (NodeHead, Vec<(FrameReceipt, Vec<u8>)>);

    /// Two frames of dev-key transfers executed by a "node" (a memory store), and the ledger
    /// of what was signed.
    fn node_run() -> (Frames, Ledger) {
        let node = Manager::builder()
            .engines(crate::engines::all())
            .store(Arc::new(MemoryStore::new()))
            .network_id(DEV_NETWORK_ID)
            .build()
            .unwrap();
        node.genesis(0, &Genesis::dev().changes().unwrap()).unwrap();
        let keys = load_keys();
        let to = keys[1].verifying_key().to_bytes();
        let mut signer = TokenClient::new(keys[0].clone(), DEV_NETWORK_ID, 1);
        let mut ledger = Ledger::default();
        let mut frames = Vec::new();
        for number in 1..=2 {
            let mut frame = Frame::new(number).fee_multiplier(number).fee_recipient(to);
            for amount in 1..=3 {
                let (target, message) = signer.transfer(NATIVE_TOKEN, to, amount).into_parts();
                let hash = *blake3::hash(&message).as_bytes();
                ledger
                    .sent
                    .insert(hash, (target.0.to_vec(), message.clone()));
                frame.messages.push((target.0.to_vec(), message));
            }
            let result = node.execute_frame(&frame).unwrap();
            frames.push((result.receipt.clone(), result.receipt.to_canonical_bytes()));
        }
        let head = node.head().unwrap();
        let head = NodeHead {
            frame_number: head.frame_number,
            state_root: head.state_root.0.to_vec(),
        };
        ((head, frames), ledger)
    }

    #[test]
    fn the_replay_matches_an_untouched_node_and_catches_every_difference() {
        let (frames, ledger) = node_run();
        let mut report = CrashReport::default();
        replay(&frames, &ledger, &mut report).unwrap();
        assert_eq!(report.mismatches, 0, "{:?}", report.details);
        assert_eq!((report.frames_replayed, report.committed), (2, 6));

        // A receipt that differs by one byte.
        let mut changed = frames.clone();
        let last = changed.1[1].1.len() - 1;
        changed.1[1].1[last] ^= 1;
        let mut report = CrashReport::default();
        replay(&changed, &ledger, &mut report).unwrap();
        assert_eq!(report.mismatches, 1, "{:?}", report.details);

        // A head the messages do not lead to.
        let mut changed = frames.clone();
        changed.0.state_root[0] ^= 1;
        let mut report = CrashReport::default();
        replay(&changed, &ledger, &mut report).unwrap();
        assert_eq!(report.mismatches, 1, "{:?}", report.details);

        // A committed message the campaign never signed.
        let mut unknown = Ledger::default();
        let hash: [u8; 32] = frames.1[0].0.outcomes[0]
            .message_hash
            .as_slice()
            .try_into()
            .unwrap();
        unknown.sent = ledger.sent.clone();
        unknown.sent.remove(&hash);
        let mut report = CrashReport::default();
        replay(&frames, &unknown, &mut report).unwrap();
        assert!(
            report.mismatches >= 1 && report.frames_replayed == 0,
            "{report:?}"
        );
    }
}
