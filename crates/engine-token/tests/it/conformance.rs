//! The token engine passes the test kit's conformance checks on the adversarial mixed
//! workload (deploys, mints, transfers, pending transfers, bundles, malformed bytes, bad
//! signatures, replays), with its three queries.

use std::sync::Arc;

use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::TokenQuery;
use switchyard_proto::v1::token_query::{Balance, Info, Pending, Query};
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_testkit::Conformance;
use switchyard_testkit::workload::{MixedParams, NETWORK_ID, mixed};
use switchyard_token::TokenEngine;

#[test]
fn the_token_engine_passes_the_conformance_kit() {
    let workload = mixed(MixedParams {
        seed: 21,
        accounts: 6,
        messages: 160,
        frame_size: 40,
        adversarial: true,
    });
    let account = workload.genesis.balances[0].0.to_vec();
    let queries = [
        Query::Balance(Balance {
            account: account.clone(),
        }),
        Query::Info(Info {}),
        Query::Pending(Pending { account }),
    ];
    let mut kit = Conformance::new(NETWORK_ID)
        .engine(Arc::new(TokenEngine::new()))
        // The mix has prover operations: with no global engine they would be refused and
        // their signers' later nonces with them.
        .engine(Arc::new(switchyard_global::GlobalEngine::new()))
        .genesis(workload.genesis_changes().unwrap())
        .frames(workload.frames);
    for query in queries {
        let bytes = TokenQuery { query: Some(query) }.to_canonical_bytes();
        kit = kit.query(NATIVE_TOKEN.0, bytes);
    }
    let report = kit.run().unwrap();
    assert!(report.applied > 40, "{report:?}");
    assert!(
        report.failed > 0 && report.rejected > 0 && report.malformed > 0,
        "{report:?}"
    );
    assert_eq!(report.queries_answered, 3);
    assert!(report.mutations >= 160 * 8);
}
