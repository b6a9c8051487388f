//! Access sets: the addresses an operation declares it reads and writes.

use std::collections::BTreeSet;

use crate::Address;

/// The addresses an operation will read and write. A write implies the right to read.
///
/// Two operations conflict when one writes an address the other reads or writes; the frame
/// scheduler runs conflicting operations in frame order and the others in parallel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessSet {
    /// Addresses read (and not written).
    pub reads: BTreeSet<Address>,
    /// Addresses written (and possibly read).
    pub writes: BTreeSet<Address>,
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
    fn a_write_absorbs_a_read() {
        let mut a = AccessSet::new();
        a.read(addr(1)).write(addr(1)).read(addr(1));
        assert_eq!(a.len(), 1);
        assert!(a.may_write(&addr(1)));
    }
}
