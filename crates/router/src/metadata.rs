//! The metadata record every deployed instance keeps at `(instance domain, 0xff x 32)`.

use crate::{Domain, StateError};

/// An instance's metadata record: the type domain (the base domain of the engine that owns the
/// instance), which routing reads, then the engine's own encoded configuration.
///
/// Layout: 32 bytes of type domain, then the payload. The router reads only the first part,
/// so each engine is free to encode its configuration as it likes (with prost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRecord {
    /// Base domain of the engine that owns the instance.
    pub type_domain: Domain,
    /// The owning engine's encoded configuration.
    pub payload: Vec<u8>,
}

impl MetadataRecord {
    /// Encodes the record as stored.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(32 + self.payload.len());
        bytes.extend_from_slice(&self.type_domain.0);
        bytes.extend_from_slice(&self.payload);
        bytes
    }

    /// Decodes a stored record; a record shorter than a domain is corrupt.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let (Some(type_domain), Some(payload)) = (bytes.first_chunk::<32>(), bytes.get(32..))
        else {
            return Err(StateError::Corrupt {
                what: "metadata record",
                reason: format!("{} bytes", bytes.len()),
            });
        };
        Ok(Self {
            type_domain: Domain(*type_domain),
            payload: payload.to_vec(),
        })
    }
}
