//! The human summary of a `switchyard bench` report, printed on stderr beside the JSON on
//! stdout: a person at a terminal reads the figures, scripts read the JSON.
//!
//! It is rendered from the JSON report itself, so the two can never disagree. A field the
//! report lacks is shown as `?` rather than refused: the summary is a courtesy, never a reason
//! for a run to fail.

use std::fmt::Write as _;

use serde_json::Value;

/// Renders `report` (a single run's or the standard suite's) as a few lines of text.
///
/// ```
/// let report = serde_json::json!({
///     "workload": "transfers",
///     "peak_rss_kb": 51200,
///     "run": { "label": "run", "threads": 2, "store": "memory", "preverified": false,
///              "messages": 200, "frames": 2, "warmup_frames": 1, "tps": 1234.5,
///              "frame_p50_ms": 80.0, "frame_p99_ms": 90.0, "applied": 300, "failed": 0,
///              "rejected": 0, "state_root": "ab" },
/// });
/// let text = switchyard_node::summary(&report);
/// assert!(text.contains("1,234 messages/s"));
/// assert!(text.contains("p50 80.0 ms"));
/// ```
pub fn summary(report: &Value) -> String {
    let mut out = String::new();
    if let Some(ratios) = report.get("ratios").and_then(Value::as_object) {
        suite(&mut out, report, ratios);
    } else if let Some(run) = report.get("run") {
        let workload = report
            .get("workload")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let _ = writeln!(out, "{workload}: {}", run_line(run));
        let _ = writeln!(
            out,
            "  {} applied, {} failed, {} rejected (every frame, the warm-up included)",
            count(run, "applied"),
            count(run, "failed"),
            count(run, "rejected"),
        );
        let _ = writeln!(
            out,
            "  state root {}; peak RSS {}",
            run.get("state_root").and_then(Value::as_str).unwrap_or("?"),
            mebibytes(report),
        );
    }
    out
}

fn suite(out: &mut String, report: &Value, ratios: &serde_json::Map<String, Value>) {
    let rounds = count(report, "rounds");
    let _ = writeln!(
        out,
        "standard suite: {} messages per workload in frames of {}, best of {rounds} round{}",
        count(report, "messages"),
        count(report, "frame_size"),
        if rounds == "1" { "" } else { "s" },
    );
    for (name, ratio) in ratios {
        let value = number(ratio, "ratio");
        let target = number(ratio, "target");
        let _ = writeln!(
            out,
            "  {name:<24}{value:>9.3}  target {target:<7} {}  ({} / {})",
            verdict_of(ratio, "met"),
            thousands(number(ratio, "numerator")),
            thousands(number(ratio, "denominator")),
        );
    }
    let _ = writeln!(
        out,
        "  {:<24}{:>9}  target {:<7} {}",
        "preverified_tps",
        thousands(number(report, "preverified_tps")),
        thousands(number(report, "preverified_tps_target")),
        verdict_of(report, "preverified_tps_met"),
    );
    for run in report
        .get("runs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let label = run.get("label").and_then(Value::as_str).unwrap_or("?");
        let _ = writeln!(out, "  {label:<26}{}", run_line(run));
    }
    let _ = writeln!(out, "  peak RSS {}", mebibytes(report));
}

/// Rate, frame times and setting of one run.
fn run_line(run: &Value) -> String {
    let threads = count(run, "threads");
    let verified = match run.get("preverified").and_then(Value::as_bool) {
        Some(true) => ", signatures verified before timing",
        _ => "",
    };
    format!(
        "{} messages/s; frame p50 {} ms, p99 {} ms ({} messages in {} timed frames; {} thread{}, {} store{verified})",
        thousands(number(run, "tps")),
        millis(run, "frame_p50_ms"),
        millis(run, "frame_p99_ms"),
        count(run, "messages"),
        count(run, "frames"),
        threads,
        if threads == "1" { "" } else { "s" },
        run.get("store").and_then(Value::as_str).unwrap_or("?"),
    )
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The report's own verdict in `field`, not one worked out again here; `?` when it is absent.
fn verdict_of(value: &Value, field: &str) -> &'static str {
    value
        .get(field)
        .and_then(Value::as_bool)
        .map_or("?", verdict)
}

fn number(value: &Value, field: &str) -> f64 {
    value.get(field).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn millis(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_f64)
        .map_or_else(|| "?".to_owned(), |ms| format!("{ms:.1}"))
}

fn count(value: &Value, field: &str) -> String {
    value
        .get(field)
        .and_then(Value::as_u64)
        .map_or_else(|| "?".to_owned(), |n| n.to_string())
}

fn mebibytes(report: &Value) -> String {
    report
        .get("peak_rss_kb")
        .and_then(Value::as_u64)
        .map_or_else(|| "?".to_owned(), |kb| format!("{} MiB", kb / 1024))
}

/// `1234567.8` as `1,234,567` (rounded down; the summary shows whole messages per second).
fn thousands(value: f64) -> String {
    if !value.is_finite() || value < 0.0 {
        return "?".to_owned();
    }
    // Display only: the figure was measured in floating point and is shown as a whole number.
    let digits = (value as u64).to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn thousands_groups_digits_and_refuses_nonsense() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.9), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(411_588.4), "411,588");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(f64::NAN), "?");
        assert_eq!(thousands(-1.0), "?");
    }

    #[test]
    fn a_suite_summary_names_every_ratio_and_whether_it_met_its_target() {
        let report = json!({
            "messages": 300, "frame_size": 100, "rounds": 1, "peak_rss_kb": 2048,
            "ratios": {
                "parallel_speedup": { "numerator": 90.0, "denominator": 50.0, "ratio": 1.8, "target": 1.8, "met": true },
                "manager_overhead": { "numerator": 80.0, "denominator": 100.0, "ratio": 0.8, "target": 0.9, "met": false },
            },
            "preverified_tps": 450_000.0, "preverified_tps_target": 500_000.0, "preverified_tps_met": false,
            "runs": [{ "label": "conflict-free, 1 thread", "threads": 1, "tps": 50.0,
                       "frame_p50_ms": 2.0, "frame_p99_ms": 3.0, "store": "memory" }],
        });
        let text = summary(&report);
        let line = |name: &str| {
            text.lines()
                .find(|line| line.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("no line for {name} in:\n{text}"))
                .to_owned()
        };
        assert!(line("parallel_speedup").contains("1.800"), "{text}");
        assert!(line("parallel_speedup").contains(" met"), "{text}");
        assert!(line("manager_overhead").contains("MISSED"), "{text}");
        assert!(line("preverified_tps").contains("450,000"), "{text}");
        assert!(line("preverified_tps").contains("MISSED"), "{text}");
        assert!(
            line("conflict-free, 1 thread").contains("1 thread, memory store"),
            "{text}"
        );
        assert!(text.contains("peak RSS 2 MiB"), "{text}");
    }

    #[test]
    fn missing_fields_show_as_question_marks() {
        let text = summary(&json!({ "workload": "mixed", "run": {} }));
        assert!(
            text.starts_with("mixed: ? messages/s; frame p50 ? ms"),
            "{text}"
        );
        assert!(text.contains("? applied"), "{text}");
        assert!(summary(&json!({})).is_empty());
    }
}
