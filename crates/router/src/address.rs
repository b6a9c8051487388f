//! Domains, keys and addresses (DESIGN §3).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::LazyLock;

use crate::AddressError;

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

/// A [`std::hash::BuildHasher`] for tables keyed by [`Address`]: stores, a frame's view and
/// its dependency graph.
///
/// Addresses are not all well mixed: a transfer's recipient is any 32 bytes its sender
/// chooses. A hash anyone can compute lets a sender choose thousands of addresses with one
/// hash, which turns every lookup in a frame's tables into a scan (quadratic in the frame) and,
/// in the dependency graph, makes unrelated messages conflict. So the hash is foldhash (a few
/// folded multiplies for 64 bytes) with seeds drawn once per process from the standard
/// library's random hash keys: every builder of a process hashes alike, and no one outside it
/// knows how. The hash differs between processes and runs: use it for lookups, never for
/// anything every node must agree on.
///
/// It is foldhash's `quality` variant, whose last folded multiply mixes every input bit into
/// every output bit. The `fast` variant leaves some bits weak: for 64 addresses whose keys
/// differ only in their last 8 bytes (a counter, as a sender might write them), its low six
/// bits (a small table's bucket) and bits 32-37 (the frame view's lock shard) took fewer than
/// 16 values under about one seed in 27, and a single value under some, whatever the sender
/// knew of the seed.
#[derive(Clone, Copy)]
pub struct AddressHashBuilder(foldhash::quality::SeedableRandomState);

/// The process's seeds, drawn on first use.
static SEEDS: LazyLock<(u64, foldhash::SharedSeed)> = LazyLock::new(|| {
    // `RandomState::new` keys SipHash from the operating system's random source.
    let random = std::collections::hash_map::RandomState::new();
    (
        random.hash_one(0u8),
        foldhash::SharedSeed::from_u64(random.hash_one(1u8)),
    )
});

impl AddressHashBuilder {
    /// The builder of the given seeds (the process's, or a test's).
    fn with_seeds(per_hasher: u64, shared: &'static foldhash::SharedSeed) -> Self {
        Self(foldhash::quality::SeedableRandomState::with_seed(
            per_hasher, shared,
        ))
    }
}

impl Default for AddressHashBuilder {
    fn default() -> Self {
        let (per_hasher, shared) = &*SEEDS;
        Self::with_seeds(*per_hasher, shared)
    }
}

impl fmt::Debug for AddressHashBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The seeds stay out of logs.
        f.write_str("AddressHashBuilder")
    }
}

/// The hasher of [`AddressHashBuilder`].
#[derive(Clone)]
pub struct AddressHasher(foldhash::quality::FoldHasher);

impl fmt::Debug for AddressHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddressHasher")
    }
}

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0.finish()
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    fn write_u64(&mut self, value: u64) {
        self.0.write_u64(value);
    }

    fn write_usize(&mut self, _length_prefix: usize) {
        // Only slice length prefixes reach here (a domain's and a key's), and every address
        // has the same: folding them in would tell no two addresses apart.
    }
}

impl BuildHasher for AddressHashBuilder {
    type Hasher = AddressHasher;
    fn build_hasher(&self) -> AddressHasher {
        AddressHasher(self.0.build_hasher())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn the_address_hasher_tells_addresses_apart_and_every_builder_of_a_process_agrees() {
        let hash = |address: Address| AddressHashBuilder::default().hash_one(address);
        let a = hash(Address::new(Domain([1; 32]), [2; 32]));
        let b = hash(Address::new(Domain([1; 32]), [3; 32]));
        let c = hash(Address::new(Domain([2; 32]), [2; 32]));
        assert!(a != b && b != c && a != c);
        assert_eq!(a, hash(Address::new(Domain([1; 32]), [2; 32])));
    }

    /// The seedless word-wise hash this crate used before: per 8-byte word, the state xor the
    /// word, times an odd constant, rotated by 23; at the end, xor-shifted by 29.
    const OLD_MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

    fn old_mix(state: u64, word: u64) -> u64 {
        (state ^ word).wrapping_mul(OLD_MULTIPLIER).rotate_left(23)
    }

    fn old_words(bytes: &[u8; 32]) -> impl Iterator<Item = u64> + '_ {
        bytes
            .as_chunks::<8>()
            .0
            .iter()
            .map(|word| u64::from_le_bytes(*word))
    }

