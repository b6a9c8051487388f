//! Reading a `MessageRequest` into a typed prover operation, with every shape check, and the
//! checks of the signatures an operation carries inside it (proof of possession, the frame
//! headers of kick evidence).
//!
//! `validate`, `access` and `apply` all go through [`parse`], and `validate` and `apply` both
//! run [`check_proofs`], so `apply` never trusts that `validate` ran.

use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::message_request::Request;
use switchyard_proto::v1::{FrameHeader, MessageRequest};
use switchyard_router::auth::{Signature, VerifyingKey};
use switchyard_router::domains::GLOBAL;
use switchyard_router::{Address, Call, EngineError, ExecutionContext, Key};

use crate::error::GlobalError;
use crate::record::Filter;
use crate::status::Operation;

/// The most filters one operation (a join, a leave, a genesis prover) may name.
pub const MAX_FILTERS_PER_OPERATION: usize = 16;

/// The domain-separation prefix of a proof of possession.
pub const POP_DOMAIN: &[u8] = b"switchyard/v1/ProverPop";

/// The bytes a prover signs to prove it holds its key: `"switchyard/v1/ProverPop"` followed
/// by its 32-byte public key.
///
/// ```
/// let bytes = switchyard_global::pop_message(&[7; 32]);
/// assert_eq!(bytes.len(), 23 + 32);
/// assert!(bytes.starts_with(b"switchyard/v1/ProverPop"));
/// ```
pub fn pop_message(prover: &Key) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(POP_DOMAIN.len() + prover.len());
    bytes.extend_from_slice(POP_DOMAIN);
    bytes.extend_from_slice(prover);
    bytes
}

/// The bytes a prover signs for a frame header: `"switchyard/v1/FrameHeader"`, `network_id`
/// (4 bytes, big-endian) and the canonical bytes of `header` with its signature empty.
pub fn frame_header_signing_bytes(network_id: u32, header: &FrameHeader) -> Vec<u8> {
    switchyard_proto::signing_bytes_for(
        FrameHeader::NAME,
        network_id,
        &unsigned_header(header).to_canonical_bytes(),
    )
}

fn unsigned_header(header: &FrameHeader) -> FrameHeader {
    FrameHeader {
        signature: Vec::new(),
        ..header.clone()
    }
}

/// The operation of a request, if it is a prover operation.
pub(crate) fn operation_of(request: &MessageRequest) -> Option<Operation> {
    Some(match request.request.as_ref()? {
        Request::ProverJoin(_) => Operation::Join,
        Request::ProverLeave(_) => Operation::Leave,
        Request::ProverPause(_) => Operation::Pause,
        Request::ProverResume(_) => Operation::Resume,
        Request::ProverConfirm(_) => Operation::Confirm,
        Request::ProverReject(_) => Operation::Reject,
        Request::ProverKick(_) => Operation::Kick,
        Request::ProverUpdate(_) => Operation::Update,
        _ => return None,
    })
}

/// A frame header of kick evidence, with its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) which: &'static str,
    pub(crate) header: FrameHeader,
    pub(crate) prover: Key,
    pub(crate) signature: [u8; 64],
}

/// What a prover operation does, with its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Join {
        filters: Vec<Filter>,
        proof: [u8; 64],
        delegate: Option<Address>,
    },
    /// Confirm, reject, leave, pause or resume: the filters named, or `None` for all of the
    /// prover's filters.
    Scoped {
        filters: Option<Vec<Filter>>,
    },
    Update {
        delegate: Address,
    },
    Kick {
        prover: Key,
        a: Box<Header>,
        b: Box<Header>,
    },
}

/// A checked prover operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Op {
    pub(crate) operation: Operation,
    pub(crate) signer: Key,
    pub(crate) nonce: u64,
    pub(crate) action: Action,
}

