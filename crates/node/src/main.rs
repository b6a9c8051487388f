//! `switchyard`: the node's command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchyard_node::bench::{self, RunOptions, StoreKind, SuiteOptions, WorkloadKind};
use switchyard_node::commands::{ClientArgs, ClientCommand};
use switchyard_node::config::{LogFormat, ServeArgs, ServeConfig};
use switchyard_node::{NodeError, decode};

/// The frame executor allocates and frees small buffers on several threads at once (overlays,
/// change sets, decoded messages), where mimalloc's thread-local heaps scale better than the
/// system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long memory freed to mimalloc stays mapped before mimalloc returns it to the OS.
///
/// By default mimalloc 3 purges about once a second: the first free after a purge sets a
/// deadline a second ahead, and at the deadline every range free at that moment goes back.
/// Between two frames nearly all of a frame's working set (decoded messages, overlays,
/// change sets) is free, so a purge landing there hands it back, and the next frame's
/// workers fault it in again (on these VMs, ~5 ms per 2 MiB transparent huge page): up to
/// 4,000 worker page faults in a 100,000-message `bench` run at the default, about 35 at
/// this delay. A node runs frames back to back, so it keeps that memory, and still returns
/// it after ten idle seconds (the decay jemalloc uses by default).
const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// mimalloc's `mi_option_purge_delay`: its number in `mi_option_t` (`mimalloc.h`, the same
/// in mimalloc 2 and 3; `libmimalloc-sys` names the options around it but not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The environment variable mimalloc reads for the same option: a user who sets it keeps it.
const PURGE_DELAY_VAR: &str = "MIMALLOC_PURGE_DELAY";

/// Sets [`PURGE_DELAY_MS`] unless the user chose a delay through [`PURGE_DELAY_VAR`].
#[allow(unsafe_code)]
fn keep_freed_memory() {
    if std::env::var_os(PURGE_DELAY_VAR).is_some() {
        return;
    }
    // SAFETY: `mi_option_set` stores a value in mimalloc's option table, which mimalloc reads
    // on its allocation paths; the option exists in every mimalloc this crate can link (see
    // `MI_OPTION_PURGE_DELAY`), and any delay is valid for it.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
}

/// switchyard: the execution layer of a sharded ledger node.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    after_help = "Start a local devnet, then drive it:\n  switchyard serve --dev\n  switchyard token transfer --key dev:alice --to dev:bob --amount 1000\n  switchyard token balance dev:bob"
)]
struct Cli {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a node: gRPC (node, execution, health, reflection) and /metrics.
    Serve(ServeArgs),
    #[command(flatten)]
    Client(ClientCommand),
    /// Decode canonical message bytes (hex) strictly and pretty-print them.
    Decode {
        /// The canonical bytes as hex: 4-byte type tag, then the protobuf encoding.
        hex: String,
    },
    /// Run benchmark workloads and print a JSON report on stdout.
    Bench(BenchArgs),
    #[command(hide = true, subcommand)]
    Campaign(switchyard_node::campaign::CampaignCommand),
}

#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// Run a named suite of comparisons ("standard", or "node": a loopback node driven over
    /// gRPC for 10 s, against the in-process executor) instead of one workload.
    #[arg(long)]
    suite: Option<String>,
    /// Workload of a single run.
    #[arg(long, value_enum, default_value = "transfers")]
    workload: WorkloadKind,
    /// Accounts taking part (transfers: keep at least twice the frame size for no conflicts).
    #[arg(long, default_value_t = 20_000)]
    accounts: usize,
    /// Total messages.
    #[arg(long, default_value_t = 100_000)]
    messages: usize,
    /// Messages per frame.
    #[arg(long, default_value_t = 10_000)]
    frame_size: usize,
    /// Worker threads (default: available cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Store to commit to.
    #[arg(long, value_enum, default_value = "memory")]
    store: StoreKind,
    /// Seed of the generated workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction (0 to 1) of transfers sent to one hot account.
    #[arg(long, default_value_t = 0.0)]
    conflict: f64,
    /// Suite only: how many times each measurement runs (the best is reported).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Verify signatures before timing starts (execution alone).
    #[arg(long)]
    preverified: bool,
}

/// Most messages a benchmark generates (about 2.5 GB of signed messages and state).
const MAX_MESSAGES: usize = 10_000_000;

