//! Campaigns against a real `switchyard serve` child process on loopback: [`crash`] (SIGKILL
//! and restart under a steady submit load, then an in-process replay of everything the node
//! committed) and [`overload`] (a bounded flood past the node's capacity). Behind the hidden
//! `switchyard campaign crash|overload` subcommand, which `cargo xtask crash` and
//! `cargo xtask overload` run, and the node's integration tests (short runs).
//!
//! Every loop is bounded in count and in time; the node is killed when its handle drops.

pub mod crash;
pub mod overload;
pub mod process;

use std::path::PathBuf;
use std::time::Duration;

use crate::NodeError;

/// `switchyard campaign ...` (hidden): the hardening campaigns.
#[derive(Debug, clap::Subcommand)]
pub enum CampaignCommand {
    /// SIGKILL a dev node at random moments under load, restart it, compare with an
    /// uninterrupted run.
    Crash(CrashArgs),
    /// Flood a node with a small mempool past its capacity; check memory, refusals,
    /// responsiveness and that every accepted message commits.
    Overload(OverloadArgs),
}

/// `switchyard campaign crash`.
#[derive(Debug, clap::Args)]
pub struct CrashArgs {
    /// Kills (each followed by a restart on the same data dir).
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Seed of the kill delays and the load (default: from the clock; printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Shortest time from a start to its kill, milliseconds.
    #[arg(long, default_value_t = 1_000)]
    pub min_run_ms: u64,
    /// Longest time from a start to its kill, milliseconds.
    #[arg(long, default_value_t = 4_000)]
    pub max_run_ms: u64,
    /// Where the data dir and the node's log go (default: a temporary directory, kept when
    /// there are mismatches).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The `switchyard` binary to run (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Print the report as JSON too.
    #[arg(long)]
    pub json: bool,
}

/// `switchyard campaign overload`.
#[derive(Debug, clap::Args)]
pub struct OverloadArgs {
    /// Flood time, seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Of them, clients sending large messages.
    #[arg(long, default_value_t = 16)]
    pub large_clients: usize,
    /// Bound of the node's peak RSS, MiB.
    #[arg(long, default_value_t = overload::DEFAULT_RSS_BOUND_KB / 1024)]
    pub rss_bound_mib: u64,
    /// Where the data dir and the node's log go (default: a temporary directory, kept on
    /// failure).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// The `switchyard` binary to run (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Print the report as JSON too.
    #[arg(long)]
    pub json: bool,
}

/// Most runs of one crash campaign.
const MAX_RUNS: usize = 1_000;
/// Longest flood of one overload run, seconds.
const MAX_SECONDS: u64 = 600;

fn binary(chosen: Option<PathBuf>) -> Result<PathBuf, NodeError> {
    match chosen {
        Some(path) => Ok(path),
        None => std::env::current_exe().map_err(|source| NodeError::Io {
            context: "finding the switchyard binary",
            source,
        }),
    }
}

fn print_json(report: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    );
}

/// Runs a campaign, prints its figures; an error when it found a mismatch or a failure.
pub fn run(command: CampaignCommand) -> Result<(), NodeError> {
    match command {
        CampaignCommand::Crash(args) => {
            if args.runs == 0 || args.runs > MAX_RUNS || args.min_run_ms > args.max_run_ms {
                return Err(NodeError::Argument {
                    name: "--runs",
                    reason: format!(
                        "runs within 1..={MAX_RUNS} and --min-run-ms at most --max-run-ms"
                    ),
                });
            }
            let seed = args.seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| {
                        u64::try_from(d.as_nanos() & u128::from(u64::MAX)).unwrap_or(1)
                    })
            });
            println!("crash campaign: seed {seed} (repeat with --seed {seed})");
            let mut options = crash::CrashOptions::new(binary(args.binary)?, args.runs, seed);
            options.min_run = Duration::from_millis(args.min_run_ms);
            options.max_run = Duration::from_millis(args.max_run_ms);
            options.work_dir = args.work_dir;
            let report = crash::run(&options)?;
            print!("{}", report.summary());
            if args.json {
                print_json(&report);
            }
            match report.mismatches {
                0 => Ok(()),
                n => Err(NodeError::Answer(format!("crash campaign: {n} mismatches"))),
            }
        }
        CampaignCommand::Overload(args) => {
            if args.seconds == 0 || args.seconds > MAX_SECONDS {
                return Err(NodeError::Argument {
                    name: "--seconds",
                    reason: format!("{} is not within 1..={MAX_SECONDS}", args.seconds),
                });
            }
            let mut options = overload::OverloadOptions::new(
                binary(args.binary)?,
                Duration::from_secs(args.seconds),
            );
            options.clients = args.clients;
            options.large_clients = args.large_clients;
            options.rss_bound_kb = args.rss_bound_mib.saturating_mul(1024);
            options.work_dir = args.work_dir;
            let report = overload::run(&options)?;
            print!("{}", report.summary());
            if args.json {
                print_json(&report);
            }
            match report.passed() {
                true => Ok(()),
                false => Err(NodeError::Answer(format!(
                    "overload: {} requirements failed",
                    report.failures.len()
                ))),
            }
        }
    }
}
