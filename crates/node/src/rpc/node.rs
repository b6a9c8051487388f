//! The `Node` service.

use std::pin::Pin;
use std::sync::Arc;

use switchyard_manager::{Manager, ManagerError};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::node_server::Node;
use switchyard_proto::v1::status_response::State;
use switchyard_proto::v1::{
    AccountRequest, AccountResponse, CapabilitiesRequest, CapabilitiesResponse, CostRequest,
    CostResponse, FrameReceipt, HeadRequest, InfoRequest, InfoResponse, NodeHead, QueryRequest,
    QueryResponse, ReceiptRequest, ReceiptResponse, StatusRequest, StatusResponse,
    SubmitBatchRequest, SubmitBatchResponse, SubmitRequest, SubmitResponse, SubmitResult, U128,
    WatchHeadsRequest,
};
use switchyard_router::domains::native_account;
use switchyard_router::fees::AccountRecord;
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::RpcError;
use super::admission::{Admission, AdmissionHandle, MAX_SUBMIT_BATCH, MAX_SUBMIT_BATCH_BYTES};
use crate::index::MessageIndex;
use crate::producer::{Entry, Mempool, Mode, node_head};
use crate::telemetry::NodeMetrics;

/// What the services share.
#[derive(Debug)]
pub struct NodeState {
    /// The manager.
    pub manager: Manager,
    /// The mempool admission feeds.
    pub mempool: Arc<Mempool>,
    /// Committed messages by hash.
    pub index: Arc<MessageIndex>,
    /// The node's metric families.
    pub metrics: NodeMetrics,
    /// Producer or follower.
    pub mode: Mode,
    /// Largest message admitted, in bytes.
    pub max_message_bytes: usize,
    /// Fee multiplier of produced frames.
    pub fee_multiplier: u64,
    /// Cancelled when the node drains: streams end.
    pub cancel: CancellationToken,
}

/// The `Node` service over a [`NodeState`].
#[derive(Debug, Clone)]
pub struct NodeService {
    state: Arc<NodeState>,
    admission: AdmissionHandle,
}

impl NodeService {
    /// The service over `state`; spawns its admission task (see `admission`) on the current
    /// runtime, which ends when the state's token is cancelled.
    pub fn new(state: Arc<NodeState>) -> Self {
        let admission = Admission {
            manager: state.manager.clone(),
            mempool: Arc::clone(&state.mempool),
            index: Arc::clone(&state.index),
            cancel: state.cancel.clone(),
        }
        .spawn();
        Self { state, admission }
    }

    /// Counts the call and turns a refusal into its status.
    fn answer<T>(
        &self,
        method: &'static str,
        result: Result<T, RpcError>,
    ) -> Result<Response<T>, Status> {
        match result {
            Ok(value) => {
                self.state.metrics.grpc_call(method, tonic::Code::Ok);
                Ok(Response::new(value))
            }
            Err(error) => {
                let status = error.to_status();
                self.state.metrics.grpc_call(method, status.code());
                Err(status)
            }
        }
    }

    fn accepts_submissions(&self) -> Result<(), RpcError> {
        match self.state.mode {
            Mode::Follower => Err(RpcError::WrongMode(
                "this node is a follower: submit to the orderer, which hands frames to the execution API",
            )),
            Mode::Producer => Ok(()),
        }
    }

    /// The checks that need no decoding: size, then a duplicate of a pending message (one
    /// already committed is found at admission, under the mempool's lock).
    fn precheck(&self, request: SubmitRequest) -> Result<Entry, RpcError> {
        let state = &self.state;
        if request.message.len() > state.max_message_bytes {
            return Err(RpcError::Oversized {
                size: request.message.len(),
                limit: state.max_message_bytes,
            });
        }
        let hash = *blake3::hash(&request.message).as_bytes();
        if state.mempool.is_pending(&hash) {
            return Err(RpcError::Duplicate(hash));
        }
        Ok(Entry {
            hash,
            target: request.target,
            message: request.message,
            signers: Vec::new(),
        })
    }

