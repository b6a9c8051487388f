//! Through a real manager (the native token paying fees): receipts carry execution results,
//! queries answer, and receipts and roots are the same at 1, 2 and 4 threads as serially.

use std::sync::Arc;

use prost::Message;
use switchyard_compute::{
    AppSpec, ComputeClient, ComputeEngine, ExecuteSpec, ExecutionResult, examples,
};
use switchyard_manager::{Frame, FrameResult, Manager};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::compute_query::{App, Code, Query, Staged, State};
use switchyard_proto::v1::compute_query_response::Response;
use switchyard_proto::v1::{ComputeQuery, ComputeQueryResponse, MessageStatus};
use switchyard_router::{Domain, Key, SignedRequest};
use switchyard_state::ChangeSet;
use switchyard_token::{NativeGenesis, TokenEngine};

use crate::common::{NET, RICH, client};

const SIGNERS: u8 = 6;

fn manager(threads: usize) -> Manager {
    let manager = Manager::builder()
        .engine(Arc::new(TokenEngine::new()))
        .engine(Arc::new(ComputeEngine::new()))
        .network_id(NET)
        .threads(threads)
        .build()
        .unwrap();
    let genesis = NativeGenesis {
        balances: (1..=SIGNERS)
            .map(|n| (client(n).public_key(), RICH))
            .collect(),
        ..Default::default()
    };
    let changes: ChangeSet = switchyard_token::genesis(&genesis)
        .unwrap()
        .into_iter()
        .map(|(address, value)| (address, Some(value)))
        .collect();
    manager.genesis(0, &changes).unwrap();
    manager
}

fn frame(number: u64, ops: Vec<SignedRequest>) -> Frame {
    ops.into_iter().fold(Frame::new(number), |frame, op| {
        let (target, bytes) = op.into_parts();
        frame.message(target.0, bytes)
    })
}

/// The apps and code ids of the workload, known before it runs.
struct Workload {
    frames: Vec<Frame>,
    apps: Vec<Domain>,
    counter: Key,
    staged: Key,
}

/// Six signers, each with an app holding the counter and the key-value store; then a frame
/// of conflict-free executions (each app its own keys), one that shares a counter, failures
/// (out of fuel, undeclared key, trap), a staged execution, and its finalize.
fn workload() -> Workload {
    let mut clients: Vec<ComputeClient> = (1..=SIGNERS).map(client).collect();
    let mut apps = Vec::new();
    let mut ops = Vec::new();
    for c in &mut clients {
        let (app, op) = c.deploy(AppSpec::new("bench"));
        apps.push(app);
        ops.push(op);
    }
    let first = frame(1, ops);
    let counter = switchyard_compute::code_id(&examples::counter_module());
    let mut ops = Vec::new();
    for (c, app) in clients.iter_mut().zip(&apps) {
        ops.push(c.deploy_code(*app, examples::counter_module()).1);
        ops.push(c.deploy_code(*app, examples::kv_module()).1);
    }
    ops.push(
        clients[0]
            .deploy_code(apps[0], examples::out_of_fuel_module())
            .1,
    );
    let second = frame(2, ops);
    let kv = switchyard_compute::code_id(&examples::kv_module());
    let lazy = switchyard_compute::code_id(&examples::out_of_fuel_module());
    let mut ops = Vec::new();
    for round in 0..3u8 {
        for (c, app) in clients.iter_mut().zip(&apps) {
            let key = [round + 1; 32];
            ops.push(c.execute(
                *app,
                ExecuteSpec::new(counter, "increment").writes([examples::COUNTER_KEY]),
            ));
            ops.push(
                c.execute(
                    *app,
                    ExecuteSpec::new(kv, "put")
                        .input(examples::kv_put_input(&key, &[round; 40]))
                        .writes([key]),
                ),
            );
        }
    }
    // Signer 2 uses signer 1's app: conflicts with signer 1's increments, in frame order.
    ops.push(clients[1].execute(
        apps[0],
        ExecuteSpec::new(counter, "increment").writes([examples::COUNTER_KEY]),
    ));
    ops.push(clients[0].execute(apps[0], ExecuteSpec::new(lazy, "run").fuel(200_000)));
    ops.push(clients[2].execute(apps[2], ExecuteSpec::new(counter, "increment")));
    ops.push(
        clients[3].execute(
            apps[3],
            ExecuteSpec::new(counter, "increment")
                .input(vec![1, 2, 3])
                .writes([examples::COUNTER_KEY]),
        ),
    );
    let (staged, stage) = clients[4].stage(
        apps[4],
        ExecuteSpec::new(counter, "increment").writes([examples::COUNTER_KEY]),
    );
    ops.push(stage);
    let third = frame(3, ops);
    let fourth = frame(
        4,
        vec![
            clients[4].finalize(apps[4], staged, &[], &[examples::COUNTER_KEY]),
            clients[5].execute(
                apps[5],
                ExecuteSpec::new(kv, "get")
                    .input(vec![3; 32])
                    .reads([[3; 32]]),
            ),
        ],
    );
    Workload {
        frames: vec![first, second, third, fourth],
        apps,
        counter,
        staged,
    }
}

