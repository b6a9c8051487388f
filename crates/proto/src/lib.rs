//! The switchyard wire format: the generated protobuf types of `proto/switchyard/v1/` and the
//! strict canonical codec every other crate speaks.
//!
//! A top-level message travels as **canonical bytes**: a 4-byte big-endian [`TypeTag`], then
//! the protobuf encoding of the message. Decoding is strict: the tag must be known and be the
//! one asked for, and re-encoding the decoded value must give back exactly the input, so one
//! message has exactly one encoding (the one that is hashed and signed). Every way the bytes
//! can be wrong is its own [`DecodeError`] variant; decoding never panics.
//!
//! ```
//! use switchyard_proto::{CanonicalMessage, v1};
//!
//! let transfer = v1::Transaction {
//!     to: vec![7; 32],
//!     amount: Some(v1::U128 { high: 0, low: 1_000 }),
//!     ..Default::default()
//! };
//! let bytes = transfer.to_canonical_bytes();
//! assert_eq!(&bytes[..4], &[0x00, 0x00, 0x05, 0x09]);
//! assert_eq!(v1::Transaction::from_canonical_bytes(&bytes)?, transfer);
//!
//! // One entry point decodes any top-level message by its tag.
//! let any = switchyard_proto::decode_any(&bytes)?;
//! assert_eq!(any.tag(), v1::Transaction::TAG);
//! # Ok::<(), switchyard_proto::DecodeError>(())
//! ```
//!
//! A [`v1::MessageRequest`] holds its operation boxed (`Request::Transaction(Box<_>)`), so a
//! request is cheap to move however large its operation; every signed operation converts
//! into one with `From` (`v1::MessageRequest::from(transfer)`).
//!
//! A frame's receipt can also be put together from pieces: its outcomes, encoded ahead of the
//! state root with [`v1::FrameReceipt::encode_outcome`], then the rest with
//! [`v1::FrameReceipt::to_canonical_bytes_with_outcomes`], giving the same canonical bytes.
//!
//! # Feature flags
//! - `proptest`: derives `proptest::arbitrary::Arbitrary` for every wire type.
//! - `grpc`: the tonic clients and servers of the node's services (`proto/switchyard/v1/node.proto`):
//!   `v1::node_client::NodeClient`, `v1::node_server::{Node, NodeServer}`, and the same for
//!   `Execution`; [`FILE_DESCRIPTOR_SET`] serves them through gRPC reflection.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod any;
mod canonical;
mod error;
mod limits;
mod receipt;
mod schema;
mod signing;
mod tag;

pub use any::{AnyMessage, decode_any, decode_any_with};
pub use canonical::CanonicalMessage;
pub use error::{DecodeError, Result};
pub use limits::Limits;
pub use signing::{SIGNING_PREFIX, Signed, SignedRef, signing_bytes_for};
pub use tag::{TypeTag, tag_name};

pub use prost;

/// The generated wire types, one module per protobuf package.
pub mod v1 {
    #![allow(missing_docs, unreachable_pub, clippy::all)]
    include!("gen/switchyard.v1.rs");
    #[cfg(feature = "grpc")]
    include!("gen/switchyard.v1.grpc.rs");

    /// Converts between the wire form of a 128-bit amount and `u128`.
    impl From<u128> for U128 {
        fn from(value: u128) -> Self {
            // Truncation is the point: the two halves of the value.
            U128 {
                high: (value >> 64) as u64,
                low: value as u64,
            }
        }
    }

    impl From<U128> for u128 {
        fn from(value: U128) -> Self {
            (u128::from(value.high) << 64) | u128::from(value.low)
        }
    }
}

/// The encoded `FileDescriptorSet` of `proto/`, as written by `cargo xtask codegen`.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("gen/descriptor.bin");
