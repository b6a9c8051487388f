//! The AFL++ entry point: `afl-target <name>` runs target `name` (see `switchyard_fuzz::TARGETS`)
//! in AFL++'s persistent mode. Built by `cargo xtask fuzz` with `cargo afl build --features afl`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(name) = std::env::args().nth(1) else {
        eprintln!("usage: afl-target <target>");
        return ExitCode::FAILURE;
    };
    let Some(target) = switchyard_fuzz::target(&name) else {
        eprintln!("afl-target: unknown target `{name}`");
        return ExitCode::FAILURE;
    };
    // The world is built once, before the fork server starts, so each child inherits it.
    switchyard_fuzz::prepare();
    let run = target.run;
    afl::fuzz(true, |data: &[u8]| run(data));
    ExitCode::SUCCESS
}
