//! Why canonical bytes were refused.

use crate::TypeTag;

/// Result alias of this crate.
pub type Result<T, E = DecodeError> = std::result::Result<T, E>;

/// Every way canonical bytes can be wrong. Each variant names what was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer than the 4 bytes of a type tag.
    #[error("message of {len} bytes is too short to hold a 4-byte type tag")]
    MissingTag {
        /// Length of the input.
        len: usize,
    },
    /// The tag is not in the table of DESIGN §2.
    #[error("unknown type tag {tag}")]
    UnknownTag {
        /// The tag found.
        tag: TypeTag,
    },
    /// The tag is known but belongs to another message kind than the one asked for.
    #[error("type tag {found} ({found_name}) where {expected} ({expected_name}) was expected")]
    WrongTag {
        /// The tag of the kind asked for.
        expected: TypeTag,
        /// Name of the kind asked for.
        expected_name: &'static str,
        /// The tag found.
        found: TypeTag,
        /// Name of the kind found.
        found_name: &'static str,
    },
    /// The message is larger than the configured limit.
    #[error("message of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A bundle holds more requests than the configured limit.
    #[error("bundle of {count} requests exceeds the limit of {limit}")]
    TooManyRequests {
        /// Number of requests in the bundle.
        count: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not a protobuf encoding of the message.
    #[error("invalid protobuf for {message}: {reason}")]
    InvalidProtobuf {
        /// The message kind being decoded.
        message: &'static str,
        /// What the protobuf decoder reported.
        reason: String,
    },
    /// The protobuf decodes, but re-encoding it does not give the input back.
    #[error("non-canonical encoding of {message}: re-encoding differs from the input at byte {offset}")]
    NonCanonical {
        /// The message kind being decoded.
        message: &'static str,
        /// First byte (after the tag) where input and re-encoding differ.
        offset: usize,
    },
}
