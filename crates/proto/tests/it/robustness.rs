//! Decoding never panics, and accepts only canonical input: on arbitrary bytes, and on
//! truncations, single bit flips and tag swaps of valid encodings, whatever decodes re-encodes
//! to exactly the input, and `decode_any` agrees with the typed decoder of the input's tag.

use proptest::prelude::*;
use proptest::sample::Index;
use switchyard_proto::{AnyMessage, CanonicalMessage, DecodeError, TypeTag, decode_any, v1};

macro_rules! message_helpers {
    ($($ty:ident),* $(,)?) => {
        /// Every tag of the table.
        const TAGS: &[TypeTag] = &[$(<v1::$ty as CanonicalMessage>::TAG),*];

        /// Canonical bytes of an arbitrary value of an arbitrary top-level type.
        fn valid_encoding() -> BoxedStrategy<Vec<u8>> {
            prop_oneof![
                $(any::<v1::$ty>().prop_map(|v| v.to_canonical_bytes())),*
            ]
            .boxed()
        }

        /// Runs every typed decoder on `bytes`: each must not panic, must accept only canonical
        /// bytes, and the one of the input's tag must agree with `decode_any`.
        fn check_typed(bytes: &[u8], any: &Result<AnyMessage, DecodeError>) {
            let tag = bytes.first_chunk::<4>().map(|t| TypeTag(u32::from_be_bytes(*t)));
            $(
                let typed = v1::$ty::from_canonical_bytes(bytes);
                if let Ok(value) = &typed {
                    assert_eq!(value.to_canonical_bytes(), bytes, "{} accepted non-canonical input", stringify!($ty));
                }
                if tag == Some(<v1::$ty as CanonicalMessage>::TAG) {
                    assert_eq!(&typed.map(AnyMessage::$ty), any, "typed and any decoders disagree");
                } else if let (Some(found), Err(err)) = (tag, &typed) {
                    // Any other tag is refused as missing, unknown or wrong, before the body.
                    assert!(
                        matches!(err, DecodeError::UnknownTag { tag } if *tag == found)
                            || matches!(err, DecodeError::WrongTag { found: f, .. } if *f == found),
                        "{} on tag {found}: {err}", stringify!($ty)
                    );
                } else {
                    assert!(typed.is_err(), "{} accepted bytes of another tag", stringify!($ty));
                }
            )*
        }
    };
}

for_each_message!(message_helpers);

/// The offset an error reports, if any.
fn offset(err: &DecodeError) -> Option<usize> {
    match err {
        DecodeError::UnknownField { offset, .. }
        | DecodeError::DuplicateField { offset, .. }
        | DecodeError::FieldOutOfOrder { offset, .. }
        | DecodeError::NonMinimalVarint { offset, .. }
        | DecodeError::VarintOverflow { offset, .. }
        | DecodeError::Truncated { offset, .. }
        | DecodeError::TrailingBytes { offset, .. }
        | DecodeError::WrongWireType { offset, .. }
        | DecodeError::TooDeep { offset, .. }
        | DecodeError::NonCanonical { offset, .. } => Some(*offset),
        _ => None,
    }
}

/// The whole property on one input.
fn check_strict(bytes: &[u8]) {
    let any = decode_any(bytes);
    match &any {
        Ok(value) => assert_eq!(
            value.to_canonical_bytes(),
            bytes,
            "decode_any accepted non-canonical input"
        ),
        Err(err) => {
            assert!(!err.is_internal(), "{err}");
            if let Some(offset) = offset(err) {
                assert!(
                    offset <= bytes.len().saturating_sub(4),
                    "{err} points past the body"
                );
            }
        }
    }
    check_typed(bytes, &any);
}

/// A known tag followed by `body`.
fn with_tag(tag: TypeTag, body: &[u8]) -> Vec<u8> {
    let mut bytes = tag.to_be_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        check_strict(&bytes);
    }

    /// Arbitrary bodies behind every known tag, so each decoder walks them.
    #[test]
    fn arbitrary_bodies_under_every_tag(body in proptest::collection::vec(any::<u8>(), 0..96)) {
        for tag in TAGS {
            check_strict(&with_tag(*tag, &body));
        }
    }

    /// Bodies made of field-key-like bytes, which get further into the walk than random bytes.
    #[test]
    fn keyish_bodies_under_every_tag(
        body in proptest::collection::vec(
            prop_oneof![0x00_u8..0x80, Just(0x7a), Just(0x80), Just(0x0a), Just(0x08), Just(0x12)],
            0..48,
        )
    ) {
        for tag in TAGS {
            check_strict(&with_tag(*tag, &body));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn truncations_of_valid_encodings(bytes in valid_encoding()) {
        check_strict(&bytes);
        // Every prefix for short encodings, an even spread of them for long ones.
        let step = (bytes.len() / 64).max(1);
        for len in (0..bytes.len()).step_by(step) {
            check_strict(&bytes[..len]);
        }
    }

    #[test]
    fn bit_flips_of_valid_encodings(
        bytes in valid_encoding(),
        flips in proptest::collection::vec((any::<Index>(), 0_u8..8), 16),
    ) {
        for (index, bit) in flips {
            let mut flipped = bytes.clone();
            let at = index.index(flipped.len());
            flipped[at] ^= 1 << bit;
            check_strict(&flipped);
        }
    }

    #[test]
    fn tag_swaps_of_valid_encodings(bytes in valid_encoding()) {
        for tag in TAGS {
            check_strict(&with_tag(*tag, &bytes[4..]));
        }
    }

    /// Inputs that start valid and go on with junk.
    #[test]
    fn appended_junk(bytes in valid_encoding(), junk in proptest::collection::vec(any::<u8>(), 1..8)) {
        let mut longer = bytes.clone();
        longer.extend_from_slice(&junk);
        check_strict(&longer);
    }
}
