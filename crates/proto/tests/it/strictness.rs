//! One test per strictness rule, each asserting its own error variant, with hand-written bytes.
//!
//! Byte notation: `Transaction` (tag 0x0509) has fields `to` = 1 (bytes, key 0x0a), `amount` = 2
//! (U128, key 0x12), `memo` = 3 (bytes, key 0x1a) and `auth` = 15 (Auth, key 0x7a); `Auth` has
//! `public_key` = 1 (key 0x0a), `nonce` = 2 (key 0x10) and `signature` = 3 (key 0x1a).

use switchyard_proto::{
    AnyMessage, CanonicalMessage, DecodeError, Limits, TypeTag, decode_any, decode_any_with, v1,
};

const TRANSACTION: TypeTag = TypeTag(0x0509);

fn tx(body: &[u8]) -> Vec<u8> {
    let mut bytes = TRANSACTION.to_be_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes
}

fn decode_tx(body: &[u8]) -> Result<v1::Transaction, DecodeError> {
    let bytes = tx(body);
    let typed = v1::Transaction::from_canonical_bytes(&bytes);
    // decode_any must give the same verdict.
    assert_eq!(
        decode_any(&bytes),
        typed.clone().map(AnyMessage::Transaction)
    );
    typed
}

#[test]
fn accepts_a_canonical_transaction() {
    // to = [0xaa], amount = { low: 5 }, auth = { nonce: 1 }
    let value = decode_tx(&[
        0x0a, 0x01, 0xaa, 0x12, 0x02, 0x10, 0x05, 0x7a, 0x02, 0x10, 0x01,
    ])
    .unwrap();
    assert_eq!(value.to, vec![0xaa]);
    assert_eq!(value.amount, Some(v1::U128 { high: 0, low: 5 }));
    assert_eq!(value.auth.unwrap().nonce, 1);
}

#[test]
fn missing_tag() {
    assert_eq!(decode_any(&[]), Err(DecodeError::MissingTag { len: 0 }));
    assert_eq!(
        v1::Transaction::from_canonical_bytes(&[0x00, 0x00, 0x05]),
        Err(DecodeError::MissingTag { len: 3 })
    );
}

#[test]
fn unknown_tag() {
    assert_eq!(
        decode_any(&[0, 0, 0, 0]),
        Err(DecodeError::UnknownTag { tag: TypeTag(0) })
    );
    assert_eq!(
        v1::Transaction::from_canonical_bytes(&[0, 0, 0x05, 0x0a, 0x0a, 0x00]),
        Err(DecodeError::UnknownTag {
            tag: TypeTag(0x050a)
        })
    );
}

#[test]
fn wrong_tag() {
    let bytes = v1::Transaction {
        memo: b"hi".to_vec(),
        ..Default::default()
    }
    .to_canonical_bytes();
    assert_eq!(
        v1::TokenDeploy::from_canonical_bytes(&bytes),
        Err(DecodeError::WrongTag {
            expected: TypeTag(0x0504),
            expected_name: "TokenDeploy",
            found: TRANSACTION,
            found_name: "Transaction",
        })
    );
}

#[test]
fn too_large() {
    let value = v1::Transaction {
        memo: vec![7; 1 << 20],
        ..Default::default()
    };
    let bytes = value.to_canonical_bytes();
    assert_eq!(
        v1::Transaction::from_canonical_bytes(&bytes),
        Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit: 1 << 20
        })
    );
    // Exactly at the limit is accepted; one byte less is not.
    let at_limit = Limits {
        max_message_bytes: bytes.len(),
        ..Limits::default()
    };
    assert_eq!(
        v1::Transaction::from_canonical_bytes_with(&bytes, &at_limit),
        Ok(value)
    );
    let under = Limits {
        max_message_bytes: bytes.len() - 1,
        ..Limits::default()
    };
    assert_eq!(
        decode_any_with(&bytes, &under),
        Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit: bytes.len() - 1
        })
    );
}

#[test]
fn too_large_is_checked_before_the_body() {
    let limits = Limits {
        max_message_bytes: 6,
        ..Limits::default()
    };
    assert_eq!(
        v1::Transaction::from_canonical_bytes_with(&tx(&[0xff, 0xff, 0xff]), &limits),
        Err(DecodeError::TooLarge { len: 7, limit: 6 })
    );
}

fn bundle_of(n: usize) -> v1::MessageBundle {
    v1::MessageBundle {
        requests: vec![v1::MessageRequest::default(); n],
        timestamp: 9,
    }
}

