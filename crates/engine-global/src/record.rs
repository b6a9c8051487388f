//! The records the global engine keeps in state, all in the global domain, and the reads
//! users make of them.
//!
//! - The registry configuration at [`config_address`] (a `RegistryConfig`).
//! - One record per prover at [`prover_address`]`(key)` (a `ProverRecord`): its delegate, its
//!   status and since-frame on every filter it ever joined, whether it was kicked.
//! - One index per stored status at [`status_index_address`]`(status)` (a `StatusIndex`):
//!   the (prover, filter) pairs in that status.
//! - One index per filter at [`filter_index_address`]`(filter)` (a `FilterIndex`): the
//!   provers of the filter in a live status (joining, active, paused, leaving).
//!
//! Every transition rewrites the prover record and the indexes it changes, so queries never
//! scan.

use std::collections::BTreeMap;

use prost::Message;
use switchyard_proto::v1;
use switchyard_proto::v1::ProverStatus;
use switchyard_router::domains::GLOBAL;
use switchyard_router::{Address, Key, StateError, StateRead};

use crate::config::RegistryConfig;
use crate::error::GlobalError;
use crate::status::{Status, effective};

/// A shard filter: 32 bytes.
pub type Filter = [u8; 32];

/// The most filters one prover may have ever joined (its record lists each with its status).
pub const MAX_FILTERS_PER_PROVER: usize = 64;

fn derived_key(label: &[u8], parts: &[&[u8]]) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher.update(label);
    for part in parts {
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

/// The address of the registry configuration: `(GLOBAL, BLAKE3("switchyard/global/config"))`.
pub fn config_address() -> Address {
    Address::new(GLOBAL, derived_key(b"switchyard/global/config", &[]))
}

/// The address of `prover`'s record: `(GLOBAL, BLAKE3("switchyard/global/prover" || key))`.
///
/// ```
/// let a = switchyard_global::prover_address(&[1; 32]);
/// assert_eq!(a.domain, switchyard_router::domains::GLOBAL);
/// assert_ne!(a, switchyard_global::prover_address(&[2; 32]));
/// ```
pub fn prover_address(prover: &Key) -> Address {
    Address::new(GLOBAL, derived_key(b"switchyard/global/prover", &[prover]))
}

/// The address of the index of a stored status:
/// `(GLOBAL, BLAKE3("switchyard/global/status-index" || wire status as one byte))`.
pub fn status_index_address(status: Status) -> Address {
    let tag = [status.to_proto() as u8];
    Address::new(
        GLOBAL,
        derived_key(b"switchyard/global/status-index", &[&tag]),
    )
}

/// The address of a filter's index:
/// `(GLOBAL, BLAKE3("switchyard/global/filter-index" || filter))`.
pub fn filter_index_address(filter: &Filter) -> Address {
    Address::new(
        GLOBAL,
        derived_key(b"switchyard/global/filter-index", &[filter]),
    )
}

/// A prover's status on one filter, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterState {
    /// The stored status (never [`Status::None`] or [`Status::Expired`]).
    pub status: Status,
    /// The frame at which the prover entered it.
    pub since_frame: u64,
}

impl FilterState {
    /// The status this reads as at `frame` (see [`effective`]).
    pub fn at(&self, frame: u64, config: &RegistryConfig) -> Status {
        effective(self.status, self.since_frame, frame, config)
    }
}

/// A prover's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProverRecord {
    /// The prover's public key.
    pub key: Key,
    /// Where its rewards go; `None` = its own native-token account.
    pub delegate: Option<Address>,
    /// Its status on every filter it ever joined.
    pub filters: BTreeMap<Filter, FilterState>,
    /// Whether it was kicked.
    pub kicked: bool,
    /// The last frame in which a join added a filter to `filters`.
    pub last_join_frame: u64,
}

fn corrupt(what: &'static str, reason: impl Into<String>) -> StateError {
    StateError::Corrupt {
        what,
        reason: reason.into(),
    }
}

