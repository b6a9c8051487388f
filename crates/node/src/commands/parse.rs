//! Arguments the engine commands share: 32-byte keys (hex or `name:TEXT`), domains, 64-byte
//! addresses, byte strings given as text, hex or a file, and how bytes are shown.

use std::path::PathBuf;

use serde_json::{Value, json};
use switchyard_router::{Address, Domain, Key};

use crate::NodeError;
use crate::keys::parse_key_hex;

/// The prefix of a key given by name: `name:TEXT` is the key BLAKE3(TEXT).
pub(crate) const NAME_PREFIX: &str = "name:";

/// Parses a 32-byte key: 64 hex characters (optional `0x`), or `name:TEXT` for the BLAKE3
/// hash of TEXT (so a vertex, counter or filter can be named by a word).
pub(crate) fn key_arg(name: &'static str, text: &str) -> Result<Key, NodeError> {
    match text.strip_prefix(NAME_PREFIX) {
        Some(label) => Ok(*blake3::hash(label.as_bytes()).as_bytes()),
        None => parse_key_hex(text).map_err(|reason| NodeError::Argument {
            name,
            reason: format!("{reason} (give 64 hex characters, or name:TEXT)"),
        }),
    }
}

/// Parses a domain: 64 hex characters (as `deploy` prints it).
pub(crate) fn domain_arg(name: &'static str, text: &str) -> Result<Domain, NodeError> {
    parse_key_hex(text)
        .map(Domain)
        .map_err(|reason| NodeError::Argument { name, reason })
}

/// Parses an address: `DOMAIN/KEY` (each as [`domain_arg`] and [`key_arg`]), 128 hex
/// characters, or a plain key in `default_domain` when there is one.
pub(crate) fn address_arg(
    name: &'static str,
    text: &str,
    default_domain: Option<Domain>,
) -> Result<Address, NodeError> {
    if let Some((domain, key)) = text.split_once('/') {
        return Ok(Address::new(domain_arg(name, domain)?, key_arg(name, key)?));
    }
    let bare = text.trim();
    let bare = bare.strip_prefix("0x").unwrap_or(bare);
    if bare.len() == 128 {
        let bytes = hex::decode(bare).map_err(|e| NodeError::Argument {
            name,
            reason: format!("{bare:?} is not hex: {e}"),
        })?;
        return Address::from_slice(&bytes).map_err(|e| NodeError::Argument {
            name,
            reason: e.to_string(),
        });
    }
    match default_domain {
        Some(domain) => Ok(Address::new(domain, key_arg(name, text)?)),
        None => Err(NodeError::Argument {
            name,
            reason: format!("{text:?} is not an address (DOMAIN/KEY, or 128 hex characters)"),
        }),
    }
}

/// Reads a 64-byte address the node returned.
pub(crate) fn stored_address(bytes: &[u8]) -> Result<Address, NodeError> {
    Address::from_slice(bytes)
        .map_err(|e| NodeError::Answer(format!("an address of {} bytes: {e}", bytes.len())))
}

/// Reads a 32-byte key the node returned.
pub(crate) fn stored_key(what: &'static str, bytes: &[u8]) -> Result<Key, NodeError> {
    <[u8; 32]>::try_from(bytes)
        .map_err(|_| NodeError::Answer(format!("a {what} of {} bytes", bytes.len())))
}

/// An address as the CLI prints it and reads it back: `DOMAIN/KEY`, both hex.
pub(crate) fn show_address(address: &Address) -> String {
    format!(
        "{}/{}",
        hex::encode(address.domain.0),
        hex::encode(address.key)
    )
}

/// A byte string given on the command line: as text, as hex, or read from a file (at most
/// one; none is the empty string).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BytesArgs {
    /// The bytes as UTF-8 text.
    #[arg(long, group = "bytes")]
    pub data: Option<String>,
    /// The bytes as hex.
    #[arg(long, group = "bytes")]
    pub data_hex: Option<String>,
    /// The bytes of a file.
    #[arg(long, group = "bytes")]
    pub data_file: Option<PathBuf>,
}

impl BytesArgs {
    /// The bytes given (empty when none).
    pub(crate) fn bytes(&self) -> Result<Vec<u8>, NodeError> {
        if let Some(text) = &self.data {
            return Ok(text.as_bytes().to_vec());
        }
        if let Some(text) = &self.data_hex {
            let text = text.trim();
            return hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| {
                NodeError::Argument {
                    name: "--data-hex",
                    reason: format!("{text:?} is not hex: {e}"),
                }
            });
        }
        if let Some(path) = &self.data_file {
            return std::fs::read(path).map_err(|e| NodeError::Argument {
                name: "--data-file",
                reason: format!("reading {}: {e}", path.display()),
            });
        }
        Ok(Vec::new())
    }
}

/// Bytes as the CLI shows them: hex, with the text when they are printable UTF-8.
pub(crate) fn show_bytes(bytes: &[u8]) -> String {
    match printable(bytes) {
        Some(text) if !bytes.is_empty() => format!("{} ({text:?})", hex::encode(bytes)),
        _ if bytes.is_empty() => "(empty)".to_owned(),
        _ => hex::encode(bytes),
    }
}

/// Bytes as JSON fields: `hex`, and `utf8` when they are printable UTF-8.
pub(crate) fn bytes_json(bytes: &[u8]) -> Value {
    match printable(bytes) {
        Some(text) => json!({ "hex": hex::encode(bytes), "utf8": text }),
        None => json!({ "hex": hex::encode(bytes) }),
    }
}

/// The bytes as text, when they are UTF-8 without control characters.
fn printable(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|text| !text.chars().any(char::is_control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_addresses_parse_in_every_form() {
        assert_eq!(key_arg("k", &"0a".repeat(32)).unwrap(), [10; 32]);
        assert_eq!(
            key_arg("k", "name:alice").unwrap(),
            *blake3::hash(b"alice").as_bytes()
        );
        assert!(
            key_arg("--vertex", "0a")
                .unwrap_err()
                .to_string()
                .contains("--vertex")
        );
        let domain = Domain([3; 32]);
        let address = Address::new(domain, [4; 32]);
        for text in [
            format!("{}/{}", "03".repeat(32), "04".repeat(32)),
            format!("{}{}", "03".repeat(32), "04".repeat(32)),
            show_address(&address),
        ] {
            assert_eq!(address_arg("a", &text, None).unwrap(), address);
        }
        assert_eq!(
            address_arg("a", &"04".repeat(32), Some(domain)).unwrap(),
            address
        );
        assert!(address_arg("a", &"04".repeat(32), None).is_err());
    }

    #[test]
    fn bytes_show_as_hex_and_text() {
        assert_eq!(show_bytes(b"hi"), "6869 (\"hi\")");
        assert_eq!(show_bytes(&[0, 1]), "0001");
        assert_eq!(show_bytes(b""), "(empty)");
        assert_eq!(bytes_json(b"hi")["utf8"], "hi");
        assert!(bytes_json(&[0xff]).get("utf8").is_none());
    }
}
