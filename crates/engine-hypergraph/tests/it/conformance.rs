//! The hypergraph engine passes the test kit's conformance checks on the bench's workload
//! (deploys, vertex and hyperedge adds across many hypergraphs), with its queries.

use std::sync::Arc;

use switchyard_hypergraph::HypergraphEngine;
use switchyard_proto::CanonicalMessage;
use switchyard_proto::decode_any;
use switchyard_proto::v1::HypergraphQuery;
use switchyard_proto::v1::hypergraph_query::{Config, Query};
use switchyard_testkit::Conformance;
use switchyard_testkit::workload::{HypergraphParams, NETWORK_ID, hypergraph};
use switchyard_token::TokenEngine;

#[test]
fn the_hypergraph_engine_passes_the_conformance_kit() {
    let workload = hypergraph(HypergraphParams {
        seed: 5,
        writers: 12,
        messages: 120,
        frame_size: 12,
    });
    // The first deploy's target domain, read back from the deploy frame.
    let deployed: Vec<u8> = {
        let (_, bytes) = &workload.frames[0].messages[0];
        let request = decode_any(bytes).unwrap().into_request().unwrap();
        let call = switchyard_router::Call::from_request(&request).unwrap();
        switchyard_hypergraph::hypergraph_domain(&call.signer, call.nonce)
            .0
            .to_vec()
    };
    let config = HypergraphQuery {
        query: Some(Query::Config(Config {})),
    }
    .to_canonical_bytes();
    let report = Conformance::new(NETWORK_ID)
        .engine(Arc::new(TokenEngine::new()))
        .engine(Arc::new(HypergraphEngine::new()))
        .genesis(workload.genesis_changes().unwrap())
        .frames(workload.frames)
        .query(deployed, config)
        .mutations_per_message(4)
        .run()
        .unwrap();
    assert_eq!(report.applied, 12 + 120, "{report:?}");
    assert_eq!(report.queries_answered, 1);
}
