//! Errors of the metrics crate.

/// What can go wrong while rendering the registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A registered metric or collector failed to encode itself. The built-in families never
    /// fail; only a metric added through [`Metrics::registry`](crate::Metrics::registry) can.
    #[error("encoding the metrics registry failed after {written} bytes: {source}")]
    Encode {
        /// How many bytes of exposition text had been written when encoding failed.
        written: usize,
        /// The formatter error reported by the failing metric.
        #[source]
        source: std::fmt::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
