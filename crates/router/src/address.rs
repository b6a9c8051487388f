//! Domains, keys and addresses (DESIGN §3).

use std::fmt;
use std::str::FromStr;

/// A 32-byte key inside a domain.
pub type Key = [u8; 32];

/// A 32-byte domain: a base domain owned by an engine, or a deployed instance's domain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Domain(pub [u8; 32]);

/// A location in state: a domain plus a 32-byte key (64 bytes on the wire).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address {
    /// The domain the address belongs to.
    pub domain: Domain,
    /// The key inside the domain.
    pub key: Key,
}

/// Why bytes or text could not be read as a [`Domain`] or [`Address`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The input had the wrong number of bytes (an empty input included).
    #[error("{kind} must be {expected} bytes, got {actual}")]
    Length {
        /// "domain", "key" or "address".
        kind: &'static str,
        /// Required length in bytes.
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// The text was not hexadecimal.
    #[error("{kind} is not valid hex: {reason}")]
    Hex {
        /// "domain" or "address".
        kind: &'static str,
        /// What the hex decoder reported.
        reason: String,
    },
}

impl Domain {
    /// Reads a domain from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, AddressError> {
        <[u8; 32]>::try_from(bytes)
            .map(Domain)
            .map_err(|_| AddressError::Length {
                kind: "domain",
                expected: 32,
                actual: bytes.len(),
            })
    }

    /// The domain's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Reads a 32-byte key, naming `kind` (e.g. "recipient") in the error.
pub(crate) fn key_from_slice(kind: &'static str, bytes: &[u8]) -> Result<Key, AddressError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| AddressError::Length {
        kind,
        expected: 32,
        actual: bytes.len(),
    })
}

impl Address {
    /// An address from its domain and key.
    pub const fn new(domain: Domain, key: Key) -> Self {
        Self { domain, key }
    }

    /// Reads an address from exactly 64 bytes (domain, then key).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, AddressError> {
        let (Some(domain), Some(key), 64) = (
            bytes.first_chunk::<32>(),
            bytes.last_chunk::<32>(),
            bytes.len(),
        ) else {
            return Err(AddressError::Length {
                kind: "address",
                expected: 64,
                actual: bytes.len(),
            });
        };
        Ok(Self {
            domain: Domain(*domain),
            key: *key,
        })
    }

    /// The 64 bytes of the address: domain, then key.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut bytes = [0u8; 64];
        let (domain, key) = bytes.split_at_mut(32);
        domain.copy_from_slice(&self.domain.0);
        key.copy_from_slice(&self.key);
        bytes
    }

    /// Reads a 32-byte key, naming `kind` in the error (e.g. "recipient").
    pub fn key_from_slice(kind: &'static str, bytes: &[u8]) -> Result<Key, AddressError> {
        key_from_slice(kind, bytes)
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Domain({self})")
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.domain, hex::encode(self.key))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({}:{})", self.domain, hex::encode(self.key))
    }
}

impl FromStr for Domain {
    type Err = AddressError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(text).map_err(|e| AddressError::Hex {
            kind: "domain",
            reason: e.to_string(),
        })?;
        Self::from_slice(&bytes)
    }
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(text).map_err(|e| AddressError::Hex {
            kind: "address",
            reason: e.to_string(),
        })?;
        Self::from_slice(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_empty_addresses_are_length_errors() {
        assert_eq!(
            Address::from_slice(&[]),
            Err(AddressError::Length {
                kind: "address",
                expected: 64,
                actual: 0
            })
        );
        assert_eq!(
            Address::from_slice(&[1; 63]),
            Err(AddressError::Length {
                kind: "address",
                expected: 64,
                actual: 63
            })
        );
        assert!(matches!(
            Domain::from_slice(&[1; 31]),
            Err(AddressError::Length { actual: 31, .. })
        ));
        assert!(matches!(
            "zz".parse::<Domain>(),
            Err(AddressError::Hex { .. })
        ));
    }

    #[test]
    fn bytes_and_hex_round_trip() {
        let address = Address::new(Domain([3; 32]), [4; 32]);
        assert_eq!(Address::from_slice(&address.to_bytes()), Ok(address));
        assert_eq!(address.to_string().parse::<Address>(), Ok(address));
        assert_eq!(address.to_string().len(), 128);
    }
}
