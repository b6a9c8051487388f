//! Size limits applied while decoding.

/// Size limits applied while decoding (DESIGN §2). Over a limit is an error, never a truncation.
///
/// Build one with struct update syntax so that limits added later keep their defaults:
///
/// ```
/// let limits = switchyard_proto::Limits { max_bundle_requests: 16, ..Default::default() };
/// assert_eq!(limits.max_message_bytes, 1 << 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted message, tag included. Default: 1 MiB.
    pub max_message_bytes: usize,
    /// Most requests a bundle may hold. Default: 256.
    pub max_bundle_requests: usize,
    /// Deepest nesting of messages inside a message, the top-level message being depth 0 and
    /// its message fields depth 1. Default: 16 (the schema itself nests at most 3 deep).
    pub max_nesting_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 1 << 20,
            max_bundle_requests: 256,
            max_nesting_depth: 16,
        }
    }
}
