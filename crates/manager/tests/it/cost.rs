//! `Manager::cost` (DESIGN §7): tag-dispatched, a bundle is the sum of its requests, prover
//! operations cost 0, and anything that is not an operation is an error, never 0.

use std::sync::atomic::Ordering;

use switchyard_manager::{Manager, ManagerError};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{
    FrameHeader, FrameReceipt, HypergraphConfig, MessageBundle, MessageRequest, ProverLeave,
    ProverPause, ProverUpdate, TokenConfig,
};
use switchyard_router::domains::{COMPUTE, GLOBAL, HYPERGRAPH, NATIVE_TOKEN};
use switchyard_router::{BigUint, Engine, RouteError};
use switchyard_token::TokenEngine;

use crate::common::*;

#[test]
fn a_bundle_costs_the_sum_of_its_requests() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 1);
    let mut alice = client(1, 1);
    let short = alice.transfer(NATIVE_TOKEN, account(2), 5).request;
    let long = alice
        .transfer_with_memo(NATIVE_TOKEN, account(2), 5, vec![9; 200])
        .request;
    let token = TokenEngine::new();
    let (short_cost, long_cost) = (token.cost(&short).unwrap(), token.cost(&long).unwrap());
    assert_ne!(short_cost, long_cost, "the memo is priced per byte");
    assert_eq!(manager.cost(&bytes(&short)).unwrap(), short_cost);
    assert_eq!(manager.cost(&bytes(&long)).unwrap(), long_cost);
    assert_eq!(
        manager
            .cost(&bundle(vec![short.clone(), long.clone()]))
            .unwrap(),
        &short_cost + &long_cost
    );

    // Across engines: each request is priced by its own family's engine.
    let execute = signed(code_execute(&[], &[addr(COMPUTE, 1)], b""), 1, COMPUTE, 3);
    let vertex = signed(vertex_add([1; 32], b""), 1, HYPERGRAPH, 4);
    assert_eq!(
        manager
            .cost(&bundle(vec![short, execute, vertex.clone()]))
            .unwrap(),
        short_cost + BigUint::from(2 * TEST_COST)
    );
    // A bare operation (not wrapped in a request) is priced too.
    let Some(switchyard_proto::v1::message_request::Request::VertexAdd(bare)) = vertex.request
    else {
        unreachable!()
    };
    assert_eq!(
        manager.cost(&bare.to_canonical_bytes()).unwrap(),
        BigUint::from(TEST_COST)
    );
}

#[test]
fn prover_operations_are_priced_by_the_global_engine_and_need_it() {
    let join = signed(prover_join(), 1, GLOBAL, 1);
    let others: Vec<MessageRequest> = vec![
        signed(
            ProverLeave {
                filters: vec![vec![1; 32]],
                auth: None,
            },
            1,
            GLOBAL,
            2,
        ),
        signed(
            ProverPause {
                filter: vec![1; 32],
                auth: None,
            },
            1,
            GLOBAL,
            3,
        ),
        signed(
            ProverUpdate {
                delegate_address: vec![2; 32],
                auth: None,
            },
            1,
            GLOBAL,
            4,
        ),
    ];

    // Without a global engine the family has no engine: an error, not a silent 0.
    let without = token_builder().build().unwrap();
    let error = without.cost(&bytes(&join)).unwrap_err();
    assert!(
        matches!(error, ManagerError::Route(RouteError::NoEngine { domain }) if domain == GLOBAL),
        "{error:?}"
    );

    // With one, the global engine prices them (the real one's rule is cost 0; the test
    // engine's is TEST_COST): the manager has no pricing rule of its own.
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 1);
    for request in std::iter::once(&join).chain(&others) {
        assert_eq!(
            manager.cost(&bytes(request)).unwrap(),
            BigUint::from(TEST_COST),
            "{}",
            request.operation()
        );
    }
    assert_eq!(
        engines.global.calls.cost.load(Ordering::SeqCst),
        1 + others.len()
    );
    let transfer = client(2, 1).transfer(NATIVE_TOKEN, account(3), 1).request;
    assert_eq!(
        manager
            .cost(&bundle(vec![join.clone(), transfer.clone()]))
            .unwrap(),
        TokenEngine::new().cost(&transfer).unwrap() + BigUint::from(TEST_COST)
    );
}

#[test]
fn malformed_empty_and_non_operation_messages_are_errors() {
    let engines = TestEngines::new();
    let manager: Manager = full_manager(&engines, 1);
    let transfer = bytes(&client(1, 1).transfer(NATIVE_TOKEN, account(2), 5).request);
    let mut trailing = transfer.clone();
    trailing.push(0);
    let mut unknown_tag = transfer.clone();
    unknown_tag[..4].copy_from_slice(&[0, 0, 0x7f, 0x7f]);

    for (what, message) in [
        ("nothing", Vec::new()),
        ("a short tag", vec![0, 0, 3]),
        ("garbage", vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3]),
        ("trailing byte", trailing),
        ("unknown tag", unknown_tag),
        ("truncated", transfer[..transfer.len() - 3].to_vec()),
    ] {
        let error = manager.cost(&message).unwrap_err();
        assert!(
            matches!(error, ManagerError::Malformed(_)),
            "{what}: {error:?}"
        );
    }

    for (what, message) in [
        (
            "empty request",
            MessageRequest::default().to_canonical_bytes(),
        ),
        (
            "empty bundle",
            MessageBundle::default().to_canonical_bytes(),
        ),
        (
            "bundle holding an empty request",
            bundle(vec![MessageRequest::default()]),
        ),
        ("receipt", FrameReceipt::default().to_canonical_bytes()),
        (
            "frame header",
            FrameHeader {
                frame_number: 3,
                ..Default::default()
            }
            .to_canonical_bytes(),
        ),
        (
            "token config",
            TokenConfig {
                name: "Gold".into(),
                ..Default::default()
            }
            .to_canonical_bytes(),
        ),
        (
            "hypergraph config",
            HypergraphConfig::default().to_canonical_bytes(),
        ),
    ] {
        let error = manager.cost(&message).unwrap_err();
        assert!(
            matches!(error, ManagerError::NotAnOperation(_)),
            "{what}: {error:?}"
        );
    }
    assert_eq!(engines.message_calls(), 0);
}