    fn old_hash(address: &Address) -> u64 {
        let state = old_words(&address.domain.0)
            .chain(old_words(&address.key))
            .fold(0, old_mix);
        state ^ (state >> 29)
    }

    /// The key that gives `target` as the old hash of an address in `domain` whose key starts
    /// with the words `first`: every step is invertible, so a sender could solve for the last
    /// word.
    fn colliding_key(domain: &Domain, first: [u64; 3], target: u64) -> Key {
        let state = old_words(&domain.0).chain(first).fold(0, old_mix);
        // Undo the final xor-shift, then the last rotate and multiply.
        let mut before_finish = target;
        for _ in 0..3 {
            before_finish = target ^ (before_finish >> 29);
        }
        let inverse = (0..6).fold(OLD_MULTIPLIER, |x, _| {
            x.wrapping_mul(2u64.wrapping_sub(OLD_MULTIPLIER.wrapping_mul(x)))
        });
        let last = before_finish.rotate_right(23).wrapping_mul(inverse) ^ state;
        let mut key = [0u8; 32];
        for (slot, word) in key
            .as_chunks_mut::<8>()
            .0
            .iter_mut()
            .zip(first.iter().chain([&last]))
        {
            *slot = word.to_le_bytes();
        }
        key
    }

    #[test]
    fn addresses_chosen_to_collide_under_a_seedless_hash_do_not_collide_here() {
        let domain = Domain([7; 32]);
        let addresses: Vec<Address> = (0..64u64)
            .map(|n| Address::new(domain, colliding_key(&domain, [n, n * 3, n * 5], 0x5EED)))
            .collect();
        // The construction works: under the old hash these 64 distinct keys all hash alike.
        assert!(addresses.iter().all(|address| old_hash(address) == 0x5EED));
        let builder = AddressHashBuilder::default();
        let mut hashes: Vec<u64> = addresses
            .iter()
            .map(|address| builder.hash_one(address))
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), addresses.len());
    }

    /// Addresses a sender might write in a row: one domain, one key but for a counter in its
    /// last 8 bytes (where `fast` foldhash mixed worst) or in its first 8.
    fn counted(n: u64, at_end: bool) -> Address {
        let mut key = [7; 32];
        let (start, end) = if at_end { (24, 32) } else { (0, 8) };
        key[start..end].copy_from_slice(&n.to_be_bytes());
        Address::new(Domain([1; 32]), key)
    }

    #[test]
    fn counted_addresses_spread_over_every_bit_range_under_many_seeds() {
        // 64 random hashes take about 40 of 64 values in any 6 bits; fewer than 16 has a
        // chance below 10^-25. Foldhash's `fast` variant fails this for about one seed in 27
        // (bits 0-5 and 32-37 with the counter at the end), so the loop would catch it.
        let ranges = [0, 32, 58];
        for seed in 0..500u64 {
            let shared: &'static foldhash::SharedSeed =
                Box::leak(Box::new(foldhash::SharedSeed::from_u64(seed ^ 0x5EED)));
            let builder =
                AddressHashBuilder::with_seeds(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), shared);
            for at_end in [true, false] {
                let hashes: Vec<u64> = (0..64)
                    .map(|n| builder.hash_one(counted(n, at_end)))
                    .collect();
                for shift in ranges {
                    let values: std::collections::BTreeSet<u64> =
                        hashes.iter().map(|hash| (hash >> shift) % 64).collect();
                    assert!(
                        values.len() >= 16,
                        "seed {seed}, counter at the end {at_end}, bits {shift}..{}: {} values",
                        shift + 6,
                        values.len()
                    );
                }
            }
        }
    }

    #[test]
    fn bytes_and_hex_round_trip() {
        let address = Address::new(Domain([3; 32]), [4; 32]);
        assert_eq!(Address::from_slice(&address.to_bytes()), Ok(address));
        assert_eq!(address.to_string().parse::<Address>(), Ok(address));
        assert_eq!(address.to_string().len(), 128);
    }
}