/// Reads `call` as a prover operation. Anything else is [`EngineError::Unsupported`]; a
/// prover operation of the wrong shape, or sent anywhere but the global domain, is a
/// [`GlobalError`] rejection.
pub(crate) fn parse(call: &Call<'_>) -> Result<Op, EngineError> {
    let Some(operation) = operation_of(call.request) else {
        return Err(EngineError::Unsupported {
            engine: crate::ENGINE_NAME,
            operation: call.operation(),
        });
    };
    parse_prover(call, operation)
        .map_err(|e| EngineError::rejected(crate::ENGINE_NAME, operation.name(), e))
}

fn parse_prover(call: &Call<'_>, operation: Operation) -> Result<Op, GlobalError> {
    let name = operation.name();
    if call.target != GLOBAL {
        return Err(GlobalError::WrongTarget {
            operation: name,
            target: call.target,
        });
    }
    let scoped = |filters: Option<Vec<Filter>>| Action::Scoped { filters };
    let action = match &call.request.request {
        Some(Request::ProverJoin(join)) => {
            let filters = filter_list(&join.filters)?;
            if filters.is_empty() {
                return Err(GlobalError::NoFilters);
            }
            let proof =
                <[u8; 64]>::try_from(join.proof_of_possession.as_slice()).map_err(|_| {
                    GlobalError::BadProofLength {
                        len: join.proof_of_possession.len(),
                    }
                })?;
            let delegate = if join.delegate_address.is_empty() {
                None
            } else {
                Some(delegate(&join.delegate_address)?)
            };
            Action::Join {
                filters,
                proof,
                delegate,
            }
        }
        Some(Request::ProverLeave(leave)) => {
            let filters = filter_list(&leave.filters)?;
            scoped((!filters.is_empty()).then_some(filters))
        }
        Some(Request::ProverPause(op)) => scoped(one_filter(&op.filter)?),
        Some(Request::ProverResume(op)) => scoped(one_filter(&op.filter)?),
        Some(Request::ProverConfirm(op)) => scoped(one_filter(&op.filter)?),
        Some(Request::ProverReject(op)) => scoped(one_filter(&op.filter)?),
        Some(Request::ProverUpdate(update)) => {
            if update.delegate_address.is_empty() {
                return Err(GlobalError::MissingField {
                    operation: name,
                    field: "delegate address",
                });
            }
            Action::Update {
                delegate: delegate(&update.delegate_address)?,
            }
        }
        Some(Request::ProverKick(kick)) => {
            let prover = key("kicked prover", &kick.kicked_prover)?;
            let a = header("a", kick.conflicting_a.as_ref())?;
            let b = header("b", kick.conflicting_b.as_ref())?;
            Action::Kick {
                prover,
                a: Box::new(a),
                b: Box::new(b),
            }
        }
        // `operation_of` admitted only the prover operations above.
        _ => {
            return Err(GlobalError::MissingField {
                operation: name,
                field: "operation",
            });
        }
    };
    Ok(Op {
        operation,
        signer: call.signer,
        nonce: call.nonce,
        action,
    })
}

/// A 32-byte key.
pub(crate) fn key(field: &'static str, bytes: &[u8]) -> Result<Key, GlobalError> {
    Key::try_from(bytes).map_err(|_| GlobalError::BadKeyLength {
        field,
        len: bytes.len(),
    })
}

fn delegate(bytes: &[u8]) -> Result<Address, GlobalError> {
    Address::from_slice(bytes).map_err(|_| GlobalError::BadDelegateLength { len: bytes.len() })
}

/// An empty field (all filters) or one filter.
fn one_filter(bytes: &[u8]) -> Result<Option<Vec<Filter>>, GlobalError> {
    if bytes.is_empty() {
        Ok(None)
    } else {
        Ok(Some(vec![key("filter", bytes)?]))
    }
}

