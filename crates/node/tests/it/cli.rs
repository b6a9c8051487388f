//! The built `switchyard` binary: `bench` reports, `decode`, and refused arguments.

use std::process::{Command, Output};

use serde_json::Value;
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_token::TokenClient;

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Runs `bench` with `args`, checks it succeeded and returns its JSON report.
fn bench(args: &[&str]) -> Value {
    bench_and_summary(args).0
}

/// Runs `bench` with `args`, checks it succeeded and returns its JSON report (stdout) and its
/// human summary (stderr).
fn bench_and_summary(args: &[&str]) -> (Value, String) {
    let output = switchyard(&[&["bench"], args].concat());
    assert!(
        output.status.success(),
        "bench {args:?} failed ({}): {}",
        output.status,
        stderr(&output)
    );
    let report = serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|e| panic!("bench {args:?} printed no JSON ({e}): {}", stdout(&output)));
    (report, stderr(&output))
}

fn count(run: &Value, field: &str) -> u64 {
    run[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} is not a count: {run}"))
}

fn assert_root(run: &Value) -> String {
    let root = run["state_root"].as_str().unwrap().to_owned();
    assert_eq!(root.len(), 64, "{root}");
    assert!(
        root.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{root}"
    );
    root
}

/// The JSON report of a small run, and the human summary beside it.
#[test]
fn bench_transfers_reports_every_transfer_applied() {
    let (report, summary) = bench_and_summary(&[
        "--messages",
        "300",
        "--frame-size",
        "100",
        "--accounts",
        "300",
        "--threads",
        "2",
    ]);
    let run = &report["run"];
    assert_eq!(report["workload"], "transfers");
    // The first of the 3 frames is an untimed warm-up; outcomes count every frame.
    assert_eq!(count(run, "warmup_frames"), 1);
    assert_eq!(count(run, "messages"), 200);
    assert_eq!(count(run, "frames"), 2);
    assert_eq!(count(run, "threads"), 2);
    assert_eq!(count(run, "applied"), 300);
    assert_eq!(count(run, "failed"), 0);
    assert_eq!(count(run, "rejected"), 0);
    assert_eq!(run["store"], "memory");
    assert!(run["tps"].as_f64().unwrap() > 0.0, "{run}");
    let root = assert_root(run);

    assert!(summary.contains("transfers: "), "{summary}");
    assert!(summary.contains("messages/s; frame p50 "), "{summary}");
    assert!(
        summary.contains("200 messages in 2 timed frames; 2 threads, memory store"),
        "{summary}"
    );
    assert!(
        summary.contains("300 applied, 0 failed, 0 rejected"),
        "{summary}"
    );
    assert!(summary.contains(&format!("state root {root}")), "{summary}");
}