#[test]
fn too_many_bundle_requests() {
    let full = bundle_of(256);
    assert_eq!(
        v1::MessageBundle::from_canonical_bytes(&full.to_canonical_bytes()),
        Ok(full)
    );
    let over = bundle_of(257).to_canonical_bytes();
    let expected = Err(DecodeError::TooManyRequests {
        count: 257,
        limit: 256,
    });
    assert_eq!(v1::MessageBundle::from_canonical_bytes(&over), expected);
    assert_eq!(decode_any(&over), expected.map(AnyMessage::MessageBundle));

    let limits = Limits {
        max_bundle_requests: 2,
        ..Limits::default()
    };
    assert_eq!(
        bundle_of(3).check_limits(&limits),
        Err(DecodeError::TooManyRequests { count: 3, limit: 2 })
    );
    assert_eq!(bundle_of(2).check_limits(&limits), Ok(()));
}

#[test]
fn too_many_bundle_requests_is_checked_before_decoding() {
    // Three requests, the last a TokenDeploy whose name is not UTF-8: the count is refused
    // first, on the bytes, before prost decodes (and allocates) anything.
    let mut body = vec![0x0a, 0x00, 0x0a, 0x00];
    body.extend_from_slice(&[0x0a, 0x07, 0x52, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff]);
    let mut bytes = TypeTag(0x0312).to_be_bytes().to_vec();
    bytes.extend_from_slice(&body);
    let limits = Limits {
        max_bundle_requests: 2,
        ..Limits::default()
    };
    assert_eq!(
        v1::MessageBundle::from_canonical_bytes_with(&bytes, &limits),
        Err(DecodeError::TooManyRequests { count: 3, limit: 2 })
    );
    assert!(matches!(
        v1::MessageBundle::from_canonical_bytes(&bytes),
        Err(DecodeError::InvalidProtobuf {
            message: "MessageBundle",
            ..
        })
    ));
}

#[test]
fn unknown_field() {
    // Field 4 does not exist in Transaction.
    assert_eq!(
        decode_tx(&[0x0a, 0x01, 0xaa, 0x20, 0x01]),
        Err(DecodeError::UnknownField {
            message: "Transaction",
            field: 4,
            offset: 3
        })
    );
    // Field 9 does not exist in the nested Auth.
    assert_eq!(
        decode_tx(&[0x7a, 0x02, 0x48, 0x01]),
        Err(DecodeError::UnknownField {
            message: "Auth",
            field: 9,
            offset: 2
        })
    );
    // A field number beyond 32 bits is named as found.
    let huge = [0xf8, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00];
    assert_eq!(
        decode_tx(&huge),
        Err(DecodeError::UnknownField {
            message: "Transaction",
            field: 0x1_ffff_ffff,
            offset: 0
        })
    );
}

#[test]
fn duplicate_field() {
    assert_eq!(
        decode_tx(&[0x0a, 0x01, 0xaa, 0x0a, 0x01, 0xbb]),
        Err(DecodeError::DuplicateField {
            message: "Transaction",
            field: 1,
            offset: 3
        })
    );
    // Inside Auth: nonce twice.
    assert_eq!(
        decode_tx(&[0x7a, 0x04, 0x10, 0x01, 0x10, 0x02]),
        Err(DecodeError::DuplicateField {
            message: "Auth",
            field: 2,
            offset: 4
        })
    );
    // A repeated field may repeat: two requests in a bundle.
    let bundle = [0x00, 0x00, 0x03, 0x12, 0x0a, 0x00, 0x0a, 0x00];
    assert_eq!(
        v1::MessageBundle::from_canonical_bytes(&bundle).map(|b| b.requests.len()),
        Ok(2)
    );
}

#[test]
fn out_of_order_fields() {
    // memo (3) before to (1).
    assert_eq!(
        decode_tx(&[0x1a, 0x01, 0xcc, 0x0a, 0x01, 0xaa]),
        Err(DecodeError::FieldOutOfOrder {
            message: "Transaction",
            field: 1,
            previous: 3,
            offset: 3
        })
    );
    // A non-repeated field coming back after another field is out of order, not a duplicate.
    assert_eq!(
        decode_tx(&[0x0a, 0x01, 0xaa, 0x1a, 0x01, 0xcc, 0x0a, 0x01, 0xbb]),
        Err(DecodeError::FieldOutOfOrder {
            message: "Transaction",
            field: 1,
            previous: 3,
            offset: 6
        })
    );
    // A repeated field interleaved with another: requests, timestamp, requests.
    let bundle = [0x00, 0x00, 0x03, 0x12, 0x0a, 0x00, 0x10, 0x01, 0x0a, 0x00];
    assert_eq!(
        v1::MessageBundle::from_canonical_bytes(&bundle),
        Err(DecodeError::FieldOutOfOrder {
            message: "MessageBundle",
            field: 1,
            previous: 2,
            offset: 4
        })
    );
}