fn stored_key(what: &'static str, bytes: &[u8]) -> Result<Key, StateError> {
    Key::try_from(bytes).map_err(|_| corrupt(what, format!("key of {} bytes", bytes.len())))
}

fn stored_status(what: &'static str, value: i32) -> Result<Status, StateError> {
    let status = ProverStatus::try_from(value)
        .map(Status::from_proto)
        .map_err(|_| corrupt(what, format!("unknown status {value}")))?;
    if !status.is_stored() {
        return Err(corrupt(what, format!("status {status} is never stored")));
    }
    Ok(status)
}

impl ProverRecord {
    /// A new record for `key` with no filters.
    pub fn new(key: Key) -> Self {
        Self {
            key,
            delegate: None,
            filters: BTreeMap::new(),
            kicked: false,
            last_join_frame: 0,
        }
    }

    /// The address rewards go to: the delegate, or the prover's own native-token account.
    pub fn reward_address(&self) -> Address {
        self.delegate
            .unwrap_or_else(|| switchyard_router::domains::native_account(self.key))
    }

    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        v1::ProverRecord {
            public_key: self.key.to_vec(),
            delegate_address: self
                .delegate
                .map(|a| a.to_bytes().to_vec())
                .unwrap_or_default(),
            filters: self
                .filters
                .iter()
                .map(|(filter, state)| v1::prover_record::FilterState {
                    filter: filter.to_vec(),
                    status: state.status.to_proto() as i32,
                    since_frame: state.since_frame,
                })
                .collect(),
            kicked: self.kicked,
            last_join_frame: self.last_join_frame,
        }
        .encode_to_vec()
    }

    /// Decodes stored bytes; anything malformed is [`StateError::Corrupt`].
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        const WHAT: &str = "prover record";
        let stored = v1::ProverRecord::decode(bytes).map_err(|e| corrupt(WHAT, e.to_string()))?;
        let delegate = if stored.delegate_address.is_empty() {
            None
        } else {
            Some(
                Address::from_slice(&stored.delegate_address)
                    .map_err(|e| corrupt(WHAT, e.to_string()))?,
            )
        };
        let mut filters = BTreeMap::new();
        for entry in &stored.filters {
            let filter = stored_key(WHAT, &entry.filter)?;
            let state = FilterState {
                status: stored_status(WHAT, entry.status)?,
                since_frame: entry.since_frame,
            };
            if filters.insert(filter, state).is_some() {
                return Err(corrupt(WHAT, "a filter listed twice"));
            }
        }
        Ok(Self {
            key: stored_key(WHAT, &stored.public_key)?,
            delegate,
            filters,
            kicked: stored.kicked,
            last_join_frame: stored.last_join_frame,
        })
    }
}

/// Reads `prover`'s record: `Ok(None)` when it never joined.
pub fn prover(state: &dyn StateRead, prover: &Key) -> Result<Option<ProverRecord>, StateError> {
    state
        .get(&prover_address(prover))?
        .map(|bytes| ProverRecord::decode(&bytes))
        .transpose()
}

/// One entry of a status index: a prover on a filter since a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusEntry {
    /// The prover.
    pub prover: Key,
    /// The filter.
    pub filter: Filter,
    /// The frame at which the prover entered the status on the filter.
    pub since_frame: u64,
}

/// The entries of the index of the stored status `status`, ordered by prover then filter
/// (empty for a status that is never stored).
pub fn status_index(state: &dyn StateRead, status: Status) -> Result<Vec<StatusEntry>, StateError> {
    Ok(StatusIndex::load(state, status)?
        .entries
        .into_iter()
        .map(|((prover, filter), since_frame)| StatusEntry {
            prover,
            filter,
            since_frame,
        })
        .collect())
}

