//! Why canonical bytes were refused.
//!
//! Every offset in a [`DecodeError`] counts bytes from the start of the protobuf body, that is
//! the canonical bytes after their 4-byte type tag; message names are the `.proto` names without
//! the package (`"Auth"`, `"PendingTransaction.Create"`), naming the innermost message walked.

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
    /// A field key whose field number the message's schema does not have.
    #[error("unknown field {field} in {message} at byte {offset}")]
    UnknownField {
        /// The message (possibly nested) holding the field, without its package.
        message: &'static str,
        /// The field number found.
        field: u64,
        /// Offset of the field's key in the protobuf body.
        offset: usize,
    },
    /// A non-repeated field appears a second time, right after itself.
    #[error("duplicate field {field} in {message} at byte {offset}")]
    DuplicateField {
        /// The message (possibly nested) holding the field, without its package.
        message: &'static str,
        /// The field number repeated.
        field: u32,
        /// Offset of the second occurrence's key in the protobuf body.
        offset: usize,
    },
    /// A field follows one with a higher field number; canonical fields ascend.
    #[error(
        "field {field} after field {previous} in {message} at byte {offset}: fields must ascend"
    )]
    FieldOutOfOrder {
        /// The message (possibly nested) holding the field, without its package.
        message: &'static str,
        /// The field number found.
        field: u32,
        /// The higher field number that came before it.
        previous: u32,
        /// Offset of the field's key in the protobuf body.
        offset: usize,
    },
    /// A varint (key, length or value) is longer than needed: it ends in a `0x00` byte.
    #[error("non-minimal varint in {message} at byte {offset}")]
    NonMinimalVarint {
        /// The message (possibly nested) being walked, without its package.
        message: &'static str,
        /// Offset of the varint's first byte in the protobuf body.
        offset: usize,
    },
    /// A varint (key, length or value) does not fit in 64 bits.
    #[error("varint wider than 64 bits in {message} at byte {offset}")]
    VarintOverflow {
        /// The message (possibly nested) being walked, without its package.
        message: &'static str,
        /// Offset of the varint's first byte in the protobuf body.
        offset: usize,
    },
    /// A key, varint, fixed-width value or length-delimited value runs past the end of its
    /// message; for a length-delimited value the offset is that of its length prefix.
    #[error("truncated {message}: the item at byte {offset} runs past the end")]
    Truncated {
        /// The message (possibly nested) being walked, without its package.
        message: &'static str,
        /// Offset of the item that runs past the end, in the protobuf body.
        offset: usize,
    },
    /// Bytes after the last field that cannot start a field: a key with field number 0 (for
    /// instance zero padding), which protobuf reserves and never writes.
    #[error("trailing bytes in {message} at byte {offset}: a key with field number 0")]
    TrailingBytes {
        /// The message (possibly nested) being walked, without its package.
        message: &'static str,
        /// Offset of the key with field number 0 in the protobuf body.
        offset: usize,
    },
    /// A known field carries a wire type its type never uses.
    #[error(
        "field {field} in {message} at byte {offset} has wire type {found}, expected {expected}"
    )]
    WrongWireType {
        /// The message (possibly nested) holding the field, without its package.
        message: &'static str,
        /// The field number.
        field: u32,
        /// The wire type of the field's canonical encoding.
        expected: u8,
        /// The wire type found.
        found: u8,
        /// Offset of the field's key in the protobuf body.
        offset: usize,
    },
    /// Messages nest deeper than the configured limit.
    #[error("message {message} at byte {offset} is nested deeper than the limit of {limit}")]
    TooDeep {
        /// The nested message that would exceed the limit, without its package.
        message: &'static str,
        /// The limit in force (the top-level message is depth 0).
        limit: usize,
        /// Offset of the nested message's length prefix in the protobuf body.
        offset: usize,
    },
    /// The schema embedded at build time (`FILE_DESCRIPTOR_SET`) cannot be used: a corrupt build.
    #[error("the embedded protobuf schema is unusable: {reason}")]
    Schema {
        /// What is wrong with it.
        reason: String,
    },
    /// The bytes are not a protobuf encoding of the message.
    #[error("invalid protobuf for {message}: {reason}")]
    InvalidProtobuf {
        /// The message kind being decoded.
        message: &'static str,
        /// What the protobuf decoder reported.
        reason: String,
    },
    /// The protobuf decodes, but re-encoding it does not give the input back (for instance a
    /// default value written explicitly, or two members of one oneof).
    #[error(
        "non-canonical encoding of {message}: re-encoding differs from the input at byte {offset}"
    )]
    NonCanonical {
        /// The message kind being decoded.
        message: &'static str,
        /// First byte of the protobuf body where input and re-encoding differ.
        offset: usize,
    },
}

impl DecodeError {
    /// Whether the error is this build's fault rather than the input's: the embedded schema is
    /// unusable ([`DecodeError::Schema`]), so every message would fail alike. Every other
    /// variant means the bytes themselves are malformed or over a limit.
    pub fn is_internal(&self) -> bool {
        matches!(self, DecodeError::Schema { .. })
    }
}
