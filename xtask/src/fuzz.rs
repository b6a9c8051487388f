//! `cargo xtask fuzz [--seconds N] [--target T]`: coverage-guided fuzzing of the targets of
//! `fuzz/` (crate `switchyard-fuzz`) with AFL++, on the pinned stable toolchain.
//!
//! 1. cargo-afl (pinned) is built from crates.io into `target/tools`; installing it builds its
//!    bundled AFL++ runtime and `afl-fuzz` with the machine's C compiler and `make`, into
//!    `target/tools/afl` (its `XDG_DATA_HOME`). No nightly, no Debian `afl++` package.
//! 2. `fuzz-seeds` writes each target's seeds (valid messages of the testkit's workloads) into
//!    `fuzz/corpus/<target>/` where missing.
//! 3. `cargo afl build` builds the AFL++ entry point (`afl-target`, feature `afl`) in release
//!    mode with debug assertions and overflow checks on, into `target/fuzz`.
//! 4. Each target runs under `afl-fuzz` for N seconds from its corpus folder; the new inputs
//!    it queued are added to the folder as `found-<hash>`, and the folder's found inputs are
//!    minimised with `afl-cmin` (seeds always stay). Crashes are copied to
//!    `target/fuzz/crashes/<target>/` and fail the command.
//!
//! `docs/fuzzing.md` describes the targets and their invariants.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cargo-afl release (and so the AFL++ release, 4.40c) the fuzz targets are built with;
/// `fuzz/Cargo.toml` pins the `afl` runtime crate to the same version.
const CARGO_AFL_VERSION: &str = "0.18.2";

/// Found inputs larger than this are left out of the corpus.
const MAX_KEPT_INPUT: u64 = 16 * 1024;

/// At most this many found inputs are kept per target (after minimisation, smallest first).
const MAX_FOUND_FILES: usize = 200;

/// At most this many bytes of found inputs are kept per target (smallest first).
const MAX_FOUND_BYTES: u64 = 1024 * 1024;

/// The fuzz targets, in the order `switchyard_fuzz::TARGETS` lists them.
const TARGETS: &[&str] = &[
    "decode", "records", "cost", "validate", "lock", "process", "query", "frame",
];

struct Args {
    seconds: u64,
    targets: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let usage = "usage: cargo xtask fuzz [--seconds N] [--target T]...";
    let mut parsed = Args {
        seconds: 60,
        targets: Vec::new(),
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--seconds" => {
                parsed.seconds = iter
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("--seconds takes a positive number; {usage}"))?;
            }
            "--target" => {
                let target = iter
                    .next()
                    .ok_or_else(|| format!("--target takes a name; {usage}"))?;
                if !TARGETS.contains(&target.as_str()) {
                    return Err(format!(
                        "unknown target `{target}`; the targets are {}",
                        TARGETS.join(", ")
                    ));
                }
                parsed.targets.push(target.clone());
            }
            "-h" | "--help" => {
                return Err(format!("{usage}\ntargets: {}", TARGETS.join(", ")));
            }
            other => return Err(format!("unexpected argument `{other}`; {usage}")),
        }
    }
    if parsed.targets.is_empty() {
        parsed.targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    Ok(parsed)
}

/// What one target's run gave.
struct Outcome {
    target: String,
    execs: u64,
    execs_per_sec: f64,
    coverage: String,
    kept: usize,
    corpus: usize,
    crashes: Vec<PathBuf>,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let root = crate::project_root();
    let tools = root.join("target").join("tools");
    let cargo_afl = install_cargo_afl(&root, &tools)?;
    let corpus = root.join("fuzz").join("corpus");

    eprintln!("==> fuzz: seeds");
    let mut seeds = vec![
        "run",
        "--quiet",
        "--locked",
        "-p",
        "switchyard-fuzz",
        "--bin",
        "fuzz-seeds",
        "--",
    ];
    let corpus_arg = corpus.to_string_lossy().into_owned();
    seeds.push(&corpus_arg);
    seeds.extend(args.targets.iter().map(String::as_str));
    run_cmd(Command::new(cargo()).args(&seeds).current_dir(&root))?;

