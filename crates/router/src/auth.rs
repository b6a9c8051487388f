//! Ed25519 signatures of user operations (DESIGN §2), alone or bound to a bundle.
//!
//! A request is signed one of two ways, and is valid only the way it was signed:
//!
//! - **Alone**: the signer signs `"switchyard/v1/" + operation name`, the network id (4 bytes,
//!   big-endian) and the operation's canonical bytes with `auth.signature` empty (see
//!   [`switchyard_proto::Signed::signing_bytes`]).
//! - **As request `i` of a bundle**: the signer signs [`BUNDLE_SIGNING_PREFIX`]
//!   (`"switchyard/v1/MessageBundle/"`), the network id (4 bytes, big-endian), the bundle's
//!   32-byte [`bundle_digest`] and `i` (4 bytes, big-endian). The digest is BLAKE3 of the
//!   bundle's canonical bytes with every request's `auth.signature` empty: it commits to
//!   every request (operation, signer, nonce, target), their order and count, and every other
//!   field of the bundle (its timestamp). So a bundle's request cannot be submitted alone,
//!   moved, reordered, or kept when another request is added, removed or replaced, and a
//!   request signed alone cannot be slipped into a bundle.
//!
//! The two prefixes differ (no operation is named `MessageBundle/...`), so one signature is
//! never valid both ways. Both are plain Ed25519 over bytes, so bundle signatures batch-verify
//! with the rest. This module turns requests into [`SignatureCheck`]s, verifies one or a
//! batch, and signs (for builders and tests).

use ed25519_dalek::Signer;
pub use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use switchyard_proto::v1::{MessageBundle, MessageRequest};
use switchyard_proto::{CanonicalMessage, Signed};

pub use crate::error::AuthError;

/// The domain-separation prefix of what the signer of a bundle's request signs.
pub const BUNDLE_SIGNING_PREFIX: &[u8] = b"switchyard/v1/MessageBundle/";

/// How a request was signed: alone, or as one request of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Signed alone, valid only alone.
    Alone,
    /// Signed as request `index` of the bundle whose [`bundle_digest`] is `digest`.
    InBundle {
        /// The bundle's digest.
        digest: [u8; 32],
        /// The request's position in the bundle.
        index: usize,
    },
}

/// The digest a bundle's signers sign: BLAKE3 of the bundle's canonical bytes with every
/// request's `auth.signature` empty.
pub fn bundle_digest(bundle: &MessageBundle) -> [u8; 32] {
    let mut unsigned = bundle.clone();
    for request in &mut unsigned.requests {
        if let Some(auth) = request.auth_mut() {
            auth.signature.clear();
        }
    }
    *blake3::hash(&unsigned.to_canonical_bytes()).as_bytes()
}

/// The bytes the signer of request `index` of the bundle with `digest` signs on `network_id`.
pub fn bundle_signing_bytes(network_id: u32, digest: &[u8; 32], index: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(BUNDLE_SIGNING_PREFIX.len() + 4 + 32 + 4);
    bytes.extend_from_slice(BUNDLE_SIGNING_PREFIX);
    bytes.extend_from_slice(&network_id.to_be_bytes());
    bytes.extend_from_slice(digest);
    bytes.extend_from_slice(&u32::try_from(index).unwrap_or(u32::MAX).to_be_bytes());
    bytes
}

/// One signature ready to verify: key, signature and the exact bytes signed.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    /// Operation name, for errors.
    pub operation: &'static str,
    /// The signer's key.
    pub key: VerifyingKey,
    /// The signature.
    pub signature: Signature,
    /// The signed bytes.
    pub message: Vec<u8>,
    /// How the request was signed, for the error that names the binding that failed.
    pub binding: Binding,
    /// The request's own signed bytes when it is in a bundle (to tell a request signed alone
    /// from one signed for another bundle, once verification failed).
    alone: Option<Vec<u8>>,
}

impl SignatureCheck {
    /// Reads the key, signature and signed bytes of `request`, signed alone on `network_id`.
    pub fn of_request(request: &MessageRequest, network_id: u32) -> Result<Self, AuthError> {
        Self::bound(request, network_id, Binding::Alone)
    }

    /// Reads the key, signature and signed bytes of `request` signed as `binding` says.
    pub fn bound(
        request: &MessageRequest,
        network_id: u32,
        binding: Binding,
    ) -> Result<Self, AuthError> {
        let operation = request.signed().ok_or(AuthError::EmptyRequest)?;
        let name = operation.operation();
        let auth = operation
            .auth()
            .ok_or(AuthError::MissingAuth { operation: name })?;
        let key_bytes = <[u8; 32]>::try_from(auth.public_key.as_slice()).map_err(|_| {
            AuthError::BadPublicKey {
                operation: name,
                reason: format!("{} bytes, expected 32", auth.public_key.len()),
            }
        })?;
        let key = VerifyingKey::from_bytes(&key_bytes).map_err(|e| AuthError::BadPublicKey {
            operation: name,
            reason: e.to_string(),
        })?;
        if key.is_weak() {
            return Err(AuthError::BadPublicKey {
                operation: name,
                reason: "small-order key".into(),
            });
        }
        let signature_bytes = <[u8; 64]>::try_from(auth.signature.as_slice()).map_err(|_| {
            AuthError::BadSignatureLength {
                operation: name,
                len: auth.signature.len(),
            }
        })?;
        let (message, alone) = match binding {
            Binding::Alone => (operation.signing_bytes(network_id), None),
            Binding::InBundle { digest, index } => (
                bundle_signing_bytes(network_id, &digest, index),
                Some(operation.signing_bytes(network_id)),
            ),
        };
        Ok(Self {
            operation: name,
            key,
            signature: Signature::from_bytes(&signature_bytes),
            message,
            binding,
            alone,
        })
    }

