//! Which engine family handles an operation or a query: one table, keyed by the high byte of
//! the message's type tag (DESIGN §2's ranges).
//!
//! Adding an operation means adding it to its `.proto` file (with its tag in the family's
//! range) and, for a new family, one row here. The manager prices a message through this table
//! (the engine that owns the family's base domain prices it) and checks with it that a query
//! is sent to an engine of its own family.

use switchyard_proto::TypeTag;
use switchyard_proto::v1::MessageRequest;

use crate::Domain;
use crate::domains::{COMPUTE, GLOBAL, HYPERGRAPH, TOKEN};

/// One engine family: the tags whose high byte is `high_byte` belong to the engine that owns
/// `base_domain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The high byte of the family's type tags (`0x05` for `0x05xx`).
    pub high_byte: u8,
    /// The base domain of the engine that handles the family.
    pub base_domain: Domain,
    /// The family's name, the name its engine registers under.
    pub name: &'static str,
}

/// Every engine family.
pub const FAMILIES: [Family; 4] = [
    Family {
        high_byte: 0x03,
        base_domain: GLOBAL,
        name: "global",
    },
    Family {
        high_byte: 0x04,
        base_domain: HYPERGRAPH,
        name: "hypergraph",
    },
    Family {
        high_byte: 0x05,
        base_domain: TOKEN,
        name: "token",
    },
    Family {
        high_byte: 0x06,
        base_domain: COMPUTE,
        name: "compute",
    },
];

/// The family of a type tag, or `None` when no family claims its range.
///
/// ```
/// use switchyard_proto::{CanonicalMessage, v1};
/// use switchyard_router::{domains, families};
///
/// let family = families::of_tag(v1::Transaction::TAG).unwrap();
/// assert_eq!((family.name, family.base_domain), ("token", domains::TOKEN));
/// assert_eq!(families::of_tag(v1::FrameReceipt::TAG), None);
/// ```
pub fn of_tag(tag: TypeTag) -> Option<&'static Family> {
    let high = (tag.0 >> 8) as u8;
    if tag.0 >> 16 != 0 {
        return None;
    }
    FAMILIES.iter().find(|family| family.high_byte == high)
}

/// The family of the operation a request holds, or `None` for an empty request.
pub fn of_request(request: &MessageRequest) -> Option<&'static Family> {
    request.signed().and_then(|op| of_tag(op.tag()))
}

/// The family of the engine registered under `base_domain`, if it is a family's.
pub fn of_base_domain(base_domain: &Domain) -> Option<&'static Family> {
    FAMILIES
        .iter()
        .find(|family| family.base_domain == *base_domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::{CanonicalMessage, v1};

    #[test]
    fn every_operation_of_the_envelope_has_a_family() {
        let operations: Vec<MessageRequest> = vec![
            v1::ProverJoin::default().into(),
            v1::ProverKick::default().into(),
            v1::HypergraphDeploy::default().into(),
            v1::HyperedgeRemove::default().into(),
            v1::TokenDeploy::default().into(),
            v1::PendingTransaction::default().into(),
            v1::ComputeDeploy::default().into(),
            v1::CodeFinalize::default().into(),
        ];
        let names: Vec<&str> = operations
            .iter()
            .map(|op| of_request(op).map_or("none", |f| f.name))
            .collect();
        assert_eq!(
            names,
            [
                "global",
                "global",
                "hypergraph",
                "hypergraph",
                "token",
                "token",
                "compute",
                "compute"
            ]
        );
        assert_eq!(of_request(&MessageRequest::default()), None);
    }

    #[test]
    fn queries_belong_to_their_engine_and_other_tags_to_none() {
        assert_eq!(of_tag(v1::TokenQuery::TAG).map(|f| f.name), Some("token"));
        assert_eq!(of_tag(TypeTag(0x0901)), None);
        assert_eq!(of_tag(TypeTag(0x0105_0509)), None);
        assert_eq!(of_base_domain(&TOKEN).map(|f| f.high_byte), Some(0x05));
    }
}