/// A smoke run of the standard suite: every ratio the issue names, with both of its figures.
#[test]
fn the_standard_suite_reports_every_ratio_with_its_figures() {
    let (report, summary) = bench_and_summary(&[
        "--suite",
        "standard",
        "--json",
        "--messages",
        "300",
        "--frame-size",
        "100",
        "--rounds",
        "1",
    ]);
    let ratios = report["ratios"].as_object().unwrap();
    // The transfers' ratios and each engine's parallel speedup; others may follow.
    for name in [
        "compute_parallel_speedup",
        "hot_account_vs_serial",
        "hypergraph_parallel_speedup",
        "manager_overhead",
        "parallel_speedup",
        "redb_vs_memory",
        "verify_bound_fraction",
    ] {
        assert!(ratios.contains_key(name), "{name} missing: {ratios:?}");
    }
    for name in ratios.keys() {
        let ratio = &ratios[name];
        let (numerator, denominator) = (
            ratio["numerator"].as_f64().unwrap(),
            ratio["denominator"].as_f64().unwrap(),
        );
        assert!(numerator > 0.0 && denominator > 0.0, "{name}: {ratio}");
        let value = ratio["ratio"].as_f64().unwrap();
        assert!(
            (value - numerator / denominator).abs() < 1e-9,
            "{name}: {ratio}"
        );
        assert_eq!(
            ratio["met"],
            value >= ratio["target"].as_f64().unwrap(),
            "{name}"
        );
        assert!(summary.contains(name), "{name} missing from:\n{summary}");
    }
    assert!(
        report["preverified_tps"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert_eq!(
        report["preverified_tps_met"],
        report["preverified_tps"].as_f64().unwrap()
            >= report["preverified_tps_target"].as_f64().unwrap(),
        "{report}"
    );
    assert!(report["peak_rss_kb"].as_u64().unwrap() > 0, "{report}");
    // Seven transfer runs, then two per engine workload (and any the suite adds).
    assert!(report["runs"].as_array().unwrap().len() >= 11, "{report}");
    assert!(summary.contains("preverified_tps"), "{summary}");
}

#[test]
fn bench_mixed_counts_every_message_and_its_root_does_not_depend_on_threads() {
    let base = [
        "--workload",
        "mixed",
        "--messages",
        "200",
        "--frame-size",
        "50",
        "--accounts",
        "6",
    ];
    let report = bench(&base);
    let run = &report["run"];
    assert_eq!(report["workload"], "mixed");
    assert_eq!(count(run, "warmup_frames"), 1);
    assert_eq!(count(run, "messages"), 150);
    assert_eq!(count(run, "frames"), 3);
    let applied = count(run, "applied");
    assert_eq!(
        applied + count(run, "failed") + count(run, "rejected"),
        200,
        "{run}"
    );
    assert!(applied > 0, "{run}");
    let root = assert_root(run);

    let one = bench(&[&base[..], &["--threads", "1"]].concat());
    let two = bench(&[&base[..], &["--threads", "2", "--store", "redb"]].concat());
    assert_eq!(assert_root(&one["run"]), root);
    assert_eq!(assert_root(&two["run"]), root);
    assert_eq!(two["run"]["store"], "redb");
    for field in ["applied", "failed", "rejected"] {
        assert_eq!(count(&one["run"], field), count(run, field), "{field}");
        assert_eq!(count(&two["run"], field), count(run, field), "{field}");
    }
    // Another seed, another workload.
    let other = bench(&[&base[..], &["--seed", "2"]].concat());
    assert_ne!(assert_root(&other["run"]), root);
}

#[test]
fn decode_prints_a_valid_message() {
    let mut client = TokenClient::new(SigningKey::from_bytes(&[7; 32]), 1, 1);
    let bytes = client.transfer(NATIVE_TOKEN, [9; 32], 250).to_bytes();
    for text in [hex::encode(&bytes), format!("0x{}", hex::encode(&bytes))] {
        let output = switchyard(&["decode", &text]);
        assert!(output.status.success(), "{}", stderr(&output));
        let printed = stdout(&output);
        assert!(printed.starts_with("tag 0x0311"), "{printed}");
        assert!(printed.contains("Transaction"), "{printed}");
    }
}

#[test]
fn decode_names_what_is_wrong_with_bad_input() {
    let mut client = TokenClient::new(SigningKey::from_bytes(&[7; 32]), 1, 1);
    let valid = hex::encode(client.transfer(NATIVE_TOKEN, [9; 32], 250).to_bytes());
    let truncated = valid[..valid.len() - 2].to_owned();
    let trailing_zero = format!("{valid}00");
    let cases: [(&str, &str); 6] = [
        ("zz", "not valid hex"),
        ("abc", "not valid hex"),
        ("", "too short"),
        ("deadbeef01", "unknown type tag"),
        (&truncated, "truncated"),
        (&trailing_zero, "trailing bytes"),
    ];
    for (input, named) in cases {
        let output = switchyard(&["decode", input]);
        assert!(!output.status.success(), "decode {input:?} succeeded");
        assert!(
            output.stdout.is_empty(),
            "decode {input:?} printed a message"
        );
        let error = stderr(&output);
        assert!(
            error.starts_with("switchyard: ") && error.contains(named),
            "decode {input:?}: {error:?} does not say {named:?}"
        );
    }
}

#[test]
fn bad_arguments_are_refused_with_their_name() {
    let cases: [(&[&str], &[&str]); 11] = [
        (&["bench", "--threads", "0"], &["--threads", "at least 1"]),
        (&["bench", "--conflict", "2"], &["--conflict", "2"]),
        (&["bench", "--conflict=-0.5"], &["--conflict", "-0.5"]),
        (&["bench", "--suite", "nope"], &["--suite", "nope"]),
        (&["bench", "--messages", "0"], &["--messages"]),
        (
            &["bench", "--messages", "99999999999"],
            &["--messages", "99999999999"],
        ),
        (&["bench", "--accounts", "0"], &["--accounts"]),
        (
            &["bench", "--suite", "standard", "--rounds", "0"],
            &["--rounds", "0"],
        ),
        (&["bench", "--frame-size", "0"], &["--frame-size"]),
        (&["bench", "--threads", "many"], &["--threads", "many"]),
        (
            &["bench", "--workload", "lottery"],
            &["--workload", "lottery"],
        ),
    ];
    for (args, named) in cases {
        let output = switchyard(args);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(output.stdout.is_empty(), "{args:?} printed a report");
        let error = stderr(&output);
        for name in named {
            assert!(
                error.contains(name),
                "{args:?}: {error:?} does not name {name:?}"
            );
        }
    }
}
