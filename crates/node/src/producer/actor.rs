//! The producer actor: the one task that executes frames.

// The actor speaks the manager's error type, as the manager's API returns it.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use switchyard_manager::{Frame, FrameResult, Manager, ManagerError, RetryPolicy};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{ExecuteFrameRequest, ExecuteFrameResponse, FrameReceipt, NodeHead};
use switchyard_router::{Key, Severity};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::client::ProducerHandle;
use super::mempool::Mempool;
use crate::index::MessageIndex;
use crate::rpc::RpcError;
use crate::telemetry::NodeMetrics;

/// How the node gets its frames.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Seals frames from the mempool every frame interval or at a full frame.
    Producer,
    /// Executes only the frames an external orderer hands it through the execution API.
    Follower,
}

impl Mode {
    /// "producer" or "follower".
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Producer => "producer",
            Mode::Follower => "follower",
        }
    }
}

/// The producer's settings.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// Producer or follower.
    pub mode: Mode,
    /// Longest a message waits before its frame is sealed.
    pub frame_interval: Duration,
    /// Most messages per produced frame.
    pub frame_max: usize,
    /// Fee multiplier of produced frames.
    pub fee_multiplier: u64,
    /// Fee recipient of produced frames.
    pub fee_recipient: Key,
    /// Retries of a frame that failed temporarily.
    pub retry: RetryPolicy,
    /// Bound of the work queue (frames from the execution API waiting).
    pub work_queue: usize,
}

/// One item of the ordered work queue.
#[derive(Debug)]
pub(crate) enum Work {
    /// A frame from the execution API.
    Execute {
        request: ExecuteFrameRequest,
        reply_tx: oneshot::Sender<Result<ExecuteFrameResponse, RpcError>>,
    },
}

/// The actor: spawn [`FrameProducer::run`]; it returns when the node's token is cancelled,
/// after the frame in progress, or with the error of a critical failure (having cancelled the
/// token).
#[derive(Debug)]
pub struct FrameProducer {
    manager: Manager,
    mempool: Arc<Mempool>,
    index: Arc<MessageIndex>,
    metrics: NodeMetrics,
    cancel: CancellationToken,
    config: ProducerConfig,
    work_rx: mpsc::Receiver<Work>,
    work_tx: mpsc::Sender<Work>,
}

impl FrameProducer {
    /// The actor and the handle that feeds it.
    pub fn new(
        config: ProducerConfig,
        manager: Manager,
        mempool: Arc<Mempool>,
        index: Arc<MessageIndex>,
        metrics: NodeMetrics,
        cancel: CancellationToken,
    ) -> (ProducerHandle, Self) {
        let (work_tx, work_rx) = mpsc::channel(config.work_queue.max(1));
        let handle = ProducerHandle {
            work_tx: work_tx.clone(),
        };
        let actor = Self {
            manager,
            mempool,
            index,
            metrics,
            cancel,
            config,
            work_rx,
            work_tx,
        };
        (handle, actor)
    }

