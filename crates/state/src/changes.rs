//! Change sets: the writes of an overlay, a bundle or a frame.

use std::fmt;

use switchyard_router::{Address, SortedMap, SortedMapIntoIter};

/// One address's write: a value to store, or `None` to delete.
type Write = Option<Vec<u8>>;

/// Pending writes, ordered by address: a value to store, or `None` to delete.
///
/// An address appears at most once, with its last write. Change sets are merged in frame
/// order with [`ChangeSet::merge`], and committed with [`crate::Store::commit`]. Most are a
/// message's two or three writes, so they are kept in a [`SortedMap`] (a sorted vector while
/// small, a B-tree for frame-sized sets built by inserts, a vector again for a frame's sorted
/// writes, see [`ChangeSet::from_sorted`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    entries: SortedMap<Address, Write>,
}

impl ChangeSet {
    /// An empty change set.
    pub const fn new() -> Self {
        Self {
            entries: SortedMap::new(),
        }
    }

    /// The change set of `writes` ordered by strictly increasing address (a frame's writes,
    /// sorted), kept as one vector: cheaper to build and to walk than a B-tree. Writes in any
    /// other order are collected as by `collect()` (a later write of an address wins).
    pub fn from_sorted(writes: Vec<(Address, Write)>) -> Self {
        Self {
            entries: SortedMap::from_sorted(writes),
        }
    }

    /// Records that `value` is stored at `address`, replacing any earlier write of it.
    pub fn put(&mut self, address: Address, value: Vec<u8>) {
        self.entries.insert(address, Some(value));
    }

    /// Records that `address` is deleted, replacing any earlier write of it.
    pub fn delete(&mut self, address: Address) {
        self.entries.insert(address, None);
    }

    /// Applies `later` on top of this set: where both write an address, `later` wins.
    pub fn merge(&mut self, later: ChangeSet) {
        if self.entries.is_empty() {
            self.entries = later.entries;
        } else {
            self.entries.extend(later.entries);
        }
    }

    /// Number of addresses written.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is written.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The writes in address order: `Some(value)` for a put, `None` for a delete.
    pub fn iter(&self) -> impl Iterator<Item = (&Address, Option<&[u8]>)> {
        self.entries
            .iter()
            .map(|(address, value)| (address, value.as_deref()))
    }

    /// The write of `address`: `None` when the set does not touch it, `Some(None)` when it
    /// deletes it, `Some(Some(value))` when it stores `value`.
    pub fn get(&self, address: &Address) -> Option<Option<&[u8]>> {
        self.entries.get(address).map(Option::as_deref)
    }

    /// Whether the set writes (or deletes) `address`.
    pub fn contains(&self, address: &Address) -> bool {
        self.entries.contains_key(address)
    }

    /// The addresses written, in order.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.entries.iter().map(|(address, _)| address)
    }
}

impl IntoIterator for ChangeSet {
    type Item = (Address, Write);
    type IntoIter = SortedMapIntoIter<Address, Write>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(Address, Write)> for ChangeSet {
    /// Collects writes in order; a later write of an address replaces an earlier one.
    fn from_iter<I: IntoIterator<Item = (Address, Write)>>(iter: I) -> Self {
        Self {
            entries: iter.into_iter().collect(),
        }
    }
}

impl FromIterator<(Address, Vec<u8>)> for ChangeSet {
    /// Collects puts (e.g. genesis records) in order; a later put of an address wins.
    fn from_iter<I: IntoIterator<Item = (Address, Vec<u8>)>>(iter: I) -> Self {
        iter.into_iter()
            .map(|(address, value)| (address, Some(value)))
            .collect()
    }
}

impl Extend<(Address, Write)> for ChangeSet {
    fn extend<I: IntoIterator<Item = (Address, Write)>>(&mut self, iter: I) {
        self.entries.extend(iter);
    }
}

impl fmt::Debug for ChangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Value<'a>(Option<&'a [u8]>);
        impl fmt::Debug for Value<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.0 {
                    Some(bytes) => write!(f, "0x{}", hex::encode(bytes)),
                    None => f.write_str("delete"),
                }
            }
        }
        f.debug_map()
            .entries(self.iter().map(|(address, value)| (address, Value(value))))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_router::Domain;

    fn addr(n: u8) -> Address {
        Address::new(Domain([n; 32]), [n; 32])
    }

    #[test]
    fn the_last_write_of_an_address_wins() {
        let mut first = ChangeSet::new();
        first.put(addr(1), vec![1]);
        first.put(addr(2), vec![2]);
        first.delete(addr(3));
        let mut later = ChangeSet::new();
        later.delete(addr(1));
        later.put(addr(3), vec![3]);
        first.merge(later);
        assert_eq!(first.len(), 3);
        assert_eq!(first.get(&addr(1)), Some(None));
        assert_eq!(first.get(&addr(2)), Some(Some(&[2u8][..])));
        assert_eq!(first.get(&addr(3)), Some(Some(&[3u8][..])));
        assert_eq!(first.get(&addr(4)), None);
        let order: Vec<_> = first.iter().map(|(a, _)| *a).collect();
        assert_eq!(order, vec![addr(1), addr(2), addr(3)]);
    }

    #[test]
    fn a_large_set_equals_a_small_one_with_the_same_writes_and_keeps_order() {
        let mut large = ChangeSet::new();
        for n in (0..=200u8).rev() {
            large.put(addr(n), vec![n]);
        }
        large.delete(addr(7));
        assert_eq!(large.len(), 201);
        assert_eq!(large.get(&addr(7)), Some(None));
        assert_eq!(large.get(&addr(9)), Some(Some(&[9u8][..])));
        let order: Vec<Address> = large.addresses().copied().collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]));
        let owned: Vec<Address> = large.clone().into_iter().map(|(a, _)| a).collect();
        assert_eq!(owned, order);

        let few: ChangeSet = (0..3u8).map(|n| (addr(n), Some(vec![n]))).collect();
        let mut grown = ChangeSet::new();
        for n in 0..40u8 {
            grown.put(addr(n), vec![n]);
        }
        let mut shrunk_view: ChangeSet = grown.into_iter().filter(|(a, _)| *a < addr(3)).collect();
        assert_eq!(shrunk_view, few, "equality ignores how a set is kept");
        shrunk_view.merge(ChangeSet::new());
        assert_eq!(shrunk_view.len(), 3);
    }

    #[test]
    fn debug_prints_values_as_hex() {
        let mut set = ChangeSet::new();
        set.put(addr(1), vec![0xab]);
        set.delete(addr(2));
        let text = format!("{set:?}");
        assert!(text.contains("0xab") && text.contains("delete"), "{text}");
    }
}
