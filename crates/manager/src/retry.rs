//! Failure classes in action: temporary failures are retried with capped exponential backoff,
//! a bounded number of times, then escalated; critical failures cancel the manager.

use std::time::Duration;

use switchyard_router::Severity;
use tokio_util::sync::CancellationToken;

use crate::{ManagerError, Result};

/// How temporary failures are retried (DESIGN §7). Nothing retries forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt. Default: 3.
    pub max_retries: u32,
    /// Delay before the first retry; doubled each time. Default: 10 ms.
    pub initial_backoff: Duration,
    /// Cap on the delay. Default: 1 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (0-based): `initial x 2^retry`, capped.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// Runs `attempt` until it succeeds, fails with a non-temporary error, or runs out of
    /// retries. An exhausted or critical failure cancels `cancel` (the node stops rather than
    /// run on in a bad state) and is returned.
    pub(crate) fn run<T>(
        &self,
        cancel: &CancellationToken,
        mut attempt: impl FnMut() -> Result<T>,
    ) -> Result<T> {
        let mut retry = 0;
        loop {
            match attempt() {
                Ok(value) => return Ok(value),
                Err(error) => match error.severity() {
                    Severity::Rejected => return Err(error),
                    Severity::Critical => {
                        tracing::error!(%error, "critical failure: cancelling the manager");
                        cancel.cancel();
                        return Err(error);
                    }
                    Severity::Temporary if retry < self.max_retries && !cancel.is_cancelled() => {
                        let delay = self.backoff(retry);
                        tracing::warn!(%error, retry, ?delay, "temporary failure: retrying");
                        std::thread::sleep(delay);
                        retry += 1;
                    }
                    Severity::Temporary => {
                        tracing::error!(%error, attempts = retry + 1, "temporary failure persisted: escalating");
                        cancel.cancel();
                        return Err(ManagerError::RetriesExhausted {
                            attempts: retry + 1,
                            last: Box::new(error),
                        });
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_state::StoreError;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
        };
        let delays: Vec<_> = (0..5).map(|r| policy.backoff(r).as_millis()).collect();
        assert_eq!(delays, vec![10, 20, 40, 50, 50]);
        assert_eq!(policy.backoff(200), Duration::from_millis(50));
    }

    #[test]
    fn temporary_failures_are_retried_then_escalated() {
        let policy = RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        };
        let cancel = CancellationToken::new();
        let mut calls = 0;
        let result: Result<()> = policy.run(&cancel, || {
            calls += 1;
            Err(ManagerError::Store(StoreError::Injected { writes: 0 }))
        });
        assert_eq!(calls, 3);
        assert!(matches!(
            result,
            Err(ManagerError::RetriesExhausted { attempts: 3, .. })
        ));
        assert!(cancel.is_cancelled());

        let cancel = CancellationToken::new();
        let mut calls = 0;
        let result = policy.run(&cancel, || {
            calls += 1;
            if calls < 2 {
                Err(ManagerError::Store(StoreError::Injected { writes: 1 }))
            } else {
                Ok(calls)
            }
        });
        assert_eq!(result.ok(), Some(2));
        assert!(!cancel.is_cancelled());
    }

    #[test]
    fn rejections_are_not_retried() {
        let policy = RetryPolicy::default();
        let cancel = CancellationToken::new();
        let mut calls = 0;
        let result: Result<()> = policy.run(&cancel, || {
            calls += 1;
            Err(ManagerError::NotAnOperation("receipt".into()))
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
        assert!(!cancel.is_cancelled());
    }
}
