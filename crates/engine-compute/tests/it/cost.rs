//! The cost formula: known before execution, growing with the fuel limit, the input and the
//! declared keys.

use switchyard_compute::{AppSpec, ComputeEngine, CostSchedule, ExecuteSpec};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{MessageRequest, VertexAdd};
use switchyard_router::{BigUint, Domain, Engine, EngineError};

use crate::common::client;

fn cost(request: &MessageRequest) -> BigUint {
    ComputeEngine::new().cost(request).unwrap()
}

fn bytes(request: &MessageRequest) -> u64 {
    request.to_canonical_bytes().len() as u64
}

#[test]
fn execution_cost_is_base_plus_fuel_keys_and_bytes() {
    let costs = CostSchedule::default();
    let app = Domain([1; 32]);
    let mut alice = client(1);
    let op = alice.execute(
        app,
        ExecuteSpec::new([2; 32], "run")
            .fuel(12_345)
            .input(vec![0; 100])
            .reads([[3; 32]])
            .writes([[4; 32]]),
    );
    let expected = costs.execute + 12_345u64.div_ceil(100) + 2 * costs.per_key + bytes(&op.request);
    assert_eq!(cost(&op.request), BigUint::from(expected));
    // Staged costs more; more fuel and more input cost more.
    let (_, staged) = alice.stage(
        app,
        ExecuteSpec::new([2; 32], "run")
            .fuel(12_345)
            .input(vec![0; 100])
            .reads([[3; 32]])
            .writes([[4; 32]]),
    );
    assert_eq!(
        cost(&staged.request),
        BigUint::from(expected + costs.staged + bytes(&staged.request) - bytes(&op.request))
    );
    let more_fuel = alice.execute(app, ExecuteSpec::new([2; 32], "run").fuel(1_000_000));
    let less_fuel = alice.execute(app, ExecuteSpec::new([2; 32], "run").fuel(1_000));
    assert!(cost(&more_fuel.request) > cost(&less_fuel.request));
    let more_input = alice.execute(
        app,
        ExecuteSpec::new([2; 32], "run")
            .fuel(1_000)
            .input(vec![1; 1_000]),
    );
    assert!(cost(&more_input.request) > cost(&less_fuel.request));
}

#[test]
fn every_operation_has_a_cost_and_foreign_ones_are_unsupported() {
    let costs = CostSchedule::default();
    let mut alice = client(1);
    let (app, deploy) = alice.deploy(AppSpec::new("app"));
    assert_eq!(
        cost(&deploy.request),
        BigUint::from(costs.deploy + bytes(&deploy.request))
    );
    let (_, code) = alice.deploy_code(app, vec![0; 1_000]);
    assert_eq!(
        cost(&code.request),
        BigUint::from(costs.code_deploy + 10 * 1_000 + bytes(&code.request))
    );
    let finalize = alice.finalize(app, [5; 32], &[[1; 32]], &[]);
    assert_eq!(
        cost(&finalize.request),
        BigUint::from(costs.finalize + costs.per_key + bytes(&finalize.request))
    );
    let vertex: MessageRequest = VertexAdd::default().into();
    assert!(matches!(
        ComputeEngine::new().cost(&vertex),
        Err(EngineError::Unsupported {
            engine: "compute",
            ..
        })
    ));
    assert!(
        ComputeEngine::new()
            .cost(&MessageRequest::default())
            .is_err()
    );
}
