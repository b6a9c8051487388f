//! The decoder targets: the strict canonical codec of `switchyard-proto`, and the stored-record
//! decoders of the engines and the state.

use std::fmt::Debug;

use switchyard_proto::{AnyMessage, CanonicalMessage, DecodeError, Limits, decode_any, v1};
use switchyard_router::fees::AccountRecord;
use switchyard_router::{Call, MetadataRecord};

/// Calls `$callback!` with every top-level message type (the tag table of `switchyard-proto`).
macro_rules! each_message {
    ($callback:ident) => {
        $callback!(
            MessageBundle,
            MessageRequest,
            ProverJoin,
            ProverLeave,
            ProverPause,
            ProverResume,
            ProverConfirm,
            ProverReject,
            ProverKick,
            ProverUpdate,
            FrameHeader,
            HypergraphConfig,
            HypergraphDeploy,
            HypergraphUpdate,
            VertexAdd,
            VertexRemove,
            HyperedgeAdd,
            HyperedgeRemove,
            TokenConfig,
            TokenDeploy,
            TokenUpdate,
            Transaction,
            PendingTransaction,
            MintTransaction,
            ComputeDeploy,
            ComputeUpdate,
            CodeDeploy,
            CodeExecute,
            CodeFinalize,
            TokenQuery,
            TokenQueryResponse,
            ComputeQuery,
            ComputeQueryResponse,
            GlobalQuery,
            GlobalQueryResponse,
            HypergraphQuery,
            HypergraphQueryResponse,
            FrameReceipt
        )
    };
}

/// `decode_any` and every message type's strict decoder on the same bytes: no panic; whatever
/// decodes re-encodes to exactly the input; exactly the type the tag names decodes, to the
/// value `decode_any` gives; tighter limits never accept more; an accepted operation wrapped
/// in a request is an accepted request.
pub fn target_decode(data: &[u8]) {
    let any = decode_any(data);
    if let Ok(message) = &any {
        assert_eq!(
            message.to_canonical_bytes(),
            data,
            "decode_any accepted bytes that do not re-encode exactly"
        );
        assert!(switchyard_proto::tag_name(message.tag()).is_some());
        request_views(message, data.len());
    }
    let mut accepted = 0;
    macro_rules! check_all {
        ($($message:ident),*) => {
            $(accepted += check_one::<v1::$message>(data, &any, |m| match m {
                AnyMessage::$message(inner) => Some(inner),
                _ => None,
            });)*
        };
    }
    each_message!(check_all);
    assert_eq!(
        accepted,
        usize::from(any.is_ok()),
        "the typed decoders and decode_any disagree"
    );
    let tight = Limits {
        max_message_bytes: 4096,
        max_bundle_requests: 2,
        max_nesting_depth: 3,
    };
    if let Ok(message) = switchyard_proto::decode_any_with(data, &tight) {
        assert_eq!(
            Some(&message),
            any.as_ref().ok(),
            "tighter limits accepted what the defaults refuse"
        );
    }
}

/// One type's strict decoder against `decode_any`'s answer; 1 when it accepted the bytes.
fn check_one<T>(
    data: &[u8],
    any: &Result<AnyMessage, DecodeError>,
    pick: impl Fn(&AnyMessage) -> Option<&T>,
) -> usize
where
    T: CanonicalMessage + PartialEq + Debug,
{
    match T::from_canonical_bytes(data) {
        Ok(value) => {
            assert_eq!(
                value.to_canonical_bytes(),
                data,
                "{} accepted bytes that do not re-encode exactly",
                T::NAME
            );
            let held = any.as_ref().ok().and_then(&pick);
            assert_eq!(
                held,
                Some(&value),
                "{} decoded what decode_any did not decode as one",
                T::NAME
            );
            1
        }
        Err(_) => {
            assert!(
                any.as_ref().ok().and_then(&pick).is_none(),
                "decode_any decoded a {} that its own decoder refuses",
                T::NAME
            );
            0
        }
    }
}

/// The request views of a decoded message must not panic, and an operation wrapped in a
/// request must decode as a request.
fn request_views(message: &AnyMessage, len: usize) {
    let _ = message.is_operation();
    if let AnyMessage::MessageBundle(bundle) = message {
        for request in &bundle.requests {
            let _ = Call::from_request(request);
        }
    }
    let Some(request) = message.clone().into_request() else {
        return;
    };
    if let Some(signed) = request.signed() {
        let _ = signed.operation();
        let _ = signed.auth();
    }
    let _ = Call::from_request(&request);
    // Wrapping adds a few bytes: stay clear of the size limit.
    if len < Limits::default().max_message_bytes / 2 {
        let bytes = request.to_canonical_bytes();
        assert_eq!(
            v1::MessageRequest::from_canonical_bytes(&bytes).as_ref(),
            Ok(&request),
            "an accepted operation wrapped in a request is refused"
        );
    }
}

/// The stored-record decoders (first byte: which one; the rest: the stored bytes): no panic;
/// a decoded record re-encodes to bytes that decode to the same record, and the fixed layouts
/// (account, metadata, lattice) re-encode to exactly the input.
pub fn target_records(data: &[u8]) {
    let Some((which, bytes)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            if let Ok(record) = AccountRecord::decode(bytes) {
                assert_eq!(record.encode(), bytes, "account record");
            }
        }
        1 => {
            if let Ok(record) = MetadataRecord::decode(bytes) {
                assert_eq!(record.encode(), bytes, "metadata record");
                assert_eq!(
                    MetadataRecord::type_domain_of(bytes).ok(),
                    Some(record.type_domain)
                );
            }
        }
        2 => {
            if let Ok(record) = switchyard_global::ProverRecord::decode(bytes) {
                let again = switchyard_global::ProverRecord::decode(&record.encode());
                assert_eq!(again.ok(), Some(record), "prover record");
            }
        }
        3 => {
            if let Ok(config) = switchyard_global::RegistryConfig::decode(bytes) {
                let again = switchyard_global::RegistryConfig::decode(&config.encode());
                assert_eq!(again.ok(), Some(config), "registry config");
            }
        }
        4 => {
            if let Ok(escrow) = switchyard_token::Escrow::decode(bytes) {
                let again = switchyard_token::Escrow::decode(&escrow.encode());
                assert_eq!(again.ok(), Some(escrow), "escrow record");
            }
        }
        _ => {
            if let Ok(lattice) = switchyard_state::Lattice::from_bytes(bytes) {
                assert_eq!(lattice.to_bytes(), bytes, "lattice record");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The list of `each_message!` is a copy of the decoder's table (which exports no list):
    /// a 4-byte input, an empty body, decodes exactly when its tag is in the table, so
    /// scanning every tag finds the table, and the copy cannot miss a type.
    #[test]
    fn every_type_of_the_tag_table_is_fuzzed() {
        let mut listed = BTreeSet::new();
        macro_rules! tags {
            ($($message:ident),*) => {
                $(listed.insert(<v1::$message as CanonicalMessage>::TAG);)*
            };
        }
        each_message!(tags);
        let table: BTreeSet<_> = (0..=0xffff_u32)
            .filter_map(|tag| decode_any(&tag.to_be_bytes()).ok().map(|m| m.tag()))
            .collect();
        assert_eq!(listed, table);
    }
}