    eprintln!("==> fuzz: cargo afl build (release, debug assertions on, into target/fuzz)");
    let fuzz_target_dir = root.join("target").join("fuzz");
    run_cmd(
        afl_command(&cargo_afl, &tools)
            .args([
                "afl",
                "build",
                "--release",
                "--locked",
                "-p",
                "switchyard-fuzz",
                "--features",
                "afl",
                "--bin",
                "afl-target",
            ])
            .env("CARGO_TARGET_DIR", &fuzz_target_dir)
            // Fast to build and checked: no fat LTO, more codegen units, and the debug
            // assertions and overflow checks a test build has.
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            .env("CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS", "true")
            .env("CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS", "true")
            .current_dir(&root),
    )?;
    let binary = fuzz_target_dir.join("release").join("afl-target");

    let mut outcomes = Vec::new();
    for target in &args.targets {
        eprintln!("==> fuzz: {target} for {} s", args.seconds);
        outcomes.push(fuzz_one(
            &cargo_afl,
            &tools,
            &binary,
            &corpus,
            &fuzz_target_dir,
            target,
            args.seconds,
        )?);
    }

    eprintln!("fuzz summary ({} s per target):", args.seconds);
    eprintln!(
        "  {:<10} {:>12} {:>10} {:>9} {:>6} {:>7} {:>8}",
        "target", "executions", "execs/s", "coverage", "new", "corpus", "crashes"
    );
    let mut crashed = Vec::new();
    for o in &outcomes {
        eprintln!(
            "  {:<10} {:>12} {:>10.0} {:>9} {:>6} {:>7} {:>8}",
            o.target,
            o.execs,
            o.execs_per_sec,
            o.coverage,
            o.kept,
            o.corpus,
            o.crashes.len()
        );
        crashed.extend(o.crashes.iter().cloned());
    }
    if crashed.is_empty() {
        Ok(())
    } else {
        for path in &crashed {
            eprintln!("  crash: {}", path.display());
        }
        Err(format!(
            "{} crashing inputs; replay one with `target/fuzz/release/afl-target <target> < FILE`",
            crashed.len()
        ))
    }
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// cargo-afl run with its AFL++ under `target/tools/afl` and this cargo.
fn afl_command(cargo_afl: &Path, tools: &Path) -> Command {
    let mut command = Command::new(cargo_afl);
    command
        .env("XDG_DATA_HOME", tools.join("afl"))
        .env("CARGO", cargo());
    command
}

/// The pinned cargo-afl in `target/tools/bin`, installed (with its AFL++) when missing.
fn install_cargo_afl(root: &Path, tools: &Path) -> Result<PathBuf, String> {
    let cargo_afl = tools.join("bin").join("cargo-afl");
    let ready = afl_command(&cargo_afl, tools)
        .args(["afl", "--version"])
        .output()
        .is_ok_and(|output| {
            output.status.success()
                && String::from_utf8_lossy(&output.stdout)
                    .split_whitespace()
                    .any(|word| word == CARGO_AFL_VERSION)
        })
        && afl_fuzz_built(tools);
    if ready {
        return Ok(cargo_afl);
    }
    eprintln!("==> fuzz: installing cargo-afl {CARGO_AFL_VERSION} and AFL++ into target/tools");
    let tools_arg = tools.to_string_lossy().into_owned();
    run_cmd(
        Command::new(cargo())
            .args([
                "install",
                "cargo-afl",
                "--version",
                CARGO_AFL_VERSION,
                "--locked",
                "--force",
                "--root",
                &tools_arg,
            ])
            .env("XDG_DATA_HOME", tools.join("afl"))
            .current_dir(root),
    )?;
    if !afl_fuzz_built(tools) {
        // The install builds AFL++ only when it can; say why when it could not.
        run_cmd(afl_command(&cargo_afl, tools).args([
            "afl",
            "config",
            "--build",
            "--force",
            "--verbose",
        ]))?;
    }
    Ok(cargo_afl)
}

/// Whether cargo-afl's AFL++ (`afl-fuzz`) is built under `target/tools/afl`.
fn afl_fuzz_built(tools: &Path) -> bool {
    let base = tools.join("afl").join("afl.rs");
    let Ok(rustc_dirs) = fs::read_dir(&base) else {
        return false;
    };
    rustc_dirs.flatten().any(|rustc| {
        rustc
            .path()
            .join(format!("afl.rs-{CARGO_AFL_VERSION}"))
            .join("afl")
            .join("bin")
            .join("afl-fuzz")
            .is_file()
    })
}

/// Runs `target` under afl-fuzz for `seconds`, keeps its new inputs, collects its crashes.
fn fuzz_one(
    cargo_afl: &Path,
    tools: &Path,
    binary: &Path,
    corpus: &Path,
    fuzz_target_dir: &Path,
    target: &str,
    seconds: u64,
) -> Result<Outcome, String> {
    let input = corpus.join(target);
    let output = fuzz_target_dir.join("afl").join(target);
    if output.exists() {
        fs::remove_dir_all(&output).map_err(|e| format!("removing {}: {e}", output.display()))?;
    }
    fs::create_dir_all(&output).map_err(|e| format!("creating {}: {e}", output.display()))?;
    let log_path = output.with_extension("log");
    let log =
        fs::File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("opening {}: {e}", log_path.display()))?;
    let seconds_arg = seconds.to_string();
    let status = afl_command(cargo_afl, tools)
        .args([
            OsStr::new("afl"),
            OsStr::new("fuzz"),
            OsStr::new("-i"),
            input.as_os_str(),
            OsStr::new("-o"),
            output.as_os_str(),
            OsStr::new("-V"),
            OsStr::new(&seconds_arg),
            OsStr::new("--"),
            binary.as_os_str(),
            OsStr::new(target),
        ])
        // No terminal UI; no CPU frequency or core-dump checks (not ours to change on a shared
        // machine); no pinning to a core others may be using; skip a seed that crashes or
        // hangs rather than abort (the replay test reports it).
        .env("AFL_NO_UI", "1")
        .env("AFL_SKIP_CPUFREQ", "1")
        .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
        .env("AFL_NO_AFFINITY", "1")
        .env("AFL_IGNORE_SEED_PROBLEMS", "1")
        .env("AFL_FAST_CAL", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .status()
        .map_err(|e| format!("could not run afl-fuzz: {e}"))?;
    if !status.success() {
        return Err(format!(
            "afl-fuzz on {target} exited with {status}; its output is in {}",
            log_path.display()
        ));
    }
    let run = output.join("default");
    let stats = fs::read_to_string(run.join("fuzzer_stats"))
        .map_err(|e| format!("reading {}/fuzzer_stats: {e}", run.display()))?;
    let stat = |name: &str| -> String {
        stats
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(key, _)| key.trim() == name)
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_default()
    };
    let execs = stat("execs_done").parse().unwrap_or(0);
    let execs_per_sec = stat("execs_per_sec").parse().unwrap_or(0.0);
    let coverage = stat("bitmap_cvg");

