//! The handle others use to hand the producer work.

use tokio::sync::{mpsc, oneshot};

use super::actor::Work;
use crate::rpc::RpcError;
use switchyard_proto::v1::{ExecuteFrameRequest, ExecuteFrameResponse};

/// Hands frames from the execution API to the producer's ordered work queue.
#[derive(Debug, Clone)]
pub struct ProducerHandle {
    pub(super) work_tx: mpsc::Sender<Work>,
}

impl ProducerHandle {
    /// Queues `request` behind the work already queued and waits for its result. A full queue
    /// is [`RpcError::QueueFull`]; a stopped producer is [`RpcError::ShuttingDown`].
    pub async fn execute(
        &self,
        request: ExecuteFrameRequest,
    ) -> Result<ExecuteFrameResponse, RpcError> {
        let (reply_tx, reply_rx) = oneshot::channel();
        self.work_tx
            .try_send(Work::Execute { request, reply_tx })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => RpcError::QueueFull,
                mpsc::error::TrySendError::Closed(_) => RpcError::ShuttingDown,
            })?;
        reply_rx.await.map_err(|_| RpcError::ShuttingDown)?
    }

    /// Work items waiting.
    pub fn queued(&self) -> usize {
        self.work_tx.max_capacity() - self.work_tx.capacity()
    }
}
