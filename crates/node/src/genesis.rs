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
//!
//! # Optional: the prover registry (the global engine). Without [registry] or [[provers]]
//! # no registry record is written and the engine's defaults apply.
//! [registry]                  # every key optional; these are the defaults
//! confirm_min_delay = 360     # frames before a join or leave may be confirmed
//! confirm_max_delay = 720     # frames after which it expires (join) or takes effect (leave)
//! resume_window = 1440        # frames a pause may last
//! max_status_entries = 1024
//! max_filter_entries = 256
//! [[provers]]                 # active from genesis
//! key = "<32 bytes hex>"      # an Ed25519 public key
//! filters = ["<32 bytes hex>"]
//! delegate = "<64 bytes hex>" # optional: where rewards go (default: its own account)
//! ```
//!
//! The dev network's genesis ([`Genesis::dev`]) funds the dev keys and makes `dev:alice` an
//! active prover on [`DEV_FILTER`], with a registry whose joins and leaves may be confirmed
//! one frame later ([`DEV_CONFIRM_MIN_DELAY`]).

use std::path::Path;

use serde::{Deserialize, Serialize};
use switchyard_global::{GenesisProver, GlobalGenesis, RegistryConfig};
use switchyard_router::{Address, Key};
use switchyard_state::ChangeSet;
use switchyard_token::NativeGenesis;

use crate::NodeError;
use crate::keys::{DEV_KEY_NAMES, dev_key, parse_key_hex};

/// The network id of `serve --dev`.
pub const DEV_NETWORK_ID: u32 = 1337;

/// Native-token units each dev key starts with (1,000,000 SWY at 9 decimals).
pub const DEV_BALANCE: u128 = 1_000_000_000_000_000;

/// The filter `dev:alice` serves from the dev genesis: `00..00`.
pub const DEV_FILTER: [u8; 32] = [0; 32];

/// The dev registry's `confirm_min_delay`: a join or leave may be confirmed in the next frame
/// (the other windows are the defaults), so a devnet needs no 360 frames to try it.
pub const DEV_CONFIRM_MIN_DELAY: u64 = 1;

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
struct ProverEntry {
    key: String,
    filters: Vec<String>,
    #[serde(default)]
    delegate: Option<String>,
}

/// The `[registry]` table: any key left out keeps [`RegistryConfig::default`]'s value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryEntry {
    confirm_min_delay: Option<u64>,
    confirm_max_delay: Option<u64>,
    resume_window: Option<u64>,
    max_status_entries: Option<u32>,
    max_filter_entries: Option<u32>,
}