fn run(manager: &Manager, frames: &[Frame], serial: bool) -> Vec<FrameResult> {
    frames
        .iter()
        .map(|frame| {
            if serial {
                manager.execute_frame_serial(frame).unwrap()
            } else {
                manager.execute_frame(frame).unwrap()
            }
        })
        .collect()
}

fn statuses(result: &FrameResult) -> Vec<MessageStatus> {
    result
        .receipt
        .outcomes
        .iter()
        .map(|o| MessageStatus::try_from(o.status).unwrap())
        .collect()
}

fn ask(manager: &Manager, app: Domain, query: Query) -> Response {
    let bytes = ComputeQuery { query: Some(query) }.to_canonical_bytes();
    let answer = manager.query(&app.0, &bytes).unwrap();
    ComputeQueryResponse::from_canonical_bytes(&answer.response)
        .unwrap()
        .response
        .unwrap()
}

#[test]
fn receipts_and_roots_are_the_same_at_every_thread_count() {
    let workload = workload();
    let reference = run(&manager(1), &workload.frames, true);
    use MessageStatus::{Applied as A, Failed as F};
    assert_eq!(statuses(&reference[0]), [A; 6]);
    assert_eq!(statuses(&reference[1]), [A; 13]);
    let third = statuses(&reference[2]);
    assert_eq!(third[..36], [A; 36]);
    assert_eq!(
        third[36..],
        [A, F, F, F, A],
        "{:?}",
        reference[2].receipt.outcomes[37..40]
            .iter()
            .map(|o| &o.reason)
            .collect::<Vec<_>>()
    );
    assert_eq!(statuses(&reference[3]), [A, A]);
    for threads in [1, 2, 4] {
        let manager = manager(threads);
        let results = run(&manager, &workload.frames, false);
        assert_eq!(results, reference, "{threads} threads");
        assert_eq!(
            manager.store().recompute_root().unwrap(),
            reference[3].head.state_root
        );
    }
}

#[test]
fn receipts_carry_results_and_queries_answer() {
    let workload = workload();
    let manager = manager(2);
    let results = run(&manager, &workload.frames, false);
    // A deploy's result is the app's domain; a code deploy's its code id.
    assert_eq!(
        results[0].receipt.outcomes[0].results,
        vec![workload.apps[0].0.to_vec()]
    );
    assert_eq!(
        results[1].receipt.outcomes[0].results,
        vec![workload.counter.to_vec()]
    );
    // The shared counter of app 0 saw three increments by signer 1, then one by signer 2.
    let outcomes = &results[2].receipt.outcomes;
    let shared = ExecutionResult::decode(outcomes[36].results[0].as_slice()).unwrap();
    assert_eq!(shared.output, 4u64.to_le_bytes());
    assert!(
        outcomes[37].reason.contains("out of fuel"),
        "{}",
        outcomes[37].reason
    );
    assert!(outcomes[37].fee.is_some());
    assert!(
        outcomes[38].reason.contains("access violation"),
        "{}",
        outcomes[38].reason
    );
    assert!(
        outcomes[39].reason.contains("unreachable"),
        "{}",
        outcomes[39].reason
    );
    let staged = ExecutionResult::decode(outcomes[40].results[0].as_slice()).unwrap();
    assert_eq!(staged.execution_id, workload.staged.to_vec());
    let got =
        ExecutionResult::decode(results[3].receipt.outcomes[1].results[0].as_slice()).unwrap();
    assert_eq!(got.output, [2u8; 40]);

    // Queries, from the committed head.
    let app = workload.apps[4];
    match ask(&manager, app, Query::App(App {})) {
        Response::App(info) => assert_eq!(info.owner, client(5).public_key().to_vec()),
        other => panic!("{other:?}"),
    }
    match ask(
        &manager,
        app,
        Query::Code(Code {
            code_id: workload.counter.to_vec(),
        }),
    ) {
        Response::Code(info) => assert_eq!(info.exports, ["get", "increment"]),
        other => panic!("{other:?}"),
    }
    match ask(
        &manager,
        app,
        Query::State(State {
            key: examples::COUNTER_KEY.to_vec(),
        }),
    ) {
        Response::State(value) => {
            assert!(value.found);
            assert_eq!(
                value.value,
                4u64.to_le_bytes(),
                "three increments and the finalized one"
            );
        }
        other => panic!("{other:?}"),
    }
    match ask(
        &manager,
        app,
        Query::State(State {
            key: [0xaa; 32].to_vec(),
        }),
    ) {
        Response::State(value) => assert!(!value.found),
        other => panic!("{other:?}"),
    }
    // The staged execution was finalized: the query names it unknown.
    let bytes = ComputeQuery {
        query: Some(Query::Staged(Staged {
            execution_id: workload.staged.to_vec(),
        })),
    }
    .to_canonical_bytes();
    let error = manager.query(&app.0, &bytes).unwrap_err();
    assert!(
        error.to_string().contains("unknown staged execution"),
        "{error}"
    );
    let empty = ComputeQuery { query: None }.to_canonical_bytes();
    assert!(manager.query(&app.0, &empty).is_err());
}
