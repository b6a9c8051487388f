//! The registry's genesis: its configuration and the initial active provers.

use std::collections::{BTreeMap, BTreeSet};

use switchyard_router::{Address, Key, MemoryView, StateWrite};

use crate::config::RegistryConfig;
use crate::error::{GenesisError, GlobalError};
use crate::op::{MAX_FILTERS_PER_OPERATION, verifying_key};
use crate::record::{
    Filter, FilterIndex, FilterState, ProverRecord, StatusIndex, config_address,
    filter_index_address, prover_address, status_index_address,
};
use crate::status::Status;

/// A prover active from genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisProver {
    /// Its Ed25519 public key.
    pub key: Key,
    /// The filters it serves (1 to [`MAX_FILTERS_PER_OPERATION`], distinct).
    pub filters: Vec<Filter>,
    /// Where its rewards go; `None` = its own native-token account.
    pub delegate: Option<Address>,
}

/// The registry as created at genesis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalGenesis {
    /// The registry configuration. Default: [`RegistryConfig::default`].
    pub config: RegistryConfig,
    /// The provers active from genesis (each at most once). Default: none.
    pub provers: Vec<GenesisProver>,
    /// The genesis frame number, recorded as the frame the provers became active. Default 0.
    pub frame: u64,
}

/// The records that create the registry: its configuration, then one record per prover
/// (active on its filters since `frame`), the active status index and one index per filter,
/// ordered by address. Refuses a bad configuration, an invalid or duplicated prover key, a
/// prover with no filters, too many or duplicated filters, and indexes past their bounds.
/// No proof of possession is asked: the genesis file is trusted.
///
/// ```
/// use switchyard_global::{GenesisProver, GlobalGenesis};
/// use switchyard_router::auth::SigningKey;
///
/// let key = SigningKey::from_bytes(&[1; 32]).verifying_key().to_bytes();
/// let genesis = GlobalGenesis {
///     provers: vec![GenesisProver { key, filters: vec![[7; 32]], delegate: None }],
///     ..Default::default()
/// };
/// // Configuration, prover record, active index, filter index.
/// assert_eq!(switchyard_global::genesis(&genesis)?.len(), 4);
/// # Ok::<(), switchyard_global::GlobalError>(())
/// ```
pub fn genesis(config: &GlobalGenesis) -> Result<Vec<(Address, Vec<u8>)>, GlobalError> {
    config.config.check()?;
    let registry = &config.config;
    let frame = config.frame;
    let mut records: BTreeMap<Address, Vec<u8>> = BTreeMap::new();
    records.insert(config_address(), registry.encode());
    let mut active = StatusIndex::default();
    let mut filters: BTreeMap<Filter, FilterIndex> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for entry in &config.provers {
        verifying_key(&entry.key)?;
        if !seen.insert(entry.key) {
            return Err(GlobalError::DuplicateGenesisProver { prover: entry.key });
        }
        if entry.filters.is_empty() {
            return Err(GlobalError::NoFilters);
        }
        if entry.filters.len() > MAX_FILTERS_PER_OPERATION {
            return Err(GlobalError::TooManyFilters {
                count: entry.filters.len(),
                limit: MAX_FILTERS_PER_OPERATION,
            });
        }
        let mut record = ProverRecord::new(entry.key);
        record.delegate = entry.delegate;
        record.last_join_frame = frame;
        for filter in &entry.filters {
            let state = FilterState {
                status: Status::Active,
                since_frame: frame,
            };
            if record.filters.insert(*filter, state).is_some() {
                return Err(GlobalError::DuplicateFilter { filter: *filter });
            }
            active.insert(Status::Active, &entry.key, filter, frame, registry, frame)?;
            filters.entry(*filter).or_default().set(
                filter,
                &entry.key,
                Status::Active,
                frame,
                registry,
                frame,
            )?;
        }
        records.insert(prover_address(&entry.key), record.encode());
    }
    if !active.entries.is_empty() {
        records.insert(status_index_address(Status::Active), active.encode());
    }
    for (filter, index) in filters {
        records.insert(filter_index_address(&filter), index.encode());
    }
    Ok(records.into_iter().collect())
}

/// Writes the registry's [`genesis`] records into `state`.
pub fn write_genesis(
    state: &mut dyn StateWrite,
    config: &GlobalGenesis,
) -> Result<(), GenesisError> {
    for (address, value) in genesis(config)? {
        state.put(address, value)?;
    }
    Ok(())
}

/// The registry's [`genesis`] as a [`MemoryView`], for tests and tools.
pub fn genesis_view(config: &GlobalGenesis) -> Result<MemoryView, GlobalError> {
    Ok(MemoryView {
        entries: genesis(config)?.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{filter_index, prover, status_index};
    use switchyard_router::auth::SigningKey;

    fn key(n: u8) -> Key {
        SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes()
    }

    #[test]
    fn genesis_provers_are_active_and_indexed() {
        let config = GlobalGenesis {
            provers: vec![
                GenesisProver {
                    key: key(1),
                    filters: vec![[7; 32], [8; 32]],
                    delegate: None,
                },
                GenesisProver {
                    key: key(2),
                    filters: vec![[7; 32]],
                    delegate: None,
                },
            ],
            frame: 3,
            ..Default::default()
        };
        let state = genesis_view(&config).unwrap();
        let record = prover(&state, &key(1)).unwrap().unwrap();
        assert_eq!(record.filters.len(), 2);
        assert_eq!(status_index(&state, Status::Active).unwrap().len(), 3);
        assert_eq!(filter_index(&state, &[7; 32]).unwrap().len(), 2);
        assert_eq!(filter_index(&state, &[8; 32]).unwrap()[0].since_frame, 3);
    }

    #[test]
    fn bad_genesis_configs_are_named() {
        let prover = |key, filters: Vec<Filter>| GenesisProver {
            key,
            filters,
            delegate: None,
        };
        let with = |provers| GlobalGenesis {
            provers,
            ..Default::default()
        };
        assert_eq!(
            genesis(&with(vec![
                prover(key(1), vec![[1; 32]]),
                prover(key(1), vec![[2; 32]])
            ])),
            Err(GlobalError::DuplicateGenesisProver { prover: key(1) })
        );
        assert_eq!(
            genesis(&with(vec![prover(key(1), vec![])])),
            Err(GlobalError::NoFilters)
        );
        assert_eq!(
            genesis(&with(vec![prover(key(1), vec![[1; 32], [1; 32]])])),
            Err(GlobalError::DuplicateFilter { filter: [1; 32] })
        );
        assert!(matches!(
            genesis(&with(vec![prover([0; 32], vec![[1; 32]])])),
            Err(GlobalError::BadProverKey { .. })
        ));
        let mut tight = with(vec![
            prover(key(1), vec![[1; 32]]),
            prover(key(2), vec![[1; 32]]),
        ]);
        tight.config.max_filter_entries = 1;
        assert_eq!(
            genesis(&tight),
            Err(GlobalError::FilterFull {
                filter: [1; 32],
                limit: 1
            })
        );
        let mut bad = with(vec![]);
        bad.config.confirm_min_delay = 0;
        assert!(matches!(genesis(&bad), Err(GlobalError::BadConfig { .. })));
    }
}
