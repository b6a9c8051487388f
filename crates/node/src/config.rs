//! The node's configuration: one struct, [`ServeConfig`], filled from command-line flags, then
//! `SWITCHYARD_*` environment variables, then an optional TOML file, then defaults (a flag
//! wins over a variable, a variable over the file).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::NodeError;
use crate::producer::Mode;

/// How logs are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Default gRPC address.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";
/// Default `/metrics` address.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";
/// Default data directory (relative to the working directory).
pub const DEFAULT_DATA_DIR: &str = "switchyard-data";

/// `switchyard serve`'s flags. Every flag is optional: unset ones come from the environment
/// variable named beside it, then the `--config` file (same names with `_` for `-`), then the
/// default.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(
    after_help = "Precedence: command-line flag > SWITCHYARD_* environment variable > --config TOML file > default.\n\nExample:\n  switchyard serve --dev                      # a local devnet with funded dev keys\n  switchyard serve --dev --reset              # start it over\n  switchyard serve --genesis genesis.toml --data-dir /var/lib/switchyard\n\nA genesis file (TOML, or JSON by its .json extension):\n  network_id = 7\n  [[accounts]]                 # native-token balances\n  key = \"<32 bytes hex>\"       # an Ed25519 public key\n  balance = \"1000000000000\"    # a string or an integer\n  [registry]                   # optional: the prover registry, every key optional\n  confirm_min_delay = 360      # frames (defaults shown)\n  confirm_max_delay = 720\n  resume_window = 1440\n  max_status_entries = 1024\n  max_filter_entries = 256\n  [[provers]]                  # optional: provers active from genesis\n  key = \"<32 bytes hex>\"\n  filters = [\"<32 bytes hex>\"]\n  delegate = \"<64 bytes hex>\"  # optional: where rewards go\n\n--dev instead funds dev:alice, dev:bob, dev:carol and dev:dave, and makes dev:alice an active\nprover on filter 00..00 in a registry whose joins may be confirmed one frame later."
)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as the flags, `_` for `-`).
    #[arg(long, env = "SWITCHYARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (state, message index, chain file) [default: ./switchyard-data].
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Development network: on first start, a deterministic genesis funding the dev keys,
    /// with dev:alice an active prover.
    #[arg(long, env = "SWITCHYARD_DEV")]
    pub dev: bool,
    /// Delete the data directory first and start over.
    #[arg(long, env = "SWITCHYARD_RESET")]
    pub reset: bool,
    /// Genesis file (TOML or JSON), required on first start without --dev.
    #[arg(long, env = "SWITCHYARD_GENESIS")]
    pub genesis: Option<PathBuf>,
    /// gRPC listen address (port 0 picks a free port) [default: 127.0.0.1:50051].
    #[arg(long, env = "SWITCHYARD_GRPC_ADDR")]
    pub grpc_addr: Option<SocketAddr>,
    /// /metrics listen address (port 0 picks a free port) [default: 127.0.0.1:9464].
    #[arg(long, env = "SWITCHYARD_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// producer (seal frames from the mempool) or follower (execute frames from an orderer).
    #[arg(long, env = "SWITCHYARD_MODE", value_enum)]
    pub mode: Option<Mode>,
    /// Longest a message waits before its frame is sealed, in milliseconds [default: 200].
    #[arg(long, env = "SWITCHYARD_FRAME_INTERVAL_MS")]
    pub frame_interval_ms: Option<u64>,
    /// Most messages per produced frame [default: 10000].
    #[arg(long, env = "SWITCHYARD_FRAME_MAX")]
    pub frame_max: Option<usize>,
    /// Most messages waiting in the mempool [default: 50000].
    #[arg(long, env = "SWITCHYARD_MEMPOOL_MAX")]
    pub mempool_max: Option<usize>,
    /// Most bytes waiting in the mempool [default: 67108864].
    #[arg(long, env = "SWITCHYARD_MEMPOOL_MAX_BYTES")]
    pub mempool_max_bytes: Option<usize>,
    /// Largest message admitted, in bytes [default: 1048576].
    #[arg(long, env = "SWITCHYARD_MAX_MESSAGE_BYTES")]
    pub max_message_bytes: Option<usize>,
    /// Frame executor threads [default: available cores].
    #[arg(long, env = "SWITCHYARD_THREADS")]
    pub threads: Option<usize>,
    /// Fee multiplier of produced frames [default: 1].
    #[arg(long, env = "SWITCHYARD_FEE_MULTIPLIER")]
    pub fee_multiplier: Option<u64>,
    /// Fee recipient of produced frames, 32 bytes hex [default: zero key].
    #[arg(long, env = "SWITCHYARD_FEE_RECIPIENT")]
    pub fee_recipient: Option<String>,
    /// Concurrent requests per gRPC connection [default: 256].
    #[arg(long, env = "SWITCHYARD_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Log format [default: text].
    #[arg(long, env = "SWITCHYARD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

/// The same settings as a TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    dev: Option<bool>,
    reset: Option<bool>,
    genesis: Option<PathBuf>,
    grpc_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    mode: Option<Mode>,
    frame_interval_ms: Option<u64>,
    frame_max: Option<usize>,
    mempool_max: Option<usize>,
    mempool_max_bytes: Option<usize>,
    max_message_bytes: Option<usize>,
    threads: Option<usize>,
    fee_multiplier: Option<u64>,
    fee_recipient: Option<String>,
    concurrency: Option<usize>,
    log_format: Option<LogFormat>,
}

