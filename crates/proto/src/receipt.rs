//! Frame receipts encoded in pieces.
//!
//! A frame's receipt holds one outcome per message, so for large frames most of its bytes are
//! outcomes, and the outcomes are known before the state root that the receipt also carries.
//! `outcomes` is the receipt's last field, and protobuf encodes fields in field order, so the
//! canonical bytes of a receipt are the bytes of its other fields followed by the outcomes'
//! encodings, one after another. An executor can therefore encode outcomes ahead of time and
//! in parallel (with [`v1::FrameReceipt::encode_outcome`]) and assemble the receipt once its
//! root is known (with [`v1::FrameReceipt::to_canonical_bytes_with_outcomes`]).

use prost::Message;

use crate::{CanonicalMessage, v1};

/// The field number of `FrameReceipt.outcomes` (see `proto/switchyard/v1/receipt.proto`);
/// the tests check it against prost's own encoding.
const OUTCOMES_FIELD: u32 = 7;

impl v1::FrameReceipt {
    /// Appends the encoding of `outcome` as one element of a receipt's `outcomes` to `buf`.
    pub fn encode_outcome(outcome: &v1::MessageOutcome, buf: &mut Vec<u8>) {
        prost::encoding::message::encode(OUTCOMES_FIELD, outcome, buf);
    }

    /// The canonical bytes of this receipt with the outcomes encoded in `encoded` (by
    /// [`Self::encode_outcome`], in order, in pieces concatenated in order) appended after its
    /// own outcomes: the same bytes as [`CanonicalMessage::to_canonical_bytes`] of the receipt
    /// holding both.
    ///
    /// ```
    /// use switchyard_proto::{CanonicalMessage, v1};
    ///
    /// let outcome = v1::MessageOutcome { index: 3, cost: 10, ..Default::default() };
    /// let mut encoded = Vec::new();
    /// v1::FrameReceipt::encode_outcome(&outcome, &mut encoded);
    ///
    /// let header = v1::FrameReceipt { frame_number: 7, ..Default::default() };
    /// let whole = v1::FrameReceipt { outcomes: vec![outcome], ..header.clone() };
    /// assert_eq!(header.to_canonical_bytes_with_outcomes(&[encoded]), whole.to_canonical_bytes());
    /// ```
    pub fn to_canonical_bytes_with_outcomes<P: AsRef<[u8]>>(&self, encoded: &[P]) -> Vec<u8> {
        let extra: usize = encoded.iter().map(|piece| piece.as_ref().len()).sum();
        let mut bytes = Vec::with_capacity(4 + self.encoded_len() + extra);
        bytes.extend_from_slice(&Self::TAG.to_be_bytes());
        self.encode_raw(&mut bytes);
        for piece in encoded {
            bytes.extend_from_slice(piece.as_ref());
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Any split of any receipt's outcomes into its own and pre-encoded ones gives its
        /// canonical bytes: `outcomes` is the last field, and the field number is right.
        #[test]
        fn pieces_give_the_canonical_bytes(receipt in any::<v1::FrameReceipt>(), split in any::<prop::sample::Index>()) {
            let at = split.index(receipt.outcomes.len() + 1);
            let (own, rest) = receipt.outcomes.split_at(at);
            let header = v1::FrameReceipt { outcomes: own.to_vec(), ..receipt.clone() };
            // In pieces of up to two outcomes.
            let encoded: Vec<Vec<u8>> = rest
                .chunks(2)
                .map(|piece| {
                    let mut bytes = Vec::new();
                    for outcome in piece {
                        v1::FrameReceipt::encode_outcome(outcome, &mut bytes);
                    }
                    bytes
                })
                .collect();
            prop_assert_eq!(header.to_canonical_bytes_with_outcomes(&encoded), receipt.to_canonical_bytes());
        }
    }
}
