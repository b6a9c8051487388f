//! Routing (DESIGN §3): base domains, instance domains through metadata records, unknown
//! domains on every entry point, bad targets, and route-table build errors.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use switchyard_manager::{Frame, Manager, ManagerError};
use switchyard_proto::v1::MessageStatus;
use switchyard_router::domains::{
    COMPUTE, GLOBAL, HYPERGRAPH, NATIVE_TOKEN, TOKEN, instance_domain, metadata_address,
};
use switchyard_router::{AddressError, Domain, MetadataRecord, RouteError};
use switchyard_state::Overlay;
use switchyard_token::{TokenEngine, TokenSpec};

use crate::common::*;

#[test]
fn each_base_domain_reaches_its_own_engine() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 2);
    manager.genesis(0, &rich_genesis(4)).unwrap();

    let cases = [
        (GLOBAL, signed(prover_join(), 1, GLOBAL, 1), &engines.global),
        (
            COMPUTE,
            signed(code_execute(&[], &[addr(COMPUTE, 9)], b"x"), 1, COMPUTE, 1),
            &engines.compute,
        ),
        (
            HYPERGRAPH,
            signed(vertex_add([9; 32], b"v"), 1, HYPERGRAPH, 1),
            &engines.hypergraph,
        ),
    ];
    for (domain, request, engine) in cases {
        let others_before = others(&engines, engine);
        manager
            .validate_message(1, &domain.0, &bytes(&request))
            .unwrap();
        assert_eq!(engine.calls.validate.load(Ordering::SeqCst), 1, "{domain}");
        assert_eq!(
            others(&engines, engine),
            others_before,
            "only the owner of {domain} was called"
        );
    }

    // The token engine owns TOKEN and NATIVE_TOKEN: a deploy and a transfer validate and apply,
    // and no test engine is consulted.
    let before = engines.message_calls();
    let mut alice = client(1, 1);
    let (gold, deploy) = alice.deploy(TokenSpec::new("Gold", "GLD").initial_supply(10));
    let transfer = alice.transfer(NATIVE_TOKEN, account(2), 5);
    manager
        .validate_message(1, &TOKEN.0, &deploy.to_bytes())
        .unwrap();
    manager
        .validate_message(1, &NATIVE_TOKEN.0, &transfer.to_bytes())
        .unwrap();
    let result = manager
        .execute_frame(
            &Frame::new(1)
                .message(TOKEN.0, deploy.to_bytes())
                .message(NATIVE_TOKEN.0, transfer.to_bytes()),
        )
        .unwrap();
    assert_eq!(
        statuses(&result.receipt),
        [MessageStatus::Applied, MessageStatus::Applied]
    );
    assert_eq!(engines.message_calls(), before);
    let snapshot = manager.store().snapshot().unwrap();
    assert_eq!(
        switchyard_token::balance(snapshot.as_ref(), &gold, &account(1)).unwrap(),
        10
    );
    assert_eq!(
        switchyard_token::balance(snapshot.as_ref(), &NATIVE_TOKEN, &account(2)).unwrap(),
        RICH + 5
    );
}

/// Message calls received by every test engine but `owner`.
fn others(engines: &TestEngines, owner: &Arc<TestEngine>) -> usize {
    [&engines.global, &engines.compute, &engines.hypergraph]
        .into_iter()
        .filter(|e| !Arc::ptr_eq(e, owner))
        .map(|e| e.calls.messages())
        .sum()
}

