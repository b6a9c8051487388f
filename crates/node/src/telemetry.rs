//! The node's own metric families (registered into the manager's registry) and `/metrics`
//! over HTTP.
//!
//! | family | type | labels |
//! |---|---|---|
//! | `switchyard_mempool_messages` | gauge | |
//! | `switchyard_mempool_bytes` | gauge | |
//! | `switchyard_admission_refusals_total` | counter | `reason` |
//! | `switchyard_grpc_requests_total` | counter | `method`, `code` |
//!
//! plus `switchyard_queue_depth{queue="producer"}` (the producer's work queue) and every family
//! of `switchyard_metrics`.
//!
//! `/metrics` serves the classic Prometheus text format (0.0.4) by default and OpenMetrics
//! when the scraper's `Accept` header asks for `application/openmetrics-text`, as Go's
//! promhttp does: `promtool check metrics` lints the classic format and refuses the
//! OpenMetrics rendering of counters. prometheus-client renders OpenMetrics only, so the
//! classic text is derived from it by [`openmetrics_to_classic`], whose rules are those of the
//! two formats' specifications.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use switchyard_metrics::Metrics;
use switchyard_metrics::prometheus_client::metrics::counter::Counter;
use switchyard_metrics::prometheus_client::metrics::family::Family;
use switchyard_metrics::prometheus_client::metrics::gauge::Gauge;
use tokio_util::sync::CancellationToken;

/// Label set of the node's counter families.
type Labels = Vec<(&'static str, String)>;

/// The node's metric families (see the module docs). Cheap to clone.
#[derive(Clone, Debug)]
pub struct NodeMetrics {
    mempool_messages: Gauge,
    mempool_bytes: Gauge,
    refusals: Family<Labels, Counter>,
    grpc: Family<Labels, Counter>,
}

impl NodeMetrics {
    /// Creates the families and registers them in `metrics`' registry.
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self {
            mempool_messages: Gauge::default(),
            mempool_bytes: Gauge::default(),
            refusals: Family::default(),
            grpc: Family::default(),
        };
        let mut registry = metrics.registry();
        registry.register(
            "mempool_messages",
            "Messages waiting in the mempool",
            this.mempool_messages.clone(),
        );
        registry.register(
            "mempool_bytes",
            "Bytes of messages waiting in the mempool",
            this.mempool_bytes.clone(),
        );
        registry.register(
            "admission_refusals",
            "Messages refused at admission, by reason",
            this.refusals.clone(),
        );
        registry.register(
            "grpc_requests",
            "gRPC calls answered, by method and status code",
            this.grpc.clone(),
        );
        this
    }

    /// Sets the mempool gauges.
    pub fn set_mempool(&self, messages: usize, bytes: usize) {
        self.mempool_messages
            .set(i64::try_from(messages).unwrap_or(i64::MAX));
        self.mempool_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }

    /// Counts one admission refusal.
    pub fn refused(&self, reason: &'static str) {
        self.refusals
            .get_or_create(&vec![("reason", reason.to_owned())])
            .inc();
    }

    /// Counts one gRPC call answered with `code`.
    pub fn grpc_call(&self, method: &'static str, code: tonic::Code) {
        self.grpc
            .get_or_create(&vec![
                ("method", method.to_owned()),
                ("code", format!("{code:?}")),
            ])
            .inc();
    }
}

/// The `Content-Type` of the classic text format.
pub const CLASSIC_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Rewrites prometheus-client's OpenMetrics text into the classic text format (0.0.4):
/// `# EOF` and `# UNIT` lines go; a counter family `x` (whose samples are `x_total`) is
/// described as `x_total`; `info` and `stateset` families become gauges; `unknown` becomes
/// `untyped`. Sample lines are the same in both formats (no exemplars or created timestamps
/// are recorded here).
pub fn openmetrics_to_classic(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut counters = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some((name, "counter")) = line
            .strip_prefix("# TYPE ")
            .and_then(|rest| rest.split_once(' '))
        {
            counters.insert(name.to_owned());
        }
    }
    for line in text.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let described = line
            .strip_prefix("# TYPE ")
            .map(|rest| ("TYPE", rest))
            .or_else(|| line.strip_prefix("# HELP ").map(|rest| ("HELP", rest)));
        match described {
            Some((keyword, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let name = match counters.contains(name) {
                    true => format!("{name}_total"),
                    false => name.to_owned(),
                };
                let tail = match (keyword, tail) {
                    ("TYPE", "info" | "stateset" | "gaugehistogram") => "gauge",
                    ("TYPE", "unknown") => "untyped",
                    _ => tail,
                };
                out.push_str(&format!("# {keyword} {name} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Whether the `Accept` header asks for OpenMetrics.
fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"))
}

async fn metrics_route(
    axum::extract::State(metrics): axum::extract::State<Metrics>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let text = metrics.render();
    let (body, content_type) = match wants_openmetrics(&headers) {
        true => (text, switchyard_metrics::CONTENT_TYPE),
        false => (openmetrics_to_classic(&text), CLASSIC_CONTENT_TYPE),
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
}

/// Serves `/metrics` on `listener` until `cancel` is cancelled.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(metrics_route))
        .with_state(metrics);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_described_with_their_total_name() {
        let metrics = Metrics::new();
        let node = NodeMetrics::register(&metrics);
        node.refused("duplicate");
        node.grpc_call("Submit", tonic::Code::Ok);
        let classic = openmetrics_to_classic(&metrics.render());
        assert!(classic.contains("# TYPE switchyard_admission_refusals_total counter\n"));
        assert!(classic.contains("# HELP switchyard_admission_refusals_total Messages refused"));
        assert!(classic.contains("switchyard_admission_refusals_total{reason=\"duplicate\"} 1\n"));
        assert!(
            classic.contains("switchyard_grpc_requests_total{method=\"Submit\",code=\"Ok\"} 1\n")
        );
        assert!(!classic.contains("# EOF"));
        assert!(!classic.contains("# UNIT"));
    }
}