    /// Runs until the token is cancelled or a critical failure.
    pub async fn run(mut self) -> Result<(), ManagerError> {
        let producing = self.config.mode == Mode::Producer;
        let mut tick = tokio::time::interval(self.config.frame_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mempool = Arc::clone(&self.mempool);
        let result = loop {
            self.observe_queues();
            let step = tokio::select! {
                biased;
                () = self.cancel.cancelled() => break Ok(()),
                work = self.work_rx.recv() => match work {
                    Some(Work::Execute { request, reply_tx }) => match self.follow(request).await {
                        Err(RpcError::Manager(error)) if error.severity() == Severity::Critical => {
                            let _ = reply_tx.send(Err(RpcError::Internal(error.to_string())));
                            Err(*error)
                        }
                        answer => {
                            let _ = reply_tx.send(answer);
                            Ok(())
                        }
                    },
                    None => break Ok(()),
                },
                () = mempool.full_frame(), if producing => self.seal().await,
                _ = tick.tick(), if producing => self.seal().await,
            };
            if let Err(error) = step {
                break Err(error);
            }
        };
        if let Err(error) = &result {
            tracing::error!(%error, "frame producer stopped on a critical failure");
            self.cancel.cancel();
        }
        // Anything still queued is answered, never left hanging.
        self.work_rx.close();
        while let Ok(Work::Execute { reply_tx, .. }) = self.work_rx.try_recv() {
            let _ = reply_tx.send(Err(RpcError::ShuttingDown));
        }
        drop(self.work_tx);
        result
    }

    fn observe_queues(&self) {
        let (messages, bytes) = self.mempool.depth();
        self.metrics.set_mempool(messages, bytes);
        let queued = self.work_tx.max_capacity() - self.work_tx.capacity();
        self.manager
            .metrics()
            .set_queue_depth("producer", i64::try_from(queued).unwrap_or(i64::MAX));
    }

    /// Seals frames from the mempool while full frames wait, at least one if any message does.
    async fn seal(&mut self) -> Result<(), ManagerError> {
        loop {
            if self.cancel.is_cancelled() {
                return Ok(());
            }
            let entries = self.mempool.take(self.config.frame_max);
            if entries.is_empty() {
                return Ok(());
            }
            let full = entries.len() >= self.config.frame_max;
            let number = self.next_frame_number()?;
            let mut frame = Frame::new(number)
                .fee_multiplier(self.config.fee_multiplier)
                .fee_recipient(self.config.fee_recipient)
                .signatures_verified(true);
            frame.messages = entries
                .iter()
                .map(|e| (e.target.clone(), e.message.clone()))
                .collect();
            let result = self.execute(frame).await;
            self.mempool.settle(&entries);
            match result {
                Ok(result) => tracing::debug!(
                    frame = result.head.frame_number,
                    messages = entries.len(),
                    "frame committed"
                ),
                Err(error) if error.severity() == Severity::Critical => return Err(error),
                Err(error) => {
                    tracing::warn!(%error, frame = number, dropped = entries.len(), "frame refused; its messages are dropped")
                }
            }
            self.observe_queues();
            if !full || self.mempool.depth().0 < self.config.frame_max {
                return Ok(());
            }
        }
    }

    fn next_frame_number(&self) -> Result<u64, ManagerError> {
        let head = self.manager.head().ok_or(ManagerError::NoHead)?;
        head.frame_number
            .checked_add(1)
            .ok_or_else(|| ManagerError::Internal("frame number overflow".into()))
    }

    /// Executes and commits `frame` off the runtime, then indexes its receipt; temporary
    /// failures are retried with capped backoff, a bounded number of times; exhausted retries
    /// and critical failures cancel the node.
    async fn execute(&self, frame: Frame) -> Result<FrameResult, ManagerError> {
        let frame = Arc::new(frame);
        let mut retry = 0;
        loop {
            let manager = self.manager.clone();
            let index = Arc::clone(&self.index);
            let job = Arc::clone(&frame);
            let outcome = tokio::task::spawn_blocking(move || {
                let result = manager.execute_frame(&job)?;
                index
                    .record(&result.receipt)
                    .map_err(|e| ManagerError::Internal(e.to_string()))?;
                Ok::<_, ManagerError>(result)
            })
            .await
            .unwrap_or_else(|join| Err(ManagerError::Internal(format!("frame task: {join}"))));
            match outcome {
                Ok(result) => return Ok(result),
                Err(error)
                    if error.severity() == Severity::Temporary
                        && retry < self.config.retry.max_retries
                        && !self.cancel.is_cancelled() =>
                {
                    let delay = self.config.retry.backoff(retry);
                    tracing::warn!(%error, retry, ?delay, "frame failed temporarily: retrying");
                    tokio::time::sleep(delay).await;
                    retry += 1;
                }
                Err(error) if error.severity() == Severity::Temporary => {
                    return Err(ManagerError::RetriesExhausted {
                        attempts: retry + 1,
                        last: Box::new(error),
                    });
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Follower mode: executes the orderer's frame, or answers a repeated one with its stored
    /// receipt, or refuses a gap or a conflicting frame.
    async fn follow(&self, request: ExecuteFrameRequest) -> Result<ExecuteFrameResponse, RpcError> {
        if self.config.mode != Mode::Follower {
            return Err(RpcError::WrongMode(
                "the execution API runs frames in follower mode only; this node produces its own",
            ));
        }
        let head = self.manager.head().ok_or(ManagerError::NoHead)?;
        let recipient: Key = match request.fee_recipient.len() {
            0 => [0; 32],
            _ => request.fee_recipient.as_slice().try_into().map_err(|_| {
                RpcError::Malformed(format!(
                    "fee recipient of {} bytes, expected 32",
                    request.fee_recipient.len()
                ))
            })?,
        };
        let number = request.frame_number;
        if number <= head.frame_number {
            return self.already_executed(&request, &recipient);
        }
        if number != head.frame_number.saturating_add(1) {
            return Err(RpcError::Gap {
                head: head.frame_number,
                found: number,
            });
        }
        let mut frame = Frame::new(number)
            .fee_multiplier(request.fee_multiplier)
            .fee_recipient(recipient);
        frame.messages = request
            .messages
            .into_iter()
            .map(|m| (m.target, m.message))
            .collect();
        let result = self.execute(frame).await?;
        Ok(ExecuteFrameResponse {
            head: Some(node_head(&result.head)),
            receipt: Some(result.receipt),
            already_executed: false,
        })
    }

    fn already_executed(
        &self,
        request: &ExecuteFrameRequest,
        recipient: &Key,
    ) -> Result<ExecuteFrameResponse, RpcError> {
        let number = request.frame_number;
        let bytes = self
            .manager
            .store()
            .receipt(number)
            .map_err(ManagerError::from)?
            .filter(|b| !b.is_empty())
            .ok_or(RpcError::Conflict {
                frame: number,
                reason: "it is the genesis frame".into(),
            })?;
        let receipt = FrameReceipt::from_canonical_bytes(&bytes)
            .map_err(|e| RpcError::Internal(format!("stored receipt of frame {number}: {e}")))?;
        let conflict = |reason: String| RpcError::Conflict {
            frame: number,
            reason,
        };
        if receipt.fee_multiplier != request.fee_multiplier {
            return Err(conflict(format!(
                "fee multiplier {} differs from the executed {}",
                request.fee_multiplier, receipt.fee_multiplier
            )));
        }
        if receipt.fee_recipient.as_slice() != recipient.as_slice() {
            return Err(conflict(
                "its fee recipient differs from the executed one".into(),
            ));
        }
        if receipt.outcomes.len() != request.messages.len() {
            return Err(conflict(format!(
                "{} messages, the executed frame had {}",
                request.messages.len(),
                receipt.outcomes.len()
            )));
        }
        for (position, (message, outcome)) in
            request.messages.iter().zip(&receipt.outcomes).enumerate()
        {
            if blake3::hash(&message.message).as_bytes().as_slice()
                != outcome.message_hash.as_slice()
            {
                return Err(conflict(format!(
                    "message {position} differs from the executed one"
                )));
            }
        }
        let head = NodeHead {
            frame_number: number,
            state_root: receipt.state_root.clone(),
        };
        Ok(ExecuteFrameResponse {
            head: Some(head),
            receipt: Some(receipt),
            already_executed: true,
        })
    }
}

/// The wire form of a head.
pub(crate) fn node_head(head: &switchyard_state::Head) -> NodeHead {
    NodeHead {
        frame_number: head.frame_number,
        state_root: head.state_root.0.to_vec(),
    }
}
