//! The state root: a lattice (homomorphic multiset) hash over BLAKE3, as in Solana's accounts
//! lattice hash.
//!
//! The construction is documented on [`Lattice`].

use std::fmt;

use rayon::prelude::*;
use switchyard_router::{Address, Domain};

use crate::{ChangeSet, StoreError};

const ENTRY_CONTEXT: &str = "switchyard v1 state lattice entry";
const ROOT_CONTEXT: &str = "switchyard v1 state root";

/// Change sets at least this large are hashed on the rayon pool.
const PARALLEL_THRESHOLD: usize = 64;

/// A commitment to the entire state: identical on every node that applied the same frames.
/// Displayed as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateRoot(pub [u8; 32]);

impl StateRoot {
    /// The root of the empty state (the all-zero lattice).
    pub fn empty() -> Self {
        Lattice::new().root()
    }

    /// The root's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for StateRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for StateRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateRoot({self})")
    }
}

/// The lattice of a state: the lane-wise wrapping sum of its entries' vectors, a lattice
/// (homomorphic multiset) hash over BLAKE3 as Solana's accounts lattice hash. [`Lattice::root`]
/// gives the [`StateRoot`].
///
/// # Construction
///
/// - **Entry vector.** A stored entry `(address, value)` maps to a vector of
///   [`Lattice::LANES`] = 1024 lanes of `u16`: the first 2048 bytes of the BLAKE3 extendable
///   output of `key (32 bytes) ‖ value` in keyed mode, where `key` is the address's key inside
///   its domain and the BLAKE3 key is the domain's entry key
///   `BLAKE3-derive_key("switchyard v1 state lattice entry", domain (32 bytes))`, read as
///   little-endian `u16`s. The domain selects the hash function and the key has a fixed
///   length, so the pair is encoded unambiguously; an empty value is an entry (a non-zero
///   vector), an absent address contributes nothing. (The domain is in the BLAKE3 key rather
///   than in the input so that a key and a value of up to 32 bytes, an account record among
///   them, fit one 64-byte block: BLAKE3 then compresses nothing but the output blocks, and a
///   change set, sorted by address, derives each domain's key once.)
/// - **Lattice.** The lattice of a state is the lane-wise wrapping sum (mod 2^16) of the
///   vectors of all its entries. The empty state has the all-zero lattice. Addition is
///   commutative and associative, so the lattice depends on the set of entries only: not on
///   insertion order, on how writes were grouped into frames, or on how many threads hashed them.
/// - **Update.** Changing an address from `old` to `new` subtracts the vector of
///   `(address, old)` (if it was stored) and adds that of `(address, new)` (if it is stored).
///   A frame's update therefore costs two entry hashes per changed address, whatever the size
///   of the state. Large change sets are hashed on the rayon pool, each worker summing into its
///   own lattice, and the partial sums are added: the result is the same sum.
/// - **Root.** The [`StateRoot`] is `BLAKE3-derive_key("switchyard v1 state root", lattice)`,
///   the lattice serialised as 2048 little-endian bytes. The lattice itself is persisted with
///   the head, in the commit transaction, so the next update needs no scan.
///
/// Security rests on the hardness of finding a set of entries whose vectors sum to a given
/// lattice (a short-vector problem in a 1024-dimensional lattice mod 2^16), the argument made
/// for Solana's accounts lattice hash with the same parameters.
///
/// # Example
///
/// ```
/// use switchyard_router::{Address, Domain};
/// use switchyard_state::{Lattice, StateRoot};
///
/// let (a, b) = (Address::new(Domain([1; 32]), [1; 32]), Address::new(Domain([2; 32]), [2; 32]));
/// let mut one = Lattice::new();
/// one.insert(&a, b"x");
/// one.insert(&b, b"y");
/// let mut other = Lattice::new();
/// other.insert(&b, b"y");
/// other.insert(&a, b"old");
/// other.remove(&a, b"old");
/// other.insert(&a, b"x");
/// assert_eq!(one.root(), other.root());
/// assert_ne!(one.root(), StateRoot::empty());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Lattice {
    lanes: Box<[u16; Lattice::LANES]>,
}

/// Where entry vectors are expanded: a buffer reused from entry to entry (the expansion
/// overwrites all of it), and the entry key of the domain hashed last (a change set is sorted
/// by address, so its entries come domain by domain).
struct Expander {
    vector: [u8; Lattice::BYTES],
    domain_key: Option<(Domain, [u8; 32])>,
}

