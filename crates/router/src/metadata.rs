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
        let (type_domain, payload) = Self::split(bytes)?;
        Ok(Self {
            type_domain,
            payload: payload.to_vec(),
        })
    }

    /// The type domain and the payload of a stored record, the payload borrowed from `bytes`
    /// (for reads of one field of the payload); a record shorter than a domain is corrupt.
    pub fn split(bytes: &[u8]) -> Result<(Domain, &[u8]), StateError> {
        let type_domain = Self::type_domain_of(bytes)?;
        Ok((type_domain, bytes.get(32..).unwrap_or_default()))
    }

    /// The type domain of a stored record, without copying its payload (what routing reads
    /// for every request sent to an instance); a record shorter than a domain is corrupt.
    pub fn type_domain_of(bytes: &[u8]) -> Result<Domain, StateError> {
        bytes
            .first_chunk::<32>()
            .map(|type_domain| Domain(*type_domain))
            .ok_or_else(|| StateError::Corrupt {
                what: "metadata record",
                reason: format!("{} bytes", bytes.len()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_gives_its_type_domain_and_a_short_one_is_corrupt() {
        let record = MetadataRecord {
            type_domain: Domain([5; 32]),
            payload: b"config".to_vec(),
        };
        let bytes = record.encode();
        assert_eq!(MetadataRecord::type_domain_of(&bytes), Ok(Domain([5; 32])));
        assert_eq!(MetadataRecord::decode(&bytes), Ok(record));
        assert_eq!(
            MetadataRecord::split(&bytes),
            Ok((Domain([5; 32]), &b"config"[..]))
        );
        for short in [&bytes[..31], &[][..]] {
            let corrupt = |r: Result<_, StateError>| {
                matches!(
                    r,
                    Err(StateError::Corrupt {
                        what: "metadata record",
                        ..
                    })
                )
            };
            assert!(corrupt(MetadataRecord::type_domain_of(short)));
            assert!(corrupt(
                MetadataRecord::decode(short).map(|r| r.type_domain)
            ));
        }
    }
}
