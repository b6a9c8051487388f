//! Key files and the dev keys.
//!
//! A key file holds one Ed25519 secret key as 64 hex characters (and a newline), readable by
//! its owner only (mode 0600). The dev keys are derived from fixed seeds, so every dev network
//! funds the same accounts: `dev:alice`, `dev:bob`, `dev:carol`, `dev:dave`.

use std::path::Path;

use switchyard_router::Key;
use switchyard_router::auth::SigningKey;

use crate::NodeError;

/// The names of the dev keys, in genesis order.
pub const DEV_KEY_NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// The dev key called `name` (one of [`DEV_KEY_NAMES`]): the BLAKE3 key derivation of its name
/// in the context "switchyard dev key v1".
pub fn dev_key(name: &str) -> Option<SigningKey> {
    DEV_KEY_NAMES.contains(&name).then(|| {
        SigningKey::from_bytes(&blake3::derive_key(
            "switchyard dev key v1",
            name.as_bytes(),
        ))
    })
}

/// Parses 32 bytes of hex (64 characters, an optional `0x` prefix).
pub fn parse_key_hex(text: &str) -> Result<Key, String> {
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(text).map_err(|e| format!("{text:?} is not hex: {e}"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{} bytes of hex, expected 32", bytes.len()))
}

/// Loads a signing key: `dev:NAME` for a dev key, else a key file's path.
pub fn load_key(spec: &str) -> Result<SigningKey, NodeError> {
    if let Some(name) = spec.strip_prefix("dev:") {
        return dev_key(name).ok_or_else(|| {
            NodeError::Key(format!(
                "no dev key {name:?}; the dev keys are {}",
                DEV_KEY_NAMES.join(", ")
            ))
        });
    }
    let text = std::fs::read_to_string(spec)
        .map_err(|e| NodeError::Key(format!("reading {spec}: {e}")))?;
    let secret = parse_key_hex(&text).map_err(|e| NodeError::Key(format!("{spec}: {e}")))?;
    Ok(SigningKey::from_bytes(&secret))
}

/// Parses an account: 32 bytes of hex, `dev:NAME`, or a key file (its public key).
pub fn parse_account(spec: &str) -> Result<Key, NodeError> {
    match parse_key_hex(spec) {
        Ok(key) => Ok(key),
        Err(_) if spec.starts_with("dev:") || Path::new(spec).is_file() => {
            Ok(load_key(spec)?.verifying_key().to_bytes())
        }
        Err(e) => Err(NodeError::Key(format!("account {e}"))),
    }
}

/// Writes `key` to a new file at `path`, mode 0600; refuses to overwrite.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), NodeError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| NodeError::Key(format!("creating {}: {e}", path.display())))?;
    writeln!(file, "{}", hex::encode(key.to_bytes()))
        .map_err(|e| NodeError::Key(format!("writing {}: {e}", path.display())))
}

/// A fresh key from the operating system's randomness.
pub fn generate_key() -> Result<SigningKey, NodeError> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut seed))
        .map_err(|e| NodeError::Key(format!("reading randomness: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_are_fixed_and_key_files_round_trip() {
        let alice = dev_key("alice").unwrap();
        assert_eq!(alice.to_bytes(), dev_key("alice").unwrap().to_bytes());
        assert_ne!(alice.to_bytes(), dev_key("bob").unwrap().to_bytes());
        assert!(dev_key("mallory").is_none());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        write_key_file(&path, &alice).unwrap();
        assert!(write_key_file(&path, &alice).is_err());
        let loaded = load_key(path.to_str().unwrap()).unwrap();
        assert_eq!(loaded.to_bytes(), alice.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            parse_account("dev:alice").unwrap(),
            alice.verifying_key().to_bytes()
        );
    }
}
