//! Domains, keys and addresses (DESIGN §3).

use std::fmt;
use std::str::FromStr;

/// A 32-byte key inside a domain.
pub type Key = [u8; 32];

/// A 32-byte domain: a base domain owned by an engine, or a deployed instance's domain.
/// Ordered by its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Domain(pub [u8; 32]);

/// A location in state: a domain plus a 32-byte key (64 bytes on the wire). Ordered by its
/// bytes, domain first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Address {
    /// The domain the address belongs to.
    pub domain: Domain,
    /// The key inside the domain.
    pub key: Key,
}

/// `bytes` as four big-endian words: comparing the words compares the bytes in order.
///
/// Access sets, change sets and schedules compare addresses constantly; four word
/// comparisons (usually one) are several times cheaper than a `memcmp` call per comparison.
fn words(bytes: &[u8; 32]) -> [u64; 4] {
    let (chunks, _) = bytes.as_chunks::<8>();
    let mut words = [0u64; 4];
    for (word, chunk) in words.iter_mut().zip(chunks) {
        *word = u64::from_be_bytes(*chunk);
    }
    words
}

impl Ord for Domain {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        words(&self.0).cmp(&words(&other.0))
    }
}

impl PartialOrd for Domain {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Address {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.domain
            .cmp(&other.domain)
            .then_with(|| words(&self.key).cmp(&words(&other.key)))
    }
}

impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
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

/// A [`std::hash::BuildHasher`] for maps keyed by [`Address`] (stores, frame views).
///
/// Addresses are public keys and BLAKE3 outputs, whose bytes are already well mixed, so the
/// hasher only folds them with a multiply-rotate; it is several times faster than SipHash on
/// 64-byte keys. It has no random seed: use it for lookups, never to order anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressHashBuilder;

/// The hasher of [`AddressHashBuilder`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AddressHasher(u64);

impl AddressHasher {
    /// Folds one 8-byte word into the state.
    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(23);
    }
}

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Whole words are read as they are (an address's halves are four words each); a short
        // tail, which addresses never have, is zero-padded into one more word.
        let (words, tail) = bytes.as_chunks::<8>();
        for word in words {
            self.mix(u64::from_le_bytes(*word));
        }
        if !tail.is_empty() {
            let mut word = [0u8; 8];
            word.iter_mut().zip(tail).for_each(|(w, b)| *w = *b);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_usize(&mut self, _length_prefix: usize) {
        // Only slice length prefixes reach here, and every address has the same lengths.
    }
}

impl std::hash::BuildHasher for AddressHashBuilder {
    type Hasher = AddressHasher;
    fn build_hasher(&self) -> AddressHasher {
        AddressHasher::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_address_hasher_reads_whole_words_and_zero_pads_a_tail() {
        use std::hash::Hasher;
        let bytes: Vec<u8> = (1..=12).collect();
        let mut whole = AddressHasher::default();
        whole.write(&bytes);
        let mut by_words = AddressHasher::default();
        by_words.mix(u64::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8]));
        by_words.mix(u64::from_le_bytes([9, 10, 11, 12, 0, 0, 0, 0]));
        assert_eq!(whole.finish(), by_words.finish());
        let mut other = AddressHasher::default();
        other.write(&bytes[..11]);
        assert_ne!(other.finish(), whole.finish());
    }

    proptest! {
        #[test]
        fn addresses_order_as_their_bytes(a in any::<[u8; 64]>(), b in any::<[u8; 64]>(), shared in 0usize..64) {
            // Often equal up to some byte, so every word position decides sometimes.
            let mut b = b;
            b[..shared].copy_from_slice(&a[..shared]);
            let (x, y) = (Address::from_slice(&a).unwrap(), Address::from_slice(&b).unwrap());
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x.domain.cmp(&y.domain), a[..32].cmp(&b[..32]));
            prop_assert_eq!(x == y, a == b);
        }
    }

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
    fn the_address_hasher_tells_addresses_apart() {
        use std::hash::BuildHasher;
        let a = AddressHashBuilder.hash_one(Address::new(Domain([1; 32]), [2; 32]));
        let b = AddressHashBuilder.hash_one(Address::new(Domain([1; 32]), [3; 32]));
        let c = AddressHashBuilder.hash_one(Address::new(Domain([2; 32]), [2; 32]));
        assert!(a != b && b != c && a != c);
        assert_eq!(
            a,
            AddressHashBuilder.hash_one(Address::new(Domain([1; 32]), [2; 32]))
        );
    }

    #[test]
    fn bytes_and_hex_round_trip() {
        let address = Address::new(Domain([3; 32]), [4; 32]);
        assert_eq!(Address::from_slice(&address.to_bytes()), Ok(address));
        assert_eq!(address.to_string().parse::<Address>(), Ok(address));
        assert_eq!(address.to_string().len(), 128);
    }
}
