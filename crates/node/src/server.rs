//! `switchyard serve`: opens the data dir, starts the engines through the manager, runs the
//! frame producer, and serves gRPC (the `Node` and `Execution` services, health, reflection v1
//! and v1alpha) and `/metrics`, until [`RunningNode::shutdown`] or a critical failure.
//!
//! Shutdown, in order: health turns NOT_SERVING, admission stops, the frame in progress
//! finishes (and is indexed), the message index is written out, the engines stop, the manager
//! closes (releasing the store's file), then the servers stop. Server limits: messages up to
//! `max_message_bytes` (requests to the `Node` service up to that plus 64 KiB, frames of the
//! `Execution` service up to 256 MiB), `concurrency` requests per connection, the mempool's
//! bounds.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use switchyard_manager::{Manager, RetryPolicy};
use switchyard_metrics::Metrics;
use switchyard_proto::Limits;
use switchyard_proto::v1::execution_server::ExecutionServer;
use switchyard_proto::v1::node_server::NodeServer;
use switchyard_state::{RedbStore, Store};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::NodeError;
use crate::config::ServeConfig;
use crate::genesis::{ChainFile, Genesis};
use crate::index::MessageIndex;
use crate::producer::{FrameProducer, Mempool, MempoolLimits, ProducerConfig};
use crate::rpc::{ExecutionService, NodeService, NodeState};
use crate::telemetry::{NodeMetrics, serve_metrics};

/// Largest `ExecuteFrame` request (a whole frame of messages).
pub const MAX_FRAME_REQUEST_BYTES: usize = 256 << 20;

/// What a started node tells its operator.
#[derive(Debug, Clone)]
pub struct Started {
    /// The gRPC address it listens on.
    pub grpc_addr: SocketAddr,
    /// The `/metrics` address it listens on.
    pub metrics_addr: SocketAddr,
    /// Network id.
    pub network_id: u32,
    /// Head at start.
    pub head: switchyard_state::Head,
    /// Whether this start wrote the genesis.
    pub created: bool,
}

/// A running node: stop it with [`RunningNode::shutdown`], then [`RunningNode::wait`].
#[derive(Debug)]
pub struct RunningNode {
    /// What it listens on.
    pub started: Started,
    cancel: CancellationToken,
    task: JoinHandle<Result<(), NodeError>>,
}

impl RunningNode {
    /// Starts draining (as SIGTERM does).
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Resolves when the node starts draining (asked to, or after a critical failure).
    pub async fn draining(&self) {
        self.cancel.cancelled().await;
    }

    /// Waits until the node has stopped; an error is a critical failure (or a failed close).
    pub async fn wait(self) -> Result<(), NodeError> {
        self.task
            .await
            .map_err(|e| NodeError::Server(format!("node task: {e}")))?
    }
}

