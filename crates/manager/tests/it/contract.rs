//! The engine contract as the manager carries it out: queries, results in receipts, the one
//! owner of authentication, and refusals a caller can classify.

use switchyard_manager::{Frame, ManagerError};
use switchyard_proto::v1::token_query::{Balance, Info, Pending, Query};
use switchyard_proto::v1::token_query_response::Response;
use switchyard_proto::v1::{MessageStatus, TokenQuery, TokenQueryResponse, Transaction};
use switchyard_proto::{CanonicalMessage, DecodeError};
use switchyard_router::domains::{COMPUTE, NATIVE_TOKEN};
use switchyard_router::{MAX_RESULT_BYTES, MemoryView, StateWrite};
use switchyard_token::{TokenSpec, token_domain};

use crate::common::*;

fn balance_query(account: [u8; 32]) -> Vec<u8> {
    TokenQuery {
        query: Some(Query::Balance(Balance {
            account: account.to_vec(),
        })),
    }
    .to_canonical_bytes()
}

fn answer(bytes: &[u8]) -> Response {
    TokenQueryResponse::from_canonical_bytes(bytes)
        .unwrap()
        .response
        .unwrap()
}

#[test]
fn queries_answer_from_the_committed_head_through_the_route_table() {
    let manager = token_builder().build().unwrap();
    assert!(matches!(
        manager.query(&NATIVE_TOKEN.0, &balance_query(account(1))),
        Err(ManagerError::NoHead)
    ));
    manager.genesis(0, &rich_genesis(2)).unwrap();
    let mut alice = client(1, 1);
    let (gold, deploy) = alice.deploy(TokenSpec::new("Gold", "GLD").initial_supply(1_000));
    let transfer = alice.transfer(gold, account(2), 300);
    let pending_id = {
        let (id, create) = alice.pending_create(gold, account(2), 50, 9);
        // The deploy's result is the new token's domain; the others return nothing.
        let deployed = manager
            .execute_frame(&Frame::new(1).message(deploy.target.0, deploy.to_bytes()))
            .unwrap()
            .receipt;
        assert_eq!(deployed.outcomes[0].results, vec![gold.0.to_vec()]);
        let frame = Frame::new(2)
            .message(transfer.target.0, transfer.to_bytes())
            .message(create.target.0, create.to_bytes());
        let receipt = manager.execute_frame(&frame).unwrap().receipt;
        assert_eq!(
            statuses(&receipt),
            [MessageStatus::Applied; 2],
            "{receipt:?}"
        );
        assert!(receipt.outcomes[0].results.is_empty());
        id
    };

    // Balances of a deployed token: routed by its metadata record.
    let answered = manager.query(&gold.0, &balance_query(account(2))).unwrap();
    assert_eq!(answered.head.frame_number, 2);
    assert_eq!(answered.head, manager.head().unwrap());
    assert_eq!(
        answer(&answered.response),
        Response::Balance(300u128.into())
    );
    // A 64-byte address target works like its domain.
    let at_address = [gold.0, [0; 32]].concat();
    assert_eq!(
        manager
            .query(&at_address, &balance_query(account(2)))
            .unwrap(),
        answered
    );

    let info = TokenQuery {
        query: Some(Query::Info(Info {})),
    }
    .to_canonical_bytes();
    match answer(&manager.query(&gold.0, &info).unwrap().response) {
        Response::Info(info) => {
            assert_eq!(info.config.unwrap().symbol, "GLD");
            assert_eq!(info.supply, Some(1_000u128.into()));
            assert_eq!(info.owner, account(1).to_vec());
        }
        other => panic!("expected info, got {other:?}"),
    }

    let pending = TokenQuery {
        query: Some(Query::Pending(Pending {
            account: account(2).to_vec(),
        })),
    }
    .to_canonical_bytes();
    match answer(&manager.query(&gold.0, &pending).unwrap().response) {
        Response::Pending(list) => {
            assert_eq!(list.escrows.len(), 1);
            assert_eq!(list.escrows[0].escrow_id, pending_id.to_vec());
            assert_eq!(list.escrows[0].amount, Some(50u128.into()));
            assert_eq!(list.escrows[0].expiry_frame, 9);
        }
        other => panic!("expected the pending list, got {other:?}"),
    }
}

