//! Change sets: the writes of an overlay, a bundle or a frame.

use std::collections::BTreeMap;
use std::fmt;

use switchyard_router::Address;

/// Pending writes, ordered by address: a value to store, or `None` to delete.
///
/// An address appears at most once, with its last write. Change sets are merged in frame
/// order with [`ChangeSet::merge`], and committed with [`crate::Store::commit`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    entries: BTreeMap<Address, Option<Vec<u8>>>,
}

impl ChangeSet {
    /// An empty change set.
    pub fn new() -> Self {
        Self::default()
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
        self.entries.keys()
    }
}

impl IntoIterator for ChangeSet {
    type Item = (Address, Option<Vec<u8>>);
    type IntoIter = std::collections::btree_map::IntoIter<Address, Option<Vec<u8>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(Address, Option<Vec<u8>>)> for ChangeSet {
    /// Collects writes in order; a later write of an address replaces an earlier one.
    fn from_iter<I: IntoIterator<Item = (Address, Option<Vec<u8>>)>>(iter: I) -> Self {
        Self {
            entries: iter.into_iter().collect(),
        }
    }
}

impl FromIterator<(Address, Vec<u8>)> for ChangeSet {
    /// Collects puts (e.g. genesis records) in order; a later put of an address wins.
    fn from_iter<I: IntoIterator<Item = (Address, Vec<u8>)>>(iter: I) -> Self {
        Self {
            entries: iter
                .into_iter()
                .map(|(address, value)| (address, Some(value)))
                .collect(),
        }
    }
}

impl Extend<(Address, Option<Vec<u8>>)> for ChangeSet {
    fn extend<I: IntoIterator<Item = (Address, Option<Vec<u8>>)>>(&mut self, iter: I) {
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
    fn debug_prints_values_as_hex() {
        let mut set = ChangeSet::new();
        set.put(addr(1), vec![0xab]);
        set.delete(addr(2));
        let text = format!("{set:?}");
        assert!(text.contains("0xab") && text.contains("delete"), "{text}");
    }
}
