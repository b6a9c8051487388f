//! Random sequences of vertex and hyperedge adds and removes over two hypergraphs (with
//! members across both), through the manager's pipeline: every outcome matches a plain model,
//! every live hyperedge's members exist, and every vertex's membership index equals the set
//! of live hyperedges that hold it.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use switchyard_hypergraph::HypergraphClient;
use switchyard_router::{Address, Domain, Key};

use crate::common::{Chain, Failure, client};

/// Vertex keys are `[k; 32]` for k in 1..=5, hyperedge keys for k in 4..=8: keys 4 and 5 may
/// hold either kind, so the kind checks are exercised.
const VERTEX_KEYS: std::ops::RangeInclusive<u8> = 1..=5;
const EDGE_KEYS: std::ops::RangeInclusive<u8> = 4..=8;

#[derive(Debug, Clone)]
enum Step {
    AddVertex {
        graph: usize,
        key: u8,
    },
    RemoveVertex {
        graph: usize,
        key: u8,
    },
    AddEdge {
        graph: usize,
        key: u8,
        members: Vec<(usize, u8)>,
    },
    RemoveEdge {
        graph: usize,
        key: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let graph = || 0..2usize;
    let member = (0..2usize, VERTEX_KEYS);
    prop_oneof![
        3 => (graph(), VERTEX_KEYS).prop_map(|(graph, key)| Step::AddVertex { graph, key }),
        2 => (graph(), VERTEX_KEYS).prop_map(|(graph, key)| Step::RemoveVertex { graph, key }),
        3 => (graph(), EDGE_KEYS, proptest::collection::vec(member, 1..4))
            .prop_map(|(graph, key, members)| Step::AddEdge { graph, key, members }),
        2 => (graph(), EDGE_KEYS).prop_map(|(graph, key)| Step::RemoveEdge { graph, key }),
    ]
}

struct World {
    chain: Chain,
    writers: Vec<HypergraphClient>,
    graphs: Vec<Domain>,
    vertices: BTreeSet<Address>,
    edges: BTreeMap<Address, Vec<Address>>,
}

impl World {
    fn new() -> Self {
        let mut writers = vec![client(1), client(2)];
        let keys: Vec<Key> = writers.iter().map(HypergraphClient::public_key).collect();
        let mut chain = Chain::new(&keys);
        let graphs = writers
            .iter_mut()
            .map(|writer| chain.deploy_own(writer))
            .collect();
        Self {
            chain,
            writers,
            graphs,
            vertices: BTreeSet::new(),
            edges: BTreeMap::new(),
        }
    }

    fn at(&self, graph: usize, key: u8) -> Address {
        Address::new(self.graphs[graph], [key; 32])
    }

    /// Runs `step`; returns whether the chain applied it, and checks that against the model.
    fn run(&mut self, step: &Step) {
        let (expected, result) = match step {
            Step::AddVertex { graph, key } => {
                let at = self.at(*graph, *key);
                let ok = !self.edges.contains_key(&at);
                let op = self.writers[*graph].vertex_add(at.domain, at.key, vec![*key; 3]);
                let result = self.chain.submit(&op);
                if ok {
                    self.vertices.insert(at);
                }
                (ok, result)
            }
            Step::RemoveVertex { graph, key } => {
                let at = self.at(*graph, *key);
                let ok = self.vertices.contains(&at)
                    && !self.edges.values().any(|members| members.contains(&at));
                let op = self.writers[*graph].vertex_remove(at.domain, at.key);
                let result = self.chain.submit(&op);
                if ok {
                    self.vertices.remove(&at);
                }
                (ok, result)
            }
            Step::AddEdge {
                graph,
                key,
                members,
            } => {
                let at = self.at(*graph, *key);
                let members: Vec<Address> = members.iter().map(|(g, k)| self.at(*g, *k)).collect();
                let distinct: BTreeSet<Address> = members.iter().copied().collect();
                let ok = distinct.len() == members.len()
                    && !self.edges.contains_key(&at)
                    && !self.vertices.contains(&at)
                    && members.iter().all(|m| self.vertices.contains(m));
                let op = self.writers[*graph].hyperedge_add(at.domain, at.key, &members);
                let result = self.chain.submit(&op);
                if ok {
                    self.edges.insert(at, members);
                }
                (ok, result)
            }
            Step::RemoveEdge { graph, key } => {
                let at = self.at(*graph, *key);
                let (ok, members) = match self.edges.get(&at) {
                    Some(members) => (true, members.clone()),
                    None => (false, vec![self.at(*graph, 1)]),
                };
                let op = self.writers[*graph].hyperedge_remove(at.domain, at.key, &members);
                let result = self.chain.submit(&op);
                if ok {
                    self.edges.remove(&at);
                }
                (ok, result)
            }
        };
        assert_eq!(
            result.is_ok(),
            expected,
            "{step:?}: chain said {result:?}, model said {expected}"
        );
        if let Err(failure) = &result {
            assert!(
                matches!(failure, Failure::Validate(_) | Failure::Apply(_)),
                "{failure:?}"
            );
        }
        for writer in &mut self.writers {
            self.chain.sync(writer);
        }
    }

    /// The invariants, read from the chain's state (not from the model).
    fn check(&self) {
        let mut live: BTreeMap<Address, Vec<Address>> = BTreeMap::new();
        for graph in 0..2 {
            for key in EDGE_KEYS {
                let at = self.at(graph, key);
                if let Some(members) = self.chain.hyperedge(at) {
                    for member in &members {
                        assert!(
                            self.chain.vertex(*member).is_some(),
                            "live hyperedge {at:?} has a missing member {member:?}"
                        );
                    }
                    live.insert(at, members);
                }
            }
        }
        assert_eq!(live, self.edges, "the chain's hyperedges are the model's");
        for graph in 0..2 {
            for key in VERTEX_KEYS.chain(EDGE_KEYS) {
                let vertex = self.at(graph, key);
                let expected: Vec<Address> = live
                    .iter()
                    .filter(|(_, members)| members.contains(&vertex))
                    .map(|(edge, _)| *edge)
                    .collect();
                assert_eq!(
                    self.chain.hyperedges_of(vertex),
                    expected,
                    "the index of {vertex:?} is the set of live hyperedges holding it"
                );
                assert_eq!(
                    self.chain.vertex(vertex).is_some(),
                    self.vertices.contains(&vertex)
                );
                if expected.is_empty() {
                    assert!(
                        !self
                            .chain
                            .state
                            .entries
                            .contains_key(&switchyard_hypergraph::membership_address(&vertex)),
                        "an empty index is deleted"
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_adds_and_removes_keep_members_alive_and_the_index_exact(
        steps in proptest::collection::vec(step(), 1..60)
    ) {
        let mut world = World::new();
        for step in &steps {
            world.run(step);
            world.check();
        }
    }
}
