//! Signing operations for a submitter: the one mechanism every engine's builders use.

use std::fmt;

use switchyard_proto::v1::{MessageBundle, MessageRequest};
use switchyard_proto::{CanonicalMessage, Signed};

use crate::auth::{Binding, SignatureCheck, SigningKey, bundle_digest, sign, sign_in_bundle};
use crate::{BundleError, Domain, Key};

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

    /// Prepares `operation` for `target` with the next nonce, unsigned: this signer's part of
    /// a [`BundleProposal`], to sign with [`Signer::sign_proposal`] once the bundle is agreed.
    pub fn prepare<T: Signed + Into<MessageRequest>>(
        &mut self,
        target: Domain,
        mut operation: T,
    ) -> UnsignedRequest {
        let nonce = self.next_nonce;
        let auth = operation.auth_mut().get_or_insert_with(Default::default);
        auth.public_key = self.public_key().to_vec();
        auth.target = target.0.to_vec();
        auth.nonce = nonce;
        auth.signature.clear();
        self.next_nonce = nonce.saturating_add(1);
        UnsignedRequest {
            target,
            request: operation.into(),
            signer: self.public_key(),
            nonce,
        }
    }

    /// Signs every request of `proposal` that names this signer, each bound to the whole
    /// proposal (so it is valid in that exact bundle only). Check the proposal's contents
    /// before signing: the signature agrees to all of them.
    pub fn sign_proposal(&self, proposal: &BundleProposal) -> Vec<BundleSignature> {
        let me = self.public_key();
        proposal
            .bundle
            .requests
            .iter()
            .enumerate()
            .filter(|(_, request)| {
                request
                    .auth()
                    .is_some_and(|auth| auth.public_key.as_slice() == me.as_slice())
            })
            .map(|(index, _)| BundleSignature {
                index,
                signature: sign_in_bundle(&self.key, self.network_id, &proposal.digest, index)
                    .to_bytes(),
            })
            .collect()
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

/// A request with its auth block filled in (signer, nonce, target) and no signature yet: one
/// signer's part of a [`BundleProposal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedRequest {
    /// The domain the operation targets.
    pub target: Domain,
    /// The request, its signature empty.
    pub request: MessageRequest,
    /// The signer's public key.
    pub signer: Key,
    /// The nonce it carries.
    pub nonce: u64,
}

impl From<SignedRequest> for UnsignedRequest {
    /// The request without its signature: how any engine client's typed builders make the
    /// parts of a bundle (the signature made alone is dropped; the signer signs the proposal).
    fn from(signed: SignedRequest) -> Self {
        let mut request = signed.request;
        if let Some(auth) = request.auth_mut() {
            auth.signature.clear();
        }
        Self {
            target: signed.target,
            request,
            signer: signed.signer,
            nonce: signed.nonce,
        }
    }
}

/// The agreed contents of a bundle before anyone signs: its requests in order and its
/// timestamp, and the digest every signer signs (see [`crate::auth`]). Share it as
/// [`BundleProposal::to_bytes`] (the unsigned bundle's canonical bytes); each signer reads it
/// back with [`BundleProposal::from_bundle`], checks it, and signs with
/// [`Signer::sign_proposal`]; anyone then [`BundleProposal::assemble`]s the signatures.
///
/// ```
/// use switchyard_router::{BundleProposal, Signer, auth::SigningKey, domains::NATIVE_TOKEN};
/// use switchyard_proto::v1;
///
/// let (mut alice, mut bob) = (
///     Signer::new(SigningKey::from_bytes(&[1; 32]), 7, 1),
///     Signer::new(SigningKey::from_bytes(&[2; 32]), 7, 1),
/// );
/// let pay = |to: [u8; 32]| v1::Transaction { to: to.to_vec(), amount: Some(5u128.into()), ..Default::default() };
/// let proposal = BundleProposal::new(7, vec![
///     alice.prepare(NATIVE_TOKEN, pay(bob.public_key())),
///     bob.prepare(NATIVE_TOKEN, pay(alice.public_key())),
/// ], 0)?;
/// let mut signatures = alice.sign_proposal(&proposal);
/// signatures.extend(bob.sign_proposal(&proposal));
/// let bundle = proposal.assemble(signatures)?;
/// assert!(switchyard_router::auth::verify_bundle(&bundle.bundle, 7).is_ok());
/// # Ok::<(), switchyard_router::BundleError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BundleProposal {
    bundle: MessageBundle,
    network_id: u32,
    digest: [u8; 32],
}