#[test]
fn an_instance_domain_routes_through_its_metadata_record() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 2);
    let graph = instance_domain(&HYPERGRAPH, &account(9), 1);
    let orphan = instance_domain(&HYPERGRAPH, &account(9), 2);
    let stranger: Domain = Domain([0x5a; 32]);
    let record = |type_domain| {
        MetadataRecord {
            type_domain,
            payload: b"graph config".to_vec(),
        }
        .encode()
    };
    manager
        .genesis(
            0,
            &genesis_changes(
                &[(account(1), RICH)],
                &[
                    (metadata_address(graph), record(HYPERGRAPH)),
                    (metadata_address(orphan), record(stranger)),
                ],
            ),
        )
        .unwrap();

    let add = signed(vertex_add([7; 32], b"hello"), 1, graph, 1);
    manager.validate_message(1, &graph.0, &bytes(&add)).unwrap();
    let result = manager
        .execute_frame(&Frame::new(1).message(graph.0, bytes(&add)))
        .unwrap();
    assert_eq!(statuses(&result.receipt), [MessageStatus::Applied]);
    assert_eq!(engines.hypergraph.calls.apply.load(Ordering::SeqCst), 1);
    assert_eq!(
        engines.global.calls.messages() + engines.compute.calls.messages(),
        0
    );
    let snapshot = manager.store().snapshot().unwrap();
    assert_eq!(
        snapshot.get(&addr(graph, 7)).unwrap(),
        Some(b"hello".to_vec()),
        "written in the instance's own domain"
    );

    // A record whose type domain nobody owns is not sent anywhere.
    let lost = signed(vertex_add([7; 32], b"x"), 1, orphan, 2);
    let error = manager
        .validate_message(2, &orphan.0, &bytes(&lost))
        .unwrap_err();
    assert!(
        matches!(
            error,
            ManagerError::Route(RouteError::UnknownTypeDomain { domain, type_domain })
                if domain == orphan && type_domain == stranger
        ),
        "{error:?}"
    );
}

#[test]
fn an_unknown_domain_is_no_engine_on_every_entry_point_and_reaches_no_engine() {
    let engines = TestEngines::new();
    // No hypergraph engine: its family has no engine for `cost`.
    let manager = token_builder()
        .engine(engines.global.clone())
        .engine(engines.compute.clone())
        .network_id(NET)
        .build()
        .unwrap();
    manager.genesis(0, &rich_genesis(2)).unwrap();
    let unknown = Domain([0x42; 32]);
    let no_engine = |error: &ManagerError, domain: Domain| matches!(error, ManagerError::Route(RouteError::NoEngine { domain: d }) if *d == domain);

    let vertex = bytes(&signed(vertex_add([1; 32], b"v"), 1, HYPERGRAPH, 1));
    let error = manager.cost(&vertex).unwrap_err();
    assert!(no_engine(&error, HYPERGRAPH), "{error:?}");

    let to_unknown = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        1,
        unknown,
        1,
    ));
    let error = manager
        .validate_message(1, &unknown.0, &to_unknown)
        .unwrap_err();
    assert!(no_engine(&error, unknown), "validate: {error:?}");
    let error = manager.lock(1, &unknown.0, &to_unknown).unwrap_err();
    assert!(no_engine(&error, unknown), "lock: {error:?}");
    let snapshot = manager.store().snapshot().unwrap();
    let mut overlay = Overlay::new(snapshot.as_ref());
    let error = manager
        .process_message(1, 1, &unknown.0, &to_unknown, &mut overlay)
        .unwrap_err();
    assert!(no_engine(&error, unknown), "process: {error:?}");
    assert!(
        overlay.changes().is_empty(),
        "no fee charged for an unroutable message"
    );

    let result = manager
        .execute_frame(&Frame::new(1).message(unknown.0, to_unknown.clone()))
        .unwrap();
    let outcome = &result.receipt.outcomes[0];
    assert_eq!(status(outcome), MessageStatus::Rejected);
    assert!(!outcome.reason.is_empty());
    assert_eq!(fee(outcome), 0);
    assert_eq!(
        native(manager.store().snapshot().unwrap().as_ref(), &account(1)),
        switchyard_router::fees::AccountRecord {
            balance: RICH,
            nonce: 0
        }
    );

    assert_eq!(
        engines.global.calls.messages() + engines.compute.calls.messages(),
        0,
        "an unknown domain never reaches an engine"
    );
    // The lock table holds nothing from the refused lock.
    let good = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        1,
        COMPUTE,
        1,
    ));
    manager.lock(2, &COMPUTE.0, &good).unwrap();
}

