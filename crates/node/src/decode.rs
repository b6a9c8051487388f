//! `switchyard decode HEX`: strict decoding of canonical bytes, pretty-printed.

use switchyard_proto::{AnyMessage, decode_any};

use crate::Result;

/// Decodes canonical bytes given as hex (whitespace and a `0x` prefix allowed) and returns
/// the message with a readable rendering.
pub fn decode_hex(text: &str) -> Result<(AnyMessage, String)> {
    let cleaned: String = text
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = hex::decode(cleaned)?;
    let message = decode_any(&bytes)?;
    let rendered = format!("tag {}\n{message:#?}", message.tag());
    Ok((message, rendered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeError;
    use switchyard_proto::{CanonicalMessage, v1};

    #[test]
    fn decodes_and_names_bad_input() {
        let bytes = v1::Transaction {
            to: vec![1; 32],
            ..Default::default()
        }
        .to_canonical_bytes();
        let (message, rendered) =
            decode_hex(&format!("0x{}", hex::encode(bytes))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(message.tag(), v1::Transaction::TAG);
        assert!(rendered.contains("Transaction"));
        assert!(matches!(decode_hex("zz"), Err(NodeError::Hex(_))));
        assert!(matches!(
            decode_hex("00000509ff"),
            Err(NodeError::Decode(_))
        ));
    }
}
