//! Builders for signed hypergraph operations, so that nobody assembles bytes by hand.
//!
//! A [`HypergraphClient`] wraps a [`Signer`]: a signing key, the network id and the signer's
//! **next nonce** (each operation it builds is signed with that nonce, which then goes up by
//! one). Every builder returns a [`SignedRequest`]: the target domain and the signed
//! `MessageRequest`, whose [`SignedRequest::to_bytes`] are the canonical bytes to submit.

use switchyard_proto::Signed;
use switchyard_proto::v1::{
    HyperedgeAdd, HyperedgeRemove, HypergraphConfig, HypergraphDeploy, HypergraphUpdate,
    MessageRequest, VertexAdd, VertexRemove,
};
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::HYPERGRAPH;
use switchyard_router::{Address, Domain, Key, SignedRequest, Signer};

use crate::record::hypergraph_domain;

/// The configuration of a hypergraph to deploy, or the one an update puts in force.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HypergraphSpec {
    config: HypergraphConfig,
}

impl HypergraphSpec {
    /// No writers, no schema, both limits 0 (the engine defaults at deploy; unchanged at
    /// update).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a writer key (at most 64, no duplicates). Default: none, so nobody may write
    /// (the owner is not a writer unless listed).
    ///
    /// ```
    /// let spec = switchyard_hypergraph::HypergraphSpec::new().writer([7; 32]);
    /// assert_eq!(spec.into_config().writers, vec![vec![7; 32]]);
    /// ```
    #[must_use]
    pub fn writer(mut self, writer: Key) -> Self {
        self.config.writers.push(writer.to_vec());
        self
    }

    /// Sets the schema identifier (at most 256 bytes, opaque to the engine). Default: none.
    ///
    /// ```
    /// let spec = switchyard_hypergraph::HypergraphSpec::new().schema("app/v1");
    /// assert_eq!(spec.into_config().schema, "app/v1");
    /// ```
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.config.schema = schema.into();
        self
    }

    /// The largest vertex data blob, in bytes (at most 256 KiB). Default 0: 64 KiB at
    /// deploy, unchanged at update.
    ///
    /// ```
    /// let spec = switchyard_hypergraph::HypergraphSpec::new().max_vertex_size(1024);
    /// assert_eq!(spec.into_config().max_vertex_size, 1024);
    /// ```
    #[must_use]
    pub fn max_vertex_size(mut self, bytes: u32) -> Self {
        self.config.max_vertex_size = bytes;
        self
    }

    /// The most members of a hyperedge (at most 256). Default 0: 64 at deploy, unchanged at
    /// update.
    ///
    /// ```
    /// let spec = switchyard_hypergraph::HypergraphSpec::new().max_hyperedge_members(8);
    /// assert_eq!(spec.into_config().max_hyperedge_members, 8);
    /// ```
    #[must_use]
    pub fn max_hyperedge_members(mut self, members: u32) -> Self {
        self.config.max_hyperedge_members = members;
        self
    }

    /// The wire configuration.
    pub fn into_config(self) -> HypergraphConfig {
        self.config
    }
}

/// Builds and signs hypergraph operations for one signer on one network, tracking the
/// signer's next nonce. `Debug` shows the public key, never the signing key.
///
/// ```
/// use switchyard_hypergraph::{HypergraphClient, HypergraphSpec, hypergraph_domain};
/// use switchyard_router::auth::SigningKey;
/// use switchyard_router::domains::HYPERGRAPH;
///
/// let mut alice = HypergraphClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
/// let (graph, deploy) = alice.deploy(HypergraphSpec::new().writer(alice.public_key()));
/// assert_eq!((deploy.target, graph), (HYPERGRAPH, hypergraph_domain(&alice.public_key(), 1)));
/// let add = alice.vertex_add(graph, [2; 32], b"hello".to_vec());
/// assert_eq!((add.target, add.nonce, alice.next_nonce()), (graph, 2, 3));
/// assert!(!format!("{alice:?}").contains("SigningKey"));
/// ```
#[derive(Debug, Clone)]
pub struct HypergraphClient {
    signer: Signer,
}

impl HypergraphClient {
    /// A client signing with `key` on `network_id`, whose next operation uses `next_nonce`
    /// (the signer's stored nonce + 1).
    pub fn new(key: SigningKey, network_id: u32, next_nonce: u64) -> Self {
        Self::from_signer(Signer::new(key, network_id, next_nonce))
    }

    /// A client around an existing signer.
    pub fn from_signer(signer: Signer) -> Self {
        Self { signer }
    }

    /// The signer's public key.
    pub fn public_key(&self) -> Key {
        self.signer.public_key()
    }