impl Expander {
    fn new() -> Self {
        Self {
            vector: [0; Lattice::BYTES],
            domain_key: None,
        }
    }

    /// `BLAKE3-derive_key("switchyard v1 state lattice entry", domain)`.
    fn key_of(&mut self, domain: &Domain) -> [u8; 32] {
        match &self.domain_key {
            Some((cached, key)) if cached == domain => *key,
            _ => {
                let key = blake3::derive_key(ENTRY_CONTEXT, &domain.0);
                self.domain_key = Some((*domain, key));
                key
            }
        }
    }
}

/// One address's change: its value before (`None`: absent) and after (`None`: deleted).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Update<'a> {
    pub(crate) address: &'a Address,
    pub(crate) old: Option<&'a [u8]>,
    pub(crate) new: Option<&'a [u8]>,
}

impl Lattice {
    /// Number of `u16` lanes.
    pub const LANES: usize = 1024;
    /// Length of the serialised lattice in bytes.
    pub const BYTES: usize = 2 * Self::LANES;

    /// The lattice of the empty state: all lanes zero.
    pub fn new() -> Self {
        Self {
            lanes: Box::new([0; Self::LANES]),
        }
    }

    /// The lattice of a state given as its entries, in any order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = (&'a Address, &'a [u8])>) -> Self {
        let (mut lattice, mut expander) = (Self::new(), Expander::new());
        for (address, value) in entries {
            lattice.mix(&mut expander, address, value, u16::wrapping_add);
        }
        lattice
    }

    /// Adds the entry `(address, value)`. (Each call derives the domain's entry key afresh;
    /// [`Lattice::from_entries`] and the stores' commits derive it once per domain.)
    pub fn insert(&mut self, address: &Address, value: &[u8]) {
        self.mix(&mut Expander::new(), address, value, u16::wrapping_add);
    }

    /// Removes the entry `(address, value)`, which must have been added.
    pub fn remove(&mut self, address: &Address, value: &[u8]) {
        self.mix(&mut Expander::new(), address, value, u16::wrapping_sub);
    }

    /// Adds every lane of `other` (the union of two disjoint states).
    pub fn add(&mut self, other: &Lattice) {
        for (lane, delta) in self.lanes.iter_mut().zip(other.lanes.iter()) {
            *lane = lane.wrapping_add(*delta);
        }
    }

    /// Whether this is the lattice of the empty state.
    pub fn is_zero(&self) -> bool {
        self.lanes.iter().all(|lane| *lane == 0)
    }

    /// The state root: BLAKE3 (derive-key mode, context "switchyard v1 state root") of the
    /// serialised lattice.
    pub fn root(&self) -> StateRoot {
        let mut hasher = blake3::Hasher::new_derive_key(ROOT_CONTEXT);
        hasher.update(&self.to_bytes());
        StateRoot(*hasher.finalize().as_bytes())
    }

    /// The lattice as [`Lattice::BYTES`] little-endian bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.lanes
            .iter()
            .flat_map(|lane| lane.to_le_bytes())
            .collect()
    }

    /// Reads a lattice written by [`Lattice::to_bytes`]; any other length is
    /// [`StoreError::Corrupt`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let (chunks, rest) = bytes.as_chunks::<2>();
        if chunks.len() != Self::LANES || !rest.is_empty() {
            return Err(StoreError::Corrupt {
                what: "lattice record",
                reason: format!("{} bytes, expected {}", bytes.len(), Self::BYTES),
            });
        }
        let mut lattice = Self::new();
        for (lane, chunk) in lattice.lanes.iter_mut().zip(chunks) {
            *lane = u16::from_le_bytes(*chunk);
        }
        Ok(lattice)
    }

    /// Applies one address's change; `expander` expands the entry vectors on their way in.
    fn update(&mut self, expander: &mut Expander, update: &Update<'_>) {
        if update.old == update.new {
            return;
        }
        if let Some(old) = update.old {
            self.mix(expander, update.address, old, u16::wrapping_sub);
        }
        if let Some(new) = update.new {
            self.mix(expander, update.address, new, u16::wrapping_add);
        }
    }

    /// Applies a frame's changes, hashing on the rayon pool when there are many.
    pub(crate) fn apply(&mut self, updates: &[Update<'_>]) {
        if updates.len() < PARALLEL_THRESHOLD {
            let mut expander = Expander::new();
            for update in updates {
                self.update(&mut expander, update);
            }
            return;
        }
        // Each worker sums into its own lattice, expanding entries into its own buffer.
        let delta = updates
            .par_iter()
            .with_min_len(PARALLEL_THRESHOLD / 2)
            .fold(
                || (Lattice::new(), Box::new(Expander::new())),
                |(mut sum, mut expander), update| {
                    sum.update(&mut expander, update);
                    (sum, expander)
                },
            )
            .map(|(sum, _)| sum)
            .reduce(Lattice::new, |mut sum, part| {
                sum.add(&part);
                sum
            });
        self.add(&delta);
    }

    /// Moves the lattice by `changes` while `write` stores them on this thread: the new
    /// entries are hashed on the rayon pool meanwhile, then the old values `write` returns (one
    /// per change, in the change set's order; `None` where the address was absent) are
    /// subtracted. Every store commits through this, so the values it replaces are read once,
    /// by the write itself. A value written unchanged is added and subtracted: no net change.
    ///
    /// When `write` fails the lattice is left as it was.
    pub(crate) fn update_while_writing<V: AsRef<[u8]>>(
        &mut self,
        changes: &ChangeSet,
        write: impl FnOnce() -> Result<Vec<Option<V>>, StoreError>,
    ) -> Result<(), StoreError> {
        let mut added = Lattice::new();
        let old_values = rayon::in_place_scope(|scope| {
            scope.spawn(|_| {
                let news: Vec<Update<'_>> = changes
                    .iter()
                    .map(|(address, new)| Update {
                        address,
                        old: None,
                        new,
                    })
                    .collect();
                added.apply(&news);
            });
            write()
        })?;
        let olds: Vec<Update<'_>> = changes
            .addresses()
            .zip(&old_values)
            .map(|(address, old)| Update {
                address,
                old: old.as_ref().map(AsRef::as_ref),
                new: None,
            })
            .collect();
        self.apply(&olds);
        self.add(&added);
        Ok(())
    }

    /// Adds (`op` = wrapping add) or subtracts the vector of `(address, value)`, expanded by
    /// `expander`, which the caller reuses from entry to entry.
    fn mix(
        &mut self,
        expander: &mut Expander,
        address: &Address,
        value: &[u8],
        op: impl Fn(u16, u16) -> u16,
    ) {
        // A key and a value of up to 32 bytes (account records) fill at most one 64-byte
        // block, which BLAKE3 buffers: it compresses nothing before the output blocks.
        blake3::Hasher::new_keyed(&expander.key_of(&address.domain))
            .update(&address.key)
            .update(value)
            .finalize_xof()
            .fill(&mut expander.vector);
        let (chunks, _) = expander.vector.as_chunks::<2>();
        for (lane, chunk) in self.lanes.iter_mut().zip(chunks) {
            *lane = op(*lane, u16::from_le_bytes(*chunk));
        }
    }
}