#[test]
fn non_minimal_varint() {
    // In a key: 0x0a written as 0x8a 0x00.
    assert_eq!(
        decode_tx(&[0x8a, 0x00, 0x01, 0xaa]),
        Err(DecodeError::NonMinimalVarint {
            message: "Transaction",
            offset: 0
        })
    );
    // In a length: 1 written as 0x81 0x00.
    assert_eq!(
        decode_tx(&[0x0a, 0x81, 0x00, 0xaa]),
        Err(DecodeError::NonMinimalVarint {
            message: "Transaction",
            offset: 1
        })
    );
    // In a value: Auth nonce 1 written as 0x81 0x80 0x00.
    assert_eq!(
        decode_tx(&[0x7a, 0x04, 0x10, 0x81, 0x80, 0x00]),
        Err(DecodeError::NonMinimalVarint {
            message: "Auth",
            offset: 3
        })
    );
}

#[test]
fn varint_overflow() {
    // Auth nonce: ten bytes whose last carries more than the 64th bit.
    let mut body = vec![0x7a, 0x0b, 0x10];
    body.extend_from_slice(&[0xff; 9]);
    body.push(0x02);
    assert_eq!(
        decode_tx(&body),
        Err(DecodeError::VarintOverflow {
            message: "Auth",
            offset: 3
        })
    );
    // u64::MAX itself is fine.
    let mut body = vec![0x7a, 0x0b, 0x10];
    body.extend_from_slice(&[0xff; 9]);
    body.push(0x01);
    assert_eq!(
        decode_tx(&body).map(|t| t.auth.unwrap().nonce),
        Ok(u64::MAX)
    );
}

#[test]
fn truncated() {
    // A length running past the end, reported at the length prefix.
    assert_eq!(
        decode_tx(&[0x0a, 0x05, 0xaa]),
        Err(DecodeError::Truncated {
            message: "Transaction",
            offset: 1
        })
    );
    // A key cut in the middle.
    assert_eq!(
        decode_tx(&[0x0a, 0x00, 0x80]),
        Err(DecodeError::Truncated {
            message: "Transaction",
            offset: 2
        })
    );
    // A key with no value.
    assert_eq!(
        decode_tx(&[0x0a]),
        Err(DecodeError::Truncated {
            message: "Transaction",
            offset: 1
        })
    );
    // A varint running past the end of its nested message, though not of the input.
    assert_eq!(
        decode_tx(&[0x7a, 0x02, 0x10, 0x80, 0x01]),
        Err(DecodeError::Truncated {
            message: "Auth",
            offset: 3
        })
    );
    // A nested length running past the end of its nested message (Auth public_key of 2 bytes
    // with 1 left in Auth).
    assert_eq!(
        decode_tx(&[0x7a, 0x03, 0x0a, 0x02, 0x01]),
        Err(DecodeError::Truncated {
            message: "Auth",
            offset: 3
        })
    );
}

#[test]
fn trailing_bytes() {
    // Zero padding after a complete message.
    assert_eq!(
        decode_tx(&[0x0a, 0x01, 0xaa, 0x00]),
        Err(DecodeError::TrailingBytes {
            message: "Transaction",
            offset: 3
        })
    );
    // Any key with field number 0, whatever its wire type.
    assert_eq!(
        decode_tx(&[0x07]),
        Err(DecodeError::TrailingBytes {
            message: "Transaction",
            offset: 0
        })
    );
    // Padding inside a nested message.
    assert_eq!(
        decode_tx(&[0x7a, 0x03, 0x10, 0x01, 0x00]),
        Err(DecodeError::TrailingBytes {
            message: "Auth",
            offset: 4
        })
    );
}

#[test]
fn wrong_wire_type() {
    // `to` is bytes (wire type 2), written as a varint.
    assert_eq!(
        decode_tx(&[0x08, 0x01]),
        Err(DecodeError::WrongWireType {
            message: "Transaction",
            field: 1,
            expected: 2,
            found: 0,
            offset: 0
        })
    );
    // `amount` as a group start (wire type 3).
    assert_eq!(
        decode_tx(&[0x13, 0x14]),
        Err(DecodeError::WrongWireType {
            message: "Transaction",
            field: 2,
            expected: 2,
            found: 3,
            offset: 0
        })
    );
    // Auth nonce (varint) as fixed32.
    assert_eq!(
        decode_tx(&[0x7a, 0x05, 0x15, 0x01, 0x00, 0x00, 0x00]),
        Err(DecodeError::WrongWireType {
            message: "Auth",
            field: 2,
            expected: 0,
            found: 5,
            offset: 2
        })
    );
}

