//! `cargo xtask crash [ARGS]` and `cargo xtask overload [ARGS]`: the node's hardening
//! campaigns, run by the `switchyard` binary itself (its hidden `campaign` subcommand) in
//! release mode, so that xtask stays free of the node's dependencies.
//!
//! - `crash [--runs N] [--seed S] [--min-run-ms A] [--max-run-ms B]`: a `switchyard serve
//!   --dev` under a steady submit load, SIGKILLed at seeded random moments N times (default
//!   10) and restarted on the same data dir; prints runs, kills and mismatches (non-zero exit
//!   on any).
//! - `overload [--seconds N] [--clients C] [--large-clients L] [--rss-bound-mib M]`: a node
//!   with a small mempool flooded past its capacity; prints peak RSS, refusals, accepted and
//!   committed (non-zero exit when a requirement fails).

/// Runs `switchyard campaign <kind> ARGS` from a release build.
pub(crate) fn run(kind: &str, args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(crate::project_root())
        .args([
            "run",
            "--release",
            "--locked",
            "-p",
            "switchyard-node",
            "--",
            "campaign",
            kind,
        ])
        .args(args)
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the {kind} campaign exited with {status}"))
    }
}
