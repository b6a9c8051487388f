//! The rendered exposition carries the right families, labels and values.

use std::collections::BTreeSet;
use std::thread;

use switchyard_metrics::{
    FRAME_MESSAGES_BUCKETS, FRAME_PHASE_BUCKETS, Metrics, NO_ENGINE, Op, Phase,
    REQUEST_DURATION_BUCKETS, Status,
};

use crate::support::{buckets, count, gauge, scalar, scrape};

const REQUESTS: &str = "switchyard_requests_total";
const DURATION: &str = "switchyard_request_duration_seconds";

/// The cumulative count at the bucket whose upper bound is `le`.
fn at(buckets: &[(f64, f64)], le: f64) -> f64 {
    buckets
        .iter()
        .find(|(bound, _)| *bound == le)
        .map(|(_, count)| *count)
        .unwrap_or_else(|| panic!("no bucket le={le} in {buckets:?}"))
}

#[test]
fn requests_are_counted_by_engine_op_and_status() {
    let metrics = Metrics::new();
    for seconds in [0.000_001, 0.000_2, 0.003] {
        metrics.record_request("token", Op::Apply, Status::Ok, seconds);
    }
    metrics.record_request("token", Op::Apply, Status::Rejected, 2.0);
    metrics.record_request("token", Op::Validate, Status::Ok, 0.000_01);
    metrics.record_request("hypergraph", Op::Apply, Status::Temporary, 0.1);
    metrics.record_request(NO_ENGINE, Op::Validate, Status::NoEngine, 0.0);

    let scrape = scrape(&metrics);
    let token_apply = [("engine", "token"), ("op", "apply")];
    let with = |status| [("engine", "token"), ("op", "apply"), ("status", status)];
    assert_eq!(scalar(&scrape, REQUESTS, &with("ok")), 3.0);
    assert_eq!(scalar(&scrape, REQUESTS, &with("rejected")), 1.0);
    assert_eq!(scalar(&scrape, REQUESTS, &with("critical")), 0.0);
    let token_validate_ok = [("engine", "token"), ("op", "validate"), ("status", "ok")];
    assert_eq!(scalar(&scrape, REQUESTS, &token_validate_ok), 1.0);
    let hypergraph = [
        ("engine", "hypergraph"),
        ("op", "apply"),
        ("status", "temporary"),
    ];
    assert_eq!(scalar(&scrape, REQUESTS, &hypergraph), 1.0);
    let none = [
        ("engine", "none"),
        ("op", "validate"),
        ("status", "no_engine"),
    ];
    assert_eq!(scalar(&scrape, REQUESTS, &none), 1.0);

    // Three engines seen, each with every op x status series, each with exactly three labels.
    let expected = 3 * Op::ALL.len() * Status::ALL.len();
    assert_eq!(count(&scrape, REQUESTS, &[]), expected);
    let keys: BTreeSet<Vec<&str>> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == REQUESTS)
        .map(|s| {
            let mut keys: Vec<&str> = s.labels.keys().map(String::as_str).collect();
            keys.sort_unstable();
            keys
        })
        .collect();
    assert_eq!(keys, BTreeSet::from([vec!["engine", "op", "status"]]));

    // The duration histogram counts every call, whatever its status.
    assert_eq!(
        scalar(&scrape, &format!("{DURATION}_count"), &token_apply),
        4.0
    );
    let sum = scalar(&scrape, &format!("{DURATION}_sum"), &token_apply);
    assert!((sum - 2.003_201).abs() < 1e-9, "sum {sum}");
    let bounds = buckets(&scrape, DURATION, &token_apply);
    assert_eq!(bounds.len(), REQUEST_DURATION_BUCKETS.len() + 1);
    assert_eq!(at(&bounds, 1e-6), 1.0);
    assert_eq!(at(&bounds, 2.5e-4), 2.0);
    assert_eq!(at(&bounds, 5e-3), 3.0);
    assert_eq!(at(&bounds, 1.0), 3.0);
    assert_eq!(at(&bounds, f64::INFINITY), 4.0);
    let cost = [("engine", "token"), ("op", "cost")];
    assert_eq!(scalar(&scrape, &format!("{DURATION}_count"), &cost), 0.0);
}

#[test]
fn lock_conflicts_count_every_call() {
    let metrics = Metrics::new();
    assert_eq!(
        scalar(&scrape(&metrics), "switchyard_lock_conflicts_total", &[]),
        0.0
    );
    for _ in 0..5 {
        metrics.lock_conflict();
    }
    assert_eq!(
        scalar(&scrape(&metrics), "switchyard_lock_conflicts_total", &[]),
        5.0
    );
}

#[test]
fn frame_messages_histogram_places_each_frame() {
    let metrics = Metrics::new();
    for messages in [1, 7, 100_000, 250_000] {
        metrics.frame_messages(messages);
    }
    let scrape = scrape(&metrics);
    let name = "switchyard_frame_messages";
    assert_eq!(scalar(&scrape, &format!("{name}_count"), &[]), 4.0);
    assert_eq!(scalar(&scrape, &format!("{name}_sum"), &[]), 350_008.0);
    let bounds = buckets(&scrape, name, &[]);
    assert_eq!(bounds.len(), FRAME_MESSAGES_BUCKETS.len() + 1);
    assert_eq!(at(&bounds, 1.0), 1.0);
    assert_eq!(at(&bounds, 5.0), 1.0);
    assert_eq!(at(&bounds, 10.0), 2.0);
    assert_eq!(at(&bounds, 1e5), 3.0);
    assert_eq!(at(&bounds, f64::INFINITY), 4.0);
}

