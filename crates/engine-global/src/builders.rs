//! Builders for signed prover operations, so that nobody assembles bytes by hand.
//!
//! A [`ProverClient`] holds a prover's signing key (through a [`Signer`]), the network id and
//! the signer's **next nonce**: each operation it builds is signed with that nonce, which then
//! goes up by one. Start it at the signer's stored nonce + 1 (1 for a fresh account). Every
//! operation is sent to the global domain. The client also makes the signatures operations
//! carry inside them: the proof of possession of a join, and signed frame headers (the
//! evidence of a kick).

use ed25519_dalek::Signer as _;
use switchyard_proto::Signed;
use switchyard_proto::v1::{
    FrameHeader, MessageRequest, ProverConfirm, ProverJoin, ProverKick, ProverLeave, ProverPause,
    ProverReject, ProverResume, ProverUpdate,
};
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::GLOBAL;
use switchyard_router::{Address, Key, SignedRequest, Signer};

use crate::op::{frame_header_signing_bytes, pop_message};
use crate::record::Filter;

/// Builds and signs prover operations for one prover on one network, tracking its next nonce
/// (see the module docs). `Debug` shows the public key, never the signing key.
///
/// ```
/// use switchyard_router::auth::SigningKey;
/// use switchyard_router::domains::GLOBAL;
/// use switchyard_global::ProverClient;
///
/// let mut prover = ProverClient::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
/// let join = prover.join(&[[3; 32]], None);
/// assert_eq!((join.target, join.nonce, prover.next_nonce()), (GLOBAL, 1, 2));
/// assert_eq!(&join.to_bytes()[..4], &[0, 0, 0x03, 0x11]);
/// assert!(switchyard_router::auth::verify_request(&join.request, 7).is_ok());
/// assert!(!format!("{prover:?}").contains("SigningKey"));
/// ```
#[derive(Debug, Clone)]
pub struct ProverClient {
    signer: Signer,
}

fn optional_filter(filter: Option<Filter>) -> Vec<u8> {
    filter.map(|f| f.to_vec()).unwrap_or_default()
}

impl ProverClient {
    /// A client signing with `key` on `network_id`, whose next operation uses `next_nonce`
    /// (the signer's stored nonce + 1).
    pub fn new(key: SigningKey, network_id: u32, next_nonce: u64) -> Self {
        Self {
            signer: Signer::new(key, network_id, next_nonce),
        }
    }

    /// A client over an existing signer (shared with another engine's client, say).
    pub fn from_signer(signer: Signer) -> Self {
        Self { signer }
    }

    /// The prover's public key: its identity in the registry and its native account key.
    pub fn public_key(&self) -> Key {
        self.signer.public_key()
    }

    /// The network id signed into every operation and frame header.
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

    /// Signs any prover operation for the global domain with the next nonce. The typed
    /// builders below go through this; it is public for operations built from wire types
    /// directly (a join with a hand-made proof, say).
    pub fn sign<T: Signed + Into<MessageRequest>>(&mut self, operation: T) -> SignedRequest {
        self.signer.sign(GLOBAL, operation)
    }

    /// The proof of possession of the prover's key: its signature over
    /// [`pop_message`]`(public key)`.
    pub fn proof_of_possession(&self) -> Vec<u8> {
        let message = pop_message(&self.public_key());
        self.signer.key().sign(&message).to_bytes().to_vec()
    }

    /// Asks to join `filters` (at most [`crate::MAX_FILTERS_PER_OPERATION`], distinct), with
    /// rewards going to `delegate` (`None`: the prover's own native account). Carries the
    /// proof of possession.
    pub fn join(&mut self, filters: &[Filter], delegate: Option<Address>) -> SignedRequest {
        let join = ProverJoin {
            filters: filters.iter().map(|f| f.to_vec()).collect(),
            proof_of_possession: self.proof_of_possession(),
            delegate_address: delegate.map(|a| a.to_bytes().to_vec()).unwrap_or_default(),
            auth: None,
        };
        self.sign(join)
    }

    /// Confirms the pending join or leave of `filter` (`None`: of every filter whose window
    /// is open).
    pub fn confirm(&mut self, filter: Option<Filter>) -> SignedRequest {
        self.sign(ProverConfirm {
            filter: optional_filter(filter),
            auth: None,
        })
    }

