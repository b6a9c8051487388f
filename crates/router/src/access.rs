//! Access sets: the addresses an operation declares it reads and writes.

use crate::Address;
use crate::sorted_map::{self, SortedMap};

/// A set of addresses, iterated in order: a [`SortedMap`] of addresses (a sorted vector while
/// small, a B-tree past [`SortedMap::SMALL`] addresses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressSet {
    addresses: SortedMap<Address, ()>,
}

impl AddressSet {
    /// An empty set.
    pub const fn new() -> Self {
        Self {
            addresses: SortedMap::new(),
        }
    }

    /// Adds `address`; `false` when it was already there.
    pub fn insert(&mut self, address: Address) -> bool {
        self.addresses.insert(address, ()).is_none()
    }

    /// Removes `address`; `false` when it was not there.
    pub fn remove(&mut self, address: &Address) -> bool {
        self.addresses.remove(address).is_some()
    }

    /// Whether `address` is in the set.
    pub fn contains(&self, address: &Address) -> bool {
        self.addresses.contains_key(address)
    }

    /// The addresses in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            entries: self.addresses.iter(),
        }
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.addresses.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
    }
}

impl Extend<Address> for AddressSet {
    fn extend<I: IntoIterator<Item = Address>>(&mut self, addresses: I) {
        self.addresses
            .extend(addresses.into_iter().map(|address| (address, ())));
    }
}

impl FromIterator<Address> for AddressSet {
    fn from_iter<I: IntoIterator<Item = Address>>(addresses: I) -> Self {
        Self {
            addresses: addresses.into_iter().map(|address| (address, ())).collect(),
        }
    }
}

impl<const N: usize> From<[Address; N]> for AddressSet {
    fn from(addresses: [Address; N]) -> Self {
        addresses.into_iter().collect()
    }
}

/// The addresses of an [`AddressSet`], in order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    entries: sorted_map::Iter<'a, Address, ()>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Address;

    fn next(&mut self) -> Option<&'a Address> {
        self.entries.next().map(|(address, ())| address)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

impl<'a> IntoIterator for &'a AddressSet {
    type Item = &'a Address;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for AddressSet {
    type Item = Address;
    type IntoIter = std::iter::Map<sorted_map::IntoIter<Address, ()>, fn((Address, ())) -> Address>;
    fn into_iter(self) -> Self::IntoIter {
        self.addresses.into_iter().map(|(address, ())| address)
    }
}

/// The addresses an operation will read and write. A write implies the right to read.
///
/// Two operations conflict when one writes an address the other reads or writes; the frame
/// scheduler runs conflicting operations in frame order and the others in parallel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessSet {
    /// Addresses read (and not written).
    pub reads: AddressSet,
    /// Addresses written (and possibly read).
    pub writes: AddressSet,
}

impl AccessSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a read (a no-op when the address is already written).
    pub fn read(&mut self, address: Address) -> &mut Self {
        if !self.writes.contains(&address) {
            self.reads.insert(address);
        }
        self
    }

    /// Declares a write (which also covers reading it).
    pub fn write(&mut self, address: Address) -> &mut Self {
        self.reads.remove(&address);
        self.writes.insert(address);
        self
    }

    /// Adds every address of `other` to this set (a bundle's set is the union of its requests').
    pub fn extend(&mut self, other: &AccessSet) {
        for address in &other.writes {
            self.write(*address);
        }
        for address in &other.reads {
            self.read(*address);
        }
    }

    /// Whether reading `address` is allowed.
    pub fn may_read(&self, address: &Address) -> bool {
        self.reads.contains(address) || self.writes.contains(address)
    }

    /// Whether writing `address` is allowed.
    pub fn may_write(&self, address: &Address) -> bool {
        self.writes.contains(address)
    }

    /// Whether running this operation and `other` in parallel could change the result: one
    /// writes an address the other reads or writes.
    pub fn conflicts_with(&self, other: &AccessSet) -> bool {
        self.writes.iter().any(|a| other.may_read(a))
            || other.writes.iter().any(|a| self.reads.contains(a))
    }

    /// Every address in the set, writes first.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.writes.iter().chain(self.reads.iter())
    }

    /// Number of distinct addresses.
    pub fn len(&self) -> usize {
        self.reads.len() + self.writes.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.reads.is_empty() && self.writes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Domain;

    fn addr(n: u8) -> Address {
        Address::new(Domain([n; 32]), [n; 32])
    }

    #[test]
    fn conflicts_are_write_write_and_read_write_only() {
        let mut a = AccessSet::new();
        a.read(addr(1)).write(addr(2));
        let mut reads_only = AccessSet::new();
        reads_only.read(addr(1));
        assert!(!a.conflicts_with(&reads_only), "read/read is no conflict");
        let mut writes_read = AccessSet::new();
        writes_read.write(addr(1));
        assert!(a.conflicts_with(&writes_read) && writes_read.conflicts_with(&a));
        let mut reads_written = AccessSet::new();
        reads_written.read(addr(2));
        assert!(a.conflicts_with(&reads_written) && reads_written.conflicts_with(&a));
        let mut disjoint = AccessSet::new();
        disjoint.write(addr(3));
        assert!(!a.conflicts_with(&disjoint));
    }

    #[test]
    fn address_sets_stay_sorted_and_unique() {
        let mut set = AddressSet::new();
        assert!(set.insert(addr(3)) && set.insert(addr(1)) && set.insert(addr(2)));
        assert!(!set.insert(addr(2)));
        set.extend([addr(5), addr(1), addr(4), addr(5)]);
        assert!(
            set.iter()
                .eq(&[addr(1), addr(2), addr(3), addr(4), addr(5)])
        );
        assert!(set.remove(&addr(3)) && !set.remove(&addr(3)));
        assert!(set.contains(&addr(4)) && !set.contains(&addr(3)));
        assert_eq!(set.len(), 4);
        assert_eq!(
            AddressSet::from([addr(2), addr(1)])
                .into_iter()
                .collect::<Vec<_>>(),
            [addr(1), addr(2)]
        );
    }

    #[test]
    fn a_large_set_keeps_order_and_equals_a_small_one_with_the_same_addresses() {
        let all: Vec<Address> = (0..=255u8).rev().map(addr).collect();
        let large: AddressSet = all.iter().copied().collect();
        assert_eq!(large.len(), 256);
        assert!(large.iter().zip(large.iter().skip(1)).all(|(a, b)| a < b));
        let mut shrunk = large.clone();
        for address in &all[..250] {
            assert!(shrunk.remove(address));
        }
        let small: AddressSet = all[250..].iter().copied().collect();
        assert_eq!(shrunk, small, "equality ignores how a set is kept");
        assert!(shrunk.contains(&addr(0)) && !shrunk.contains(&addr(255)));
    }

    #[test]
    fn a_write_absorbs_a_read() {
        let mut a = AccessSet::new();
        a.read(addr(1)).write(addr(1)).read(addr(1));
        assert_eq!(a.len(), 1);
        assert!(a.may_write(&addr(1)));
    }
}