#[test]
fn frame_phases_are_separate_series() {
    let metrics = Metrics::new();
    metrics.frame_phase(Phase::Prepare, 0.000_05);
    metrics.frame_phase(Phase::Execute, 0.02);
    metrics.frame_phase(Phase::Execute, 3.0);
    metrics.frame_phase(Phase::Commit, 60.0);
    let scrape = scrape(&metrics);
    let name = "switchyard_frame_duration_seconds";
    let counted = |phase| scalar(&scrape, &format!("{name}_count"), &[("phase", phase)]);
    assert_eq!(counted("prepare"), 1.0);
    assert_eq!(counted("validate"), 0.0);
    assert_eq!(counted("schedule"), 0.0);
    assert_eq!(counted("execute"), 2.0);
    assert_eq!(counted("commit"), 1.0);
    assert_eq!(count(&scrape, name, &[]), Phase::ALL.len());

    let execute = buckets(&scrape, name, &[("phase", "execute")]);
    assert_eq!(execute.len(), FRAME_PHASE_BUCKETS.len() + 1);
    assert_eq!(at(&execute, 1e-2), 0.0);
    assert_eq!(at(&execute, 2.5e-2), 1.0);
    assert_eq!(at(&execute, 5.0), 2.0);
    let prepare = buckets(&scrape, name, &[("phase", "prepare")]);
    assert_eq!(at(&prepare, 1e-4), 1.0);
    let commit = buckets(&scrape, name, &[("phase", "commit")]);
    assert_eq!(at(&commit, 10.0), 0.0);
    assert_eq!(at(&commit, f64::INFINITY), 1.0);
}

#[test]
fn gauges_hold_the_last_value_set() {
    let metrics = Metrics::new();
    metrics.set_frame_height(7);
    metrics.set_frame_height(u64::from(u32::MAX) + 1);
    metrics.set_queue_depth("submit", 12);
    metrics.set_queue_depth("submit", 3);
    metrics.set_queue_depth("frame", -1);
    metrics.set_engine_up("token", true);
    metrics.set_engine_up("compute", true);
    metrics.set_engine_up("compute", false);

    let scrape = scrape(&metrics);
    assert_eq!(
        gauge(&scrape, "switchyard_frame_height", &[]),
        4_294_967_296.0
    );
    let depth = "switchyard_queue_depth";
    assert_eq!(gauge(&scrape, depth, &[("queue", "submit")]), 3.0);
    assert_eq!(gauge(&scrape, depth, &[("queue", "frame")]), -1.0);
    assert_eq!(count(&scrape, depth, &[]), 2);
    let up = "switchyard_engine_up";
    assert_eq!(gauge(&scrape, up, &[("engine", "token")]), 1.0);
    assert_eq!(gauge(&scrape, up, &[("engine", "compute")]), 0.0);
    assert_eq!(count(&scrape, up, &[]), 2);
}

/// The families documented (`# HELP`) in an exposition.
fn documented(metrics: &Metrics) -> BTreeSet<String> {
    scrape(metrics).docs.into_keys().collect()
}

#[test]
fn every_family_is_documented_once_it_has_a_series() {
    // prometheus-client leaves out a labelled family until it has a series; the families
    // without labels, and the frame phases (created up front), are always there.
    let metrics = Metrics::default();
    let always = [
        "switchyard_frame_duration_seconds",
        "switchyard_frame_height",
        "switchyard_frame_messages",
        "switchyard_lock_conflicts",
    ];
    assert_eq!(documented(&metrics), always.map(String::from).into());
    assert_eq!(count(&scrape(&metrics), REQUESTS, &[]), 0);

    metrics.record_request("token", Op::Cost, Status::Ok, 0.0);
    metrics.set_queue_depth("submit", 0);
    metrics.set_engine_up("token", true);
    let mut all = BTreeSet::from(always.map(String::from));
    all.extend(
        [
            "switchyard_engine_up",
            "switchyard_queue_depth",
            "switchyard_request_duration_seconds",
            "switchyard_requests",
        ]
        .map(String::from),
    );
    assert_eq!(documented(&metrics), all);
}

#[test]
fn clones_and_threads_record_into_one_registry() {
    fn assert_shareable<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    assert_shareable::<Metrics>();

    let metrics = Metrics::new();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let metrics = metrics.clone();
            thread::spawn(move || {
                let engine = if t % 2 == 0 { "token" } else { "global" };
                for _ in 0..1000 {
                    metrics.record_request(engine, Op::Lock, Status::Ok, 0.000_1);
                    metrics.lock_conflict();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let scrape = scrape(&metrics);
    for engine in ["token", "global"] {
        let labels = [("engine", engine), ("op", "lock"), ("status", "ok")];
        assert_eq!(scalar(&scrape, REQUESTS, &labels), 2000.0);
        let labels = [("engine", engine), ("op", "lock")];
        assert_eq!(
            scalar(&scrape, &format!("{DURATION}_count"), &labels),
            2000.0
        );
    }
    assert_eq!(
        scalar(&scrape, "switchyard_lock_conflicts_total", &[]),
        4000.0
    );
}

#[test]
fn metrics_registered_by_the_node_are_rendered_with_the_prefix() {
    use switchyard_metrics::prometheus_client::metrics::gauge::Gauge;

    let metrics = Metrics::new();
    let peers = Gauge::<i64>::default();
    metrics
        .registry()
        .register("peers", "Connected peers", peers.clone());
    peers.set(9);
    metrics.set_frame_height(1);
    let scrape = scrape(&metrics);
    assert_eq!(gauge(&scrape, "switchyard_peers", &[]), 9.0);
    assert_eq!(gauge(&scrape, "switchyard_frame_height", &[]), 1.0);
}
