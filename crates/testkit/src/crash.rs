//! The SIGKILL crash harness: runs an ignored test of the current test binary as a child
//! process that commits frames and prints `committed <frame> <root>` after each, kills it
//! (SIGKILL on Unix) a chosen fraction of a frame's time after it has committed some frames,
//! and returns every frame it reported, so the test can reopen the store and compare.
//!
//! The child side is an ordinary `#[test] #[ignore]` function that reads its data directory
//! from an environment variable and calls [`report_committed`] after each frame.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::{Result, TestkitError};

/// How to run the child and when to kill it.
#[derive(Debug, Clone)]
pub struct KillPlan {
    /// The child test's full name (`"crash::child_commits_until_killed"`).
    pub test: String,
    /// The environment variable that hands the child its data directory.
    pub env: String,
    /// Committed frames to wait for before the kill.
    pub commits_before_kill: usize,
    /// When to kill, in percent of the time the last frame took (0 = at once, 100 = about
    /// when the next frame commits).
    pub percent_of_a_frame: u32,
    /// Longest to wait for one line of the child. Default 120 s.
    pub line_timeout: Duration,
}

impl KillPlan {
    /// A plan for `test` reading its directory from `env`: kill after 2 commits, half a frame
    /// later.
    pub fn new(test: impl Into<String>, env: impl Into<String>) -> Self {
        Self {
            test: test.into(),
            env: env.into(),
            commits_before_kill: 2,
            percent_of_a_frame: 50,
            line_timeout: Duration::from_secs(120),
        }
    }

    /// Sets how many committed frames to wait for.
    #[must_use]
    pub fn after_commits(mut self, commits: usize) -> Self {
        self.commits_before_kill = commits;
        self
    }

    /// Sets when to kill, in percent of a frame's time.
    #[must_use]
    pub fn at_percent(mut self, percent: u32) -> Self {
        self.percent_of_a_frame = percent;
        self
    }
}

/// Prints the progress line the parent reads: `committed <frame> <root>`.
pub fn report_committed(frame: u64, root: impl std::fmt::Display) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "committed {frame} {root}")?;
    out.flush()
}

/// Parses a `committed <frame> <root>` line (libtest may have printed the test's name before
/// it on the same line).
pub fn parse_committed(line: &str) -> Option<(u64, String)> {
    let (_, progress) = line.split_once("committed ")?;
    let mut words = progress.split(' ');
    Some((words.next()?.parse().ok()?, words.next()?.to_string()))
}

/// Runs the child test of the current executable on `dir` and kills it as `plan` says.
/// Returns every `(frame, root)` it reported: each of those frames had committed.
pub fn run_and_kill(plan: &KillPlan, dir: &Path) -> Result<Vec<(u64, String)>> {
    let exe = std::env::current_exe().map_err(|e| child_error("finding the test binary", e))?;
    let mut child = Command::new(exe)
        .args([
            plan.test.as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(&plan.env, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| child_error("spawning the child", e))?;
    let lines = lines_of(&mut child)?;
    let mut printed: Vec<(u64, String)> = Vec::new();
    let mut frame_time = Duration::ZERO;
    let mut last = Instant::now();
    while printed.len() < plan.commits_before_kill {
        let line = next_line(&mut child, &lines, plan.line_timeout)?;
        if let Some(progress) = parse_committed(&line) {
            printed.push(progress);
            frame_time = last.elapsed();
            last = Instant::now();
        }
    }
    std::thread::sleep(frame_time * plan.percent_of_a_frame / 100);
    child
        .kill()
        .map_err(|e| child_error("killing the child", e))?;
    let status = child
        .wait()
        .map_err(|e| child_error("waiting for the child", e))?;
    if status.success() {
        return Err(TestkitError::Child(
            "the child finished every frame before it was killed".into(),
        ));
    }
    // What the child printed before it died; the reader thread ends with the pipe.
    printed.extend(lines.iter().filter_map(|line| parse_committed(&line)));
    Ok(printed)
}

fn child_error(doing: &str, error: std::io::Error) -> TestkitError {
    TestkitError::Child(format!("{doing}: {error}"))
}

/// The child's stdout, line by line, from a thread, so the parent can wait with a timeout.
fn lines_of(child: &mut Child) -> Result<Receiver<String>> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| TestkitError::Child("the child has no stdout".into()))?;
    let (line_tx, line_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok(line_rx)
}

/// The next line of the child; kills it and says why when it ends or stalls.
fn next_line(child: &mut Child, lines: &Receiver<String>, timeout: Duration) -> Result<String> {
    match lines.recv_timeout(timeout) {
        Ok(line) => Ok(line),
        Err(error) => {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            Err(TestkitError::Child(match error {
                RecvTimeoutError::Timeout => format!("no line from the child within {timeout:?}"),
                RecvTimeoutError::Disconnected => format!("the child ended early: {stderr}"),
            }))
        }
    }
}
