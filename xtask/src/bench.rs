//! `cargo xtask bench [ARGS]`: the standard benchmark suite, in release mode.

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut command =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(crate::project_root()).args([
        "run",
        "--release",
        "--locked",
        "-p",
        "switchyard-node",
        "--",
        "bench",
    ]);
    if args.is_empty() {
        command.args(["--suite", "standard", "--json"]);
    } else {
        command.args(args);
    }
    let status = command
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("benchmark exited with {status}"))
    }
}