/// One entry of a filter index: a prover in a live stored status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FilterEntry {
    /// The prover.
    pub prover: Key,
    /// Its stored status on the filter.
    pub status: Status,
    /// The frame at which it entered that status.
    pub since_frame: u64,
}

/// The entries of `filter`'s index, ordered by prover.
pub fn filter_index(
    state: &dyn StateRead,
    filter: &Filter,
) -> Result<Vec<FilterEntry>, StateError> {
    Ok(FilterIndex::load(state, filter)?
        .entries
        .into_iter()
        .map(|(prover, (status, since_frame))| FilterEntry {
            prover,
            status,
            since_frame,
        })
        .collect())
}

/// A status index as an operation edits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StatusIndex {
    pub(crate) entries: BTreeMap<(Key, Filter), u64>,
}

impl StatusIndex {
    pub(crate) fn load(state: &dyn StateRead, status: Status) -> Result<Self, StateError> {
        const WHAT: &str = "status index";
        if !status.is_stored() {
            return Ok(Self::default());
        }
        let Some(bytes) = state.get(&status_index_address(status))? else {
            return Ok(Self::default());
        };
        let stored =
            v1::StatusIndex::decode(bytes.as_slice()).map_err(|e| corrupt(WHAT, e.to_string()))?;
        let mut entries = BTreeMap::new();
        for entry in stored.entries {
            entries.insert(
                (
                    stored_key(WHAT, &entry.prover)?,
                    stored_key(WHAT, &entry.filter)?,
                ),
                entry.since_frame,
            );
        }
        Ok(Self { entries })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        v1::StatusIndex {
            entries: self
                .entries
                .iter()
                .map(|((prover, filter), since)| v1::status_index::Entry {
                    prover: prover.to_vec(),
                    filter: filter.to_vec(),
                    since_frame: *since,
                })
                .collect(),
        }
        .encode_to_vec()
    }

    pub(crate) fn remove(&mut self, prover: &Key, filter: &Filter) {
        self.entries.remove(&(*prover, *filter));
    }

    /// Adds (prover, filter) to the index of `status`. When the index is full: a live
    /// status's index first drops the entries that lapsed (their window closed before
    /// `frame`); a terminal status's index drops its oldest entries. Still full is
    /// [`GlobalError::IndexFull`].
    pub(crate) fn insert(
        &mut self,
        status: Status,
        prover: &Key,
        filter: &Filter,
        since: u64,
        config: &RegistryConfig,
        frame: u64,
    ) -> Result<(), GlobalError> {
        let limit = config.max_status_entries as usize;
        let key = (*prover, *filter);
        if !self.entries.contains_key(&key) && self.entries.len() >= limit {
            if status.is_live() {
                self.entries.retain(|_, entry_since| {
                    effective(status, *entry_since, frame, config) == status
                });
            } else {
                while self.entries.len() >= limit {
                    let oldest = self
                        .entries
                        .iter()
                        .min_by_key(|(key, since)| (**since, **key))
                        .map(|(key, _)| *key);
                    match oldest {
                        Some(oldest) => self.entries.remove(&oldest),
                        None => break,
                    };
                }
            }
            if self.entries.len() >= limit {
                return Err(GlobalError::IndexFull { status, limit });
            }
        }
        self.entries.insert(key, since);
        Ok(())
    }
}

/// A filter index as an operation edits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FilterIndex {
    pub(crate) entries: BTreeMap<Key, (Status, u64)>,
}

impl FilterIndex {
    pub(crate) fn load(state: &dyn StateRead, filter: &Filter) -> Result<Self, StateError> {
        const WHAT: &str = "filter index";
        let Some(bytes) = state.get(&filter_index_address(filter))? else {
            return Ok(Self::default());
        };
        let stored =
            v1::FilterIndex::decode(bytes.as_slice()).map_err(|e| corrupt(WHAT, e.to_string()))?;
        let mut entries = BTreeMap::new();
        for entry in stored.entries {
            entries.insert(
                stored_key(WHAT, &entry.prover)?,
                (stored_status(WHAT, entry.status)?, entry.since_frame),
            );
        }
        Ok(Self { entries })
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        v1::FilterIndex {
            entries: self
                .entries
                .iter()
                .map(|(prover, (status, since))| v1::filter_index::Entry {
                    prover: prover.to_vec(),
                    status: status.to_proto() as i32,
                    since_frame: *since,
                })
                .collect(),
        }
        .encode_to_vec()
    }