    async fn submit_inner(&self, request: SubmitRequest) -> Result<SubmitResponse, RpcError> {
        self.accepts_submissions()?;
        let entry = self.precheck(request)?;
        let hash = entry.hash;
        // Decoded strictly, routed, signatures verified (once, batched with concurrent
        // submissions: frames then skip it), engines' checks, then the mempool.
        self.admission
            .admit(vec![entry])
            .await?
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(RpcError::Internal("admission gave no verdict".into())))?;
        Ok(SubmitResponse {
            message_hash: hash.to_vec(),
        })
    }

    async fn submit_batch_inner(
        &self,
        request: SubmitBatchRequest,
    ) -> Result<SubmitBatchResponse, RpcError> {
        self.accepts_submissions()?;
        let submissions = request.submissions;
        if submissions.len() > MAX_SUBMIT_BATCH {
            return Err(RpcError::Malformed(format!(
                "batch of {} messages exceeds the limit of {MAX_SUBMIT_BATCH}",
                submissions.len()
            )));
        }
        let bytes = submissions.iter().fold(0usize, |sum, s| {
            sum.saturating_add(s.message.len())
                .saturating_add(s.target.len())
        });
        if bytes > MAX_SUBMIT_BATCH_BYTES {
            return Err(RpcError::Malformed(format!(
                "batch of {bytes} bytes exceeds the limit of {MAX_SUBMIT_BATCH_BYTES} bytes"
            )));
        }
        let mut hashes = Vec::with_capacity(submissions.len());
        let mut results: Vec<Option<RpcError>> = Vec::with_capacity(submissions.len());
        let mut entries = Vec::new();
        for submission in submissions {
            let hash = *blake3::hash(&submission.message).as_bytes();
            hashes.push(hash);
            match self.precheck(submission) {
                Ok(entry) => {
                    entries.push(entry);
                    results.push(None);
                }
                Err(error) => results.push(Some(error)),
            }
        }
        let admitting = entries.len();
        let mut verdicts = match self.admission.admit(entries).await {
            Ok(verdicts) => verdicts,
            // Queue full or shutting down: each message waiting for admission is told so.
            Err(error) => (0..admitting)
                .map(|_| {
                    Err(match &error {
                        RpcError::AdmissionFull => RpcError::AdmissionFull,
                        RpcError::ShuttingDown => RpcError::ShuttingDown,
                        other => RpcError::Internal(other.to_string()),
                    })
                })
                .collect(),
        }
        .into_iter();
        let results = hashes
            .into_iter()
            .zip(results)
            .map(|(hash, refused)| {
                let verdict = match refused {
                    Some(error) => Err(error),
                    None => verdicts.next().unwrap_or_else(|| {
                        Err(RpcError::Internal("admission gave no verdict".into()))
                    }),
                };
                let (code, reason) = match verdict {
                    Ok(()) => (tonic::Code::Ok, String::new()),
                    Err(error) => {
                        self.state.metrics.refused(error.reason());
                        (error.code(), error.to_string())
                    }
                };
                SubmitResult {
                    message_hash: hash.to_vec(),
                    code: code as u32,
                    reason,
                }
            })
            .collect();
        Ok(SubmitBatchResponse { results })
    }

    fn status_inner(&self, request: StatusRequest) -> Result<StatusResponse, RpcError> {
        let hash: [u8; 32] = request.message_hash.as_slice().try_into().map_err(|_| {
            RpcError::Malformed(format!(
                "message hash of {} bytes, expected 32",
                request.message_hash.len()
            ))
        })?;
        if self.state.mempool.is_pending(&hash) {
            return Ok(StatusResponse {
                state: State::Pending.into(),
                ..Default::default()
            });
        }
        let location = self.state.index.get(&hash)?.ok_or_else(|| {
            RpcError::NotFound(format!("message {} is unknown", hex::encode(hash)))
        })?;
        let receipt = self.receipt(location.frame)?;
        let outcome = receipt
            .outcomes
            .into_iter()
            .find(|o| o.index == location.index)
            .ok_or_else(|| {
                RpcError::Internal(format!(
                    "receipt of frame {} has no outcome {}",
                    location.frame, location.index
                ))
            })?;
        Ok(StatusResponse {
            state: State::Committed.into(),
            frame_number: location.frame,
            index: location.index,
            outcome: Some(outcome),
        })
    }

    fn receipt_bytes(&self, frame: u64) -> Result<Vec<u8>, RpcError> {
        self.state
            .manager
            .store()
            .receipt(frame)
            .map_err(ManagerError::from)?
            .filter(|bytes| !bytes.is_empty())
            .ok_or_else(|| match frame {
                0 => RpcError::NotFound("frame 0 is the genesis: it has no receipt".into()),
                _ => RpcError::NotFound(format!("frame {frame} is not committed")),
            })
    }

    fn receipt(&self, frame: u64) -> Result<FrameReceipt, RpcError> {
        let bytes = self.receipt_bytes(frame)?;
        FrameReceipt::from_canonical_bytes(&bytes)
            .map_err(|e| RpcError::Internal(format!("stored receipt of frame {frame}: {e}")))
    }

    fn head(&self) -> Result<NodeHead, RpcError> {
        self.state
            .manager
            .head()
            .map(|h| node_head(&h))
            .ok_or_else(|| RpcError::from(ManagerError::NoHead))
    }

    fn account_inner(&self, request: AccountRequest) -> Result<AccountResponse, RpcError> {
        let account: [u8; 32] = request.account.as_slice().try_into().map_err(|_| {
            RpcError::Malformed(format!(
                "account of {} bytes, expected 32",
                request.account.len()
            ))
        })?;
        let snapshot = self
            .state
            .manager
            .store()
            .snapshot()
            .map_err(ManagerError::from)?;
        let head = snapshot
            .head()
            .ok_or_else(|| RpcError::from(ManagerError::NoHead))?;
        let record = AccountRecord::load(snapshot.as_ref(), &native_account(account))
            .map_err(|e| RpcError::from(ManagerError::from(e)))?;
        let pending = self.state.mempool.pending_nonce(&account);
        Ok(AccountResponse {
            balance: Some(U128::from(record.balance)),
            nonce: record.nonce,
            head: Some(node_head(&head)),
            pending_nonce: pending.map_or(record.nonce, |p| p.max(record.nonce)),
        })
    }
}

