//! The registry's configuration: windows and index bounds, set at genesis.

use prost::Message;
use switchyard_proto::v1;
use switchyard_router::{StateError, StateRead};

use crate::error::GlobalError;
use crate::record::config_address;

/// The registry's configuration, stored at [`config_address`] by [`genesis`](crate::genesis).
/// A state without one (a node started without the global genesis) uses the defaults.
///
/// ```
/// let config = switchyard_global::RegistryConfig::default();
/// assert_eq!((config.confirm_min_delay, config.confirm_max_delay, config.resume_window), (360, 720, 1440));
/// assert!(config.check().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryConfig {
    /// A join or leave may be confirmed (a join rejected) no earlier than this many frames
    /// after it. At least 1. Default 360.
    pub confirm_min_delay: u64,
    /// ... and no later than this many frames after it; past it the join has expired and the
    /// leave has taken effect. At least `confirm_min_delay`. Default 720.
    pub confirm_max_delay: u64,
    /// A pause may be resumed up to this many frames after it; past it the prover has left
    /// the filter. Default 1440 (twice the end of the confirm window).
    pub resume_window: u64,
    /// Most (prover, filter) entries one status index holds. Default 1024. See the crate docs
    /// for what happens when one is full.
    pub max_status_entries: u32,
    /// Most provers one filter index holds. Default 256.
    pub max_filter_entries: u32,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            confirm_min_delay: 360,
            confirm_max_delay: 720,
            resume_window: 1440,
            max_status_entries: 1024,
            max_filter_entries: 256,
        }
    }
}

impl RegistryConfig {
    /// Checks the configuration: a confirm window that opens at least one frame after the
    /// operation and closes no earlier than it opens, and non-zero index bounds.
    pub fn check(&self) -> Result<(), GlobalError> {
        let bad = |reason: String| Err(GlobalError::BadConfig { reason });
        if self.confirm_min_delay == 0 {
            return bad("confirm_min_delay must be at least 1".into());
        }
        if self.confirm_max_delay < self.confirm_min_delay {
            return bad(format!(
                "confirm_max_delay {} is below confirm_min_delay {}",
                self.confirm_max_delay, self.confirm_min_delay
            ));
        }
        if self.max_status_entries == 0 || self.max_filter_entries == 0 {
            return bad(format!(
                "index bounds must be non-zero, got {} and {}",
                self.max_status_entries, self.max_filter_entries
            ));
        }
        Ok(())
    }

    /// The wire form.
    pub fn to_proto(&self) -> v1::RegistryConfig {
        v1::RegistryConfig {
            confirm_min_delay: self.confirm_min_delay,
            confirm_max_delay: self.confirm_max_delay,
            resume_window: self.resume_window,
            max_status_entries: self.max_status_entries,
            max_filter_entries: self.max_filter_entries,
        }
    }

    /// Reads the wire form (unchecked).
    pub fn from_proto(config: &v1::RegistryConfig) -> Self {
        Self {
            confirm_min_delay: config.confirm_min_delay,
            confirm_max_delay: config.confirm_max_delay,
            resume_window: config.resume_window,
            max_status_entries: config.max_status_entries,
            max_filter_entries: config.max_filter_entries,
        }
    }

    /// The stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        self.to_proto().encode_to_vec()
    }

    /// Decodes stored bytes; bytes that do not decode, or a configuration that does not
    /// pass [`RegistryConfig::check`], are [`StateError::Corrupt`].
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let corrupt = |reason: String| StateError::Corrupt {
            what: "registry config",
            reason,
        };
        let config = v1::RegistryConfig::decode(bytes).map_err(|e| corrupt(e.to_string()))?;
        let config = Self::from_proto(&config);
        config.check().map_err(|e| corrupt(e.to_string()))?;
        Ok(config)
    }
}

/// The registry's configuration in `state` (the defaults when none is stored).
pub fn registry_config(state: &dyn StateRead) -> Result<RegistryConfig, StateError> {
    state
        .get(&config_address())?
        .map_or(Ok(RegistryConfig::default()), |bytes| {
            RegistryConfig::decode(&bytes)
        })
}
