//! Signing operations for a submitter: the one mechanism every engine's builders use.

use std::fmt;

use switchyard_proto::v1::MessageRequest;
use switchyard_proto::{CanonicalMessage, Signed};

use crate::auth::{SigningKey, sign};
use crate::{Domain, Key};

/// A signed operation ready to submit: where it goes and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The domain the operation targets (a base domain for deploys and prover operations,
    /// else the instance it acts on).
    pub target: Domain,
    /// The signed request.
    pub request: MessageRequest,
    /// The signer's public key.
    pub signer: Key,
    /// The nonce it was signed with.
    pub nonce: u64,
}

impl SignedRequest {
    /// The request's canonical bytes (type tag `0x0311`, then the protobuf).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.request.to_canonical_bytes()
    }

    /// The target and the canonical bytes, as a frame lists them.
    pub fn into_parts(self) -> (Domain, Vec<u8>) {
        let bytes = self.to_bytes();
        (self.target, bytes)
    }
}

/// A signing key on a network with the signer's **next nonce**: each operation it signs
/// carries that nonce, which then goes up by one. Start it at the signer's stored nonce + 1
/// (1 for a fresh account). Engine crates wrap it in their typed clients (`TokenClient`, ...).
///
/// The key never appears in `Debug` output.
///
/// ```
/// use switchyard_router::{Signer, auth::SigningKey, domains::NATIVE_TOKEN};
/// use switchyard_proto::v1;
///
/// let mut signer = Signer::new(SigningKey::from_bytes(&[1; 32]), 7, 1);
/// let signed = signer.sign(NATIVE_TOKEN, v1::Transaction { to: vec![2; 32], ..Default::default() });
/// assert_eq!((signed.nonce, signer.next_nonce()), (1, 2));
/// assert!(switchyard_router::auth::verify_request(&signed.request, 7).is_ok());
/// assert!(!format!("{signer:?}").contains("SigningKey"));
/// ```
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    network_id: u32,
    next_nonce: u64,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("public_key", &hex::encode(self.public_key()))
            .field("network_id", &self.network_id)
            .field("next_nonce", &self.next_nonce)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer with `key` on `network_id`, whose next operation uses `next_nonce`.
    pub fn new(key: SigningKey, network_id: u32, next_nonce: u64) -> Self {
        Self {
            key,
            network_id,
            next_nonce,
        }
    }

    /// The signer's public key, which is also its native account key.
    pub fn public_key(&self) -> Key {
        self.key.verifying_key().to_bytes()
    }

    /// The network id signed into every operation.
    pub fn network_id(&self) -> u32 {
        self.network_id
    }

    /// The nonce the next operation will carry.
    pub fn next_nonce(&self) -> u64 {
        self.next_nonce
    }

    /// Sets the nonce the next operation will carry.
    pub fn set_next_nonce(&mut self, nonce: u64) {
        self.next_nonce = nonce;
    }

    /// The signing key (for signing things that are not operations, such as a proof of
    /// possession or a frame header).
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs `operation` for `target` (written into, and signed with, its auth block) with the
    /// next nonce.
    pub fn sign<T: Signed + Into<MessageRequest>>(
        &mut self,
        target: Domain,
        mut operation: T,
    ) -> SignedRequest {
        let nonce = self.next_nonce;
        sign(&mut operation, &self.key, &target, nonce, self.network_id);
        self.next_nonce = nonce.saturating_add(1);
        SignedRequest {
            target,
            request: operation.into(),
            signer: self.public_key(),
            nonce,
        }
    }
}