impl RegistryEntry {
    fn config(&self) -> RegistryConfig {
        let default = RegistryConfig::default();
        RegistryConfig {
            confirm_min_delay: self.confirm_min_delay.unwrap_or(default.confirm_min_delay),
            confirm_max_delay: self.confirm_max_delay.unwrap_or(default.confirm_max_delay),
            resume_window: self.resume_window.unwrap_or(default.resume_window),
            max_status_entries: self
                .max_status_entries
                .unwrap_or(default.max_status_entries),
            max_filter_entries: self
                .max_filter_entries
                .unwrap_or(default.max_filter_entries),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisFile {
    network_id: u32,
    #[serde(default)]
    accounts: Vec<AccountEntry>,
    #[serde(default)]
    registry: Option<RegistryEntry>,
    #[serde(default)]
    provers: Vec<ProverEntry>,
}

/// A genesis: the network id, the native token's initial balances and, optionally, the
/// prover registry's configuration and initial provers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Genesis {
    /// Network id signed into every operation.
    pub network_id: u32,
    /// Initial native-token balances.
    pub balances: Vec<(Key, u128)>,
    /// The prover registry's genesis (configuration, active provers); `None` writes no
    /// registry record, so the global engine reads its defaults.
    pub registry: Option<GlobalGenesis>,
}

impl Genesis {
    /// The dev network's genesis: every dev key with [`DEV_BALANCE`], and `dev:alice` an
    /// active prover on [`DEV_FILTER`] in a registry whose confirm window opens after
    /// [`DEV_CONFIRM_MIN_DELAY`] frames.
    pub fn dev() -> Self {
        let registry = GlobalGenesis {
            config: RegistryConfig {
                confirm_min_delay: DEV_CONFIRM_MIN_DELAY,
                ..RegistryConfig::default()
            },
            provers: dev_key("alice")
                .map(|alice| GenesisProver {
                    key: alice.verifying_key().to_bytes(),
                    filters: vec![DEV_FILTER],
                    delegate: None,
                })
                .into_iter()
                .collect(),
            frame: 0,
        };
        Self {
            network_id: DEV_NETWORK_ID,
            balances: DEV_KEY_NAMES
                .iter()
                .filter_map(|name| dev_key(name))
                .map(|key| (key.verifying_key().to_bytes(), DEV_BALANCE))
                .collect(),
            registry: Some(registry),
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
        let mut provers = Vec::with_capacity(file.provers.len());
        for entry in &file.provers {
            provers.push(read_prover(entry)?);
        }
        let registry = match (&file.registry, provers.is_empty()) {
            (None, true) => None,
            (registry, _) => Some(GlobalGenesis {
                config: registry
                    .as_ref()
                    .map_or_else(RegistryConfig::default, RegistryEntry::config),
                provers,
                frame: 0,
            }),
        };
        Ok(Self {
            network_id: file.network_id,
            balances,
            registry,
        })
    }

    /// The records of the genesis state, from every registered engine's genesis: the native
    /// token's, then the prover registry's (when there is one). A bad registry (a duplicated
    /// prover, an invalid key, a window that does not open) is refused with its reason.
    pub fn changes(&self) -> Result<ChangeSet, NodeError> {
        let native = NativeGenesis {
            balances: self.balances.clone(),
            ..Default::default()
        };
        let mut records = switchyard_token::genesis(&native)?;
        if let Some(registry) = &self.registry {
            let global = switchyard_global::genesis(registry)
                .map_err(|e| NodeError::Genesis(format!("prover registry: {e}")))?;
            records.extend(global);
        }
        Ok(records.into_iter().collect())
    }
}

/// A `[[provers]]` entry as a registry genesis prover.
fn read_prover(entry: &ProverEntry) -> Result<GenesisProver, NodeError> {
    let key =
        parse_key_hex(&entry.key).map_err(|e| NodeError::Genesis(format!("prover key: {e}")))?;
    let mut filters = Vec::with_capacity(entry.filters.len());
    for filter in &entry.filters {
        filters.push(
            parse_key_hex(filter)
                .map_err(|e| NodeError::Genesis(format!("prover {}: filter {e}", entry.key)))?,
        );
    }
    let delegate =
        match &entry.delegate {
            None => None,
            Some(text) => {
                let text = text.trim();
                let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|e| {
                    NodeError::Genesis(format!("prover {}: delegate {text:?}: {e}", entry.key))
                })?;
                Some(Address::from_slice(&bytes).map_err(|e| {
                    NodeError::Genesis(format!("prover {}: delegate: {e}", entry.key))
                })?)
            }
        };
    Ok(GenesisProver {
        key,
        filters,
        delegate,
    })
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
        assert_eq!(Genesis::read(&json_path).unwrap().registry, None);
    }

    #[test]
    fn genesis_files_seed_the_prover_registry() {
        let dir = tempfile::tempdir().unwrap();
        let prover = dev_key("bob").unwrap().verifying_key().to_bytes();
        let path = dir.path().join("g.toml");
        std::fs::write(
            &path,
            format!(
                "network_id = 9\n[registry]\nconfirm_min_delay = 5\n[[provers]]\nkey = \"{}\"\nfilters = [\"{}\", \"{}\"]\ndelegate = \"{}\"\n",
                hex::encode(prover),
                "07".repeat(32),
                "08".repeat(32),
                "09".repeat(64)
            ),
        )
        .unwrap();
        let registry = Genesis::read(&path).unwrap().registry.unwrap();
        assert_eq!(registry.config.confirm_min_delay, 5);
        assert_eq!(registry.config.confirm_max_delay, 720);
        assert_eq!(registry.provers.len(), 1);
        assert_eq!(registry.provers[0].key, prover);
        assert_eq!(registry.provers[0].filters, vec![[7; 32], [8; 32]]);
        assert_eq!(
            registry.provers[0].delegate,
            Some(Address::new(switchyard_router::Domain([9; 32]), [9; 32]))
        );
        // A bad prover is named: a filter that is not 32 bytes, an unknown key, a bad window.
        for (text, named) in [
            (
                format!(
                    "network_id = 9\n[[provers]]\nkey = \"{}\"\nfilters = [\"07\"]\n",
                    hex::encode(prover)
                ),
                "filter",
            ),
            (
                "network_id = 9\n[[provers]]\nkey = \"00\"\nfilters = []\nstake = 1\n".to_owned(),
                "stake",
            ),
            (
                "network_id = 9\n[registry]\nconfirm_min_delay = 0\n".to_owned(),
                "confirm_min_delay",
            ),
        ] {
            std::fs::write(&path, &text).unwrap();
            let error = Genesis::read(&path)
                .and_then(|g| g.changes().map(|_| ()))
                .unwrap_err()
                .to_string();
            assert!(error.contains(named), "{text}: {error}");
        }
    }

    #[test]
    fn the_dev_genesis_makes_alice_an_active_prover() {
        let changes = Genesis::dev().changes().unwrap();
        let alice = dev_key("alice").unwrap().verifying_key().to_bytes();
        let view = switchyard_router::MemoryView {
            entries: changes
                .iter()
                .filter_map(|(address, value)| Some((*address, value?.to_vec())))
                .collect(),
        };
        let record = switchyard_global::prover(&view, &alice).unwrap().unwrap();
        assert_eq!(
            record.filters[&DEV_FILTER].status,
            switchyard_global::Status::Active
        );
        assert_eq!(
            switchyard_global::registry_config(&view)
                .unwrap()
                .confirm_min_delay,
            DEV_CONFIRM_MIN_DELAY
        );
    }
}
