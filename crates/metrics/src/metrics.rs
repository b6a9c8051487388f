//! The registry, its metric families, and the cached per-engine series.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parking_lot::{Mutex, MutexGuard, RwLock};
use prometheus_client::encoding::text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::error::{Error, Result};
use crate::labels::{
    EngineLabels, EngineOpLabels, Op, Phase, PhaseLabels, QueueLabels, RequestLabels, Status,
};

/// The prefix of every metric name in the registry, including those registered through
/// [`Metrics::registry`].
pub const PREFIX: &str = "switchyard";

/// The HTTP `Content-Type` of [`Metrics::render`]'s output (OpenMetrics text 1.0.0).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `engine` label value to use when a request reached no engine (for example with
/// [`Status::NoEngine`] or [`Status::Malformed`]).
pub const NO_ENGINE: &str = "none";

/// Upper bounds (seconds) of `switchyard_request_duration_seconds`: 1µs to 1s, 1-2.5-5 steps.
pub const REQUEST_DURATION_BUCKETS: [f64; 19] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0,
];

/// Upper bounds (seconds) of `switchyard_frame_duration_seconds`: 100µs to 10s, 1-2.5-5 steps.
pub const FRAME_PHASE_BUCKETS: [f64; 16] = [
    1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds (messages) of `switchyard_frame_messages`: 1 to 100k, 1-2-5 steps.
pub const FRAME_MESSAGES_BUCKETS: [f64; 16] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5,
];

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_DURATION_BUCKETS)
}

fn phase_histogram() -> Histogram {
    Histogram::new(FRAME_PHASE_BUCKETS)
}

/// A constructor for histogram families, as a nameable type.
type HistogramFn = fn() -> Histogram;

/// Seconds as observed: NaN and negative values (which no `Duration` produces) count as zero
/// rather than poisoning the histogram's sum.
fn seconds(value: f64) -> f64 {
    if value >= 0.0 { value } else { 0.0 }
}

/// The Prometheus registry of a switchyard node and handles to its metric families.
///
/// Cheap to clone (one `Arc`); every clone records into the same registry. All recording
/// methods take `&self` and are safe to call from many threads.
///
/// Label values naming engines and queues should come from a small, fixed set (the registered
/// engines' names, the node's queues): each distinct value creates series that live as long as
/// the registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<EngineOpLabels, Histogram, HistogramFn>,
    lock_conflicts: Counter,
    frame_messages: Histogram,
    frame_phases: PhaseSeries,
    frame_height: Gauge<u64, AtomicU64>,
    queue_depth: Family<QueueLabels, Gauge>,
    engine_up: Family<EngineLabels, Gauge>,
    /// Resolved request series per engine name, so the hot path neither allocates nor hashes
    /// label sets once an engine has been seen.
    engines: RwLock<HashMap<Box<str>, EngineSeries>>,
    /// Resolved depth gauge per queue name.
    queues: RwLock<HashMap<Box<str>, Gauge>>,
}

