//! The gRPC client behind the CLI (`switchyard token transfer ...`): connects to a node,
//! reads the network id and the signer's nonce, signs with the engines' clients, submits, and
//! waits for the outcome.

use std::time::{Duration, Instant};

use switchyard_proto::v1::node_client::NodeClient;
use switchyard_proto::v1::status_response::State;
use switchyard_proto::v1::{
    AccountRequest, AccountResponse, FrameReceipt, HeadRequest, InfoRequest, InfoResponse,
    MessageStatus, NodeHead, QueryRequest, QueryResponse, ReceiptRequest, StatusRequest,
    StatusResponse, SubmitBatchRequest, SubmitRequest, SubmitResult, WatchHeadsRequest,
};
use switchyard_router::auth::SigningKey;
use switchyard_router::{Key, SignedRequest, Signer};
use tonic::transport::{Channel, Endpoint};

use crate::NodeError;

/// The node address the CLI uses by default.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:50051";

/// A connection to a node's `Node` service.
#[derive(Debug, Clone)]
pub struct Client {
    node: NodeClient<Channel>,
}

fn rpc(call: &'static str) -> impl FnOnce(tonic::Status) -> NodeError {
    move |status| NodeError::Rpc {
        call,
        status: Box::new(status),
    }
}

/// How a submitted message ended.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The message hash.
    pub hash: [u8; 32],
    /// Its status as committed.
    pub status: StatusResponse,
}

impl Committed {
    /// The outcome's status.
    pub fn message_status(&self) -> MessageStatus {
        self.status
            .outcome
            .as_ref()
            .map_or(MessageStatus::Unspecified, |o| o.status())
    }
}

impl Client {
    /// Connects to `address` (`http://host:port`, or `host:port`).
    pub async fn connect(address: &str) -> Result<Self, NodeError> {
        let uri = match address.contains("://") {
            true => address.to_owned(),
            false => format!("http://{address}"),
        };
        let connect_error = |reason: String| NodeError::Connect {
            address: uri.clone(),
            reason,
        };
        let endpoint = Endpoint::from_shared(uri.clone())
            .map_err(|e| connect_error(e.to_string()))?
            .connect_timeout(Duration::from_secs(5));
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| connect_error(source_chain(&e)))?;
        Ok(Self {
            node: NodeClient::new(channel)
                .max_decoding_message_size(crate::server::MAX_FRAME_REQUEST_BYTES),
        })
    }

    /// The tonic client, for calls this type does not wrap.
    pub fn raw(&mut self) -> &mut NodeClient<Channel> {
        &mut self.node
    }

    /// Network id, mode, engines, head.
    pub async fn info(&mut self) -> Result<InfoResponse, NodeError> {
        Ok(self
            .node
            .info(InfoRequest {})
            .await
            .map_err(rpc("info"))?
            .into_inner())
    }

    /// The head.
    pub async fn head(&mut self) -> Result<NodeHead, NodeError> {
        Ok(self
            .node
            .head(HeadRequest {})
            .await
            .map_err(rpc("head"))?
            .into_inner())
    }

    /// A native account's balance and nonce.
    pub async fn account(&mut self, account: Key) -> Result<AccountResponse, NodeError> {
        Ok(self
            .node
            .account(AccountRequest {
                account: account.to_vec(),
            })
            .await
            .map_err(rpc("account"))?
            .into_inner())
    }

    /// A signer for `key` on the node's network, at the account's next nonce: after its committed
    /// operations and after those still pending in the node.
    pub async fn signer(&mut self, key: SigningKey) -> Result<Signer, NodeError> {
        let network_id = self.info().await?.network_id;
        let public = key.verifying_key().to_bytes();
        // Behind the key's operations still pending, so that a command that did not wait for
        // its frame is not followed by one with the same nonce.
        let account = self.account(public).await?;
        let nonce = account.nonce.max(account.pending_nonce);
        Ok(Signer::new(key, network_id, nonce.saturating_add(1)))
    }

    /// Submits a signed request; returns its hash.
    pub async fn submit(&mut self, request: &SignedRequest) -> Result<[u8; 32], NodeError> {
        let response = self
            .node
            .submit(SubmitRequest {
                target: request.target.0.to_vec(),
                message: request.to_bytes(),
            })
            .await
            .map_err(rpc("submit"))?
            .into_inner();
        <[u8; 32]>::try_from(response.message_hash.as_slice())
            .map_err(|_| NodeError::Answer("a message hash that is not 32 bytes".into()))
    }

    /// Submits many messages, `(target, canonical bytes)`, in one call (see `SubmitBatch`);
    /// returns a result per message, in order: code 0 and the hash when admitted, else the
    /// code and reason `Submit` would have answered.
    pub async fn submit_batch(
        &mut self,
        messages: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Vec<SubmitResult>, NodeError> {
        Ok(self
            .node
            .submit_batch(SubmitBatchRequest {
                submissions: messages
                    .into_iter()
                    .map(|(target, message)| SubmitRequest { target, message })
                    .collect(),
            })
            .await
            .map_err(rpc("submit_batch"))?
            .into_inner()
            .results)
    }

    /// The status of a message.
    pub async fn status(&mut self, hash: [u8; 32]) -> Result<StatusResponse, NodeError> {
        Ok(self
            .node
            .status(StatusRequest {
                message_hash: hash.to_vec(),
            })
            .await
            .map_err(rpc("status"))?
            .into_inner())
    }

    /// Polls the status of `hash` until it is committed, at most `timeout`.
    pub async fn wait(
        &mut self,
        hash: [u8; 32],
        timeout: Duration,
    ) -> Result<Committed, NodeError> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status(hash).await?;
            if status.state() == State::Committed {
                return Ok(Committed { hash, status });
            }
            if Instant::now() >= deadline {
                return Err(NodeError::Answer(format!(
                    "message {} still pending after {timeout:?}",
                    hex::encode(hash)
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// A committed frame's receipt.
    pub async fn receipt(&mut self, frame: u64) -> Result<FrameReceipt, NodeError> {
        self.node
            .receipt(ReceiptRequest {
                frame_number: frame,
            })
            .await
            .map_err(rpc("receipt"))?
            .into_inner()
            .receipt
            .ok_or_else(|| NodeError::Answer("a receipt response without a receipt".into()))
    }

    /// An engine query.
    pub async fn query(
        &mut self,
        target: &[u8],
        query: Vec<u8>,
    ) -> Result<QueryResponse, NodeError> {
        Ok(self
            .node
            .query(QueryRequest {
                target: target.to_vec(),
                query,
            })
            .await
            .map_err(rpc("query"))?
            .into_inner())
    }

    /// The stream of heads.
    pub async fn watch(&mut self) -> Result<tonic::Streaming<NodeHead>, NodeError> {
        Ok(self
            .node
            .watch_heads(WatchHeadsRequest {})
            .await
            .map_err(rpc("watch"))?
            .into_inner())
    }
}

/// An error and its sources on one line.
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(next) = source {
        text.push_str(": ");
        text.push_str(&next.to_string());
        source = next.source();
    }
    text
}
