//! `cargo xtask ci`: every check, in order, stopping at the first failure.

use std::process::Command;
use std::time::Instant;

/// One step of the pipeline: a name and what it runs.
struct Step {
    name: &'static str,
    run: fn() -> Result<(), String>,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!(
            "usage: cargo xtask ci, got extra arguments {args:?}"
        ));
    }
    let steps = [
        Step {
            name: "fmt",
            run: || cargo(&["fmt", "--all", "--check"]),
        },
        Step {
            name: "codegen freshness",
            run: || crate::codegen::check_fresh(&crate::project_root()),
        },
        Step {
            name: "clippy",
            run: || {
                cargo(&[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--locked",
                    "--",
                    "-D",
                    "warnings",
                ])
            },
        },
        Step {
            name: "tests",
            run: tests,
        },
        Step {
            name: "doc tests",
            run: || cargo(&["test", "--workspace", "--doc", "--locked"]),
        },
        Step {
            name: "crates alone",
            run: crates_alone,
        },
        Step {
            name: "deny",
            run: deny,
        },
    ];
    let started = Instant::now();
    let mut summary = Vec::new();
    for step in &steps {
        let step_started = Instant::now();
        eprintln!("==> ci: {}", step.name);
        let result = (step.run)();
        let seconds = step_started.elapsed().as_secs_f64();
        match result {
            Ok(()) => summary.push(format!("  ok    {:<18} {seconds:>7.1}s", step.name)),
            Err(why) => {
                summary.push(format!("  FAIL  {:<18} {seconds:>7.1}s  {why}", step.name));
                eprintln!("ci summary:\n{}", summary.join("\n"));
                return Err(format!("step `{}` failed", step.name));
            }
        }
    }
    eprintln!(
        "ci summary:\n{}\n  all steps passed in {:.1}s",
        summary.join("\n"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The test suite: nextest when installed (faster, per-test processes), cargo test otherwise.
fn tests() -> Result<(), String> {
    if has_subcommand("nextest") {
        cargo(&[
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])
    } else {
        cargo(&[
            "test",
            "--workspace",
            "--locked",
            "--lib",
            "--bins",
            "--tests",
        ])
    }
}

/// The library crates others depend on, one by one.
const LIBRARY_CRATES: &[&str] = &[
    "switchyard-proto",
    "switchyard-router",
    "switchyard-state",
    "switchyard-metrics",
    "switchyard-manager",
    "switchyard-token",
    "switchyard-hypergraph",
    "switchyard-global",
    "switchyard-compute",
    "switchyard-testkit",
];

/// Every library crate as a dependency sees it: checked alone with its default features and
/// with none, then packaged as crates.io would take it, each package built from its packaged
/// sources against the others (`cargo package --workspace` verifies them together).
fn crates_alone() -> Result<(), String> {
    for krate in LIBRARY_CRATES {
        cargo(&["check", "--locked", "--package", krate])?;
        cargo(&[
            "check",
            "--locked",
            "--package",
            krate,
            "--no-default-features",
        ])?;
    }
    cargo(&[
        "package",
        "--workspace",
        "--locked",
        "--exclude",
        "switchyard-node",
        "--exclude",
        "xtask",
        "--exclude",
        "switchyard-example-custom-engine",
        "--exclude",
        "switchyard-fuzz",
    ])
}

/// The cargo-deny release the `deny` step runs, built from crates.io into `target/tools`.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// cargo-deny's offline checks (`deny.toml`), with the pinned cargo-deny: built from its
/// crates.io sources into `target/tools` the first time (about two minutes on two cores), so
/// a fresh machine needs nothing but the Rust toolchain, and whatever cargo-deny the machine
/// may have installed is neither used nor replaced.
fn deny() -> Result<(), String> {
    let root = crate::project_root().join("target").join("tools");
    let deny = root.join("bin").join("cargo-deny");
    if !runs_version(&deny, CARGO_DENY_VERSION) {
        let root = root.to_string_lossy();
        cargo(&[
            "install",
            "cargo-deny",
            "--version",
            CARGO_DENY_VERSION,
            "--locked",
            "--root",
            &root,
        ])?;
    }
    // `--offline` also keeps `cargo metadata` offline, which needs every platform's crates
    // downloaded first.
    cargo(&["fetch", "--locked"])?;
    run_in_root(
        deny.as_os_str(),
        &["deny", "--offline", "check", "bans", "licenses", "sources"],
    )
}

/// Whether the program at `path` runs and reports `version` (as `cargo-deny 0.20.2` does).
fn runs_version(path: &std::path::Path, version: &str) -> bool {
    Command::new(path)
        .arg("--version")
        .output()
        .is_ok_and(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout)
                    .split_whitespace()
                    .any(|word| word == version)
        })
}

fn has_subcommand(name: &str) -> bool {
    Command::new("cargo")
        .args([name, "--version"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run_in_root(&cargo, args)
}

/// Runs `program` with `args` in the project root; an error names the command.
fn run_in_root(program: &std::ffi::OsStr, args: &[&str]) -> Result<(), String> {
    let command = format!("{} {}", program.to_string_lossy(), args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(crate::project_root())
        .status()
        .map_err(|e| format!("could not run {command}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{command}` exited with {status}"))
    }
}
