//! Pricing: base cost per kind plus one unit per canonical byte.

use switchyard_proto::v1::{MessageRequest, PendingTransaction, ProverJoin, VertexAdd};
use switchyard_router::{BigUint, Engine, EngineError};
use switchyard_token::{CostSchedule, TokenEngine, TokenSpec, UpdateSpec};

use crate::common::{NATIVE, client};

#[test]
fn every_kind_costs_its_base_plus_its_canonical_bytes() {
    let mut alice = client(1);
    let engine = TokenEngine::new();
    let costs = CostSchedule::default();
    let gold = switchyard_token::token_domain(&alice.public_key(), 1);
    let (id, create) = alice.pending_create(NATIVE, [2; 32], 5, 9);
    let cases = [
        (alice.deploy(TokenSpec::new("Gold", "GLD")).1, costs.deploy),
        (
            alice.update(gold, UpdateSpec::new().new_max_supply(5)),
            costs.update,
        ),
        (alice.transfer(NATIVE, [2; 32], 5), costs.transfer),
        (alice.mint(gold, [2; 32], 5), costs.mint),
        (create, costs.pending_create),
        (alice.pending_accept(NATIVE, id), costs.pending_accept),
        (alice.pending_refund(NATIVE, id), costs.pending_refund),
    ];
    for (op, base) in cases {
        let bytes = op.to_bytes().len() as u64;
        assert_eq!(
            engine.cost(&op.request).unwrap(),
            BigUint::from(base + bytes),
            "{}",
            op.request.operation()
        );
        assert_eq!(
            engine.cost(&op.request).unwrap(),
            engine.cost(&op.request.clone()).unwrap(),
            "deterministic"
        );
    }
    let empty = alice.sign(
        NATIVE,
        PendingTransaction {
            action: None,
            auth: None,
        },
    );
    assert_eq!(
        engine.cost(&empty.request).unwrap(),
        BigUint::from(costs.pending_accept + empty.to_bytes().len() as u64)
    );
}

#[test]
fn a_custom_schedule_is_used() {
    let mut alice = client(1);
    let costs = CostSchedule {
        transfer: 7,
        per_byte: 3,
        ..CostSchedule::default()
    };
    let engine = TokenEngine::with_costs(costs);
    assert_eq!(engine.costs(), &costs);
    let op = alice.transfer(NATIVE, [2; 32], 5);
    assert_eq!(
        engine.cost(&op.request).unwrap(),
        BigUint::from(7 + 3 * op.to_bytes().len() as u64)
    );
}

#[test]
fn operations_of_other_engines_are_unsupported() {
    let engine = TokenEngine::new();
    for request in [
        MessageRequest::default(),
        VertexAdd::default().into(),
        ProverJoin::default().into(),
    ] {
        let operation = request.operation();
        assert!(
            matches!(engine.cost(&request), Err(EngineError::Unsupported { engine: "token", operation: o }) if o == operation),
            "{operation}"
        );
    }
}
