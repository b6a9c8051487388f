//! Genesis: the dev network's, or one read from a file; and the chain file that remembers the
//! network id in the data dir.
//!
//! A genesis file is TOML (or JSON, by its `.json` extension):
//!
//! ```toml
//! network_id = 7
//! [[accounts]]
//! key = "<32 bytes hex>"      # an Ed25519 public key
//! balance = "1000000000000"   # native-token units, a string or an integer
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};
use switchyard_router::Key;
use switchyard_state::ChangeSet;
use switchyard_token::NativeGenesis;

use crate::NodeError;
use crate::keys::{DEV_KEY_NAMES, dev_key, parse_key_hex};

/// The network id of `serve --dev`.
pub const DEV_NETWORK_ID: u32 = 1337;

/// Native-token units each dev key starts with (1,000,000 SWY at 9 decimals).
pub const DEV_BALANCE: u128 = 1_000_000_000_000_000;

/// An amount written as a string (any `u128`) or an integer.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Amount {
    Text(String),
    Number(u64),
}

impl Amount {
    fn value(&self) -> Result<u128, NodeError> {
        match self {
            Amount::Number(n) => Ok(u128::from(*n)),
            Amount::Text(text) => text
                .parse()
                .map_err(|e| NodeError::Genesis(format!("balance {text:?}: {e}"))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    key: String,
    balance: Amount,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisFile {
    network_id: u32,
    #[serde(default)]
    accounts: Vec<AccountEntry>,
}

/// A genesis: the network id and the native token's initial balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// Network id signed into every operation.
    pub network_id: u32,
    /// Initial native-token balances.
    pub balances: Vec<(Key, u128)>,
}

impl Genesis {
    /// The dev network's genesis: every dev key with [`DEV_BALANCE`].
    pub fn dev() -> Self {
        Self {
            network_id: DEV_NETWORK_ID,
            balances: DEV_KEY_NAMES
                .iter()
                .filter_map(|name| dev_key(name))
                .map(|key| (key.verifying_key().to_bytes(), DEV_BALANCE))
                .collect(),
        }
    }

    /// Reads a genesis file (TOML, or JSON by a `.json` extension).
    pub fn read(path: &Path) -> Result<Self, NodeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| NodeError::Genesis(format!("reading {}: {e}", path.display())))?;
        let file: GenesisFile = match path.extension().is_some_and(|e| e == "json") {
            true => serde_json::from_str(&text)
                .map_err(|e| NodeError::Genesis(format!("{}: {e}", path.display())))?,
            false => toml::from_str(&text)
                .map_err(|e| NodeError::Genesis(format!("{}: {e}", path.display())))?,
        };
        let mut balances = Vec::with_capacity(file.accounts.len());
        for entry in &file.accounts {
            let key = parse_key_hex(&entry.key).map_err(NodeError::Genesis)?;
            balances.push((key, entry.balance.value()?));
        }
        Ok(Self {
            network_id: file.network_id,
            balances,
        })
    }

    /// The records of the genesis state, from every registered engine's genesis.
    pub fn changes(&self) -> Result<ChangeSet, NodeError> {
        let native = NativeGenesis {
            balances: self.balances.clone(),
            ..Default::default()
        };
        Ok(switchyard_token::genesis(&native)?.into_iter().collect())
    }
}

/// What the data dir remembers about its chain (`chain.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChainFile {
    /// Network id.
    pub network_id: u32,
    /// Whether it is a dev network.
    pub dev: bool,
}

impl ChainFile {
    /// The file name inside the data dir.
    pub const FILE_NAME: &'static str = "chain.json";

    /// Reads the chain file of `data_dir`, if there is one.
    pub fn read(data_dir: &Path) -> Result<Option<Self>, NodeError> {
        let path = data_dir.join(Self::FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| NodeError::Genesis(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(NodeError::Genesis(format!(
                "reading {}: {e}",
                path.display()
            ))),
        }
    }

    /// Writes the chain file of `data_dir`.
    pub fn write(&self, data_dir: &Path) -> Result<(), NodeError> {
        let path = data_dir.join(Self::FILE_NAME);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| NodeError::Genesis(format!("encoding the chain file: {e}")))?;
        std::fs::write(&path, text)
            .map_err(|e| NodeError::Genesis(format!("writing {}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_files_read_as_toml_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("g.toml");
        std::fs::write(
            &toml_path,
            format!("network_id = 9\n[[accounts]]\nkey = \"{}\"\nbalance = \"340282366920938463463374607431768211455\"\n", "01".repeat(32)),
        )
        .unwrap();
        let genesis = Genesis::read(&toml_path).unwrap();
        assert_eq!(genesis.network_id, 9);
        assert_eq!(genesis.balances, vec![([1; 32], u128::MAX)]);
        let json_path = dir.path().join("g.json");
        std::fs::write(
            &json_path,
            format!(
                "{{\"network_id\": 9, \"accounts\": [{{\"key\": \"{}\", \"balance\": 5}}]}}",
                "02".repeat(32)
            ),
        )
        .unwrap();
        assert_eq!(
            Genesis::read(&json_path).unwrap().balances,
            vec![([2; 32], 5)]
        );
        assert!(Genesis::dev().changes().is_ok());
    }
}