type HeadStream = Pin<Box<dyn Stream<Item = Result<NodeHead, Status>> + Send>>;

#[tonic::async_trait]
impl Node for NodeService {
    async fn submit(
        &self,
        request: Request<SubmitRequest>,
    ) -> Result<Response<SubmitResponse>, Status> {
        let result = self.submit_inner(request.into_inner()).await;
        if let Err(error) = &result {
            self.state.metrics.refused(error.reason());
        }
        self.answer("Submit", result)
    }

    async fn submit_batch(
        &self,
        request: Request<SubmitBatchRequest>,
    ) -> Result<Response<SubmitBatchResponse>, Status> {
        let result = self.submit_batch_inner(request.into_inner()).await;
        if let Err(error) = &result {
            self.state.metrics.refused(error.reason());
        }
        self.answer("SubmitBatch", result)
    }

    async fn status(
        &self,
        request: Request<StatusRequest>,
    ) -> Result<Response<StatusResponse>, Status> {
        let result = self.status_inner(request.into_inner());
        self.answer("Status", result)
    }

    async fn receipt(
        &self,
        request: Request<ReceiptRequest>,
    ) -> Result<Response<ReceiptResponse>, Status> {
        let frame = request.into_inner().frame_number;
        let result = self.receipt_bytes(frame).and_then(|canonical| {
            let receipt = FrameReceipt::from_canonical_bytes(&canonical)
                .map_err(|e| RpcError::Internal(format!("stored receipt of frame {frame}: {e}")))?;
            Ok(ReceiptResponse {
                receipt: Some(receipt),
                canonical,
            })
        });
        self.answer("Receipt", result)
    }