    /// Verifies this one signature (strict verification); the error names the binding that
    /// failed.
    pub fn verify(&self) -> Result<(), AuthError> {
        if self
            .key
            .verify_strict(&self.message, &self.signature)
            .is_ok()
        {
            return Ok(());
        }
        let signer = hex::encode(self.key.as_bytes());
        Err(match self.binding {
            Binding::Alone => AuthError::InvalidSignature {
                operation: self.operation,
                signer,
            },
            Binding::InBundle { index, .. } => {
                let signed_alone = self
                    .alone
                    .as_ref()
                    .is_some_and(|alone| self.key.verify_strict(alone, &self.signature).is_ok());
                match signed_alone {
                    true => AuthError::SignedAlone {
                        operation: self.operation,
                        index,
                    },
                    false => AuthError::NotSignedForBundle {
                        operation: self.operation,
                        index,
                        signer,
                    },
                }
            }
        })
    }
}

/// Verifies the signature of `request`, sent alone, on `network_id`.
pub fn verify_request(request: &MessageRequest, network_id: u32) -> Result<(), AuthError> {
    SignatureCheck::of_request(request, network_id)?.verify()
}

/// Verifies every request's signature of `bundle` on `network_id`, each bound to the bundle.
pub fn verify_bundle(bundle: &MessageBundle, network_id: u32) -> Result<(), AuthError> {
    let digest = bundle_digest(bundle);
    for (index, request) in bundle.requests.iter().enumerate() {
        SignatureCheck::bound(request, network_id, Binding::InBundle { digest, index })?
            .verify()?;
    }
    Ok(())
}

/// Signs request `index` of the bundle with `digest` (see [`bundle_digest`]) on `network_id`:
/// the signature to put in that request's auth block.
pub fn sign_in_bundle(
    key: &SigningKey,
    network_id: u32,
    digest: &[u8; 32],
    index: usize,
) -> Signature {
    key.sign(&bundle_signing_bytes(network_id, digest, index))
}