#[test]
fn bad_queries_are_typed_errors_naming_what_was_wrong() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 1);
    manager.genesis(0, &rich_genesis(1)).unwrap();
    let query = balance_query(account(1));

    // Malformed bytes: the decoder's reason.
    let mut trailing = query.clone();
    trailing.push(0);
    assert!(matches!(
        manager.query(&NATIVE_TOKEN.0, &trailing),
        Err(ManagerError::Malformed(DecodeError::TrailingBytes { .. }))
    ));
    // An operation is not a query.
    let transfer = client(1, 1)
        .transfer(NATIVE_TOKEN, account(2), 1)
        .to_bytes();
    let error = manager.query(&NATIVE_TOKEN.0, &transfer).unwrap_err();
    assert!(matches!(error, ManagerError::NotAQuery(_)), "{error}");
    assert_eq!(error.status(), MessageStatus::Malformed);
    // A token query sent to the compute engine's domain: the wrong engine, named.
    let error = manager.query(&COMPUTE.0, &query).unwrap_err();
    assert!(
        matches!(
            error,
            ManagerError::WrongEngine {
                family: "token",
                engine: "compute",
                ..
            }
        ),
        "{error}"
    );
    // An unroutable domain and a bad target.
    assert!(matches!(
        manager.query(&[0xab; 32], &query),
        Err(ManagerError::Route(_))
    ));
    assert!(matches!(
        manager.query(&[1, 2, 3], &query),
        Err(ManagerError::BadTarget(_))
    ));
    // A query without a question, and about a token that does not exist.
    let empty = TokenQuery { query: None }.to_canonical_bytes();
    assert!(matches!(
        manager.query(&NATIVE_TOKEN.0, &empty),
        Err(ManagerError::Engine(_))
    ));
    let nowhere = token_domain(&account(9), 1);
    let error = manager.query(&nowhere.0, &query).unwrap_err();
    assert!(matches!(error, ManagerError::Route(_)), "{error}");
}

#[test]
fn results_over_the_contract_limit_fail_the_operation_and_keep_its_fee() {
    let engines = TestEngines::new();
    let manager = full_manager(&engines, 2);
    manager.genesis(0, &rich_genesis(2)).unwrap();
    let small = signed(code_execute(&[], &[], b"echo:hello"), 1, COMPUTE, 1);
    let mut huge_input = b"echo:".to_vec();
    huge_input.resize(5 + MAX_RESULT_BYTES + 1, b'x');
    let huge = signed(code_execute(&[], &[], &huge_input), 2, COMPUTE, 1);
    let frame = Frame::new(1)
        .message(COMPUTE.0, bytes(&small))
        .message(COMPUTE.0, bytes(&huge));
    let receipt = manager.execute_frame(&frame).unwrap().receipt;
    assert_eq!(receipt.outcomes[0].results, vec![b"hello".to_vec()]);
    assert_eq!(status(&receipt.outcomes[1]), MessageStatus::Failed);
    assert!(receipt.outcomes[1].results.is_empty());
    assert!(
        receipt.outcomes[1]
            .reason
            .contains("more than the 65536 allowed"),
        "{}",
        receipt.outcomes[1].reason
    );
    assert!(
        fee(&receipt.outcomes[1]) > 0,
        "a failed operation keeps its fee"
    );

    // process_message reports the same.
    let mut state = MemoryView::default();
    for (address, value) in rich_genesis(3).iter() {
        state.put(*address, value.unwrap().to_vec()).unwrap();
    }
    let again = signed(code_execute(&[], &[], b"echo:again"), 3, COMPUTE, 1);
    let processed = manager
        .process_message(2, 1, &COMPUTE.0, &bytes(&again), &mut state)
        .unwrap();
    assert_eq!(processed.results, vec![b"again".to_vec()]);
}

#[test]
fn a_zero_amount_transfer_is_rejected_with_no_fee() {
    let manager = token_builder().build().unwrap();
    manager.genesis(0, &rich_genesis(1)).unwrap();
    let zero = client(1, 1).sign(
        NATIVE_TOKEN,
        Transaction {
            to: account(2).to_vec(),
            amount: Some(0u128.into()),
            ..Default::default()
        },
    );
    let receipt = manager
        .execute_frame(&Frame::new(1).message(zero.target.0, zero.to_bytes()))
        .unwrap()
        .receipt;
    assert_eq!(status(&receipt.outcomes[0]), MessageStatus::Rejected);
    assert_eq!(fee(&receipt.outcomes[0]), 0);
    let snapshot = manager.store().snapshot().unwrap();
    assert_eq!(
        native(snapshot.as_ref(), &account(1)).nonce,
        0,
        "no nonce bump"
    );
}

#[test]
fn refusals_classify_without_matching_variants() {
    let manager = token_builder().build().unwrap();
    manager.genesis(0, &rich_genesis(1)).unwrap();
    let mut state = MemoryView::default();
    let transfer = client(1, 1).transfer(NATIVE_TOKEN, account(2), 5);

    let malformed = manager
        .process_message(1, 1, &NATIVE_TOKEN.0, &[0, 0, 5, 9, 0xff], &mut state)
        .unwrap_err();
    assert_eq!(malformed.status(), MessageStatus::Malformed);
    // Nobody funded this signer in `state`: the fee cannot be paid, a rejection.
    let rejected = manager
        .process_message(1, 1, &NATIVE_TOKEN.0, &transfer.to_bytes(), &mut state)
        .unwrap_err();
    assert_eq!(rejected.status(), MessageStatus::Rejected);
    // A bad signature is refused by the manager before the engine sees the request.
    let mut forged = transfer.request.clone();
    if let Some(switchyard_proto::v1::message_request::Request::Transaction(t)) =
        forged.request.as_mut()
    {
        t.amount = Some(6u128.into());
    }
    let refused = manager
        .validate_message(1, &NATIVE_TOKEN.0, &bytes(&forged))
        .unwrap_err();
    assert!(matches!(refused, ManagerError::Auth(_)), "{refused}");
    assert_eq!(refused.status(), MessageStatus::Rejected);
}
