//! Building a [`Manager`].

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use switchyard_metrics::Metrics;
use switchyard_proto::Limits;
use switchyard_router::{Engine, RouteTableBuilder};
use switchyard_state::{MemoryStore, Store};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::frame::executor::FrameExecutor;
use crate::lifecycle::Timeouts;
use crate::manager::Inner;
use crate::{Manager, ManagerError, Result, RetryPolicy};

/// Collects what a [`Manager`] needs; [`ManagerBuilder::build`] checks it.
///
/// ```
/// use switchyard_manager::Manager;
///
/// let manager = Manager::builder().network_id(7).threads(2).build()?;
/// assert_eq!(manager.network_id(), 7);
/// assert_eq!(manager.threads(), 2);
/// # Ok::<(), switchyard_manager::ManagerError>(())
/// ```
#[derive(Default)]
pub struct ManagerBuilder {
    routes: RouteTableBuilder,
    store: Option<Arc<dyn Store>>,
    limits: Limits,
    network_id: u32,
    threads: Option<usize>,
    metrics: Option<Metrics>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    cancel: Option<CancellationToken>,
}

impl std::fmt::Debug for ManagerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagerBuilder")
            .field("routes", &self.routes)
            .field("network_id", &self.network_id)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl ManagerBuilder {
    /// Registers an engine. Default: none.
    ///
    /// ```
    /// # use switchyard_manager::Manager;
    /// let token = std::sync::Arc::new(switchyard_token::TokenEngine::new());
    /// let manager = Manager::builder().engine(token).build()?;
    /// assert!(manager.routes().engine("token").is_some());
    /// # Ok::<(), switchyard_manager::ManagerError>(())
    /// ```
    #[must_use]
    pub fn engine(mut self, engine: Arc<dyn Engine>) -> Self {
        self.routes = self.routes.engine(engine);
        self
    }

    /// Registers several engines. Default: none.
    #[must_use]
    pub fn engines(mut self, engines: impl IntoIterator<Item = Arc<dyn Engine>>) -> Self {
        self.routes = self.routes.engines(engines);
        self
    }

    /// The store frames commit to. Default: a fresh `MemoryStore`.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Decoding limits. Default: 1 MiB per message, 256 requests per bundle.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The network id signatures are checked against. Default: 0.
    #[must_use]
    pub fn network_id(mut self, network_id: u32) -> Self {
        self.network_id = network_id;
        self
    }

    /// Worker threads of the frame executor. Default: the available cores.
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// The metrics registry to record into. Default: a new one.
    #[must_use]
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// How temporary failures are retried. Default: [`RetryPolicy::default`].
    #[must_use]
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Longest one engine's `start` or `stop` may take. Default: 5 s.
    #[must_use]
    pub fn engine_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.per_engine = timeout;
        self
    }

    /// Longest starting or stopping all engines may take. Default: 15 s.
    #[must_use]
    pub fn overall_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.overall = timeout;
        self
    }

    /// The cancellation token that shuts the manager down. Default: a new one.
    #[must_use]
    pub fn cancellation_token(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Builds the manager: the route table (duplicate engine names or base domains are an
    /// error) and the worker pool.
    pub fn build(self) -> Result<Manager> {
        let routes = self.routes.build()?;
        let threads = match self.threads {
            Some(0) => return Err(ManagerError::Config("threads must be at least 1".into())),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("switchyard-worker-{i}"))
            .build()
            .map_err(|e| ManagerError::Config(format!("worker pool: {e}")))?;
        let store: Arc<dyn Store> = match self.store {
            Some(store) => store,
            None => Arc::new(MemoryStore::new()),
        };
        let (head_tx, _) = watch::channel(store.head());
        let metrics = self.metrics.unwrap_or_default();
        for engine in routes.engines() {
            metrics.set_engine_up(engine.name(), false);
        }
        Ok(Manager {
            inner: Arc::new(Inner {
                executor: FrameExecutor {
                    routes,
                    store,
                    limits: self.limits,
                    network_id: self.network_id,
                    pool,
                    metrics,
                    retry: self.retry,
                    cancel: self.cancel.unwrap_or_default(),
                },
                locks: Mutex::default(),
                head_tx,
                frame_lock: Mutex::new(()),
                timeouts: self.timeouts,
            }),
        })
    }
}
