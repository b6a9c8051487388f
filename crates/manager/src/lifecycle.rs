//! Engine lifecycle: `start` and `stop` with per-engine and overall timeouts.
//!
//! Engine hooks are synchronous and might hang; each runs on its own thread and the manager
//! waits for it at most the per-engine timeout, and for all of them at most the overall one.
//! A hook that overruns is abandoned (its thread is left to finish on its own).

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_router::{Engine, EngineError};

use crate::{Manager, ManagerError, Result};

/// Lifecycle timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest one engine's `start` or `stop` may take. Default: 5 s.
    pub per_engine: Duration,
    /// Longest starting or stopping every engine may take. Default: 15 s.
    pub overall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            per_engine: Duration::from_secs(5),
            overall: Duration::from_secs(15),
        }
    }
}

/// Runs `hook` on its own thread and waits at most `timeout` for it.
fn run_bounded(
    engine: &Arc<dyn Engine>,
    timeout: Duration,
    hook: impl FnOnce(&dyn Engine) -> std::result::Result<(), EngineError> + Send + 'static,
) -> Option<std::result::Result<(), EngineError>> {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let engine = Arc::clone(engine);
    let spawned = std::thread::Builder::new()
        .name(format!("switchyard-lifecycle-{}", engine.name()))
        .spawn(move || {
            let _ = done_tx.send(hook(engine.as_ref()));
        });
    match spawned {
        Ok(_) => done_rx.recv_timeout(timeout).ok(),
        Err(error) => Some(Err(EngineError::Temporary {
            engine: "lifecycle",
            reason: error.to_string(),
        })),
    }
}

impl Manager {
    /// Starts every engine in registration order. Fails with the name of the first engine
    /// whose `start` fails or overruns its timeout; engines already started stay started.
    pub fn start(&self) -> Result<()> {
        let deadline = Instant::now() + self.inner.timeouts.overall;
        for engine in self.inner.executor.routes.engines() {
            let timeout = self
                .inner
                .timeouts
                .per_engine
                .min(deadline.saturating_duration_since(Instant::now()));
            match run_bounded(engine, timeout, |engine| engine.start()) {
                Some(Ok(())) => {
                    self.inner
                        .executor
                        .metrics
                        .set_engine_up(engine.name(), true);
                    tracing::info!(engine = engine.name(), "engine started");
                }
                Some(Err(error)) => {
                    return Err(ManagerError::StartFailed {
                        engine: engine.name(),
                        reason: error.to_string(),
                    });
                }
                None => {
                    return Err(ManagerError::Timeout {
                        engine: engine.name(),
                        phase: "start",
                        timeout,
                    });
                }
            }
        }
        Ok(())
    }

    /// Stops every engine, in reverse registration order, and cancels the manager's token.
    /// Without `force`, the first failure or timeout is returned (the remaining engines are
    /// still stopped); with `force`, failures and timeouts are logged and ignored.
    pub fn stop(&self, force: bool) -> Result<()> {
        self.inner.executor.cancel.cancel();
        let deadline = Instant::now() + self.inner.timeouts.overall;
        let mut first_error = None;
        for engine in self.inner.executor.routes.engines().iter().rev() {
            let timeout = self
                .inner
                .timeouts
                .per_engine
                .min(deadline.saturating_duration_since(Instant::now()));
            let error = match run_bounded(engine, timeout, move |engine| engine.stop(force)) {
                Some(Ok(())) => None,
                Some(Err(error)) => Some(ManagerError::StopFailed {
                    engine: engine.name(),
                    reason: error.to_string(),
                }),
                None => Some(ManagerError::Timeout {
                    engine: engine.name(),
                    phase: "stop",
                    timeout,
                }),
            };
            self.inner
                .executor
                .metrics
                .set_engine_up(engine.name(), false);
            match error {
                Some(error) if force => tracing::warn!(%error, "ignored on forced stop"),
                Some(error) => {
                    tracing::error!(%error, "engine stop failed");
                    first_error.get_or_insert(error);
                }
                None => tracing::info!(engine = engine.name(), "engine stopped"),
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}