#[test]
fn too_deep() {
    // Bundle (depth 0) > request (1) > ProverKick (2) > FrameHeader (3).
    let bundle = v1::MessageBundle {
        requests: vec![
            v1::ProverKick {
                conflicting_a: Some(v1::FrameHeader {
                    frame_number: 3,
                    ..Default::default()
                }),
                ..Default::default()
            }
            .into(),
        ],
        timestamp: 0,
    };
    let bytes = bundle.to_canonical_bytes();
    let deep_enough = Limits {
        max_nesting_depth: 3,
        ..Limits::default()
    };
    assert_eq!(
        v1::MessageBundle::from_canonical_bytes_with(&bytes, &deep_enough),
        Ok(bundle)
    );
    let shallow = Limits {
        max_nesting_depth: 2,
        ..Limits::default()
    };
    // Body: 0a 06 | 3a 04 | 12 02 | 10 03: the FrameHeader's length prefix is at byte 5.
    assert_eq!(
        decode_any_with(&bytes, &shallow),
        Err(DecodeError::TooDeep {
            message: "FrameHeader",
            limit: 2,
            offset: 5
        })
    );
    let flat = Limits {
        max_nesting_depth: 0,
        ..Limits::default()
    };
    assert_eq!(
        decode_any_with(&bytes, &flat),
        Err(DecodeError::TooDeep {
            message: "MessageRequest",
            limit: 0,
            offset: 1
        })
    );
}

#[test]
fn invalid_protobuf() {
    // TokenDeploy { config: TokenConfig { name: [0xff] } }: well-formed wire, invalid UTF-8.
    let bytes = [0x00, 0x00, 0x05, 0x04, 0x0a, 0x03, 0x0a, 0x01, 0xff];
    match v1::TokenDeploy::from_canonical_bytes(&bytes) {
        Err(DecodeError::InvalidProtobuf {
            message: "TokenDeploy",
            reason,
        }) => {
            assert!(reason.contains("UTF-8"), "{reason}");
        }
        other => panic!("expected InvalidProtobuf, got {other:?}"),
    }
}

#[test]
fn non_canonical_default_value() {
    // Auth nonce 0 written explicitly: re-encoding drops it, differing at Auth's length.
    assert_eq!(
        decode_tx(&[0x7a, 0x02, 0x10, 0x00]),
        Err(DecodeError::NonCanonical {
            message: "Transaction",
            offset: 1
        })
    );
    // An empty `to` written explicitly.
    assert_eq!(
        decode_tx(&[0x0a, 0x00]),
        Err(DecodeError::NonCanonical {
            message: "Transaction",
            offset: 0
        })
    );
    // A present but empty message is not a default: it is kept, and canonical.
    assert_eq!(
        decode_tx(&[0x7a, 0x00]).map(|t| t.auth),
        Ok(Some(v1::Auth::default()))
    );
}

#[test]
fn non_canonical_oneof_and_bool() {
    // MessageRequest with two members of its oneof (prover_join, then prover_leave).
    let two = [0x00, 0x00, 0x03, 0x11, 0x0a, 0x00, 0x12, 0x00];
    assert_eq!(
        v1::MessageRequest::from_canonical_bytes(&two),
        Err(DecodeError::NonCanonical {
            message: "MessageRequest",
            offset: 0
        })
    );
    // TokenDeploy { config: { mintable: 2 } }: a bool must be written as 1.
    let bool2 = [0x00, 0x00, 0x05, 0x04, 0x0a, 0x02, 0x30, 0x02];
    assert_eq!(
        v1::TokenDeploy::from_canonical_bytes(&bool2),
        Err(DecodeError::NonCanonical {
            message: "TokenDeploy",
            offset: 3
        })
    );
}

#[test]
fn first_fault_in_byte_order_wins() {
    // An unknown field before a truncation is reported as the unknown field.
    assert_eq!(
        decode_tx(&[0x20, 0x01, 0x0a, 0x05]),
        Err(DecodeError::UnknownField {
            message: "Transaction",
            field: 4,
            offset: 0
        })
    );
    // An unknown field with a wire type no field uses is still an unknown field.
    assert_eq!(
        decode_tx(&[0x27]),
        Err(DecodeError::UnknownField {
            message: "Transaction",
            field: 4,
            offset: 0
        })
    );
    // A wrong wire type on a field that is also out of order reports the wire type.
    assert_eq!(
        decode_tx(&[0x1a, 0x00, 0x08, 0x01]),
        Err(DecodeError::WrongWireType {
            message: "Transaction",
            field: 1,
            expected: 2,
            found: 0,
            offset: 2
        })
    );
}

#[test]
fn error_messages_name_the_offending_value() {
    let err = decode_tx(&[0x0a, 0x01, 0xaa, 0x20, 0x01]).unwrap_err();
    assert_eq!(err.to_string(), "unknown field 4 in Transaction at byte 3");
    let err = decode_tx(&[0x1a, 0x01, 0xcc, 0x0a, 0x01, 0xaa]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "field 1 after field 3 in Transaction at byte 3: fields must ascend"
    );
    assert!(!err.is_internal());
}
