//! The global engine passes the test kit's conformance checks on frames of every prover
//! operation mixed with native transfers, with its four queries.

use std::sync::Arc;

use switchyard_global::GlobalEngine;
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::global_query::{ByFilter, ByStatus, Config, Prover, Query};
use switchyard_proto::v1::{GlobalQuery, ProverStatus};
use switchyard_router::domains::GLOBAL;
use switchyard_testkit::Conformance;
use switchyard_token::TokenEngine;

use crate::common::{NET, filter, key};
use crate::manager::{frames, genesis};

#[test]
fn the_global_engine_passes_the_conformance_kit() {
    let queries = [
        Query::Prover(Prover {
            key: key(1).to_vec(),
        }),
        Query::ByStatus(ByStatus {
            status: ProverStatus::Active as i32,
        }),
        Query::ByFilter(ByFilter {
            filter: filter(1).to_vec(),
        }),
        Query::Config(Config {}),
    ];
    let mut kit = Conformance::new(NET)
        .engine(Arc::new(TokenEngine::new()))
        .engine(Arc::new(GlobalEngine::new()))
        .genesis(genesis())
        .frames(frames());
    for query in queries {
        let bytes = GlobalQuery {
            query: Some(query),
            at_frame: 3,
        }
        .to_canonical_bytes();
        kit = kit.query(GLOBAL.0, bytes);
    }
    let report = kit.run().unwrap();
    assert_eq!(report.queries_answered, 4, "{report:?}");
    assert!(
        report.applied >= 15 && report.failed >= 2 && report.rejected >= 1,
        "{report:?}"
    );
}