    /// Withdraws the pending join of `filter` (`None`: of every filter whose window is open).
    pub fn reject(&mut self, filter: Option<Filter>) -> SignedRequest {
        self.sign(ProverReject {
            filter: optional_filter(filter),
            auth: None,
        })
    }

    /// Asks to leave `filters` (empty: every filter served).
    pub fn leave(&mut self, filters: &[Filter]) -> SignedRequest {
        self.sign(ProverLeave {
            filters: filters.iter().map(|f| f.to_vec()).collect(),
            auth: None,
        })
    }

    /// Pauses `filter` (`None`: every active filter).
    pub fn pause(&mut self, filter: Option<Filter>) -> SignedRequest {
        self.sign(ProverPause {
            filter: optional_filter(filter),
            auth: None,
        })
    }

    /// Resumes `filter` (`None`: every paused filter).
    pub fn resume(&mut self, filter: Option<Filter>) -> SignedRequest {
        self.sign(ProverResume {
            filter: optional_filter(filter),
            auth: None,
        })
    }

    /// Sends the prover's rewards to `delegate` from now on.
    pub fn update(&mut self, delegate: Address) -> SignedRequest {
        self.sign(ProverUpdate {
            delegate_address: delegate.to_bytes().to_vec(),
            auth: None,
        })
    }

    /// Kicks `prover` with the evidence of two different headers it signed for one frame.
    pub fn kick(&mut self, prover: Key, a: FrameHeader, b: FrameHeader) -> SignedRequest {
        self.sign(ProverKick {
            kicked_prover: prover.to_vec(),
            conflicting_a: Some(a),
            conflicting_b: Some(b),
            auth: None,
        })
    }

    /// A frame header for this network, naming this prover and signed by it.
    pub fn frame_header(
        &self,
        frame_number: u64,
        parent_hash: [u8; 32],
        state_root: [u8; 32],
        messages_root: [u8; 32],
    ) -> FrameHeader {
        self.sign_frame_header(FrameHeader {
            network_id: self.network_id(),
            frame_number,
            parent_hash: parent_hash.to_vec(),
            state_root: state_root.to_vec(),
            messages_root: messages_root.to_vec(),
            prover: self.public_key().to_vec(),
            signature: Vec::new(),
        })
    }

    /// Signs `header` as it is (its prover and network id fields untouched) over
    /// [`frame_header_signing_bytes`] with this client's network id.
    pub fn sign_frame_header(&self, mut header: FrameHeader) -> FrameHeader {
        let signature = self
            .signer
            .key()
            .sign(&frame_header_signing_bytes(self.network_id(), &header));
        header.signature = signature.to_bytes().to_vec();
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::CanonicalMessage;
    use switchyard_router::auth::verify_request;

    #[test]
    fn built_requests_verify_and_decode_back() {
        let mut client = ProverClient::new(SigningKey::from_bytes(&[4; 32]), 9, 3);
        let a = client.frame_header(5, [1; 32], [2; 32], [3; 32]);
        let b = client.frame_header(5, [1; 32], [9; 32], [3; 32]);
        let requests = [
            client.join(&[[1; 32], [2; 32]], Some(Address::new(GLOBAL, [5; 32]))),
            client.confirm(None),
            client.reject(Some([1; 32])),
            client.leave(&[]),
            client.pause(None),
            client.resume(Some([2; 32])),
            client.update(Address::new(GLOBAL, [6; 32])),
            client.kick([8; 32], a, b),
        ];
        for (n, request) in requests.iter().enumerate() {
            assert_eq!(request.target, GLOBAL);
            assert_eq!(request.nonce, 3 + n as u64);
            assert_eq!(verify_request(&request.request, 9), Ok(()));
            assert_eq!(
                MessageRequest::from_canonical_bytes(&request.to_bytes()).unwrap(),
                request.request
            );
        }
        assert_eq!(client.next_nonce(), 11);
    }

    #[test]
    fn debug_hides_the_signing_key() {
        let client = ProverClient::new(SigningKey::from_bytes(&[4; 32]), 9, 1);
        let shown = format!("{client:?}");
        assert!(shown.contains(&hex::encode(client.public_key())));
        assert!(!shown.contains(&hex::encode([4u8; 32])));
    }
}