/// Wipes `dir` if it looks like a data dir (or is empty), else refuses.
fn reset_data_dir(dir: &Path) -> Result<(), NodeError> {
    if !dir.exists() {
        return Ok(());
    }
    let ours = [
        RedbStore::FILE_NAME,
        MessageIndex::FILE_NAME,
        ChainFile::FILE_NAME,
    ];
    let entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| NodeError::Config(format!("reading {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .collect();
    let looks_ours = entries.is_empty()
        || entries
            .iter()
            .any(|e| ours.iter().any(|name| e.file_name() == *name));
    if !looks_ours {
        return Err(NodeError::Config(format!(
            "--reset: {} does not look like a switchyard data dir; not deleting it",
            dir.display()
        )));
    }
    std::fs::remove_dir_all(dir)
        .map_err(|e| NodeError::Config(format!("--reset: deleting {}: {e}", dir.display())))
}

/// Starts a node with `config` on the current tokio runtime.
pub async fn start(config: ServeConfig) -> Result<RunningNode, NodeError> {
    tracing::debug!(?config, "effective configuration");
    if config.reset {
        reset_data_dir(&config.data_dir)?;
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|e| NodeError::Io {
        context: "creating the data dir",
        source: e,
    })?;
    let store = RedbStore::open(&config.data_dir)?;
    let chain = ChainFile::read(&config.data_dir)?;
    let (genesis, chain) = match (store.head(), chain) {
        (Some(_), Some(chain)) => (None, chain),
        (Some(_), None) => {
            return Err(NodeError::Genesis(format!(
                "{} holds a state but no {}: cannot tell its network id",
                config.data_dir.display(),
                ChainFile::FILE_NAME
            )));
        }
        (None, _) => {
            let genesis = match (&config.genesis, config.dev) {
                (Some(path), _) => Genesis::read(path)?,
                (None, true) => Genesis::dev(),
                (None, false) => {
                    return Err(NodeError::Genesis(format!(
                        "{} is empty: pass --genesis FILE (or --dev for a development network)",
                        config.data_dir.display()
                    )));
                }
            };
            let chain = ChainFile {
                network_id: genesis.network_id,
                dev: config.dev && config.genesis.is_none(),
            };
            (Some(genesis), chain)
        }
    };

    let metrics = Metrics::new();
    let node_metrics = NodeMetrics::register(&metrics);
    let manager = Manager::builder()
        .engines(crate::engines::all())
        .store(Arc::new(store))
        .network_id(chain.network_id)
        .threads(config.threads)
        .metrics(metrics.clone())
        .limits(Limits {
            max_message_bytes: config.max_message_bytes,
            ..Limits::default()
        })
        .retry_policy(RetryPolicy::default())
        .build()?;
    manager.start()?;
    let created = genesis.is_some();
    if let Some(genesis) = genesis {
        manager.genesis(0, &genesis.changes()?)?;
        chain.write(&config.data_dir)?;
    }
    let head = manager
        .head()
        .ok_or_else(|| NodeError::Genesis("no head after genesis".into()))?;

    let index = Arc::new(MessageIndex::open(&config.data_dir)?);
    let caught_up = index.catch_up(manager.store().as_ref())?;
    if caught_up > 0 {
        tracing::info!(frames = caught_up, "message index caught up with the store");
    }

    // The node drains when its token is cancelled: by shutdown(), or by the manager's token
    // (a critical failure), whose child it is.
    let cancel = manager.cancellation_token().child_token();
    let mempool = Arc::new(Mempool::new(MempoolLimits {
        max_messages: config.mempool_max,
        max_bytes: config.mempool_max_bytes,
        frame_max: config.frame_max,
    }));
    let (producer_handle, producer) = FrameProducer::new(
        ProducerConfig {
            mode: config.mode,
            frame_interval: config.frame_interval,
            frame_max: config.frame_max,
            fee_multiplier: config.fee_multiplier,
            fee_recipient: config.fee_recipient,
            retry: RetryPolicy::default(),
            work_queue: 64,
        },
        manager.clone(),
        Arc::clone(&mempool),
        Arc::clone(&index),
        node_metrics.clone(),
        cancel.clone(),
    );
    let producer_task = tokio::spawn(producer.run());

    let state = Arc::new(NodeState {
        manager: manager.clone(),
        mempool: Arc::clone(&mempool),
        index: Arc::clone(&index),
        metrics: node_metrics,
        mode: config.mode,
        max_message_bytes: config.max_message_bytes,
        fee_multiplier: config.fee_multiplier,
        cancel: cancel.clone(),
    });

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<NodeServer<NodeService>>().await;
    health
        .set_serving::<ExecutionServer<ExecutionService>>()
        .await;
    health
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let reflection = |builder: tonic_reflection::server::Builder<'static>| {
        builder
            .register_encoded_file_descriptor_set(switchyard_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection(tonic_reflection::server::Builder::configure())
        .build_v1()
        .map_err(|e| NodeError::Server(format!("reflection: {e}")))?;
    let reflection_v1alpha = reflection(tonic_reflection::server::Builder::configure())
        .build_v1alpha()
        .map_err(|e| NodeError::Server(format!("reflection: {e}")))?;

    let grpc_listener = tokio::net::TcpListener::bind(config.grpc_addr)
        .await
        .map_err(|e| NodeError::Server(format!("binding gRPC to {}: {e}", config.grpc_addr)))?;
    let grpc_addr = grpc_listener
        .local_addr()
        .map_err(|e| NodeError::Server(format!("gRPC address: {e}")))?;
    let metrics_listener = tokio::net::TcpListener::bind(config.metrics_addr)
        .await
        .map_err(|e| {
            NodeError::Server(format!("binding /metrics to {}: {e}", config.metrics_addr))
        })?;
    let metrics_addr = metrics_listener
        .local_addr()
        .map_err(|e| NodeError::Server(format!("metrics address: {e}")))?;

    // The servers stop last, once the manager is closed.
    let servers_stop = CancellationToken::new();
    let grpc = tonic::transport::Server::builder()
        .concurrency_limit_per_connection(config.concurrency)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            NodeServer::new(NodeService::new(Arc::clone(&state))).max_decoding_message_size(
                config
                    .max_message_bytes
                    .max(crate::rpc::MAX_SUBMIT_BATCH_BYTES)
                    .saturating_add(64 << 10),
            ),
        )
        .add_service(
            ExecutionServer::new(ExecutionService::new(Arc::clone(&state), producer_handle))
                .max_decoding_message_size(MAX_FRAME_REQUEST_BYTES)
                .max_encoding_message_size(MAX_FRAME_REQUEST_BYTES),
        )
        .serve_with_incoming_shutdown(
            // An incoming stream bypasses the builder's socket options: without TCP_NODELAY,
            // Nagle's algorithm holds small responses back until the client's delayed ACK.
            tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true)),
            servers_stop.clone().cancelled_owned(),
        );
    let grpc_task = tokio::spawn(grpc);
    let metrics_task = tokio::spawn(serve_metrics(
        metrics_listener,
        metrics.clone(),
        servers_stop.clone(),
    ));

    let task = tokio::spawn(drain(Drain {
        cancel: cancel.clone(),
        manager,
        mempool,
        index,
        health,
        producer_task,
        servers_stop,
        grpc_task,
        metrics_task,
    }));
    Ok(RunningNode {
        started: Started {
            grpc_addr,
            metrics_addr,
            network_id: chain.network_id,
            head,
            created,
        },
        cancel,
        task,
    })
}