impl Default for Lattice {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Lattice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lattice")
            .field("root", &self.root())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_router::Domain;

    fn addr(n: u16) -> Address {
        let [hi, lo] = n.to_be_bytes();
        Address::new(Domain([hi; 32]), [lo; 32])
    }

    #[test]
    fn parallel_and_serial_updates_agree() {
        let values: Vec<Vec<u8>> = (0..500u16)
            .map(|n| n.to_le_bytes().repeat(usize::from(n % 7)))
            .collect();
        let addresses: Vec<Address> = (0..500).map(addr).collect();
        let updates: Vec<Update<'_>> = addresses
            .iter()
            .zip(&values)
            .map(|(address, value)| Update {
                address,
                old: None,
                new: Some(value),
            })
            .collect();
        let mut parallel = Lattice::new();
        parallel.apply(&updates);
        let mut serial = Lattice::new();
        for (address, value) in addresses.iter().zip(&values) {
            serial.insert(address, value);
        }
        assert_eq!(parallel, serial);
        assert_eq!(
            parallel,
            Lattice::from_entries(addresses.iter().zip(values.iter().map(Vec::as_slice)))
        );
        assert!(!parallel.is_zero());
    }

    #[test]
    fn removing_every_entry_gives_the_empty_lattice() {
        let mut lattice = Lattice::new();
        lattice.insert(&addr(1), b"a");
        lattice.insert(&addr(2), b"");
        assert!(!lattice.is_zero());
        lattice.remove(&addr(1), b"a");
        lattice.remove(&addr(2), b"");
        assert!(lattice.is_zero());
        assert_eq!(lattice.root(), StateRoot::empty());
    }