    /// Records `prover` in `status` on `filter`: listed while live, dropped otherwise. A
    /// full index first drops the entries that lapsed before `frame`; still full is
    /// [`GlobalError::FilterFull`].
    pub(crate) fn set(
        &mut self,
        filter: &Filter,
        prover: &Key,
        status: Status,
        since: u64,
        config: &RegistryConfig,
        frame: u64,
    ) -> Result<(), GlobalError> {
        if !status.is_live() {
            self.entries.remove(prover);
            return Ok(());
        }
        let limit = config.max_filter_entries as usize;
        if !self.entries.contains_key(prover) && self.entries.len() >= limit {
            self.entries.retain(|_, (entry_status, entry_since)| {
                effective(*entry_status, *entry_since, frame, config) == *entry_status
            });
            if self.entries.len() >= limit {
                return Err(GlobalError::FilterFull {
                    filter: *filter,
                    limit,
                });
            }
        }
        self.entries.insert(*prover, (status, since));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_router::MemoryView;
    use switchyard_router::StateWrite;

    #[test]
    fn prover_records_round_trip() {
        let mut record = ProverRecord::new([1; 32]);
        record.delegate = Some(Address::new(GLOBAL, [2; 32]));
        record.filters.insert(
            [3; 32],
            FilterState {
                status: Status::Paused,
                since_frame: 9,
            },
        );
        record.kicked = true;
        record.last_join_frame = 4;
        assert_eq!(ProverRecord::decode(&record.encode()).unwrap(), record);
        let mut state = MemoryView::default();
        state
            .put(prover_address(&[1; 32]), record.encode())
            .unwrap();
        assert_eq!(prover(&state, &[1; 32]).unwrap(), Some(record));
        assert_eq!(prover(&state, &[2; 32]).unwrap(), None);
        state
            .put(prover_address(&[2; 32]), vec![0x0a, 0x01])
            .unwrap();
        assert!(matches!(
            prover(&state, &[2; 32]),
            Err(StateError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_full_live_index_drops_lapsed_entries_and_a_terminal_one_its_oldest() {
        let config = RegistryConfig {
            max_status_entries: 2,
            ..Default::default()
        };
        let mut joining = StatusIndex::default();
        joining
            .insert(Status::Joining, &[1; 32], &[0; 32], 0, &config, 0)
            .unwrap();
        joining
            .insert(Status::Joining, &[2; 32], &[0; 32], 500, &config, 500)
            .unwrap();
        // At 600 nothing lapsed: full.
        assert_eq!(
            joining.insert(Status::Joining, &[3; 32], &[0; 32], 600, &config, 600),
            Err(GlobalError::IndexFull {
                status: Status::Joining,
                limit: 2
            })
        );
        // At 721 the first join expired and makes room.
        joining
            .insert(Status::Joining, &[3; 32], &[0; 32], 721, &config, 721)
            .unwrap();
        assert_eq!(joining.entries.len(), 2);
        assert!(!joining.entries.contains_key(&([1; 32], [0; 32])));

        let mut left = StatusIndex::default();
        for (n, since) in [(1u8, 5u64), (2, 3), (3, 9)] {
            left.insert(Status::Left, &[n; 32], &[0; 32], since, &config, since)
                .unwrap();
        }
        let kept: Vec<u8> = left.entries.keys().map(|(p, _)| p[0]).collect();
        assert_eq!(kept, [1, 3], "the oldest entry (since 3) was dropped");
    }
}
