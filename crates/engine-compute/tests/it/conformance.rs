//! The compute engine passes the test kit's conformance checks on the bench's workload
//! (bundles deploying apps and their code, then counter and key-value executions), with a
//! query of an app's configuration.

use std::sync::Arc;

use switchyard_compute::ComputeEngine;
use switchyard_proto::v1::ComputeQuery;
use switchyard_proto::v1::compute_query::{App, Query};
use switchyard_proto::{AnyMessage, CanonicalMessage, decode_any};
use switchyard_testkit::Conformance;
use switchyard_testkit::workload::{ComputeParams, NETWORK_ID, compute};
use switchyard_token::TokenEngine;

#[test]
fn the_compute_engine_passes_the_conformance_kit() {
    let workload = compute(ComputeParams {
        seed: 4,
        apps: 6,
        messages: 48,
        frame_size: 6,
    });
    // The first app's domain: the first bundle's first request's deploy.
    let app = {
        let (_, bytes) = &workload.frames[0].messages[0];
        let AnyMessage::MessageBundle(bundle) = decode_any(bytes).unwrap() else {
            panic!("frame 1 holds bundles");
        };
        let call = switchyard_router::Call::from_request(&bundle.requests[0]).unwrap();
        switchyard_compute::app_domain(&call.signer, call.nonce)
    };
    let query = ComputeQuery {
        query: Some(Query::App(App {})),
    }
    .to_canonical_bytes();
    let report = Conformance::new(NETWORK_ID)
        .engine(Arc::new(TokenEngine::new()))
        .engine(Arc::new(ComputeEngine::new()))
        .genesis(workload.genesis_changes().unwrap())
        .frames(workload.frames)
        .query(app.0, query)
        .mutations_per_message(3)
        .run()
        .unwrap();
    assert_eq!(report.applied, 6 + 48, "{report:?}");
    assert_eq!(report.queries_answered, 1);
}
