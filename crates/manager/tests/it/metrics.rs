//! Metrics (DESIGN §8): every entry point is counted with its engine, operation and outcome.

use prometheus_parse::{Scrape, Value};
use switchyard_manager::{Frame, ManagerError};
use switchyard_router::Domain;
use switchyard_router::domains::{COMPUTE, HYPERGRAPH, NATIVE_TOKEN};
use switchyard_state::Overlay;

use crate::common::*;

fn scrape(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// The value of the one scalar sample `name` carrying `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:#?}");
    match found[0].value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        ref other => panic!("{name} is not a scalar: {other:?}"),
    }
}

/// `switchyard_requests_total{engine,op,status}`.
fn requests(scrape: &Scrape, engine: &str, op: &str, status: &str) -> f64 {
    value(
        scrape,
        "switchyard_requests_total",
        &[("engine", engine), ("op", op), ("status", status)],
    )
}

/// Observations of `switchyard_request_duration_seconds{engine,op}`: its `_count` sample, which
/// must equal its `+Inf` bucket.
fn durations(scrape: &Scrape, engine: &str, op: &str) -> f64 {
    let labels = [("engine", engine), ("op", op)];
    let count = value(scrape, "switchyard_request_duration_seconds_count", &labels);
    let histogram = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "switchyard_request_duration_seconds"
                && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
        .unwrap();
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("not a histogram: {histogram:?}")
    };
    let infinite = buckets.iter().find(|b| b.less_than.is_infinite()).unwrap();
    assert_eq!(infinite.count, count);
    count
}

#[test]
fn every_entry_point_is_counted_by_engine_operation_and_outcome() {
    let engines = TestEngines::new();
    // No hypergraph engine, so that family has none.
    let manager = token_builder()
        .engine(engines.compute.clone())
        .build()
        .unwrap();
    manager.genesis(0, &rich_genesis(3)).unwrap();
    let before = scrape(&manager.metrics().render());
    assert_eq!(
        value(&before, "switchyard_engine_up", &[("engine", "token")]),
        0.0
    );
    manager.start().unwrap();

    let mut alice = client(1, 1);
    let transfer = alice.transfer(NATIVE_TOKEN, account(2), 10).to_bytes();
    let unknown = Domain([0x42; 32]);
    let vertex = bytes(&signed(vertex_add([1; 32], b"v"), 1, HYPERGRAPH, 1));
    let garbage = vec![1, 2, 3, 4, 5];

    // cost: ok (token), malformed and no engine (no engine resolved: "none").
    manager.cost(&transfer).unwrap();
    assert!(manager.cost(&garbage).is_err());
    assert!(manager.cost(&vertex).is_err());
    // validate: ok, and no engine for an unknown domain.
    manager
        .validate_message(1, &NATIVE_TOKEN.0, &transfer)
        .unwrap();
    let to_unknown = bytes(&signed(code_execute(&[], &[], b""), 1, unknown, 1));
    assert!(
        manager
            .validate_message(1, &unknown.0, &to_unknown)
            .is_err()
    );
    // lock: granted, then a conflict.
    manager.lock(1, &NATIVE_TOKEN.0, &transfer).unwrap();
    assert!(matches!(
        manager.lock(1, &NATIVE_TOKEN.0, &transfer),
        Err(ManagerError::LockConflict { .. })
    ));
    manager.unlock_all();
    // process: applied, then the replay refused.
    let snapshot = manager.store().snapshot().unwrap();
    let mut overlay = Overlay::new(snapshot.as_ref());
    manager
        .process_message(1, 1, &NATIVE_TOKEN.0, &transfer, &mut overlay)
        .unwrap();
    assert!(
        manager
            .process_message(1, 1, &NATIVE_TOKEN.0, &transfer, &mut overlay)
            .is_err()
    );
    drop(overlay);
    drop(snapshot);
    // a frame: a transfer and a compute operation applied, and a garbage message.
    let execute = bytes(&signed(
        code_execute(&[], &[addr(COMPUTE, 1)], b"x"),
        2,
        COMPUTE,
        1,
    ));
    let result = manager
        .execute_frame(
            &Frame::new(1)
                .message(NATIVE_TOKEN.0, transfer)
                .message(NATIVE_TOKEN.0, garbage)
                .message(COMPUTE.0, execute),
        )
        .unwrap();
    assert_eq!(result.receipt.outcomes.len(), 3);

    let text = manager.metrics().render();
    let metrics = scrape(&text);
    let expected = [
        ("token", "cost", "ok", 1.0),
        ("none", "cost", "malformed", 1.0),
        ("none", "cost", "no_engine", 1.0),
        ("token", "validate", "ok", 1.0),
        ("none", "validate", "no_engine", 1.0),
        ("token", "lock", "ok", 1.0),
        ("token", "lock", "rejected", 1.0),
        ("token", "apply", "ok", 2.0),
        ("token", "apply", "rejected", 1.0),
        ("none", "apply", "malformed", 1.0),
        ("compute", "apply", "ok", 1.0),
        ("compute", "apply", "rejected", 0.0),
    ];
    for (engine, op, status, count) in expected {
        assert_eq!(
            requests(&metrics, engine, op, status),
            count,
            "{engine} {op} {status}"
        );
    }
    for (engine, op, count) in [
        ("token", "cost", 1.0),
        ("none", "cost", 2.0),
        ("token", "validate", 1.0),
        ("none", "validate", 1.0),
        ("token", "lock", 2.0),
        ("token", "apply", 3.0),
        ("none", "apply", 1.0),
        ("compute", "apply", 1.0),
    ] {
        assert_eq!(durations(&metrics, engine, op), count, "{engine} {op}");
    }
    assert_eq!(value(&metrics, "switchyard_lock_conflicts_total", &[]), 1.0);
    assert_eq!(value(&metrics, "switchyard_frame_height", &[]), 1.0);
    assert_eq!(
        value(&metrics, "switchyard_engine_up", &[("engine", "token")]),
        1.0
    );
    assert_eq!(
        value(&metrics, "switchyard_engine_up", &[("engine", "compute")]),
        1.0
    );

    manager.stop(false).unwrap();
    let after = scrape(&manager.metrics().render());
    assert_eq!(
        value(&after, "switchyard_engine_up", &[("engine", "token")]),
        0.0
    );
}
