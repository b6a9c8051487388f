//! Short runs of the node's hardening campaigns against the real `switchyard` binary: a crash
//! campaign (SIGKILL and restart under load, then an in-process replay of everything the node
//! committed) and an overload run (a bounded flood past a small mempool). `cargo xtask crash`
//! and `cargo xtask overload` run the long ones.

use std::time::Duration;

use switchyard_node::campaign::{crash, overload};

use crate::node_common::BIN;

/// The seed of the test's kill delays: `SWITCHYARD_CRASH_SEED` to repeat another one.
fn seed() -> u64 {
    std::env::var("SWITCHYARD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED)
}

#[test]
fn a_short_crash_campaign_finds_no_mismatch() {
    let mut options = crash::CrashOptions::new(BIN, 3, seed());
    options.min_run = Duration::from_millis(500);
    options.max_run = Duration::from_millis(1_500);
    let report = crash::run(&options).unwrap();
    eprint!("{}", report.summary());
    assert_eq!((report.runs, report.kills), (3, 3));
    assert_eq!(report.mismatches, 0, "{:#?}", report.details);
    // The campaign checked something at every step.
    assert!(report.accepted > 0 && report.committed > 0, "{report:?}");
    assert!(report.receipts_checked > 0, "{report:?}");
    assert!(report.statuses_checked > 0, "{report:?}");
    assert_eq!(report.frames_replayed, report.frames, "{report:?}");
}

#[test]
fn a_short_overload_run_refuses_the_excess_and_loses_nothing() {
    let options = overload::OverloadOptions::new(BIN, Duration::from_secs(5));
    let report = overload::run(&options).unwrap();
    eprint!("{}", report.summary());
    assert!(report.passed(), "{:#?}", report.failures);
    assert!(report.refusals > 0);
    assert!(report.accepted_large > 0);
    assert_eq!(report.accepted, report.committed);
    assert!(report.peak_rss_kb > 0 && report.peak_rss_kb <= overload::DEFAULT_RSS_BOUND_KB);
}
