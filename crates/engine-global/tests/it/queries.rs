//! Queries through the engine contract: a prover by key, provers by status (with implicit
//! statuses read at a frame), the provers of a filter, the configuration, and bad queries.

use switchyard_global::{GlobalEngine, GlobalError, RegistryConfig};
use switchyard_proto::v1::global_query::{ByFilter, ByStatus, Config, Prover, Query};
use switchyard_proto::v1::global_query_response::{EntryList, Response};
use switchyard_proto::v1::{GlobalQuery, GlobalQueryResponse, ProverStatus};
use switchyard_proto::{AnyMessage, CanonicalMessage};
use switchyard_router::domains::{GLOBAL, NATIVE_TOKEN, native_account};
use switchyard_router::{Engine, StateRead};

use crate::common::*;

fn ask(state: &dyn StateRead, query: Query, at_frame: u64) -> Response {
    let query = AnyMessage::GlobalQuery(GlobalQuery {
        query: Some(query),
        at_frame,
    });
    let bytes = GlobalEngine::new().query(&GLOBAL, &query, state).unwrap();
    GlobalQueryResponse::from_canonical_bytes(&bytes)
        .unwrap()
        .response
        .unwrap()
}

fn entries(response: Response) -> EntryList {
    match response {
        Response::Entries(list) => list,
        other => panic!("expected entries, got {other:?}"),
    }
}

fn by_status(state: &dyn StateRead, status: ProverStatus, at_frame: u64) -> Vec<(u8, u8, i32)> {
    entries(ask(
        state,
        Query::ByStatus(ByStatus {
            status: status as i32,
        }),
        at_frame,
    ))
    .entries
    .into_iter()
    .map(|e| {
        let f = e.filter.unwrap();
        (e.prover[0], f.filter[0], f.stored_status)
    })
    .collect()
}

#[test]
fn every_question_is_answered_from_records_and_indexes() {
    let mut chain = Chain::new();
    chain.at(10);
    chain
        .send(&mut client(1), |c| c.join(&[filter(1), filter(2)], None))
        .unwrap();
    chain.at(400);
    chain
        .send(&mut client(1), |c| c.confirm(Some(filter(1))))
        .unwrap();
    let state = &chain.state;

    // A prover by key: its filters, statuses and delegate (its own account by default).
    let Response::Prover(answer) = ask(
        state,
        Query::Prover(Prover {
            key: key(1).to_vec(),
        }),
        0,
    ) else {
        panic!("expected a prover")
    };
    let info = answer.prover.unwrap();
    assert_eq!(
        info.delegate_address,
        native_account(key(1)).to_bytes().to_vec()
    );
    let statuses: Vec<i32> = info.filters.iter().map(|f| f.status).collect();
    assert_eq!(
        statuses,
        [ProverStatus::Active as i32, ProverStatus::Joining as i32]
    );
    // Unknown prover: no answer inside.
    let Response::Prover(answer) = ask(state, Query::Prover(Prover { key: vec![5; 32] }), 0) else {
        panic!("expected a prover")
    };
    assert_eq!(answer.prover, None);

    // By status, as stored and as read at a frame past the second join's window.
    let joining = ProverStatus::Joining as i32;
    assert_eq!(
        by_status(state, ProverStatus::Joining, 0),
        [(key(1)[0], 2, joining)]
    );
    assert_eq!(by_status(state, ProverStatus::Expired, 0), []);
    assert_eq!(by_status(state, ProverStatus::Joining, 731), []);
    assert_eq!(
        by_status(state, ProverStatus::Expired, 731),
        [(key(1)[0], 2, joining)]
    );
    let active = by_status(state, ProverStatus::Active, 0);
    assert_eq!(active.len(), 3, "prover 1 and the two genesis provers");

    // The provers of a filter.
    let list = entries(ask(
        state,
        Query::ByFilter(ByFilter {
            filter: filter(1).to_vec(),
        }),
        0,
    ));
    assert_eq!(list.entries.len(), 1);
    assert_eq!(list.entries[0].prover, key(1).to_vec());

    // The configuration.
    assert_eq!(
        ask(state, Query::Config(Config {}), 0),
        Response::Config(RegistryConfig::default().to_proto())
    );
}

#[test]
fn bad_queries_are_named() {
    let chain = Chain::new();
    let engine = GlobalEngine::new();
    let query = |q: Option<Query>| {
        AnyMessage::GlobalQuery(GlobalQuery {
            query: q,
            at_frame: 0,
        })
    };
    let refused = |target, message: &AnyMessage| {
        engine
            .query(&target, message, &chain.state)
            .unwrap_err()
            .downcast_ref::<GlobalError>()
            .cloned()
            .unwrap()
    };
    let config = query(Some(Query::Config(Config {})));
    assert!(matches!(
        refused(NATIVE_TOKEN, &config),
        GlobalError::BadQuery { .. }
    ));
    assert!(matches!(
        refused(GLOBAL, &query(None)),
        GlobalError::BadQuery { .. }
    ));
    let short = query(Some(Query::Prover(Prover { key: vec![1; 3] })));
    assert_eq!(
        refused(GLOBAL, &short),
        GlobalError::BadKeyLength {
            field: "prover key",
            len: 3
        }
    );
    let unspecified = query(Some(Query::ByStatus(ByStatus { status: 0 })));
    assert!(matches!(
        refused(GLOBAL, &unspecified),
        GlobalError::BadQuery { .. }
    ));
    let unknown = query(Some(Query::ByStatus(ByStatus { status: 99 })));
    assert!(matches!(
        refused(GLOBAL, &unknown),
        GlobalError::BadQuery { .. }
    ));
}
