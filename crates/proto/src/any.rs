//! Decoding any top-level message by its tag: [`AnyMessage`], over the tag table of `tag.rs`.

use crate::canonical::decode_body;
use crate::tag::{check_tag, read_tag};
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

crate::tag::for_each_tagged!(tagged_messages);

/// Decodes any top-level message by its tag, with the default [`Limits`].
pub fn decode_any(bytes: &[u8]) -> Result<AnyMessage> {
    decode_any_with(bytes, &Limits::default())
}
