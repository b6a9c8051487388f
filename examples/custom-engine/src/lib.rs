//! An engine written outside switchyard's engine crates: a **notary**. Anyone may notarize a
//! document by recording its 32-byte hash under a 32-byte document id, once: the first
//! notarization of an id stands, a second one fails. It shows everything a new engine needs
//! and nothing more: the engine contract of `switchyard-router`, the wire types of
//! `switchyard-proto`, and a base domain of its own.
//!
//! The notary reuses an existing wire operation instead of adding one to `proto/` (which a
//! crate outside the workspace cannot do): a `VertexAdd` **sent to the notary's domain**
//! ([`NOTARY`]) carries the document id as its key and the document hash as its data. The
//! manager routes by the target a request signs, so the same message type reaches the
//! hypergraph engine at a hypergraph's domain and the notary at [`NOTARY`].
//!
//! ```
//! use std::sync::Arc;
//! use switchyard_example_custom_engine::{NOTARY, NotaryEngine};
//! use switchyard_router::{MemoryView, RouteTable};
//!
//! let table = RouteTable::builder().engine(Arc::new(NotaryEngine)).build()?;
//! assert_eq!(table.resolve(&NOTARY, &MemoryView::default())?.name(), "notary");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use switchyard_proto::v1::message_request::Request;
use switchyard_proto::v1::{Capability, MessageRequest, VertexAdd};
use switchyard_router::{
    AccessSet, Address, BigUint, Call, Domain, Engine, EngineError, ExecutionContext, Key, Output,
    StateRead, StateWrite,
};

/// The notary's base domain: BLAKE3 of `"example/notary"` (the tests check it).
pub const NOTARY: Domain = Domain([
    0x88, 0xd7, 0xdf, 0xdc, 0xb7, 0x07, 0xdd, 0xe8, 0x84, 0x35, 0xb6, 0x74, 0x27, 0x53, 0xc2, 0xf3,
    0xd4, 0x65, 0x2a, 0xcc, 0x27, 0xfd, 0x6a, 0x7a, 0x88, 0x17, 0xd3, 0xb0, 0x97, 0xb5, 0xc2, 0xeb,
]);

/// What each notarization costs: a flat fee in units (the fee is this x the multiplier).
pub const NOTARIZE_COST: u64 = 500;

/// Why the notary refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotaryError {
    /// The notary handles `VertexAdd` only.
    #[error("the notary handles VertexAdd only, not {operation}")]
    WrongOperation {
        /// The operation sent.
        operation: &'static str,
    },
    /// A key or hash that is not 32 bytes.
    #[error("{field} must be 32 bytes, got {len}")]
    BadLength {
        /// "document id" or "document hash".
        field: &'static str,
        /// Length found.
        len: usize,
    },
    /// The document was notarized already.
    #[error("document {} was notarized already", hex::encode(.id))]
    AlreadyNotarized {
        /// The document id.
        id: Key,
    },
}

/// The notary engine: stateless, `Send + Sync`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotaryEngine;

/// A checked notarization.
struct Notarize {
    id: Key,
    hash: Key,
}

fn parse(request: &MessageRequest) -> Result<Notarize, EngineError> {
    let refuse = |error| EngineError::rejected("notary", request.operation(), error);
    let Some(Request::VertexAdd(op)) = request.request.as_ref() else {
        return Err(refuse(NotaryError::WrongOperation {
            operation: request.operation(),
        }));
    };
    let VertexAdd { key, data, .. } = op.as_ref();
    let key32 = |field, bytes: &[u8]| {
        Key::try_from(bytes).map_err(|_| {
            refuse(NotaryError::BadLength {
                field,
                len: bytes.len(),
            })
        })
    };
    Ok(Notarize {
        id: key32("document id", key)?,
        hash: key32("document hash", data)?,
    })
}

impl Engine for NotaryEngine {
    fn name(&self) -> &'static str {
        "notary"
    }

    fn base_domains(&self) -> Vec<Domain> {
        vec![NOTARY]
    }

    fn capabilities(&self) -> Vec<Capability> {
        vec![Capability {
            protocol: "example/notary".into(),
            version: 1,
            metadata: Vec::new(),
        }]
    }

    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
        parse(request).map(|_| BigUint::from(NOTARIZE_COST))
    }

    fn validate(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<(), EngineError> {
        parse(call.request).map(|_| ())
    }

    fn access(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError> {
        let op = parse(call.request)?;
        let mut access = AccessSet::new();
        access.write(Address::new(NOTARY, op.id));
        Ok(access)
    }

    fn apply(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError> {
        let op = parse(call.request)?;
        let address = Address::new(NOTARY, op.id);
        if state.get(&address)?.is_some() {
            return Err(EngineError::rejected(
                "notary",
                call.operation(),
                NotaryError::AlreadyNotarized { id: op.id },
            ));
        }
        // The record: the notary (the authenticated signer), then the hash.
        let mut record = call.signer.to_vec();
        record.extend_from_slice(&op.hash);
        state.put(address, record)?;
        Ok(Output::none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_domain_is_the_hash_it_names() {
        assert_eq!(NOTARY.0, *blake3::hash(b"example/notary").as_bytes());
    }
}