impl Metrics {
    /// Creates a registry holding every switchyard metric family, all empty.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);

        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests handled by engine entry points, by engine, operation and outcome",
            requests.clone(),
        );
        let request_duration =
            Family::<EngineOpLabels, Histogram, HistogramFn>::new_with_constructor(
                request_histogram as HistogramFn,
            );
        registry.register_with_unit(
            "request_duration",
            "Time spent in engine entry points, by engine and operation",
            Unit::Seconds,
            request_duration.clone(),
        );
        let lock_conflicts = Counter::default();
        registry.register(
            "lock_conflicts",
            "Messages whose access set conflicted with a lock already held",
            lock_conflicts.clone(),
        );
        let frame_messages = Histogram::new(FRAME_MESSAGES_BUCKETS);
        registry.register(
            "frame_messages",
            "Messages per sealed frame",
            frame_messages.clone(),
        );
        let frame_duration = Family::<PhaseLabels, Histogram, HistogramFn>::new_with_constructor(
            phase_histogram as HistogramFn,
        );
        registry.register_with_unit(
            "frame_duration",
            "Time spent producing a frame, by phase",
            Unit::Seconds,
            frame_duration.clone(),
        );
        let frame_phases = PhaseSeries::new(&frame_duration);
        let frame_height = Gauge::<u64, AtomicU64>::default();
        registry.register(
            "frame_height",
            "Height of the last sealed frame",
            frame_height.clone(),
        );
        let queue_depth = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "queue_depth",
            "Items waiting in a node queue, by queue",
            queue_depth.clone(),
        );
        let engine_up = Family::<EngineLabels, Gauge>::default();
        registry.register(
            "engine_up",
            "Whether an engine is registered and healthy (1) or not (0), by engine",
            engine_up.clone(),
        );

        Self {
            inner: Arc::new(Inner {
                registry: Mutex::new(registry),
                requests,
                request_duration,
                lock_conflicts,
                frame_messages,
                frame_phases,
                frame_height,
                queue_depth,
                engine_up,
                engines: RwLock::new(HashMap::new()),
                queues: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// Records one call of an engine entry point: increments
    /// `switchyard_requests_total{engine,op,status}` and observes `seconds` in
    /// `switchyard_request_duration_seconds{engine,op}`.
    ///
    /// The first call for an engine name creates its series for every operation and status
    /// (at zero), so rates exist before the first failure; later calls allocate nothing.
    /// `seconds` is normally `Duration::as_secs_f64`; NaN or negative values count as zero.
    pub fn record_request(&self, engine: &str, op: Op, status: Status, seconds: f64) {
        let inner = &*self.inner;
        let value = self::seconds(seconds);
        cached(
            &inner.engines,
            engine,
            || EngineSeries::new(&inner.requests, &inner.request_duration, engine),
            |series| {
                let series = series.op(op);
                series.counter(status).inc();
                series.duration.observe(value);
            },
        );
    }

    /// Increments `switchyard_lock_conflicts_total`.
    pub fn lock_conflict(&self) {
        self.inner.lock_conflicts.inc();
    }

    /// Observes the number of messages in a sealed frame in `switchyard_frame_messages`.
    pub fn frame_messages(&self, count: u64) {
        // Precision loss above 2^53 messages is irrelevant to a histogram.
        self.inner.frame_messages.observe(count as f64);
    }

    /// Observes the time spent in one phase of frame production in
    /// `switchyard_frame_duration_seconds{phase}`. NaN or negative values count as zero.
    pub fn frame_phase(&self, phase: Phase, seconds: f64) {
        self.inner
            .frame_phases
            .get(phase)
            .observe(self::seconds(seconds));
    }

    /// Sets `switchyard_frame_height` to the height of the last sealed frame.
    pub fn set_frame_height(&self, height: u64) {
        self.inner.frame_height.set(height);
    }

    /// Sets `switchyard_queue_depth{queue}` to the current number of items in `queue`.
    pub fn set_queue_depth(&self, queue: &str, depth: i64) {
        let inner = &*self.inner;
        cached(
            &inner.queues,
            queue,
            || {
                inner.queue_depth.get_or_create_owned(&QueueLabels {
                    queue: queue.to_owned(),
                })
            },
            |gauge| {
                gauge.set(depth);
            },
        );
    }

    /// Sets `switchyard_engine_up{engine}` to 1 when `up`, else 0. Called rarely (engine
    /// registration, health changes), so it does not cache.
    pub fn set_engine_up(&self, engine: &str, up: bool) {
        self.inner
            .engine_up
            .get_or_create(&EngineLabels {
                engine: engine.to_owned(),
            })
            .set(i64::from(up));
    }

    /// Renders every registered metric in the OpenMetrics text format, ending with `# EOF`.
    ///
    /// Serve it with [`CONTENT_TYPE`]. The output also parses as Prometheus text (the `# EOF`
    /// and `# UNIT` lines are comments there). Only a metric registered through
    /// [`Metrics::registry`] can make encoding fail; then this logs the error and returns an
    /// exposition with no metrics. Use [`Metrics::try_render`] to handle the error instead.
    #[must_use]
    pub fn render(&self) -> String {
        match self.try_render() {
            Ok(text) => text,
            Err(error) => {
                tracing::error!(%error, "cannot render metrics");
                String::from("# EOF\n")
            }
        }
    }

    /// Renders like [`Metrics::render`], but reports an encoding failure.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] when a metric registered through [`Metrics::registry`] fails to
    /// encode itself.
    pub fn try_render(&self) -> Result<String> {
        let registry = self.inner.registry.lock();
        let mut text = String::with_capacity(16 * 1024);
        match text::encode(&mut text, &registry) {
            Ok(()) => Ok(text),
            Err(source) => Err(Error::Encode {
                written: text.len(),
                source,
            }),
        }
    }

    /// Locks the registry so the caller can register more metrics, which [`Metrics::render`]
    /// then includes:
    ///
    /// ```
    /// use switchyard_metrics::Metrics;
    /// use switchyard_metrics::prometheus_client::metrics::counter::Counter;
    ///
    /// let metrics = Metrics::new();
    /// let bundles = Counter::<u64>::default();
    /// metrics
    ///     .registry()
    ///     .register("bundles", "Bundles received", bundles.clone());
    /// bundles.inc();
    /// assert!(metrics.render().contains("switchyard_bundles_total 1"));
    /// ```
    ///
    /// Names get the [`PREFIX`] (`switchyard_`). Drop the guard before calling
    /// [`Metrics::render`] or [`Metrics::registry`] again on the same thread: the lock is not
    /// reentrant. Do not hold it across an `.await`.
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.inner.registry.lock()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let engines = self.inner.engines.try_read().map(|e| e.len());
        let queues = self.inner.queues.try_read().map(|q| q.len());
        f.debug_struct("Metrics")
            .field("engines", &engines)
            .field("queues", &queues)
            .finish_non_exhaustive()
    }
}

/// Runs `with` on the value cached under `key`, creating it with `make` on first use.
/// The common case takes only a read lock and allocates nothing.
fn cached<T, R>(
    map: &RwLock<HashMap<Box<str>, T>>,
    key: &str,
    make: impl FnOnce() -> T,
    with: impl FnOnce(&T) -> R,
) -> R {
    if let Some(value) = map.read().get(key) {
        return with(value);
    }
    let mut map = map.write();
    with(map.entry(Box::from(key)).or_insert_with(make))
}

/// The request series of one engine.
struct EngineSeries {
    cost: OpSeries,
    validate: OpSeries,
    lock: OpSeries,
    apply: OpSeries,
    query: OpSeries,
}

impl EngineSeries {
    fn new(
        requests: &Family<RequestLabels, Counter>,
        durations: &Family<EngineOpLabels, Histogram, HistogramFn>,
        engine: &str,
    ) -> Self {
        let op = |op| OpSeries::new(requests, durations, engine, op);
        Self {
            cost: op(Op::Cost),
            validate: op(Op::Validate),
            lock: op(Op::Lock),
            apply: op(Op::Apply),
            query: op(Op::Query),
        }
    }

    fn op(&self, op: Op) -> &OpSeries {
        match op {
            Op::Cost => &self.cost,
            Op::Validate => &self.validate,
            Op::Lock => &self.lock,
            Op::Apply => &self.apply,
            Op::Query => &self.query,
        }
    }
}

/// The request series of one engine entry point: a counter per status and the duration.
struct OpSeries {
    ok: Counter,
    rejected: Counter,
    temporary: Counter,
    critical: Counter,
    no_engine: Counter,
    malformed: Counter,
    duration: Histogram,
}

impl OpSeries {
    fn new(
        requests: &Family<RequestLabels, Counter>,
        durations: &Family<EngineOpLabels, Histogram, HistogramFn>,
        engine: &str,
        op: Op,
    ) -> Self {
        let counter = |status| {
            requests.get_or_create_owned(&RequestLabels {
                engine: engine.to_owned(),
                op,
                status,
            })
        };
        Self {
            ok: counter(Status::Ok),
            rejected: counter(Status::Rejected),
            temporary: counter(Status::Temporary),
            critical: counter(Status::Critical),
            no_engine: counter(Status::NoEngine),
            malformed: counter(Status::Malformed),
            duration: durations.get_or_create_owned(&EngineOpLabels {
                engine: engine.to_owned(),
                op,
            }),
        }
    }

    fn counter(&self, status: Status) -> &Counter {
        match status {
            Status::Ok => &self.ok,
            Status::Rejected => &self.rejected,
            Status::Temporary => &self.temporary,
            Status::Critical => &self.critical,
            Status::NoEngine => &self.no_engine,
            Status::Malformed => &self.malformed,
        }
    }
}

/// The frame duration series, one per phase, created up front.
struct PhaseSeries {
    prepare: Histogram,
    validate: Histogram,
    schedule: Histogram,
    execute: Histogram,
    commit: Histogram,
}

impl PhaseSeries {
    fn new(family: &Family<PhaseLabels, Histogram, HistogramFn>) -> Self {
        let phase = |phase| family.get_or_create_owned(&PhaseLabels { phase });
        Self {
            prepare: phase(Phase::Prepare),
            validate: phase(Phase::Validate),
            schedule: phase(Phase::Schedule),
            execute: phase(Phase::Execute),
            commit: phase(Phase::Commit),
        }
    }

    fn get(&self, phase: Phase) -> &Histogram {
        match phase {
            Phase::Prepare => &self.prepare,
            Phase::Validate => &self.validate,
            Phase::Schedule => &self.schedule,
            Phase::Execute => &self.execute,
            Phase::Commit => &self.commit,
        }
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
    use prometheus_client::metrics::{MetricType, TypedMetric};
    use prometheus_parse::{Scrape, Value};

    use super::*;

    fn scrape(metrics: &Metrics) -> Scrape {
        let text = metrics.render();
        Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
    }

    /// The value of the one scalar sample named `name` whose labels include `labels`.
    fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
                ref other => panic!("{name} is not a scalar: {other:?}"),
            })
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        found[0]
    }

    #[test]
    fn first_request_creates_every_status_and_op_at_zero() {
        let metrics = Metrics::new();
        metrics.record_request("token", Op::Cost, Status::Ok, 0.001);
        let scrape = scrape(&metrics);
        for op in Op::ALL {
            for status in Status::ALL {
                let labels = [
                    ("engine", "token"),
                    ("op", op.as_str()),
                    ("status", status.as_str()),
                ];
                let expected = if (*op, *status) == (Op::Cost, Status::Ok) {
                    1.0
                } else {
                    0.0
                };
                assert_eq!(
                    value(&scrape, "switchyard_requests_total", &labels),
                    expected
                );
            }
        }
        assert_eq!(metrics.inner.engines.read().len(), 1);
    }

    #[test]
    fn engine_series_are_cached_once_per_name() {
        let metrics = Metrics::new();
        for _ in 0..3 {
            metrics.record_request("token", Op::Apply, Status::Ok, 0.0);
            metrics.record_request("global", Op::Apply, Status::Ok, 0.0);
            metrics.set_queue_depth("submit", 1);
        }
        assert_eq!(metrics.inner.engines.read().len(), 2);
        assert_eq!(metrics.inner.queues.read().len(), 1);
        let requests = scrape(&metrics)
            .samples
            .into_iter()
            .filter(|s| s.metric == "switchyard_requests_total")
            .count();
        assert_eq!(requests, 2 * Op::ALL.len() * Status::ALL.len());
        assert_eq!(
            format!("{metrics:?}"),
            "Metrics { engines: Some(2), queues: Some(1), .. }"
        );
    }

    #[test]
    fn nan_and_negative_seconds_count_as_zero() {
        assert_eq!(seconds(f64::NAN), 0.0);
        assert_eq!(seconds(-1.5), 0.0);
        assert_eq!(seconds(0.25), 0.25);
        let metrics = Metrics::new();
        metrics.frame_phase(Phase::Commit, f64::NAN);
        metrics.frame_phase(Phase::Commit, 0.5);
        let scrape = scrape(&metrics);
        let labels = [("phase", "commit")];
        assert_eq!(
            value(&scrape, "switchyard_frame_duration_seconds_sum", &labels),
            0.5
        );
        assert_eq!(
            value(&scrape, "switchyard_frame_duration_seconds_count", &labels),
            2.0
        );
    }

    #[test]
    fn buckets_are_strictly_increasing_and_span_the_documented_ranges() {
        for (buckets, low, high) in [
            (&REQUEST_DURATION_BUCKETS[..], 1e-6, 1.0),
            (&FRAME_PHASE_BUCKETS[..], 1e-4, 10.0),
            (&FRAME_MESSAGES_BUCKETS[..], 1.0, 1e5),
        ] {
            assert!(buckets.windows(2).all(|w| w[0] < w[1]), "{buckets:?}");
            assert_eq!(buckets.first(), Some(&low));
            assert_eq!(buckets.last(), Some(&high));
        }
    }

    /// A metric that always fails to encode, as a broken third-party metric would.
    #[derive(Debug)]
    struct Broken;

    impl TypedMetric for Broken {
        const TYPE: MetricType = MetricType::Gauge;
    }

    impl EncodeMetric for Broken {
        fn encode(&self, _encoder: MetricEncoder<'_>) -> Result<(), fmt::Error> {
            Err(fmt::Error)
        }

        fn metric_type(&self) -> MetricType {
            MetricType::Gauge
        }
    }

    #[test]
    fn a_failing_registered_metric_is_an_error_not_a_panic() {
        let metrics = Metrics::new();
        metrics
            .registry()
            .register("broken", "Always fails", Broken);
        let error = metrics.try_render().unwrap_err();
        let Error::Encode { written, .. } = error;
        assert!(written > 0);
        assert!(
            error
                .to_string()
                .starts_with("encoding the metrics registry failed after")
        );
        assert_eq!(metrics.render(), "# EOF\n");
    }
}