/// Most accounts a benchmark generates.
const MAX_ACCOUNTS: usize = 2_000_000;

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchyard: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr: `RUST_LOG` if set, else `default_level`; text or JSON.
fn init_logs(format: LogFormat, default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(cli: Cli) -> Result<(), NodeError> {
    match cli.command {
        Command::Decode { hex } => {
            init_logs(LogFormat::Text, "warn");
            let (_, rendered) = decode::decode_hex(&hex)?;
            println!("{rendered}");
            Ok(())
        }
        Command::Bench(args) => {
            init_logs(LogFormat::Text, "warn");
            bench_command(args)
        }
        Command::Campaign(command) => switchyard_node::campaign::run(command),
        Command::Serve(args) => {
            let config = ServeConfig::resolve(args)?;
            init_logs(config.log_format, "info");
            switchyard_node::server::runtime()?.block_on(serve(config))
        }
        Command::Client(command) => {
            init_logs(LogFormat::Text, "warn");
            switchyard_node::server::runtime()?
                .block_on(switchyard_node::commands::run(command, &cli.client))
        }
    }
}

/// `switchyard serve`: starts the node, prints where it listens (and the dev keys on a dev
/// network), and drains on SIGINT or SIGTERM.
async fn serve(config: ServeConfig) -> Result<(), NodeError> {
    let data_dir = config.data_dir.clone();
    let node = switchyard_node::server::start(config).await?;
    print!(
        "{}",
        switchyard_node::server::banner(&node.started, &data_dir)
    );
    let terminate = async {
        #[cfg(unix)]
        {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
        () = node.draining() => {}
    }
    node.shutdown();
    node.wait().await?;
    println!("stopped");
    Ok(())
}

fn bench_command(args: BenchArgs) -> Result<(), NodeError> {
    // Workloads are generated in memory up front: bound them so that a typo is an error, not
    // an allocation failure.
    if args.rounds == 0 || args.rounds > 100 {
        return Err(NodeError::Argument {
            name: "--rounds",
            reason: format!("{} is not within 1..=100", args.rounds),
        });
    }
    for (name, value, max) in [
        ("--messages", args.messages, MAX_MESSAGES),
        ("--frame-size", args.frame_size, MAX_MESSAGES),
        ("--accounts", args.accounts, MAX_ACCOUNTS),
    ] {
        if value == 0 || value > max {
            return Err(NodeError::Argument {
                name,
                reason: format!("{value} is not within 1..={max}"),
            });
        }
    }
    if !(0.0..=1.0).contains(&args.conflict) {
        return Err(NodeError::Argument {
            name: "--conflict",
            reason: format!("{} is not within 0..=1", args.conflict),
        });
    }
    let threads = match args.threads {
        Some(0) => {
            return Err(NodeError::Argument {
                name: "--threads",
                reason: "must be at least 1".into(),
            });
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let report = match args.suite.as_deref() {
        Some("standard") => bench::standard_suite(SuiteOptions {
            messages: args.messages,
            frame_size: args.frame_size,
            seed: args.seed,
            rounds: args.rounds,
        })?,
        Some("node") => {
            let report = switchyard_node::bench_node::node_suite(
                switchyard_node::bench_node::NodeSuiteOptions {
                    clients: 32,
                    duration: std::time::Duration::from_secs(10),
                    frame_max: args.frame_size,
                },
            )?;
            println!(
                "{}",
                serde_json::to_string_pretty(&report)
                    .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
            );
            eprintln!(
                "node suite: Submit {:.0}/s (ratio {:.3}), SubmitBatch {:.0}/s (ratio {:.3}; target {}), in-process {:.0}/s",
                report.unary.end_to_end_tps,
                report.unary.ratio,
                report.batched.end_to_end_tps,
                report.batched.ratio,
                switchyard_node::bench_node::RATIO_TARGET,
                report.in_process_tps,
            );
            return Ok(());
        }
        Some(other) => {
            return Err(NodeError::Argument {
                name: "--suite",
                reason: format!("unknown suite {other:?}; known: standard, node"),
            });
        }
        None => bench::single_run(RunOptions {
            workload: args.workload,
            accounts: args.accounts,
            messages: args.messages,
            frame_size: args.frame_size,
            threads,
            store: args.store,
            seed: args.seed,
            // Parts per million: the only float-to-integer step, on a command-line value.
            conflict_ppm: (args.conflict * 1e6).round() as u64,
            preverified: args.preverified,
        })?,
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    );
    eprint!("{}", switchyard_node::summary(&report));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The purge delay in force, read through mimalloc's API.
    #[allow(unsafe_code)]
    fn purge_delay() -> std::ffi::c_long {
        // SAFETY: `mi_option_get` reads one entry of mimalloc's option table.
        unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
    }

    #[test]
    fn the_binary_keeps_freed_memory_for_ten_seconds() {
        if std::env::var_os(PURGE_DELAY_VAR).is_some() {
            // The user's delay wins; nothing of ours to check.
            return;
        }
        // Before the binary sets it, option 15 holds mimalloc 3's purge delay (1,000 ms): a
        // renumbered `mi_option_t` in a new mimalloc shows here, before the binary sets the
        // wrong option.
        assert_eq!(purge_delay(), 1_000);
        keep_freed_memory();
        assert_eq!(purge_delay(), PURGE_DELAY_MS);
    }
}