/// The effective configuration of `switchyard serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Development network.
    pub dev: bool,
    /// Wipe the data directory first.
    pub reset: bool,
    /// Genesis file for a first start without `dev`.
    pub genesis: Option<PathBuf>,
    /// gRPC listen address.
    pub grpc_addr: SocketAddr,
    /// `/metrics` listen address.
    pub metrics_addr: SocketAddr,
    /// Producer or follower.
    pub mode: Mode,
    /// Longest a message waits before its frame is sealed.
    pub frame_interval: Duration,
    /// Most messages per produced frame.
    pub frame_max: usize,
    /// Mempool bound, messages.
    pub mempool_max: usize,
    /// Mempool bound, bytes.
    pub mempool_max_bytes: usize,
    /// Largest message admitted.
    pub max_message_bytes: usize,
    /// Frame executor threads.
    pub threads: usize,
    /// Fee multiplier of produced frames.
    pub fee_multiplier: u64,
    /// Fee recipient of produced frames.
    pub fee_recipient: [u8; 32],
    /// Concurrent requests per gRPC connection.
    pub concurrency: usize,
    /// Log format.
    pub log_format: LogFormat,
}

impl ServeConfig {
    /// A development configuration on `data_dir` with free loopback ports (tests, benchmarks).
    pub fn dev(data_dir: impl Into<PathBuf>) -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            data_dir: data_dir.into(),
            dev: true,
            reset: false,
            genesis: None,
            grpc_addr: loopback,
            metrics_addr: loopback,
            mode: Mode::Producer,
            frame_interval: Duration::from_millis(200),
            frame_max: 10_000,
            mempool_max: 50_000,
            mempool_max_bytes: 64 << 20,
            max_message_bytes: 1 << 20,
            threads: default_threads(),
            fee_multiplier: 1,
            fee_recipient: [0; 32],
            concurrency: 256,
            log_format: LogFormat::Text,
        }
    }

    /// Resolves flags (and the variables clap read into them), the `--config` file and the
    /// defaults.
    pub fn resolve(args: ServeArgs) -> Result<Self, NodeError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let parse_addr = |text: &str| -> Result<SocketAddr, NodeError> {
            text.parse()
                .map_err(|e| NodeError::Config(format!("address {text:?}: {e}")))
        };
        let fee_recipient = match args.fee_recipient.or(file.fee_recipient) {
            None => [0; 32],
            Some(text) => crate::keys::parse_key_hex(&text)
                .map_err(|e| NodeError::Config(format!("fee recipient: {e}")))?,
        };
        let config = Self {
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            dev: args.dev || file.dev.unwrap_or(false),
            reset: args.reset || file.reset.unwrap_or(false),
            genesis: args.genesis.or(file.genesis),
            grpc_addr: match args.grpc_addr.or(file.grpc_addr) {
                Some(addr) => addr,
                None => parse_addr(DEFAULT_GRPC_ADDR)?,
            },
            metrics_addr: match args.metrics_addr.or(file.metrics_addr) {
                Some(addr) => addr,
                None => parse_addr(DEFAULT_METRICS_ADDR)?,
            },
            mode: args.mode.or(file.mode).unwrap_or(Mode::Producer),
            frame_interval: Duration::from_millis(
                args.frame_interval_ms
                    .or(file.frame_interval_ms)
                    .unwrap_or(200),
            ),
            frame_max: args.frame_max.or(file.frame_max).unwrap_or(10_000),
            mempool_max: args.mempool_max.or(file.mempool_max).unwrap_or(50_000),
            mempool_max_bytes: args
                .mempool_max_bytes
                .or(file.mempool_max_bytes)
                .unwrap_or(64 << 20),
            max_message_bytes: args
                .max_message_bytes
                .or(file.max_message_bytes)
                .unwrap_or(1 << 20),
            threads: args
                .threads
                .or(file.threads)
                .unwrap_or_else(default_threads),
            fee_multiplier: args.fee_multiplier.or(file.fee_multiplier).unwrap_or(1),
            fee_recipient,
            concurrency: args.concurrency.or(file.concurrency).unwrap_or(256),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), NodeError> {
        let positive = [
            ("frame-max", self.frame_max),
            ("mempool-max", self.mempool_max),
            ("mempool-max-bytes", self.mempool_max_bytes),
            ("max-message-bytes", self.max_message_bytes),
            ("threads", self.threads),
            ("concurrency", self.concurrency),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(NodeError::Config(format!("{name} must be at least 1")));
            }
        }
        if self.frame_interval.is_zero() {
            return Err(NodeError::Config(
                "frame-interval-ms must be at least 1".into(),
            ));
        }
        if self.max_message_bytes > self.mempool_max_bytes {
            return Err(NodeError::Config(format!(
                "max-message-bytes {} exceeds mempool-max-bytes {}",
                self.max_message_bytes, self.mempool_max_bytes
            )));
        }
        Ok(())
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn read_file(path: &Path) -> Result<FileConfig, NodeError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| NodeError::Config(format!("reading {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| NodeError::Config(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("node.toml");
        std::fs::write(
            &file,
            "frame_max = 7\nmempool_max = 9\nmode = \"follower\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file),
            frame_max: Some(3),
            ..Default::default()
        };
        let config = ServeConfig::resolve(args).unwrap();
        assert_eq!(config.frame_max, 3);
        assert_eq!(config.mempool_max, 9);
        assert_eq!(config.mode, Mode::Follower);
        assert_eq!(config.max_message_bytes, 1 << 20);
    }

    #[test]
    fn unknown_file_keys_and_zero_bounds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("node.toml");
        std::fs::write(&file, "frame_maximum = 7\n").unwrap();
        let args = ServeArgs {
            config: Some(file),
            ..Default::default()
        };
        assert!(ServeConfig::resolve(args).is_err());
        let args = ServeArgs {
            frame_max: Some(0),
            ..Default::default()
        };
        assert!(ServeConfig::resolve(args).is_err());
    }
}
