//! The canonical codec: type tag + protobuf, with strict decoding.

use prost::Message;

use crate::{DecodeError, Result, TypeTag, v1};

/// Size limits applied while decoding (DESIGN §2). Over a limit is an error, never a truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted message, tag included. Default: 1 MiB.
    pub max_message_bytes: usize,
    /// Most requests a bundle may hold. Default: 256.
    pub max_bundle_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_message_bytes: 1 << 20, max_bundle_requests: 256 }
    }
}

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
        let body = crate::any::check_tag(bytes, Some(Self::TAG), limits)?;
        decode_body::<Self>(body, limits)
    }

    /// Checks limits that depend on the decoded value (e.g. a bundle's request count).
    fn check_limits(&self, _limits: &Limits) -> Result<()> {
        Ok(())
    }
}

/// Decodes the protobuf body of a message whose tag was already checked.
pub(crate) fn decode_body<M: CanonicalMessage>(body: &[u8], limits: &Limits) -> Result<M> {
    crate::schema::check_wire(M::NAME, body)?;
    let value = M::decode(body)
        .map_err(|e| DecodeError::InvalidProtobuf { message: M::NAME, reason: e.to_string() })?;
    value.check_limits(limits)?;
    let again = value.encode_to_vec();
    if again != body {
        let offset = again.iter().zip(body).position(|(a, b)| a != b).unwrap_or(again.len().min(body.len()));
        return Err(DecodeError::NonCanonical { message: M::NAME, offset });
    }
    Ok(value)
}

impl CanonicalMessage for v1::MessageBundle {
    const TAG: TypeTag = TypeTag(0x0312);
    const NAME: &'static str = "MessageBundle";

    fn check_limits(&self, limits: &Limits) -> Result<()> {
        if self.requests.len() > limits.max_bundle_requests {
            return Err(DecodeError::TooManyRequests { count: self.requests.len(), limit: limits.max_bundle_requests });
        }
        Ok(())
    }
}
