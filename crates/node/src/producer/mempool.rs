//! The mempool: a bounded FIFO of admitted messages (by count and by bytes), the set of
//! hashes pending (queued or in the frame being executed), for duplicate refusal and status,
//! and each signer's highest pending nonce, so that a client can queue its next operation
//! behind ones not yet committed.

use std::collections::{HashMap, HashSet, VecDeque};

use parking_lot::Mutex;
use switchyard_router::Key;
use tokio::sync::Notify;

use crate::rpc::RpcError;

/// One admitted message.
#[derive(Debug, Clone)]
pub struct Entry {
    /// BLAKE3 of `message`.
    pub hash: [u8; 32],
    /// The target domain or address.
    pub target: Vec<u8>,
    /// Canonical message bytes.
    pub message: Vec<u8>,
    /// Each request's signer and nonce, as validation found them (empty before).
    pub signers: Vec<(Key, u64)>,
}

/// The mempool's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolLimits {
    /// Most messages waiting. Default: 50,000.
    pub max_messages: usize,
    /// Most bytes of messages waiting. Default: 64 MiB.
    pub max_bytes: usize,
    /// Messages that make a full frame: reaching it wakes the producer before its interval.
    pub frame_max: usize,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        Self {
            max_messages: 50_000,
            max_bytes: 64 << 20,
            frame_max: 10_000,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Entry>,
    bytes: usize,
    /// Queued or being executed; a hash leaves once its frame is indexed.
    pending: HashSet<[u8; 32]>,
    /// For each signer with pending requests: how many, and the highest nonce among them.
    nonces: HashMap<Key, PendingNonces>,
    closed: bool,
}

/// A signer's pending requests.
#[derive(Debug, Clone, Copy)]
struct PendingNonces {
    count: usize,
    highest: u64,
}

impl State {
    /// Queues `entry` (its checks passed) and counts its signers' nonces.
    fn push(&mut self, entry: Entry, bytes: usize) {
        for (signer, nonce) in &entry.signers {
            let pending = self.nonces.entry(*signer).or_insert(PendingNonces {
                count: 0,
                highest: *nonce,
            });
            pending.count = pending.count.saturating_add(1);
            pending.highest = pending.highest.max(*nonce);
        }
        self.pending.insert(entry.hash);
        self.bytes = self.bytes.saturating_add(bytes);
        self.queue.push_back(entry);
    }
}

/// The bounded mempool (see the module docs). Admission never grows it past its limits: a
/// full mempool refuses with [`RpcError::MempoolFull`].
#[derive(Debug)]
pub struct Mempool {
    state: Mutex<State>,
    full_frame: Notify,
    limits: MempoolLimits,
}

impl Mempool {
    /// An empty mempool with `limits`.
    pub fn new(limits: MempoolLimits) -> Self {
        Self {
            state: Mutex::new(State::default()),
            full_frame: Notify::new(),
            limits,
        }
    }

