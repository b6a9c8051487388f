//! Reading a rendered exposition back with `prometheus-parse`.

use prometheus_parse::{HistogramCount, Sample, Scrape, Value};
use switchyard_metrics::Metrics;

/// Renders `metrics` and parses the text as Prometheus text.
pub(crate) fn scrape(metrics: &Metrics) -> Scrape {
    let text = metrics.render();
    assert!(text.ends_with("# EOF\n"), "no EOF marker: {text}");
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("exposition parses")
}

fn matching<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect()
}

/// The one sample named `name` whose labels include `labels`.
pub(crate) fn sample<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> &'a Sample {
    let found = matching(scrape, name, labels);
    assert_eq!(found.len(), 1, "{name} {labels:?} matched {found:#?}");
    found[0]
}

/// How many samples are named `name` and carry `labels`.
pub(crate) fn count(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> usize {
    matching(scrape, name, labels).len()
}

/// The value of a counter, gauge or untyped sample. OpenMetrics declares a counter's type on
/// the family name (`# TYPE switchyard_requests counter`) while its sample is named
/// `..._total`, so a Prometheus text parser sees counter samples as untyped.
pub(crate) fn scalar(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    match sample(scrape, name, labels).value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        ref other => panic!("{name} {labels:?} is not a scalar: {other:?}"),
    }
}

/// The value of a sample declared as a gauge.
pub(crate) fn gauge(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    match sample(scrape, name, labels).value {
        Value::Gauge(v) => v,
        ref other => panic!("{name} {labels:?} is not a gauge: {other:?}"),
    }
}

/// The cumulative buckets of a histogram, as (upper bound, count) in the order rendered. The
/// parser gathers the `{name}_bucket` lines into one sample named `name`, without `le`.
pub(crate) fn buckets(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
    match &sample(scrape, name, labels).value {
        Value::Histogram(buckets) => buckets
            .iter()
            .map(|HistogramCount { less_than, count }| (*less_than, *count))
            .collect(),
        other => panic!("{name} {labels:?} is not a histogram: {other:?}"),
    }
}
