//! A map ordered by key that stays a sorted vector while it is small: the representation behind
//! [`AddressSet`](crate::AddressSet) and `switchyard-state`'s `ChangeSet`.

use std::collections::BTreeMap;
use std::collections::btree_map;

/// A map ordered by key, iterated in key order.
///
/// Access sets, read sets and a message's change set hold a handful of entries and are built
/// and probed once per message: up to [`SortedMap::SMALL`] entries live in a sorted vector
/// (one small allocation, binary search), which beats a B-tree's node of about a kilobyte per
/// map. A map that grows past that by inserts moves to a B-tree for good, so large maps that
/// are built by inserting (a frame-wide overlay) keep logarithmic inserts. A map built at
/// once from sorted entries ([`SortedMap::from_sorted`], a frame's change set) stays a vector
/// of any size until a new key is inserted: it is read far more than it is changed.
#[derive(Debug, Clone)]
pub struct SortedMap<K, V> {
    repr: Repr<K, V>,
}

#[derive(Debug, Clone)]
enum Repr<K, V> {
    /// Sorted by key, one entry per key; at most [`SortedMap::SMALL`] entries unless built by
    /// [`SortedMap::from_sorted`].
    Small(Vec<(K, V)>),
    Large(BTreeMap<K, V>),
}

impl<K, V> SortedMap<K, V> {
    /// The most entries kept in a sorted vector.
    pub const SMALL: usize = 32;

    /// An empty map.
    pub const fn new() -> Self {
        Self {
            repr: Repr::Small(Vec::new()),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(sorted) => sorted.len(),
            Repr::Large(map) => map.len(),
        }
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        match &self.repr {
            Repr::Small(sorted) => Iter::Small(sorted.iter()),
            Repr::Large(map) => Iter::Large(map.iter()),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// The map of `entries`, kept as they are (a vector, however many) when their keys are
    /// strictly increasing. Otherwise they are collected as by `collect()`: sorted, and a later
    /// value of a key replaces an earlier one.
    pub fn from_sorted(entries: Vec<(K, V)>) -> Self {
        if entries.windows(2).all(|pair| match pair {
            [(a, _), (b, _)] => a < b,
            _ => true,
        }) {
            return Self {
                repr: Repr::Small(entries),
            };
        }
        entries.into_iter().collect()
    }

    /// Sets the value of `key`; returns the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match &mut self.repr {
            Repr::Small(sorted) => match sorted.binary_search_by(|(k, _)| k.cmp(&key)) {
                Ok(at) => sorted
                    .get_mut(at)
                    .map(|entry| std::mem::replace(&mut entry.1, value)),
                Err(at) if sorted.len() < Self::SMALL => {
                    sorted.insert(at, (key, value));
                    None
                }
                Err(_) => {
                    let mut large: BTreeMap<K, V> = sorted.drain(..).collect();
                    large.insert(key, value);
                    self.repr = Repr::Large(large);
                    None
                }
            },
            Repr::Large(map) => map.insert(key, value),
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        match &mut self.repr {
            Repr::Small(sorted) => sorted
                .binary_search_by(|(k, _)| k.cmp(key))
                .ok()
                .map(|at| sorted.remove(at).1),
            Repr::Large(map) => map.remove(key),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &K) -> Option<&V> {
        match &self.repr {
            Repr::Small(sorted) => sorted
                .binary_search_by(|(k, _)| k.cmp(key))
                .ok()
                .and_then(|at| sorted.get(at))
                .map(|(_, value)| value),
            Repr::Large(map) => map.get(key),
        }
    }

    /// Whether `key` is in the map.
    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// Equal when the entries are, however each map keeps them.
impl<K: PartialEq, V: PartialEq> PartialEq for SortedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<K: Eq, V: Eq> Eq for SortedMap<K, V> {}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    /// Inserts every entry in turn: a later value of a key replaces an earlier one.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// Collects entries in any order; a later value of a key replaces an earlier one.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let map: BTreeMap<K, V> = entries.into_iter().collect();
        let repr = if map.len() > Self::SMALL {
            Repr::Large(map)
        } else {
            Repr::Small(map.into_iter().collect())
        };
        Self { repr }
    }
}

/// The entries of a [`SortedMap`], by reference, in key order.
#[derive(Debug, Clone)]
pub enum Iter<'a, K, V> {
    /// Of a small map.
    Small(std::slice::Iter<'a, (K, V)>),
    /// Of a large map.
    Large(btree_map::Iter<'a, K, V>),
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Small(iter) => iter.next().map(|(key, value)| (key, value)),
            Self::Large(iter) => iter.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Self::Small(iter) => iter.size_hint(),
            Self::Large(iter) => iter.size_hint(),
        }
    }
}