    /// Admits each of `entries`, in order and under one lock, unless the mempool is closed or
    /// full, or its hash is pending or `committed` says it is committed. `committed` is asked
    /// once, under the lock (so that a message whose frame is being indexed is never admitted
    /// twice), for the hashes not pending, and answers one flag per hash. Returns a verdict per
    /// entry, in order (a later copy of an entry in `entries` is a duplicate).
    pub fn admit_batch(
        &self,
        entries: Vec<Entry>,
        committed: impl FnOnce(&[[u8; 32]]) -> Result<Vec<bool>, RpcError>,
    ) -> Vec<Result<(), RpcError>> {
        if entries.is_empty() {
            return Vec::new();
        }
        let mut state = self.state.lock();
        if state.closed {
            return entries
                .iter()
                .map(|_| Err(RpcError::ShuttingDown))
                .collect();
        }
        let asked: Vec<[u8; 32]> = entries
            .iter()
            .map(|e| e.hash)
            .filter(|hash| !state.pending.contains(hash))
            .collect();
        let flags = match committed(&asked) {
            Ok(flags) if flags.len() == asked.len() => flags,
            Ok(flags) => {
                let error = format!("{} answers for {} hashes", flags.len(), asked.len());
                return entries
                    .iter()
                    .map(|_| Err(RpcError::Internal(error.clone())))
                    .collect();
            }
            Err(error) => {
                let error = error.to_string();
                return entries
                    .iter()
                    .map(|_| Err(RpcError::Internal(error.clone())))
                    .collect();
            }
        };
        let committed: HashSet<[u8; 32]> = asked
            .into_iter()
            .zip(flags)
            .filter_map(|(hash, committed)| committed.then_some(hash))
            .collect();
        let mut notify = false;
        let verdicts = entries
            .into_iter()
            .map(|entry| {
                if state.pending.contains(&entry.hash) || committed.contains(&entry.hash) {
                    return Err(RpcError::Duplicate(entry.hash));
                }
                let bytes = entry.message.len().saturating_add(entry.target.len());
                if state.queue.len() >= self.limits.max_messages
                    || state.bytes.saturating_add(bytes) > self.limits.max_bytes
                {
                    return Err(RpcError::MempoolFull {
                        messages: state.queue.len(),
                        bytes: state.bytes,
                    });
                }
                state.push(entry, bytes);
                notify |= state.queue.len() >= self.limits.frame_max;
                Ok(())
            })
            .collect();
        if notify {
            self.full_frame.notify_one();
        }
        verdicts
    }

    /// Whether `hash` is queued or in the frame being executed.
    pub fn is_pending(&self, hash: &[u8; 32]) -> bool {
        self.state.lock().pending.contains(hash)
    }

    /// Takes up to `max` messages, oldest first; their hashes stay pending until [`Mempool::settle`].
    pub fn take(&self, max: usize) -> Vec<Entry> {
        let mut state = self.state.lock();
        let n = max.min(state.queue.len());
        let taken: Vec<Entry> = state.queue.drain(..n).collect();
        let bytes: usize = taken
            .iter()
            .map(|e| e.message.len().saturating_add(e.target.len()))
            .sum();
        state.bytes = state.bytes.saturating_sub(bytes);
        taken
    }

    /// Forgets `entries`, taken earlier (their frame is committed and indexed, or the frame
    /// was dropped).
    pub fn settle(&self, entries: &[Entry]) {
        let mut state = self.state.lock();
        for entry in entries {
            state.pending.remove(&entry.hash);
            for (signer, _) in &entry.signers {
                if let Some(pending) = state.nonces.get_mut(signer) {
                    pending.count = pending.count.saturating_sub(1);
                    if pending.count == 0 {
                        state.nonces.remove(signer);
                    }
                }
            }
        }
    }

    /// The highest nonce `signer` used in a pending request, if it has any.
    pub fn pending_nonce(&self, signer: &Key) -> Option<u64> {
        self.state.lock().nonces.get(signer).map(|p| p.highest)
    }

    /// Stops admission for good; returns how many messages were still queued.
    pub fn close(&self) -> usize {
        let mut state = self.state.lock();
        state.closed = true;
        state.queue.len()
    }

    /// Messages and bytes queued.
    pub fn depth(&self) -> (usize, usize) {
        let state = self.state.lock();
        (state.queue.len(), state.bytes)
    }

    /// Resolves once a full frame is queued (or a permit is left from an earlier one).
    pub async fn full_frame(&self) {
        self.full_frame.notified().await;
    }

    /// The mempool's bounds.
    pub fn limits(&self) -> MempoolLimits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One entry through `admit_batch`, `committed` answering for its hash.
    fn admit(pool: &Mempool, entry: Entry, committed: bool) -> Result<(), RpcError> {
        pool.admit_batch(vec![entry], |hashes| Ok(vec![committed; hashes.len()]))
            .pop()
            .unwrap_or_else(|| panic!("admit_batch gave no verdict"))
    }

    fn entry(n: u8, len: usize) -> Entry {
        Entry {
            hash: [n; 32],
            target: vec![0; 32],
            message: vec![n; len],
            signers: Vec::new(),
        }
    }