    async fn head(&self, _request: Request<HeadRequest>) -> Result<Response<NodeHead>, Status> {
        let result = self.head();
        self.answer("Head", result)
    }

    type WatchHeadsStream = HeadStream;

    async fn watch_heads(
        &self,
        _request: Request<WatchHeadsRequest>,
    ) -> Result<Response<Self::WatchHeadsStream>, Status> {
        let mut heads = self.state.manager.subscribe_heads();
        let cancel = self.state.cancel.clone();
        let (head_tx, head_rx) = tokio::sync::mpsc::channel(16);
        // Forwards heads until the client goes away or the node drains (so that shutdown
        // never waits on a watcher). A slow watcher skips heads: it sees the latest.
        tokio::spawn(async move {
            loop {
                let head = *heads.borrow_and_update();
                if let Some(head) = head {
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        sent = head_tx.send(Ok(node_head(&head))) => if sent.is_err() { return },
                    }
                }
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = head_tx.closed() => return,
                    changed = heads.changed() => if changed.is_err() { return },
                }
            }
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(head_rx);
        self.answer("WatchHeads", Ok(Box::pin(stream) as HeadStream))
    }

    async fn query(
        &self,
        request: Request<QueryRequest>,
    ) -> Result<Response<QueryResponse>, Status> {
        let QueryRequest { target, query } = request.into_inner();
        let manager = self.state.manager.clone();
        let result = tokio::task::spawn_blocking(move || {
            manager.query(&target, &query).map_err(RpcError::from)
        })
        .await
        .map_err(|e| RpcError::Internal(format!("query task: {e}")))
        .and_then(|answer| {
            let answer = answer?;
            Ok(QueryResponse {
                response: answer.response,
                head: Some(node_head(&answer.head)),
            })
        });
        self.answer("Query", result)
    }

    async fn cost(&self, request: Request<CostRequest>) -> Result<Response<CostResponse>, Status> {
        let message = request.into_inner().message;
        let result = self
            .state
            .manager
            .cost(&message)
            .map_err(RpcError::from)
            .and_then(|cost| {
                let cost = u128::try_from(&cost)
                    .map_err(|_| RpcError::Malformed(format!("cost {cost} exceeds 128 bits")))?;
                Ok(CostResponse {
                    cost: Some(U128::from(cost)),
                    fee_multiplier: self.state.fee_multiplier,
                })
            });
        self.answer("Cost", result)
    }

    async fn capabilities(
        &self,
        _request: Request<CapabilitiesRequest>,
    ) -> Result<Response<CapabilitiesResponse>, Status> {
        let capabilities = self.state.manager.capabilities();
        self.answer("Capabilities", Ok(CapabilitiesResponse { capabilities }))
    }

    async fn account(
        &self,
        request: Request<AccountRequest>,
    ) -> Result<Response<AccountResponse>, Status> {
        let result = self.account_inner(request.into_inner());
        self.answer("Account", result)
    }

    async fn info(&self, _request: Request<InfoRequest>) -> Result<Response<InfoResponse>, Status> {
        let manager = &self.state.manager;
        let info = InfoResponse {
            network_id: manager.network_id(),
            mode: self.state.mode.as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            engines: manager
                .routes()
                .engines()
                .iter()
                .map(|e| e.name().to_owned())
                .collect(),
            head: manager.head().map(|h| node_head(&h)),
            fee_multiplier: self.state.fee_multiplier,
        };
        self.answer("Info", Ok(info))
    }
}
