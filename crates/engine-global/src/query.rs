//! Answers to [`GlobalQuery`]: a prover by key, provers by status, the provers of a filter,
//! the registry configuration. Read-only, over whatever committed state the caller hands in,
//! and never by scanning: each answer reads one record or a few indexes.

use std::collections::BTreeMap;

use switchyard_proto::v1::global_query::Query;
use switchyard_proto::v1::global_query_response::{
    Entry, EntryList, FilterStatus, ProverAnswer, ProverInfo, Response,
};
use switchyard_proto::v1::{GlobalQuery, GlobalQueryResponse, ProverStatus};
use switchyard_proto::{AnyMessage, CanonicalMessage};
use switchyard_router::domains::GLOBAL;
use switchyard_router::{Domain, EngineError, Key, StateRead};

use crate::config::{RegistryConfig, registry_config};
use crate::error::GlobalError;
use crate::op::key;
use crate::record::{Filter, FilterIndex, ProverRecord, StatusIndex, prover};
use crate::status::{Status, effective};

/// How statuses are read: as stored, or as they read at a frame.
#[derive(Debug, Clone, Copy)]
struct Reading<'c> {
    config: &'c RegistryConfig,
    /// 0 = as stored.
    at_frame: u64,
}

impl Reading<'_> {
    fn status(&self, stored: Status, since: u64) -> Status {
        if self.at_frame == 0 {
            stored
        } else {
            effective(stored, since, self.at_frame, self.config)
        }
    }

    fn filter_status(&self, filter: &Filter, stored: Status, since: u64) -> FilterStatus {
        FilterStatus {
            filter: filter.to_vec(),
            status: self.status(stored, since).to_proto() as i32,
            stored_status: stored.to_proto() as i32,
            since_frame: since,
        }
    }
}

/// Answers `query`, sent to the global domain, as the canonical bytes of a
/// [`GlobalQueryResponse`].
pub(crate) fn answer(
    target: &Domain,
    query: &AnyMessage,
    state: &dyn StateRead,
) -> Result<Vec<u8>, EngineError> {
    if *target != GLOBAL {
        return Err(refuse(GlobalError::BadQuery {
            reason: format!("global queries go to the global domain, not {target}"),
        }));
    }
    let AnyMessage::GlobalQuery(GlobalQuery {
        query: Some(question),
        at_frame,
    }) = query
    else {
        return Err(refuse(GlobalError::BadQuery {
            reason: format!(
                "expected a GlobalQuery with a question, got tag {}",
                query.tag()
            ),
        }));
    };
    let config = registry_config(state)?;
    let reading = Reading {
        config: &config,
        at_frame: *at_frame,
    };
    let response = match question {
        Query::Prover(asked) => {
            let key = key("prover key", &asked.key).map_err(refuse)?;
            Response::Prover(ProverAnswer {
                prover: prover(state, &key)?.map(|record| info(&record, &reading)),
            })
        }
        Query::ByStatus(asked) => {
            let status = ProverStatus::try_from(asked.status)
                .ok()
                .map(Status::from_proto)
                .filter(|status| *status != Status::None)
                .ok_or_else(|| {
                    refuse(GlobalError::BadQuery {
                        reason: format!("status {} is not a prover status", asked.status),
                    })
                })?;
            Response::Entries(by_status(state, status, &reading)?)
        }
        Query::ByFilter(asked) => {
            let filter = key("filter", &asked.filter).map_err(refuse)?;
            let index = FilterIndex::load(state, &filter)?;
            let entries = index
                .entries
                .iter()
                .map(|(prover, (stored, since))| Entry {
                    prover: prover.to_vec(),
                    filter: Some(reading.filter_status(&filter, *stored, *since)),
                })
                .collect();
            Response::Entries(EntryList { entries })
        }
        Query::Config(_) => Response::Config(config.to_proto()),
    };
    Ok(GlobalQueryResponse {
        response: Some(response),
    }
    .to_canonical_bytes())
}

fn info(record: &ProverRecord, reading: &Reading<'_>) -> ProverInfo {
    ProverInfo {
        public_key: record.key.to_vec(),
        delegate_address: record.reward_address().to_bytes().to_vec(),
        filters: record
            .filters
            .iter()
            .map(|(filter, state)| {
                let stored = if record.kicked {
                    Status::Kicked
                } else {
                    state.status
                };
                reading.filter_status(filter, stored, state.since_frame)
            })
            .collect(),
        kicked: record.kicked,
    }
}

/// The (prover, filter) pairs that read as `status`: read from the index of every stored
/// status that can read as it.
fn by_status(
    state: &dyn StateRead,
    status: Status,
    reading: &Reading<'_>,
) -> Result<EntryList, EngineError> {
    let mut found: BTreeMap<(Key, Filter), FilterStatus> = BTreeMap::new();
    for stored in status.stored_forms() {
        let index = StatusIndex::load(state, *stored)?;
        for ((prover, filter), since) in index.entries {
            if reading.status(*stored, since) == status {
                found.insert(
                    (prover, filter),
                    reading.filter_status(&filter, *stored, since),
                );
            }
        }
    }
    Ok(EntryList {
        entries: found
            .into_iter()
            .map(|((prover, _), filter)| Entry {
                prover: prover.to_vec(),
                filter: Some(filter),
            })
            .collect(),
    })
}

fn refuse(error: GlobalError) -> EngineError {
    EngineError::rejected(crate::ENGINE_NAME, "GlobalQuery", error)
}