/// One signer's signature of one request of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleSignature {
    /// The request's position in the bundle.
    pub index: usize,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

/// A bundle with every request signed for it, ready to submit.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedBundle {
    /// The domain the bundle is sent to: its first request's target.
    pub target: Domain,
    /// The signed bundle.
    pub bundle: MessageBundle,
}

impl SignedBundle {
    /// The bundle's canonical bytes (type tag `0x0312`, then the protobuf).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bundle.to_canonical_bytes()
    }

    /// The target and the canonical bytes, as a frame lists them.
    pub fn into_parts(self) -> (Domain, Vec<u8>) {
        let bytes = self.to_bytes();
        (self.target, bytes)
    }
}

impl BundleProposal {
    /// A proposal of `requests`, in this order, with `timestamp`, on `network_id`.
    pub fn new(
        network_id: u32,
        requests: Vec<UnsignedRequest>,
        timestamp: u64,
    ) -> Result<Self, BundleError> {
        Self::from_bundle(
            network_id,
            MessageBundle {
                requests: requests.into_iter().map(|r| r.request).collect(),
                timestamp,
            },
        )
    }

    /// A proposal read from a bundle (its signatures, if any, are ignored: they are not part
    /// of what is signed).
    pub fn from_bundle(network_id: u32, mut bundle: MessageBundle) -> Result<Self, BundleError> {
        if bundle.requests.is_empty() {
            return Err(BundleError::Empty);
        }
        for request in &mut bundle.requests {
            if let Some(auth) = request.auth_mut() {
                auth.signature.clear();
            }
        }
        let digest = bundle_digest(&bundle);
        Ok(Self {
            bundle,
            network_id,
            digest,
        })
    }

    /// The unsigned bundle, to show a signer what they agree to.
    pub fn bundle(&self) -> &MessageBundle {
        &self.bundle
    }

    /// The digest every signer signs.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The unsigned bundle's canonical bytes, to send to the signers.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bundle.to_canonical_bytes()
    }

    /// Puts the signatures into their requests and checks each (the key of the request's
    /// signer, over this proposal). Every request needs one.
    pub fn assemble(
        self,
        signatures: impl IntoIterator<Item = BundleSignature>,
    ) -> Result<SignedBundle, BundleError> {
        let mut bundle = self.bundle;
        let len = bundle.requests.len();
        for BundleSignature { index, signature } in signatures {
            let request = bundle
                .requests
                .get_mut(index)
                .ok_or(BundleError::NoSuchRequest { index, len })?;
            if let Some(auth) = request.auth_mut() {
                auth.signature = signature.to_vec();
            }
        }
        for (index, request) in bundle.requests.iter().enumerate() {
            if request.auth().is_none_or(|auth| auth.signature.is_empty()) {
                return Err(BundleError::Unsigned { index });
            }
            let binding = Binding::InBundle {
                digest: self.digest,
                index,
            };
            SignatureCheck::bound(request, self.network_id, binding)
                .and_then(|check| check.verify())
                .map_err(|reason| BundleError::BadSignature { index, reason })?;
        }
        let target = bundle
            .requests
            .first()
            .and_then(|request| request.auth())
            .and_then(|auth| Domain::from_slice(&auth.target).ok())
            .unwrap_or_default();
        Ok(SignedBundle { target, bundle })
    }
}