    /// The network id signed into every operation.
    pub fn network_id(&self) -> u32 {
        self.signer.network_id()
    }

    /// The nonce the next operation will carry.
    pub fn next_nonce(&self) -> u64 {
        self.signer.next_nonce()
    }

    /// Sets the nonce the next operation will carry.
    pub fn set_next_nonce(&mut self, nonce: u64) {
        self.signer.set_next_nonce(nonce);
    }

    /// The signer underneath, shared by every engine's client.
    pub fn signer(&mut self) -> &mut Signer {
        &mut self.signer
    }

    /// Signs any operation for `target` with the next nonce (for operations built from wire
    /// types directly).
    pub fn sign<T: Signed + Into<MessageRequest>>(
        &mut self,
        target: Domain,
        operation: T,
    ) -> SignedRequest {
        self.signer.sign(target, operation)
    }

    /// Deploys a hypergraph owned by this signer; returns the new hypergraph's domain with
    /// the request (sent to `HYPERGRAPH`).
    pub fn deploy(&mut self, spec: HypergraphSpec) -> (Domain, SignedRequest) {
        let domain = hypergraph_domain(&self.public_key(), self.next_nonce());
        let request = self.sign(
            HYPERGRAPH,
            HypergraphDeploy {
                config: Some(spec.into_config()),
                auth: None,
            },
        );
        (domain, request)
    }

    /// Puts `spec` in force on `graph` (owner only): its writers and schema replace the
    /// current ones, its non-zero limits tighten the current ones; `new_owner` hands over
    /// ownership.
    pub fn update(
        &mut self,
        graph: Domain,
        spec: HypergraphSpec,
        new_owner: Option<Key>,
    ) -> SignedRequest {
        self.sign(
            graph,
            HypergraphUpdate {
                config: Some(spec.into_config()),
                new_owner: new_owner.map(|k| k.to_vec()).unwrap_or_default(),
                auth: None,
            },
        )
    }

    /// Adds (or replaces) the vertex at `key` of `graph` with `data` (a writer).
    pub fn vertex_add(&mut self, graph: Domain, key: Key, data: Vec<u8>) -> SignedRequest {
        self.sign(
            graph,
            VertexAdd {
                key: key.to_vec(),
                data,
                auth: None,
            },
        )
    }

    /// Removes the vertex at `key` of `graph` (a writer; refused while a hyperedge holds it).
    pub fn vertex_remove(&mut self, graph: Domain, key: Key) -> SignedRequest {
        self.sign(
            graph,
            VertexRemove {
                key: key.to_vec(),
                auth: None,
            },
        )
    }

    /// Adds the hyperedge at `key` of `graph` over `members` (existing vertices, in this or
    /// another hypergraph).
    pub fn hyperedge_add(&mut self, graph: Domain, key: Key, members: &[Address]) -> SignedRequest {
        self.sign(
            graph,
            HyperedgeAdd {
                key: key.to_vec(),
                members: members.iter().map(|m| m.to_bytes().to_vec()).collect(),
                auth: None,
            },
        )
    }

    /// Removes the hyperedge at `key` of `graph`; `members` must be its stored members, in
    /// order (they make the access set exact).
    pub fn hyperedge_remove(
        &mut self,
        graph: Domain,
        key: Key,
        members: &[Address],
    ) -> SignedRequest {
        self.sign(
            graph,
            HyperedgeRemove {
                key: key.to_vec(),
                members: members.iter().map(|m| m.to_bytes().to_vec()).collect(),
                auth: None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::CanonicalMessage;
    use switchyard_router::auth::verify_request;

    #[test]
    fn built_requests_verify_and_decode_back() {
        let mut client = HypergraphClient::new(SigningKey::from_bytes(&[4; 32]), 9, 3);
        let (graph, deploy) = client.deploy(HypergraphSpec::new());
        assert_eq!(graph, hypergraph_domain(&client.public_key(), 3));
        let vertex = Address::new(graph, [1; 32]);
        let requests = [
            deploy,
            client.update(graph, HypergraphSpec::new(), Some([5; 32])),
            client.vertex_add(graph, [1; 32], b"x".to_vec()),
            client.vertex_remove(graph, [1; 32]),
            client.hyperedge_add(graph, [2; 32], &[vertex]),
            client.hyperedge_remove(graph, [2; 32], &[vertex]),
        ];
        for (n, request) in requests.iter().enumerate() {
            assert_eq!(request.nonce, 3 + n as u64);
            assert_eq!(verify_request(&request.request, 9), Ok(()));
            assert_eq!(
                MessageRequest::from_canonical_bytes(&request.to_bytes()).unwrap(),
                request.request
            );
        }
        assert_eq!(client.next_nonce(), 9);
    }
}
