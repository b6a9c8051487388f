//! Decoding any top-level message by its tag.

use crate::canonical::decode_body;
use crate::{CanonicalMessage, DecodeError, Limits, Result, TypeTag, v1};

macro_rules! tagged_messages {
    ($($variant:ident = $tag:literal),* $(,)?) => {
        $(
            impl CanonicalMessage for v1::$variant {
                const TAG: TypeTag = TypeTag($tag);
                const NAME: &'static str = stringify!($variant);
            }
        )*

        /// Any top-level message, as decoded by [`decode_any`].
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        #[non_exhaustive]
        pub enum AnyMessage {
            /// A bundle of requests.
            MessageBundle(v1::MessageBundle),
            $(
                #[doc = concat!("A `", stringify!($variant), "`.")]
                $variant(v1::$variant),
            )*
        }

        impl AnyMessage {
            /// The type tag of the message held.
            pub fn tag(&self) -> TypeTag {
                match self {
                    AnyMessage::MessageBundle(_) => <v1::MessageBundle as CanonicalMessage>::TAG,
                    $(AnyMessage::$variant(_) => <v1::$variant as CanonicalMessage>::TAG,)*
                }
            }

            /// The canonical bytes of the message held.
            pub fn to_canonical_bytes(&self) -> Vec<u8> {
                match self {
                    AnyMessage::MessageBundle(m) => m.to_canonical_bytes(),
                    $(AnyMessage::$variant(m) => m.to_canonical_bytes(),)*
                }
            }
        }

        /// Every top-level message kind: its tag and its name in `proto/`.
        pub(crate) const TAGGED: &[(TypeTag, &str)] = &[
            (TypeTag(0x0312), "MessageBundle"),
            $((TypeTag($tag), stringify!($variant)),)*
        ];

        /// The name of the message kind a tag stands for, or `None` for an unknown tag.
        pub fn tag_name(tag: TypeTag) -> Option<&'static str> {
            match tag.0 {
                0x0312 => Some("MessageBundle"),
                $($tag => Some(stringify!($variant)),)*
                _ => None,
            }
        }

        /// Decodes any top-level message by its tag, under the given limits.
        pub fn decode_any_with(bytes: &[u8], limits: &Limits) -> Result<AnyMessage> {
            let body = check_tag(bytes, None, limits)?;
            let tag = read_tag(bytes)?;
            match tag.0 {
                0x0312 => decode_body(body, limits).map(AnyMessage::MessageBundle),
                $($tag => decode_body(body, limits).map(AnyMessage::$variant),)*
                _ => Err(DecodeError::UnknownTag { tag }),
            }
        }
    };
}

tagged_messages! {
    MessageRequest = 0x0311,
    ProverJoin = 0x0301,
    ProverLeave = 0x0302,
    ProverPause = 0x0303,
    ProverResume = 0x0304,
    ProverConfirm = 0x0305,
    ProverReject = 0x0306,
    ProverKick = 0x0307,
    ProverUpdate = 0x0308,
    FrameHeader = 0x0309,
    HypergraphConfig = 0x0401,
    HypergraphDeploy = 0x0402,
    HypergraphUpdate = 0x0403,
    VertexAdd = 0x0404,
    VertexRemove = 0x0405,
    HyperedgeAdd = 0x0406,
    HyperedgeRemove = 0x0407,
    TokenConfig = 0x0503,
    TokenDeploy = 0x0504,
    TokenUpdate = 0x0505,
    Transaction = 0x0509,
    PendingTransaction = 0x050C,
    MintTransaction = 0x050F,
    ComputeDeploy = 0x0601,
    ComputeUpdate = 0x0602,
    CodeDeploy = 0x0603,
    CodeExecute = 0x060C,
    CodeFinalize = 0x060F,
    TokenQuery = 0x0520,
    TokenQueryResponse = 0x0521,
    FrameReceipt = 0x0901,
}

/// Decodes any top-level message by its tag, with the default [`Limits`].
pub fn decode_any(bytes: &[u8]) -> Result<AnyMessage> {
    decode_any_with(bytes, &Limits::default())
}

fn read_tag(bytes: &[u8]) -> Result<TypeTag> {
    match bytes.first_chunk::<4>() {
        Some(tag) => Ok(TypeTag(u32::from_be_bytes(*tag))),
        None => Err(DecodeError::MissingTag { len: bytes.len() }),
    }
}

/// Checks the tag (against `expected` if given) and the size limit; returns the protobuf body.
pub(crate) fn check_tag<'a>(
    bytes: &'a [u8],
    expected: Option<TypeTag>,
    limits: &Limits,
) -> Result<&'a [u8]> {
    let tag = read_tag(bytes)?;
    let Some(found_name) = tag_name(tag) else {
        return Err(DecodeError::UnknownTag { tag });
    };
    if let Some(expected) = expected
        && expected != tag
    {
        return Err(DecodeError::WrongTag {
            expected,
            expected_name: tag_name(expected).unwrap_or("?"),
            found: tag,
            found_name,
        });
    }
    if bytes.len() > limits.max_message_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit: limits.max_message_bytes,
        });
    }
    Ok(bytes.get(4..).unwrap_or_default())
}