    // New queue entries (not the ones afl-fuzz read from the corpus folder).
    let kept = keep_found(&run.join("queue"), &input)?;
    minimise(cargo_afl, tools, binary, target, &input, fuzz_target_dir)?;
    let corpus_count = fs::read_dir(&input).map(|d| d.count()).unwrap_or(0);

    let crashes_dir = fuzz_target_dir.join("crashes").join(target);
    let mut crashes = Vec::new();
    for path in entries(&run.join("crashes"))? {
        let bytes = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        fs::create_dir_all(&crashes_dir)
            .map_err(|e| format!("creating {}: {e}", crashes_dir.display()))?;
        let copy = crashes_dir.join(format!("crash-{}", short_hash(&bytes)));
        fs::write(&copy, &bytes).map_err(|e| format!("writing {}: {e}", copy.display()))?;
        crashes.push(copy);
    }
    Ok(Outcome {
        target: target.to_owned(),
        execs,
        execs_per_sec,
        coverage,
        kept,
        corpus: corpus_count,
        crashes,
    })
}

/// The `id:` files of an AFL++ queue or crash folder.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let Ok(read) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("id:"))
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// Copies the inputs afl-fuzz found (queue entries not read from the corpus) into the corpus
/// folder as `found-<hash>`; returns how many were new.
fn keep_found(queue: &Path, corpus: &Path) -> Result<usize, String> {
    let mut kept = 0;
    for path in entries(queue)? {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_none_or(|n| n.contains(",orig:")) {
            continue;
        }
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.len() > MAX_KEPT_INPUT {
            continue;
        }
        let bytes = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let file = corpus.join(format!("found-{}", short_hash(&bytes)));
        if !file.exists() {
            fs::write(&file, &bytes).map_err(|e| format!("writing {}: {e}", file.display()))?;
            kept += 1;
        }
    }
    Ok(kept)
}

