//! Value -> canonical bytes -> value is the identity for every top-level message type, and the
//! decoder's tag table is exactly the list these tests cover.
#![allow(non_snake_case)]

use std::collections::BTreeSet;
use std::fmt::Debug;

use proptest::prelude::*;
use switchyard_proto::{CanonicalMessage, DecodeError, Limits, TypeTag, decode_any, v1};

/// Limits that never refuse what `Arbitrary` generates (a bundle of up to 100 large requests
/// can pass 1 MiB); the limits themselves are tested in `strictness`.
fn unlimited() -> Limits {
    Limits {
        max_message_bytes: usize::MAX,
        max_bundle_requests: usize::MAX,
        ..Limits::default()
    }
}

/// The round trip of one value, through the typed decoder and through `decode_any`.
fn check_roundtrip<M: CanonicalMessage + PartialEq + Debug>(
    value: &M,
) -> Result<(), TestCaseError> {
    let bytes = value.to_canonical_bytes();
    prop_assert_eq!(&bytes[..4], &M::TAG.to_be_bytes()[..]);
    prop_assert_eq!(bytes.len(), 4 + value.encoded_len());

    let decoded = M::from_canonical_bytes_with(&bytes, &unlimited());
    prop_assert_eq!(decoded.as_ref(), Ok(value));
    prop_assert_eq!(decoded.unwrap().to_canonical_bytes(), bytes.clone());

    let any = switchyard_proto::decode_any_with(&bytes, &unlimited());
    prop_assert!(
        any.is_ok(),
        "decode_any refused a canonical {}: {:?}",
        M::NAME,
        any
    );
    let any = any.unwrap();
    prop_assert_eq!(any.tag(), M::TAG);
    prop_assert_eq!(any.to_canonical_bytes(), bytes);
    Ok(())
}

macro_rules! roundtrip_tests {
    ($($ty:ident),* $(,)?) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            $(
                #[test]
                fn $ty(value in any::<v1::$ty>()) {
                    check_roundtrip(&value)?;
                }
            )*
        }

        /// The tags of every type listed in `for_each_message!`.
        fn listed_tags() -> BTreeSet<TypeTag> {
            [$(<v1::$ty as CanonicalMessage>::TAG),*].into_iter().collect()
        }
    };
}

for_each_message!(roundtrip_tests);

/// An empty body is the canonical encoding of every message's default value, so a 4-byte input
/// decodes exactly when its tag is in the table: scanning tags finds the table.
#[test]
fn tag_table_is_covered() {
    let mut known = BTreeSet::new();
    let probes = (0..=0xffff_u32).chain([0x0001_0311, 0x0312_0000, 0xffff_ffff]);
    for tag in probes {
        match decode_any(&tag.to_be_bytes()) {
            Ok(any) => {
                assert_eq!(any.tag(), TypeTag(tag));
                known.insert(TypeTag(tag));
            }
            Err(DecodeError::UnknownTag { tag: found }) => assert_eq!(found, TypeTag(tag)),
            Err(other) => panic!("tag {tag:#x}: unexpected error {other}"),
        }
    }
    assert_eq!(known, listed_tags());
}

/// Tags are unique and the names match the `.proto` message names.
#[test]
fn tags_and_names_are_distinct() {
    let tags = listed_tags();
    assert!(tags.len() >= 32, "every tag of DESIGN §2 and the queries");
    assert_eq!(
        <v1::MessageBundle as CanonicalMessage>::NAME,
        "MessageBundle"
    );
    assert_eq!(
        <v1::MessageBundle as CanonicalMessage>::TAG,
        TypeTag(0x0312)
    );
    assert_eq!(<v1::Transaction as CanonicalMessage>::NAME, "Transaction");
    assert_eq!(<v1::FrameReceipt as CanonicalMessage>::TAG, TypeTag(0x0901));
}
