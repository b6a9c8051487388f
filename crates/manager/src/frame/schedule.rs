//! Step 2: the dependency graph of a frame.
//!
//! Message `j` depends on an earlier message `i` when they conflict on an address (one writes
//! what the other reads or writes). It is enough to record, per address, the last writer and
//! the readers since it: a reader depends on the last writer; a writer depends on the last
//! writer and on every reader since. Every other conflict follows by transitivity, so the
//! graph has O(total access-set size) edges.

use std::collections::HashMap;

use switchyard_router::{AccessSet, Address, AddressHashBuilder};

/// Per message: how many earlier messages it waits for, and which later ones wait for it.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub(crate) waits_for: Vec<usize>,
    pub(crate) dependents: Vec<Vec<usize>>,
}

#[derive(Default)]
struct AddressState {
    last_writer: Option<usize>,
    readers: Vec<usize>,
}

/// Builds the graph over `access` (`None` = a message that will not run).
pub(crate) fn build(access: &[Option<&AccessSet>]) -> Graph {
    let count = access.len();
    let mut graph = Graph {
        waits_for: vec![0; count],
        dependents: vec![Vec::new(); count],
    };
    let mut addresses: HashMap<&Address, AddressState, AddressHashBuilder> =
        HashMap::with_capacity_and_hasher(access.len() * 3, AddressHashBuilder);
    let mut deps: Vec<usize> = Vec::new();
    for (index, set) in access.iter().enumerate() {
        let Some(set) = set else { continue };
        deps.clear();
        for address in &set.reads {
            let state = addresses.entry(address).or_default();
            deps.extend(state.last_writer);
            state.readers.push(index);
        }
        for address in &set.writes {
            let state = addresses.entry(address).or_default();
            deps.extend(state.last_writer);
            deps.extend(state.readers.drain(..).filter(|&r| r != index));
            state.last_writer = Some(index);
        }
        deps.sort_unstable();
        deps.dedup();
        if let Some(waits) = graph.waits_for.get_mut(index) {
            *waits = deps.len();
        }
        for &dep in &deps {
            if let Some(list) = graph.dependents.get_mut(dep) {
                list.push(index);
            }
        }
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::access_set as set;

    #[test]
    fn edges_follow_conflicts_only() {
        let sets = [
            set(&[], &[1]),
            set(&[1], &[]),
            set(&[1], &[]),
            set(&[], &[1]),
            set(&[], &[2]),
        ];
        let refs: Vec<Option<&AccessSet>> = sets.iter().map(Some).collect();
        let graph = build(&refs);
        assert_eq!(graph.waits_for, vec![0, 1, 1, 3, 0]);
        assert_eq!(graph.dependents[0], vec![1, 2, 3]);
        assert_eq!(graph.dependents[1], vec![3]);
        assert!(graph.dependents[4].is_empty());
    }

    #[test]
    fn skipped_messages_take_no_part() {
        let sets = [set(&[], &[1]), set(&[], &[1])];
        let graph = build(&[None, Some(&sets[1])]);
        assert_eq!(graph.waits_for, vec![0, 0]);
        let _ = &sets[0];
    }
}