/// Keeps the seeds and, of the found inputs, those `afl-cmin` selects (at most
/// [`MAX_FOUND_FILES`] files and [`MAX_FOUND_BYTES`] bytes, smallest first).
fn minimise(
    cargo_afl: &Path,
    tools: &Path,
    binary: &Path,
    target: &str,
    corpus: &Path,
    fuzz_target_dir: &Path,
) -> Result<(), String> {
    let found: Vec<PathBuf> = fs::read_dir(corpus)
        .map_err(|e| format!("reading {}: {e}", corpus.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("found-"))
        })
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let minimised = fuzz_target_dir.join("cmin").join(target);
    if minimised.exists() {
        fs::remove_dir_all(&minimised)
            .map_err(|e| format!("removing {}: {e}", minimised.display()))?;
    }
    if let Some(parent) = minimised.parent() {
        fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    let status = afl_command(cargo_afl, tools)
        .args([
            OsStr::new("afl"),
            OsStr::new("cmin"),
            OsStr::new("-i"),
            corpus.as_os_str(),
            OsStr::new("-o"),
            minimised.as_os_str(),
            OsStr::new("--"),
            binary.as_os_str(),
            OsStr::new(target),
        ])
        .env("AFL_NO_AFFINITY", "1")
        .env("AFL_SKIP_CPUFREQ", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("could not run afl-cmin: {e}"))?;
    if !status.success() {
        eprintln!("fuzz: afl-cmin on {target} failed ({status}); the corpus is kept unminimised");
        return Ok(());
    }
    let selected: std::collections::BTreeSet<String> = fs::read_dir(&minimised)
        .map_err(|e| format!("reading {}: {e}", minimised.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut kept: Vec<(u64, PathBuf)> = Vec::new();
    for path in found {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if selected.contains(&name) {
            let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(u64::MAX);
            kept.push((len, path));
        } else {
            fs::remove_file(&path).map_err(|e| format!("removing {}: {e}", path.display()))?;
        }
    }
    kept.sort();
    let mut bytes = 0;
    for (index, (len, path)) in kept.iter().enumerate() {
        bytes += len;
        if index >= MAX_FOUND_FILES || bytes > MAX_FOUND_BYTES {
            fs::remove_file(path).map_err(|e| format!("removing {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The first 16 hex digits of a 64-bit FNV-1a hash of `bytes`: a stable file name.
fn short_hash(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Runs `command`; an error names it.
fn run_cmd(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` exited with {status}"))
    }
}
