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
    let rendered = format!(
        "tag {}\n{}",
        message.tag(),
        bytes_as_hex(&format!("{message:#?}"))
    );
    Ok((message, rendered))
}

/// Rewrites the pretty `Debug` form of byte fields (one number per line between `[` and `]`)
/// as one `0x…` hex string, so keys and signatures read as they are usually written.
fn bytes_as_hex(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let mut lines = pretty.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(head) = line.strip_suffix('[') {
            let mut bytes = Vec::new();
            while let Some(byte) = lines
                .peek()
                .and_then(|l| l.trim().trim_end_matches(',').parse::<u8>().ok())
            {
                bytes.push(byte);
                lines.next();
            }
            if !bytes.is_empty()
                && let Some(close) = lines.peek().filter(|l| l.trim_start().starts_with(']'))
            {
                let tail = close.trim_start().trim_start_matches(']');
                out.push_str(&format!("{head}0x{}{tail}\n", hex::encode(&bytes)));
                lines.next();
                continue;
            }
            out.push_str(line);
            out.push('\n');
            for byte in bytes {
                out.push_str(&format!("{byte},\n"));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
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
        assert!(
            rendered.contains(&format!("to: 0x{},", "01".repeat(32))),
            "{rendered}"
        );
        assert!(matches!(decode_hex("zz"), Err(NodeError::Hex(_))));
        assert!(matches!(
            decode_hex("00000509ff"),
            Err(NodeError::Decode(_))
        ));
    }
}
