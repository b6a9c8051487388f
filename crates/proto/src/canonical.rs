//! The canonical codec: type tag + protobuf, with strict decoding.
//!
//! Decoding canonical bytes runs these checks in this order, and stops at the first failure,
//! cheapest and most basic first, so the error names the most fundamental fault:
//!
//! 1. the type tag: present ([`DecodeError::MissingTag`]), known ([`DecodeError::UnknownTag`]),
//!    and the one asked for ([`DecodeError::WrongTag`]; [`crate::decode_any`] takes any);
//! 2. the size limit on the whole input, tag included ([`DecodeError::TooLarge`]);
//! 3. one pass over the protobuf wire format against the schema, which names unknown,
//!    duplicate and out-of-order fields, non-minimal or overlong varints, truncations, trailing
//!    bytes, wrong wire types and too-deep nesting (see `schema.rs` for the exact rules);
//! 4. for a [`v1::MessageBundle`], its request count ([`DecodeError::TooManyRequests`]),
//!    counted on the bytes so that an oversized bundle is refused before it is decoded;
//! 5. prost's decoding, for what only it checks, such as UTF-8 in strings
//!    ([`DecodeError::InvalidProtobuf`]);
//! 6. limits on the decoded value ([`CanonicalMessage::check_limits`]);
//! 7. re-encoding the value, which must give back exactly the input
//!    ([`DecodeError::NonCanonical`]): the catch-all for a default value written explicitly,
//!    unpacked repeated scalars, two members of one oneof, and the like.

use prost::Message;

use crate::tag::check_tag;
use crate::{DecodeError, Limits, Result, TypeTag, v1};

/// A top-level wire type: it has a [`TypeTag`] and one canonical encoding.
pub trait CanonicalMessage: Message + Default + Sized {
    /// The type tag that opens this message's canonical bytes.
    const TAG: TypeTag;
    /// The message name, as in the `.proto` files.
    const NAME: &'static str;

    /// The canonical bytes: the tag, big-endian, then the protobuf encoding.
    fn to_canonical_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(4 + self.encoded_len());
        bytes.extend_from_slice(&Self::TAG.to_be_bytes());
        self.encode_raw(&mut bytes);
        bytes
    }

    /// Decodes canonical bytes with the default [`Limits`].
    fn from_canonical_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_canonical_bytes_with(bytes, &Limits::default())
    }

    /// Decodes canonical bytes strictly under the given limits.
    fn from_canonical_bytes_with(bytes: &[u8], limits: &Limits) -> Result<Self> {
        let body = check_tag(bytes, Some(Self::TAG), limits)?;
        decode_body::<Self>(body, limits)
    }

    /// Checks limits that depend on the decoded value (e.g. a bundle's request count).
    fn check_limits(&self, _limits: &Limits) -> Result<()> {
        Ok(())
    }
}

/// Decodes the protobuf body of a message whose tag and size were already checked (steps 3 to 7
/// of the module docs).
pub(crate) fn decode_body<M: CanonicalMessage>(body: &[u8], limits: &Limits) -> Result<M> {
    crate::schema::check_wire(M::TAG, body, limits.max_nesting_depth)?;
    if M::TAG == <v1::MessageBundle as CanonicalMessage>::TAG {
        // Field 1 of MessageBundle is `repeated MessageRequest requests`.
        let count = crate::schema::count_field(body, 1);
        check_bundle_count(count, limits)?;
    }
    let value = M::decode(body).map_err(|e| DecodeError::InvalidProtobuf {
        message: M::NAME,
        reason: e.to_string(),
    })?;
    value.check_limits(limits)?;
    let again = value.encode_to_vec();
    if again != body {
        let offset = again
            .iter()
            .zip(body)
            .position(|(a, b)| a != b)
            .unwrap_or(again.len().min(body.len()));
        return Err(DecodeError::NonCanonical {
            message: M::NAME,
            offset,
        });
    }
    Ok(value)
}

fn check_bundle_count(count: usize, limits: &Limits) -> Result<()> {
    if count > limits.max_bundle_requests {
        return Err(DecodeError::TooManyRequests {
            count,
            limit: limits.max_bundle_requests,
        });
    }
    Ok(())
}

impl CanonicalMessage for v1::MessageBundle {
    const TAG: TypeTag = TypeTag(0x0312);
    const NAME: &'static str = "MessageBundle";

    fn check_limits(&self, limits: &Limits) -> Result<()> {
        check_bundle_count(self.requests.len(), limits)
    }
}