    #[test]
    fn an_empty_value_differs_from_an_absent_one_and_values_are_bound_to_addresses() {
        let mut empty_value = Lattice::new();
        empty_value.insert(&addr(1), b"");
        assert_ne!(empty_value.root(), StateRoot::empty());
        let mut swapped = Lattice::new();
        swapped.insert(&addr(1), b"b");
        swapped.insert(&addr(2), b"a");
        let mut straight = Lattice::new();
        straight.insert(&addr(1), b"a");
        straight.insert(&addr(2), b"b");
        assert_ne!(swapped.root(), straight.root());
    }

    #[test]
    fn bytes_round_trip_and_bad_lengths_are_corrupt() {
        let mut lattice = Lattice::new();
        lattice.insert(&addr(9), b"nine");
        let bytes = lattice.to_bytes();
        assert_eq!(bytes.len(), Lattice::BYTES);
        assert_eq!(Lattice::from_bytes(&bytes).ok(), Some(lattice));
        for len in [0, 1, Lattice::BYTES - 1, Lattice::BYTES + 1] {
            let error = Lattice::from_bytes(&vec![0; len])
                .err()
                .map(|e| e.to_string());
            assert_eq!(
                error,
                Some(format!(
                    "corrupt lattice record: {len} bytes, expected 2048"
                ))
            );
        }
    }

    #[test]
    fn an_entry_vector_is_the_domain_keyed_xof_of_key_then_value_at_every_value_length() {
        let address = Address::new(Domain([9; 32]), [8; 32]);
        for len in [0, 1, 24, 31, 32, 33, 64, 200] {
            let value = vec![0xa5; len];
            let mut lattice = Lattice::new();
            lattice.insert(&address, &value);
            // The construction of the type's docs, written out plainly.
            let mut bytes = [0u8; Lattice::BYTES];
            blake3::Hasher::new_keyed(&blake3::derive_key(ENTRY_CONTEXT, &[9; 32]))
                .update(&[8; 32])
                .update(&value)
                .finalize_xof()
                .fill(&mut bytes);
            let (lanes, _) = bytes.as_chunks::<2>();
            let expected: Vec<u16> = lanes.iter().map(|l| u16::from_le_bytes(*l)).collect();
            assert_eq!(lattice.lanes.to_vec(), expected, "value of {len} bytes");
        }
    }

    #[test]
    fn the_domain_key_cache_never_mixes_domains() {
        // Entries of alternating domains through one expander (as in a change set that
        // crosses domains) give the sum of their vectors taken one by one.
        let entries: Vec<(Address, Vec<u8>)> = (0..6u8)
            .map(|n| (Address::new(Domain([n % 2; 32]), [n; 32]), vec![n; 24]))
            .collect();
        let together = Lattice::from_entries(entries.iter().map(|(a, v)| (a, v.as_slice())));
        let mut one_by_one = Lattice::new();
        for (address, value) in &entries {
            one_by_one.insert(address, value);
        }
        assert_eq!(together, one_by_one);
        // And swapping two entries' domains changes the lattice.
        let mut swapped = Lattice::new();
        for (address, value) in &entries {
            let other = Domain([1 - address.domain.0[0]; 32]);
            swapped.insert(&Address::new(other, address.key), value);
        }
        assert_ne!(swapped, together);
    }

    #[test]
    fn roots_are_pinned() {
        // Pins the construction: changing a context string, the lane count or an encoding
        // changes every root, which must be a deliberate, visible change. These values were
        // also computed by an independent implementation of the module docs (Python, blake3).
        let zeros = [0u8; Lattice::BYTES];
        let expected = blake3::Hasher::new_derive_key(ROOT_CONTEXT)
            .update(&zeros)
            .finalize();
        assert_eq!(StateRoot::empty().0, *expected.as_bytes());
        let mut lattice = Lattice::new();
        lattice.insert(&Address::new(Domain([1; 32]), [2; 32]), b"switchyard");
        lattice.insert(&Address::new(Domain([3; 32]), [4; 32]), b"");
        assert_eq!(
            StateRoot::empty().to_string(),
            "eb7238eb9766200db7d71dcdbf9e370aca368a71f29036180ab421af673e8cf8"
        );
        assert_eq!(
            lattice.root().to_string(),
            "4fbad1f6ef144202f97085f22d0c376ac60193100e296d1d02d4930adea1c400"
        );
    }
}
