//! What a signer signs: the domain-separated bytes of DESIGN §2.
//!
//! The signed bytes of an operation are `"switchyard/v1/" + operation name`, the network id
//! (4 bytes, big-endian) and the operation's canonical bytes with `auth.signature` empty.
//! Verification lives with the code that holds keys (`switchyard-router`); this module only
//! says which bytes are covered, so that every crate agrees on them.

use crate::{CanonicalMessage, v1};

/// The domain-separation prefix shared by every signed operation.
pub const SIGNING_PREFIX: &[u8] = b"switchyard/v1/";

/// An operation that carries an [`v1::Auth`] block (signer, nonce, signature).
pub trait Signed: CanonicalMessage + Clone {
    /// The operation's auth block, `None` when absent from the message.
    fn auth(&self) -> Option<&v1::Auth>;
    /// Mutable access to the auth block, for builders.
    fn auth_mut(&mut self) -> &mut Option<v1::Auth>;

    /// The bytes the signer signs (see the module docs).
    fn signing_bytes(&self, network_id: u32) -> Vec<u8> {
        let mut unsigned = self.clone();
        if let Some(auth) = unsigned.auth_mut() {
            auth.signature.clear();
        }
        signing_bytes_for(Self::NAME, network_id, &unsigned.to_canonical_bytes())
    }
}

/// Assembles signed bytes from an operation name, a network id and canonical bytes.
pub fn signing_bytes_for(operation: &str, network_id: u32, canonical: &[u8]) -> Vec<u8> {
    let mut bytes =
        Vec::with_capacity(SIGNING_PREFIX.len() + operation.len() + 4 + canonical.len());
    bytes.extend_from_slice(SIGNING_PREFIX);
    bytes.extend_from_slice(operation.as_bytes());
    bytes.extend_from_slice(&network_id.to_be_bytes());
    bytes.extend_from_slice(canonical);
    bytes
}

/// Object-safe view of a [`Signed`] operation, as returned by [`v1::MessageRequest::signed`].
pub trait SignedRef: std::fmt::Debug + Send + Sync {
    /// The operation name, as in the `.proto` files (e.g. `"Transaction"`).
    fn operation(&self) -> &'static str;
    /// The operation's type tag; its high byte names the engine family (0x03 global,
    /// 0x04 hypergraph, 0x05 token, 0x06 compute).
    fn tag(&self) -> crate::TypeTag;
    /// The operation's auth block, `None` when absent.
    fn auth(&self) -> Option<&v1::Auth>;
    /// The bytes the signer signs.
    fn signing_bytes(&self, network_id: u32) -> Vec<u8>;
}

impl<T: Signed + std::fmt::Debug + Send + Sync> SignedRef for T {
    fn operation(&self) -> &'static str {
        T::NAME
    }
    fn tag(&self) -> crate::TypeTag {
        T::TAG
    }
    fn auth(&self) -> Option<&v1::Auth> {
        Signed::auth(self)
    }
    fn signing_bytes(&self, network_id: u32) -> Vec<u8> {
        Signed::signing_bytes(self, network_id)
    }
}

macro_rules! signed_operations {
    ($($variant:ident => $field:ident),* $(,)?) => {
        $(
            impl Signed for v1::$variant {
                fn auth(&self) -> Option<&v1::Auth> {
                    self.auth.as_ref()
                }
                fn auth_mut(&mut self) -> &mut Option<v1::Auth> {
                    &mut self.auth
                }
            }

            impl From<v1::$variant> for v1::MessageRequest {
                fn from(operation: v1::$variant) -> Self {
                    v1::MessageRequest { request: Some(v1::message_request::Request::$variant(Box::new(operation))) }
                }
            }
        )*

        impl crate::AnyMessage {
            /// Whether the message is a request or a bare operation (what `into_request` takes).
            pub fn is_operation(&self) -> bool {
                match self {
                    crate::AnyMessage::MessageRequest(_) => true,
                    $(crate::AnyMessage::$variant(_) => true,)*
                    _ => false,
                }
            }

            /// The message as a request when it is one, or an operation (wrapped in a
            /// request); `None` for a bundle or a message that is not an operation.
            pub fn into_request(self) -> Option<v1::MessageRequest> {
                match self {
                    crate::AnyMessage::MessageRequest(request) => Some(request),
                    $(crate::AnyMessage::$variant(op) => Some(op.into()),)*
                    _ => None,
                }
            }
        }

        impl v1::MessageRequest {
            /// The operation held, as a signed operation; `None` when the oneof is empty.
            pub fn signed(&self) -> Option<&dyn SignedRef> {
                use v1::message_request::Request;
                match self.request.as_ref()? {
                    $(Request::$variant(op) => Some(&**op),)*
                }
            }

            /// The auth block of the operation held, if any.
            pub fn auth(&self) -> Option<&v1::Auth> {
                self.signed().and_then(|op| op.auth())
            }

            /// The auth block of the operation held, to edit (builders sign through it).
            pub fn auth_mut(&mut self) -> Option<&mut v1::Auth> {
                use v1::message_request::Request;
                match self.request.as_mut()? {
                    $(Request::$variant(op) => op.auth.as_mut(),)*
                }
            }

            /// The operation name (e.g. `"Transaction"`), `"empty"` when the oneof is empty.
            pub fn operation(&self) -> &'static str {
                self.signed().map_or("empty", |op| op.operation())
            }
        }
    };
}

signed_operations! {
    ProverJoin => prover_join,
    ProverLeave => prover_leave,
    ProverPause => prover_pause,
    ProverResume => prover_resume,
    ProverConfirm => prover_confirm,
    ProverReject => prover_reject,
    ProverKick => prover_kick,
    ProverUpdate => prover_update,
    TokenDeploy => token_deploy,
    TokenUpdate => token_update,
    Transaction => transaction,
    PendingTransaction => pending_transaction,
    MintTransaction => mint_transaction,
    HypergraphDeploy => hypergraph_deploy,
    HypergraphUpdate => hypergraph_update,
    VertexAdd => vertex_add,
    VertexRemove => vertex_remove,
    HyperedgeAdd => hyperedge_add,
    HyperedgeRemove => hyperedge_remove,
    ComputeDeploy => compute_deploy,
    ComputeUpdate => compute_update,
    CodeDeploy => code_deploy,
    CodeExecute => code_execute,
    CodeFinalize => code_finalize,
}