/// The entries of a [`SortedMap`], by value, in key order.
#[derive(Debug)]
pub enum IntoIter<K, V> {
    /// Of a small map.
    Small(std::vec::IntoIter<(K, V)>),
    /// Of a large map.
    Large(btree_map::IntoIter<K, V>),
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Small(iter) => iter.next(),
            Self::Large(iter) => iter.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Self::Small(iter) => iter.size_hint(),
            Self::Large(iter) => iter.size_hint(),
        }
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    fn into_iter(self) -> IntoIter<K, V> {
        match self.repr {
            Repr::Small(sorted) => IntoIter::Small(sorted.into_iter()),
            Repr::Large(map) => IntoIter::Large(map.into_iter()),
        }
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_maps_keep_key_order_and_last_values() {
        let mut map = SortedMap::new();
        for key in (0..100u32).rev() {
            assert_eq!(map.insert(key, key), None);
            if key == 90 {
                assert!(matches!(map.repr, Repr::Small(_)), "10 entries stay small");
            }
        }
        assert!(matches!(map.repr, Repr::Large(_)), "100 entries are large");
        assert_eq!(map.insert(7, 70), Some(7));
        assert_eq!(map.get(&7), Some(&70));
        assert_eq!(map.remove(&8), Some(8));
        assert!(!map.contains_key(&8));
        let keys: Vec<u32> = map.iter().map(|(k, _)| *k).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]) && keys.len() == 99);
        let owned: Vec<u32> = map.clone().into_iter().map(|(k, _)| k).collect();
        assert_eq!(owned, keys);
    }

    #[test]
    fn maps_built_from_sorted_entries_stay_vectors_until_a_new_key_arrives() {
        let mut map = SortedMap::from_sorted((0..100u32).map(|k| (2 * k, k)).collect());
        assert!(matches!(map.repr, Repr::Small(_)));
        assert_eq!(map.get(&10), Some(&5));
        assert_eq!(map.insert(10, 50), Some(5), "replacing keeps the vector");
        assert!(matches!(map.repr, Repr::Small(_)));
        assert_eq!(map.insert(11, 0), None);
        assert!(
            matches!(map.repr, Repr::Large(_)),
            "a new key moves it to a B-tree"
        );
        assert_eq!(map.len(), 101);
        let keys: Vec<u32> = map.iter().map(|(k, _)| *k).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));

        // Unsorted or repeated keys are collected: sorted, the later value kept.
        let unsorted = SortedMap::from_sorted(vec![(3, 'a'), (1, 'b'), (3, 'c')]);
        assert_eq!(
            unsorted.iter().collect::<Vec<_>>(),
            vec![(&1, &'b'), (&3, &'c')]
        );
    }

    #[test]
    fn equality_ignores_how_a_map_is_kept() {
        let mut large: SortedMap<u32, u32> = (0..40).map(|k| (k, k)).collect();
        for key in 3..40 {
            assert_eq!(large.remove(&key), Some(key));
        }
        let small: SortedMap<u32, u32> = [(2, 2), (0, 0), (1, 1), (1, 1)].into_iter().collect();
        assert!(matches!(large.repr, Repr::Large(_)) && matches!(small.repr, Repr::Small(_)));
        assert_eq!(large, small);
        large.insert(5, 5);
        assert_ne!(large, small);
    }
}