#[test]
fn short_long_and_empty_targets_are_bad_targets() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 1);
    manager.genesis(0, &rich_genesis(1)).unwrap();
    let message = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        1,
        COMPUTE,
        1,
    ));
    let snapshot = manager.store().snapshot().unwrap();
    for target in [&[][..], &[0xcc; 31][..], &[0xcc; 33][..], &[0xcc; 63][..]] {
        let length = |error: &ManagerError| matches!(error, ManagerError::BadTarget(AddressError::Length { actual, .. }) if *actual == target.len());
        let error = manager.validate_message(1, target, &message).unwrap_err();
        assert!(length(&error), "validate {}: {error:?}", target.len());
        let error = manager.lock(1, target, &message).unwrap_err();
        assert!(length(&error), "lock {}: {error:?}", target.len());
        let mut overlay = Overlay::new(snapshot.as_ref());
        let error = manager
            .process_message(1, 1, target, &message, &mut overlay)
            .unwrap_err();
        assert!(length(&error), "process {}: {error:?}", target.len());
    }
    assert_eq!(engines.message_calls(), 0);

    // A 64-byte address target routes by its domain; in a frame a bad target is MALFORMED.
    let mut address_target = COMPUTE.0.to_vec();
    address_target.extend_from_slice(&[1; 32]);
    manager
        .validate_message(1, &address_target, &message)
        .unwrap();
    let result = manager
        .execute_frame(
            &Frame::new(1)
                .message(vec![0xcc; 31], message.clone())
                .message(Vec::new(), message.clone())
                .message(address_target, message),
        )
        .unwrap();
    assert_eq!(
        statuses(&result.receipt),
        [
            MessageStatus::Malformed,
            MessageStatus::Malformed,
            MessageStatus::Applied
        ]
    );
}

#[test]
fn a_message_sent_to_another_target_than_it_signed_is_refused() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 1);
    manager.genesis(0, &rich_genesis(1)).unwrap();
    let message = bytes(&signed(vertex_add([1; 32], b"v"), 1, HYPERGRAPH, 1));
    let error = manager
        .validate_message(1, &COMPUTE.0, &message)
        .unwrap_err();
    assert!(
        matches!(error, ManagerError::TargetMismatch { message, signed } if message == COMPUTE && signed == HYPERGRAPH),
        "{error:?}"
    );
    assert_eq!(engines.message_calls(), 0);
}

#[test]
fn duplicate_names_or_base_domains_fail_the_build() {
    let error = Manager::builder()
        .engine(TestEngine::new("twin", &[GLOBAL]).arc())
        .engine(TestEngine::new("twin", &[COMPUTE]).arc())
        .build()
        .unwrap_err();
    assert!(
        matches!(
            error,
            ManagerError::Route(RouteError::DuplicateName { name: "twin" })
        ),
        "{error:?}"
    );

    let error = Manager::builder()
        .engine(Arc::new(TokenEngine::new()))
        .engine(TestEngine::new("impostor", &[COMPUTE, NATIVE_TOKEN]).arc())
        .build()
        .unwrap_err();
    assert!(
        matches!(
            error,
            ManagerError::Route(RouteError::DuplicateDomain {
                domain,
                first: "token",
                second: "impostor"
            }) if domain == NATIVE_TOKEN
        ),
        "{error:?}"
    );
}

#[test]
fn capabilities_are_the_union_deduplicated_by_protocol() {
    let manager = Manager::builder()
        .engine(
            TestEngine::new("a", &[GLOBAL])
                .protocols(&["p/x", "p/y"])
                .arc(),
        )
        .engine(
            TestEngine::new("b", &[COMPUTE])
                .protocols(&["p/y", "p/z"])
                .arc(),
        )
        .engine(Arc::new(TokenEngine::new()))
        .build()
        .unwrap();
    let capabilities = manager.capabilities();
    let listed: Vec<(&str, &[u8])> = capabilities
        .iter()
        .map(|c| (c.protocol.as_str(), c.metadata.as_slice()))
        .collect();
    assert_eq!(
        listed,
        [
            ("p/x", &b"a"[..]),
            ("p/y", &b"a"[..]),
            ("p/z", &b"b"[..]),
            (
                switchyard_token::PROTOCOL,
                &b"deploy,update,transfer,mint,pending"[..]
            ),
        ]
    );
}