/// The multi-threaded tokio runtime (I/O and timers on) that the node, its benches and its
/// campaigns run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, NodeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| NodeError::Io {
            context: "starting the async runtime",
            source,
        })
}

struct Drain {
    cancel: CancellationToken,
    manager: Manager,
    mempool: Arc<Mempool>,
    index: Arc<MessageIndex>,
    health: tonic_health::server::HealthReporter,
    producer_task: JoinHandle<Result<(), switchyard_manager::ManagerError>>,
    servers_stop: CancellationToken,
    grpc_task: JoinHandle<Result<(), tonic::transport::Error>>,
    metrics_task: JoinHandle<std::io::Result<()>>,
}

/// Waits for the node's token, then shuts down in order (see the module docs).
async fn drain(d: Drain) -> Result<(), NodeError> {
    d.cancel.cancelled().await;
    let critical = d.manager.cancellation_token().is_cancelled();
    tracing::info!("draining: health NOT_SERVING, admission stopped");
    d.health
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    d.health.set_not_serving::<NodeServer<NodeService>>().await;
    d.health
        .set_not_serving::<ExecutionServer<ExecutionService>>()
        .await;
    let dropped = d.mempool.close();
    if dropped > 0 {
        tracing::warn!(
            messages = dropped,
            "messages still in the mempool were not sealed"
        );
    }
    let produced = d
        .producer_task
        .await
        .map_err(|e| NodeError::Server(format!("producer task: {e}")))?;
    let manager = d.manager.clone();
    let index = d.index;
    let closed = tokio::task::spawn_blocking(move || {
        if let Err(error) = index.flush() {
            // Not fatal: the next start re-reads the receipts the file lacks.
            tracing::warn!(%error, "message index flush");
        }
        if let Err(error) = manager.stop(false) {
            tracing::warn!(%error, "engine stop");
        }
        manager.close().map_err(NodeError::from)
    })
    .await
    .map_err(|e| NodeError::Server(format!("close task: {e}")))?;
    tracing::info!("manager closed; stopping the servers");
    d.servers_stop.cancel();
    // Connections that do not close within the grace period are dropped.
    let grace = Duration::from_secs(5);
    if let Ok(Ok(Err(error))) = tokio::time::timeout(grace, d.grpc_task).await {
        tracing::warn!(%error, "gRPC server");
    }
    if let Ok(Ok(Err(error))) = tokio::time::timeout(grace, d.metrics_task).await {
        tracing::warn!(%error, "metrics server");
    }
    produced?;
    closed?;
    if critical {
        return Err(NodeError::Server(
            "stopped after a critical failure (see the log)".into(),
        ));
    }
    Ok(())
}

/// What `switchyard serve` prints at start (stdout): where it listens and, on a dev network,
/// the dev keys with their genesis balances and secret keys (as local devnets do: never use
/// them for anything of value).
pub fn banner(started: &Started, data_dir: &Path) -> String {
    let mut text = format!(
        "switchyard node: network {}, head frame {}{}\n  data dir  {}\n  gRPC      http://{}\n  metrics   http://{}/metrics\n",
        started.network_id,
        started.head.frame_number,
        match started.created {
            true => " (genesis written)",
            false => "",
        },
        data_dir.display(),
        started.grpc_addr,
        started.metrics_addr,
    );
    if started.network_id == crate::genesis::DEV_NETWORK_ID {
        text.push_str(&format!(
            "dev keys (genesis balance {} each; for this devnet only):\n",
            crate::genesis::DEV_BALANCE
        ));
        for name in crate::keys::DEV_KEY_NAMES {
            if let Some(key) = crate::keys::dev_key(name) {
                text.push_str(&format!(
                    "  dev:{name:<6} public {}  secret {}\n",
                    hex::encode(key.verifying_key().to_bytes()),
                    hex::encode(key.to_bytes())
                ));
            }
        }
        text.push_str(
            "try: switchyard token transfer --key dev:alice --to dev:bob --amount 1000\n",
        );
    }
    text
}