/// A list of distinct filters, at most [`MAX_FILTERS_PER_OPERATION`], in the order given.
pub(crate) fn filter_list(list: &[Vec<u8>]) -> Result<Vec<Filter>, GlobalError> {
    if list.len() > MAX_FILTERS_PER_OPERATION {
        return Err(GlobalError::TooManyFilters {
            count: list.len(),
            limit: MAX_FILTERS_PER_OPERATION,
        });
    }
    let mut filters: Vec<Filter> = Vec::with_capacity(list.len());
    for bytes in list {
        let filter = key("filter", bytes)?;
        if filters.contains(&filter) {
            return Err(GlobalError::DuplicateFilter { filter });
        }
        filters.push(filter);
    }
    Ok(filters)
}

fn header(which: &'static str, header: Option<&FrameHeader>) -> Result<Header, GlobalError> {
    let header = header.ok_or(GlobalError::MissingHeader { which })?;
    let length = |field: &'static str, bytes: &[u8], expected: usize| {
        if bytes.len() == expected {
            Ok(())
        } else {
            Err(GlobalError::MalformedHeader {
                which,
                field,
                expected,
                len: bytes.len(),
            })
        }
    };
    length("parent hash", &header.parent_hash, 32)?;
    length("state root", &header.state_root, 32)?;
    length("messages root", &header.messages_root, 32)?;
    length("prover", &header.prover, 32)?;
    length("signature", &header.signature, 64)?;
    let prover = key("header prover", &header.prover)?;
    let signature = <[u8; 64]>::try_from(header.signature.as_slice()).map_err(|_| {
        GlobalError::MalformedHeader {
            which,
            field: "signature",
            expected: 64,
            len: header.signature.len(),
        }
    })?;
    Ok(Header {
        which,
        header: header.clone(),
        prover,
        signature,
    })
}

/// The verifying key of a prover key, refusing invalid and small-order keys.
pub(crate) fn verifying_key(prover: &Key) -> Result<VerifyingKey, GlobalError> {
    let key = VerifyingKey::from_bytes(prover).map_err(|e| GlobalError::BadProverKey {
        prover: *prover,
        reason: e.to_string(),
    })?;
    if key.is_weak() {
        return Err(GlobalError::BadProverKey {
            prover: *prover,
            reason: "small-order key".into(),
        });
    }
    Ok(key)
}

/// Verifies the signatures an operation carries: a join's proof of possession, a kick's
/// evidence (network, frame numbers, prover, difference, then both signatures).
pub(crate) fn check_proofs(ctx: &ExecutionContext, op: &Op) -> Result<(), GlobalError> {
    match &op.action {
        Action::Join { proof, .. } => {
            let key = verifying_key(&op.signer)?;
            key.verify_strict(&pop_message(&op.signer), &Signature::from_bytes(proof))
                .map_err(|_| GlobalError::InvalidProofOfPossession { prover: op.signer })
        }
        Action::Kick { prover, a, b } => check_evidence(ctx.network_id, prover, a, b),
        Action::Scoped { .. } | Action::Update { .. } => Ok(()),
    }
}

fn check_evidence(
    network_id: u32,
    kicked: &Key,
    a: &Header,
    b: &Header,
) -> Result<(), GlobalError> {
    for header in [a, b] {
        if header.header.network_id != network_id {
            return Err(GlobalError::WrongNetwork {
                which: header.which,
                found: header.header.network_id,
                expected: network_id,
            });
        }
    }
    if a.header.frame_number != b.header.frame_number {
        return Err(GlobalError::DifferentFrameNumbers {
            a: a.header.frame_number,
            b: b.header.frame_number,
        });
    }
    for header in [a, b] {
        if header.prover != *kicked {
            return Err(GlobalError::HeaderProverMismatch {
                which: header.which,
                header_prover: header.prover,
                kicked: *kicked,
            });
        }
    }
    if unsigned_header(&a.header) == unsigned_header(&b.header) {
        return Err(GlobalError::EqualHeaders);
    }
    let key = verifying_key(kicked)?;
    for header in [a, b] {
        key.verify_strict(
            &frame_header_signing_bytes(network_id, &header.header),
            &Signature::from_bytes(&header.signature),
        )
        .map_err(|_| GlobalError::BadHeaderSignature {
            which: header.which,
            prover: *kicked,
        })?;
    }
    Ok(())
}