/// Verifies many signatures at once (about twice the single rate). `true` when all are valid
/// (and when there are none); on `false` the caller verifies one by one to find the bad ones.
pub fn verify_batch<'a>(checks: impl IntoIterator<Item = &'a SignatureCheck>) -> bool {
    let mut messages: Vec<&[u8]> = Vec::new();
    let mut signatures: Vec<Signature> = Vec::new();
    let mut keys: Vec<VerifyingKey> = Vec::new();
    for check in checks {
        messages.push(&check.message);
        signatures.push(check.signature);
        keys.push(check.key);
    }
    messages.is_empty() || ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// Fills in `operation`'s auth block (signer key, `target` domain the operation is sent to, and
/// `nonce`) and signs it for `network_id`.
pub fn sign<T: Signed>(
    operation: &mut T,
    key: &SigningKey,
    target: &crate::Domain,
    nonce: u64,
    network_id: u32,
) {
    let auth = operation.auth_mut().get_or_insert_with(Default::default);
    auth.public_key = key.verifying_key().to_bytes().to_vec();
    auth.target = target.0.to_vec();
    auth.nonce = nonce;
    auth.signature.clear();
    let signature = key.sign(&operation.signing_bytes(network_id));
    if let Some(auth) = operation.auth_mut() {
        auth.signature = signature.to_bytes().to_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::v1;

    fn signed_transfer(key: &SigningKey) -> MessageRequest {
        let mut transfer = v1::Transaction {
            to: vec![2; 32],
            amount: Some(5u128.into()),
            ..Default::default()
        };
        sign(&mut transfer, key, &crate::domains::NATIVE_TOKEN, 1, 7);
        transfer.into()
    }

    #[test]
    fn a_signed_operation_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let request = signed_transfer(&key);
        assert_eq!(verify_request(&request, 7), Ok(()));
        assert!(
            matches!(
                verify_request(&request, 8),
                Err(AuthError::InvalidSignature { .. })
            ),
            "other network"
        );
        let mut tampered = request.clone();
        if let Some(v1::message_request::Request::Transaction(t)) = tampered.request.as_mut() {
            t.amount = Some(6u128.into());
        }
        assert!(matches!(
            verify_request(&tampered, 7),
            Err(AuthError::InvalidSignature { .. })
        ));
    }

    #[test]
    fn batches_accept_good_and_refuse_bad_signatures() {
        let good: Vec<_> = (1..5u8)
            .map(|n| {
                SignatureCheck::of_request(&signed_transfer(&SigningKey::from_bytes(&[n; 32])), 7)
            })
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(good.len(), 4);
        assert!(verify_batch(&good));
        let mut bad = good.clone();
        if let Some(first) = bad.first_mut() {
            first.message.push(0);
        }
        assert!(!verify_batch(&bad));
    }

    #[test]
    fn malformed_auth_blocks_are_named() {
        let empty = MessageRequest::default();
        assert_eq!(verify_request(&empty, 1), Err(AuthError::EmptyRequest));
        let no_auth: MessageRequest = v1::Transaction::default().into();
        assert_eq!(
            verify_request(&no_auth, 1),
            Err(AuthError::MissingAuth {
                operation: "Transaction"
            })
        );
        let short_key: MessageRequest = v1::Transaction {
            auth: Some(v1::Auth {
                public_key: vec![1; 31],
                ..Default::default()
            }),
            ..Default::default()
        }
        .into();
        assert!(matches!(
            verify_request(&short_key, 1),
            Err(AuthError::BadPublicKey { .. })
        ));
    }
}

#[cfg(test)]
mod bundle_vectors {
    use super::*;
    use switchyard_proto::v1;

    /// The bundle of the golden vectors: one transfer of 5 to `[2; 32]` by the key `[1; 32]`
    /// with nonce 1, sent to the native token, then one of 7 by the key `[3; 32]`; timestamp 42.
    fn bundle() -> MessageBundle {
        let request = |secret: u8, to: u8, amount: u128| -> MessageRequest {
            let key = SigningKey::from_bytes(&[secret; 32]);
            v1::Transaction {
                to: vec![to; 32],
                amount: Some(amount.into()),
                auth: Some(v1::Auth {
                    public_key: key.verifying_key().to_bytes().to_vec(),
                    nonce: 1,
                    signature: Vec::new(),
                    target: crate::domains::NATIVE_TOKEN.0.to_vec(),
                }),
                ..Default::default()
            }
            .into()
        };
        MessageBundle {
            requests: vec![request(1, 2, 5), request(3, 4, 7)],
            timestamp: 42,
        }
    }

    /// Golden vectors for another implementation: the unsigned bundle's canonical bytes
    /// (what the digest hashes), the digest, the bytes request 0 and 1 sign on network 7, and
    /// the signature the key `[1; 32]` makes over the first.
    #[test]
    fn golden_vectors_of_the_signed_bytes_of_a_bundle_request() {
        let bundle = bundle();
        let digest = bundle_digest(&bundle);
        assert_eq!(
            hex::encode(blake3::hash(&bundle.to_canonical_bytes()).as_bytes()),
            hex::encode(digest),
            "the digest hashes the canonical bytes of the unsigned bundle"
        );
        assert_eq!(
            hex::encode(digest),
            "5a0977966b9dcb8b2539e9e1c6c7e767bddcd0523e76411538ed617183d9eb4e"
        );
        assert_eq!(
            hex::encode(bundle_signing_bytes(7, &digest, 0)),
            concat!(
                "737769746368796172642f76312f4d65737361676542756e646c652f", // "switchyard/v1/MessageBundle/"
                "00000007",                                                 // network id
                "5a0977966b9dcb8b2539e9e1c6c7e767bddcd0523e76411538ed617183d9eb4e", // digest
                "00000000",                                                 // index
            )
        );
        assert!(hex::encode(bundle_signing_bytes(7, &digest, 1)).ends_with("00000001"));
        let key = SigningKey::from_bytes(&[1; 32]);
        assert_eq!(
            hex::encode(sign_in_bundle(&key, 7, &digest, 0).to_bytes()),
            "1dafecffd7ae32d139f2296c03fc7556833cb154b63fb47400b9f38f8dfe79e6\
             d6aeda0949bba36612cf2d75f715e57c04fc2e593e0fce330b891e13a8373903"
        );
    }

    #[test]
    fn a_bundle_signature_is_not_a_lone_signature_and_the_other_way_round() {
        let mut bundle = bundle();
        let digest = bundle_digest(&bundle);
        let key = SigningKey::from_bytes(&[1; 32]);
        let in_bundle = sign_in_bundle(&key, 7, &digest, 0).to_bytes().to_vec();
        bundle.requests[0].auth_mut().unwrap().signature = in_bundle;
        assert!(verify_request(&bundle.requests[0], 7).is_err());
        let mut alone = bundle.requests[0].clone();
        alone.auth_mut().unwrap().signature.clear();
        let unsigned_bytes = alone.signed().unwrap().signing_bytes(7);
        bundle.requests[0].auth_mut().unwrap().signature =
            key.sign(&unsigned_bytes).to_bytes().to_vec();
        let check = SignatureCheck::bound(
            &bundle.requests[0],
            7,
            Binding::InBundle { digest, index: 0 },
        )
        .unwrap();
        assert_eq!(
            check.verify(),
            Err(AuthError::SignedAlone {
                operation: "Transaction",
                index: 0
            })
        );
    }
}