    #[test]
    fn admission_is_bounded_and_refuses_duplicates() {
        let pool = Mempool::new(MempoolLimits {
            max_messages: 2,
            max_bytes: 1_000,
            frame_max: 2,
        });
        assert!(admit(&pool, entry(1, 10), false).is_ok());
        assert!(matches!(
            admit(&pool, entry(1, 10), false),
            Err(RpcError::Duplicate(_))
        ));
        assert!(matches!(
            admit(&pool, entry(2, 10), true),
            Err(RpcError::Duplicate(_))
        ));
        assert!(matches!(
            admit(&pool, entry(3, 2_000), false),
            Err(RpcError::MempoolFull { .. })
        ));
        assert!(admit(&pool, entry(4, 10), false).is_ok());
        assert!(matches!(
            admit(&pool, entry(5, 10), false),
            Err(RpcError::MempoolFull { .. })
        ));
        let taken = pool.take(10);
        assert_eq!(taken.len(), 2);
        assert_eq!(pool.depth(), (0, 0));
        assert!(pool.is_pending(&[1; 32]));
        pool.settle(&taken);
        assert!(!pool.is_pending(&[1; 32]));
        pool.close();
        assert!(matches!(
            admit(&pool, entry(6, 10), false),
            Err(RpcError::ShuttingDown)
        ));
    }

    #[test]
    fn batch_admission_is_bounded_and_refuses_duplicates_within_and_across() {
        let pool = Mempool::new(MempoolLimits {
            max_messages: 3,
            max_bytes: 1_000,
            frame_max: 10,
        });
        assert!(admit(&pool, entry(1, 10), false).is_ok());
        let verdicts = pool.admit_batch(
            vec![
                entry(1, 10),
                entry(2, 10),
                entry(2, 10),
                entry(3, 10),
                entry(4, 2_000),
                entry(5, 10),
                entry(6, 10),
            ],
            // Asked only for the hashes not pending; 3 is committed.
            |hashes| {
                assert!(!hashes.contains(&[1; 32]));
                Ok(hashes.iter().map(|h| *h == [3; 32]).collect())
            },
        );
        let kinds: Vec<&str> = verdicts
            .iter()
            .map(|v| match v {
                Ok(()) => "ok",
                Err(RpcError::Duplicate(_)) => "duplicate",
                Err(RpcError::MempoolFull { .. }) => "full",
                Err(_) => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "duplicate",
                "ok",
                "duplicate",
                "duplicate",
                "full",
                "ok",
                "full"
            ]
        );
        assert_eq!(pool.depth().0, 3);
        pool.close();
        assert!(matches!(
            pool.admit_batch(vec![entry(7, 1)], |_| Ok(vec![false]))[..],
            [Err(RpcError::ShuttingDown)]
        ));
    }

    #[test]
    fn each_signer_s_highest_pending_nonce_lasts_until_its_last_request_settles() {
        let pool = Mempool::new(MempoolLimits::default());
        let signed = |n: u8, signers: &[(Key, u64)]| Entry {
            signers: signers.to_vec(),
            ..entry(n, 10)
        };
        let (alice, bob) = ([0xa1; 32], [0xb0; 32]);
        assert_eq!(pool.pending_nonce(&alice), None);
        let verdicts = pool.admit_batch(
            vec![
                signed(1, &[(alice, 7)]),
                // A bundle: both sign it.
                signed(2, &[(alice, 9), (bob, 3)]),
                signed(3, &[(alice, 8)]),
            ],
            |hashes| Ok(vec![false; hashes.len()]),
        );
        assert!(verdicts.iter().all(Result::is_ok));
        // Refused entries count for nothing.
        assert!(admit(&pool, signed(2, &[(bob, 99)]), false).is_err());
        assert_eq!(pool.pending_nonce(&alice), Some(9));
        assert_eq!(pool.pending_nonce(&bob), Some(3));
        let first = pool.take(2);
        pool.settle(&first);
        assert_eq!(pool.pending_nonce(&bob), None);
        assert_eq!(
            pool.pending_nonce(&alice),
            Some(9),
            "the highest stays while any of the signer's requests is pending"
        );
        let rest = pool.take(10);
        pool.settle(&rest);
        assert_eq!(pool.pending_nonce(&alice), None);
    }
}
