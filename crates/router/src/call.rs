//! What an engine is handed for one request: the operation and who signed it.

use switchyard_proto::v1::MessageRequest;

use crate::auth::AuthError;
use crate::{Domain, Key};

/// One request as an engine sees it: the operation, the domain it was sent to and the signer
/// that the manager authenticated.
///
/// The manager verifies every signature before it builds a `Call` (DESIGN §4), so engines never
/// verify signatures and never branch on whether someone did: `signer` is the authenticated
/// signer. Tests and tools build calls with [`Call::from_request`] for requests they trust.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The request.
    pub request: &'a MessageRequest,
    /// The domain the request is sent to: the target its auth block signs.
    pub target: Domain,
    /// The authenticated signer's public key.
    pub signer: Key,
    /// The nonce the request carries (already checked against the signer's stored nonce when
    /// `apply` runs).
    pub nonce: u64,
}

impl<'a> Call<'a> {
    /// Reads the signer, nonce and signed target of `request` from its auth block, **without
    /// verifying the signature**: for the manager once it verified it, and for tests.
    ///
    /// ```
    /// use switchyard_router::{Call, auth::AuthError};
    /// use switchyard_proto::v1;
    ///
    /// let request: v1::MessageRequest = v1::Transaction {
    ///     auth: Some(v1::Auth { public_key: vec![1; 32], nonce: 4, target: vec![9; 32], ..Default::default() }),
    ///     ..Default::default()
    /// }.into();
    /// let call = Call::from_request(&request)?;
    /// assert_eq!((call.signer, call.nonce, call.target.0), ([1; 32], 4, [9; 32]));
    /// assert!(matches!(
    ///     Call::from_request(&v1::MessageRequest::default()),
    ///     Err(AuthError::EmptyRequest)
    /// ));
    /// # Ok::<(), AuthError>(())
    /// ```
    pub fn from_request(request: &'a MessageRequest) -> Result<Self, AuthError> {
        let op = request.signed().ok_or(AuthError::EmptyRequest)?;
        let operation = op.operation();
        let auth = op.auth().ok_or(AuthError::MissingAuth { operation })?;
        let signer = <[u8; 32]>::try_from(auth.public_key.as_slice()).map_err(|_| {
            AuthError::BadPublicKey {
                operation,
                reason: format!("{} bytes, expected 32", auth.public_key.len()),
            }
        })?;
        let target = Domain::from_slice(&auth.target).map_err(|e| AuthError::BadTarget {
            operation,
            reason: e.to_string(),
        })?;
        Ok(Self {
            request,
            target,
            signer,
            nonce: auth.nonce,
        })
    }

    /// The operation's name (`"Transaction"`), for errors and metrics.
    pub fn operation(&self) -> &'static str {
        self.request.operation()
    }
}
