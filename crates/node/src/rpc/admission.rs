//! Admission: gathers concurrent submissions (`Submit` and `SubmitBatch`) into batches and
//! validates each batch at once with [`Manager::validate_messages`], so that their signatures
//! are batch-verified (about half the cost of one at a time; see `docs/performance.md`).
//!
//! Submissions wait in a bounded queue ([`ADMISSION_QUEUE`] jobs; full: `RESOURCE_EXHAUSTED`).
//! The admission task takes whatever has arrived, up to [`ADMISSION_BATCH`] messages, as soon as
//! one of its [`verifiers`] is free (so batches grow with the load and a lone submission never
//! waits for company), and validates the batch off the async workers. Each message is then
//! decoded strictly, routed, its every signature verified once and checked by its engines
//! against the committed state, exactly as `validate_message` would; the ones that pass enter
//! the mempool in one step ([`Mempool::admit_batch`]: duplicates and bounds checked under its
//! lock).

use std::sync::Arc;

use switchyard_manager::Manager;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::RpcError;
use crate::index::MessageIndex;
use crate::producer::{Entry, Mempool};

/// Most messages validated in one batch. Batch verification gains little past a few hundred
/// signatures, and a batch's submitters all wait for its slowest message.
pub const ADMISSION_BATCH: usize = 256;

/// Most submission jobs (a `Submit`, or a `SubmitBatch` of up to [`MAX_SUBMIT_BATCH`]
/// messages) waiting for validation; beyond it submissions are refused with
/// `RESOURCE_EXHAUSTED`.
pub const ADMISSION_QUEUE: usize = 1024;

/// Most messages in one `SubmitBatch` call.
pub const MAX_SUBMIT_BATCH: usize = 1024;

/// Most bytes of messages (targets included) in one `SubmitBatch` call.
pub const MAX_SUBMIT_BATCH_BYTES: usize = 4 << 20;

/// Batches validated at the same time: one per core (each runs on the blocking pool).
pub(crate) fn verifiers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// One call's messages and the sender of their verdicts, in order.
#[derive(Debug)]
struct Job {
    entries: Vec<Entry>,
    reply_tx: oneshot::Sender<Vec<Result<(), RpcError>>>,
}

/// Hands submissions to the admission task.
#[derive(Debug, Clone)]
pub struct AdmissionHandle {
    job_tx: mpsc::Sender<Job>,
}

impl AdmissionHandle {
    /// Validates `entries` (size-checked, hashed) and admits those that pass to the mempool;
    /// returns a verdict per entry, in order. A full queue refuses them all with
    /// [`RpcError::AdmissionFull`]; a stopped node with [`RpcError::ShuttingDown`].
    pub async fn admit(&self, entries: Vec<Entry>) -> Result<Vec<Result<(), RpcError>>, RpcError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        self.job_tx
            .try_send(Job { entries, reply_tx })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => RpcError::AdmissionFull,
                mpsc::error::TrySendError::Closed(_) => RpcError::ShuttingDown,
            })?;
        reply_rx.await.map_err(|_| RpcError::ShuttingDown)
    }
}

/// What the admission task works with.
#[derive(Debug)]
pub(crate) struct Admission {
    /// Validates.
    pub(crate) manager: Manager,
    /// Where admitted messages go.
    pub(crate) mempool: Arc<Mempool>,
    /// Committed messages, for duplicate refusal.
    pub(crate) index: Arc<MessageIndex>,
    /// Ends the task.
    pub(crate) cancel: CancellationToken,
}

impl Admission {
    /// Spawns the admission task on the current runtime and returns its handle. The task
    /// ends when `cancel` is cancelled; queued submissions are then answered
    /// [`RpcError::ShuttingDown`].
    pub(crate) fn spawn(self) -> AdmissionHandle {
        let (job_tx, job_rx) = mpsc::channel(ADMISSION_QUEUE);
        tokio::spawn(self.run(job_rx));
        AdmissionHandle { job_tx }
    }

    async fn run(self, mut job_rx: mpsc::Receiver<Job>) {
        let verifiers = Arc::new(Semaphore::new(verifiers()));
        let this = Arc::new(self);
        loop {
            // A verifier first: while all are busy, submissions gather into the next batch.
            let permit = tokio::select! {
                () = this.cancel.cancelled() => break,
                permit = Arc::clone(&verifiers).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let first = tokio::select! {
                () = this.cancel.cancelled() => break,
                job = job_rx.recv() => match job {
                    Some(job) => job,
                    None => break,
                },
            };
            let mut size = first.entries.len();
            let mut jobs = vec![first];
            while size < ADMISSION_BATCH {
                match job_rx.try_recv() {
                    Ok(job) => {
                        size = size.saturating_add(job.entries.len());
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            let worker = Arc::clone(&this);
            tokio::task::spawn_blocking(move || {
                worker.validate(jobs);
                drop(permit);
            });
        }
        // Dropping a job's reply sender answers it ShuttingDown.
        job_rx.close();
    }

    /// Validates the jobs' messages as one batch, admits those that pass, answers each job.
    fn validate(&self, jobs: Vec<Job>) {
        let frame_number = self
            .manager
            .head()
            .map_or(1, |h| h.frame_number.saturating_add(1));
        let messages: Vec<(&[u8], &[u8])> = jobs
            .iter()
            .flat_map(|job| &job.entries)
            .map(|e| (e.target.as_slice(), e.message.as_slice()))
            .collect();
        let verdicts = self.manager.validate_messages(frame_number, &messages);
        drop(messages);
        let mut verdicts = verdicts.into_iter();
        let mut answers: Vec<(oneshot::Sender<_>, Vec<Result<(), RpcError>>)> =
            Vec::with_capacity(jobs.len());
        let mut passed = Vec::new();
        // Where each passing entry's verdict goes: (job, position).
        let mut places = Vec::new();
        for (job_index, job) in jobs.into_iter().enumerate() {
            let mut results = Vec::with_capacity(job.entries.len());
            for (position, mut entry) in job.entries.into_iter().enumerate() {
                match verdicts.next() {
                    Some(Ok(validated)) => {
                        results.push(Ok(()));
                        entry.signers = validated.signers;
                        passed.push(entry);
                        places.push((job_index, position));
                    }
                    Some(Err(error)) => results.push(Err(RpcError::from(error))),
                    None => results.push(Err(RpcError::Internal(
                        "admission gave fewer verdicts than messages".into(),
                    ))),
                }
            }
            answers.push((job.reply_tx, results));
        }
        let index = &self.index;
        let admitted = self.mempool.admit_batch(passed, |hashes| {
            index.committed(hashes).map_err(RpcError::from)
        });
        for ((job_index, position), admitted) in places.into_iter().zip(admitted) {
            if let Err(error) = admitted
                && let Some(slot) = answers
                    .get_mut(job_index)
                    .and_then(|(_, results)| results.get_mut(position))
            {
                *slot = Err(error);
            }
        }
        for (reply_tx, results) in answers {
            let _ = reply_tx.send(results);
        }
    }
}
