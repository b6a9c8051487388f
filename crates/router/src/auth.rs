//! Ed25519 signatures of user operations (DESIGN §2).
//!
//! The bytes covered are given by [`switchyard_proto::Signed::signing_bytes`]; this module
//! turns an operation into a [`SignatureCheck`], verifies one or a batch, and signs (for
//! builders and tests).

use ed25519_dalek::Signer;
pub use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use switchyard_proto::Signed;
use switchyard_proto::v1::MessageRequest;

pub use crate::error::AuthError;

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
}

impl SignatureCheck {
    /// Reads the key, signature and signed bytes of `request` on `network_id`.
    pub fn of_request(request: &MessageRequest, network_id: u32) -> Result<Self, AuthError> {
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
        Ok(Self {
            operation: name,
            key,
            signature: Signature::from_bytes(&signature_bytes),
            message: operation.signing_bytes(network_id),
        })
    }

    /// Verifies this one signature (strict verification).
    pub fn verify(&self) -> Result<(), AuthError> {
        self.key
            .verify_strict(&self.message, &self.signature)
            .map_err(|_| AuthError::InvalidSignature {
                operation: self.operation,
                signer: hex::encode(self.key.as_bytes()),
            })
    }
}

/// Verifies the signature of `request` on `network_id`.
pub fn verify_request(request: &MessageRequest, network_id: u32) -> Result<(), AuthError> {
    SignatureCheck::of_request(request, network_id)?.verify()
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
