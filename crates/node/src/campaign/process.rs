//! A `switchyard serve` child process on free loopback ports, killed when dropped.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::NodeError;

/// Longest a child may take to print where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How to start a node process.
#[derive(Debug, Clone)]
pub struct ServeCommand {
    /// The `switchyard` binary.
    pub binary: PathBuf,
    /// Its data dir.
    pub data_dir: PathBuf,
    /// Flags after `serve --data-dir DIR --grpc-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0`.
    pub flags: Vec<String>,
    /// Where its stderr (the log) is appended.
    pub log: PathBuf,
}

/// A running `switchyard serve`: SIGKILLed on drop if still running.
#[derive(Debug)]
pub struct ServeProcess {
    child: Child,
    /// `http://127.0.0.1:PORT` of its gRPC server.
    pub grpc: String,
    /// `http://127.0.0.1:PORT/metrics`.
    pub metrics: String,
}

fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> NodeError {
    move |source| NodeError::Io { context, source }
}

impl ServeProcess {
    /// Starts `command` and waits (at most a minute) until it prints its gRPC and metrics
    /// addresses; its stdout is drained by a thread from then on.
    pub fn start(command: &ServeCommand) -> Result<Self, NodeError> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&command.log)
            .map_err(io("opening the node log"))?;
        let mut child = Command::new(&command.binary)
            .arg("serve")
            .arg("--data-dir")
            .arg(&command.data_dir)
            .args([
                "--grpc-addr",
                "127.0.0.1:0",
                "--metrics-addr",
                "127.0.0.1:0",
            ])
            .args(&command.flags)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(io("spawning switchyard serve"))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(NodeError::Server("the node has no stdout".into()));
        };
        let (line_tx, line_rx) = mpsc::channel();
        // Ends with the pipe, when the child exits.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = Self {
            child,
            grpc: String::new(),
            metrics: String::new(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        // The banner names the gRPC address, then the metrics address.
        while process.metrics.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = line_rx.recv_timeout(left).map_err(|_| {
                NodeError::Server(format!(
                    "switchyard serve printed no addresses within {START_TIMEOUT:?} (log: {})",
                    command.log.display()
                ))
            })?;
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("gRPC"), Some(addr)) => addr.clone_into(&mut process.grpc),
                (Some("metrics"), Some(addr)) => addr.clone_into(&mut process.metrics),
                _ => {}
            }
        }
        if process.grpc.is_empty() {
            return Err(NodeError::Server(
                "switchyard serve printed no gRPC address".into(),
            ));
        }
        // Keep draining stdout so that the child never blocks on a full pipe.
        std::thread::spawn(move || while line_rx.recv().is_ok() {});
        Ok(process)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's peak resident set (`VmHWM` of `/proc/PID/status`), KiB; `None` off Linux.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        proc_status_kb(self.pid(), "VmHWM:")
    }

    /// SIGKILLs the child (on Unix, `Child::kill` sends SIGKILL) and reaps it.
    pub fn kill(mut self) -> Result<(), NodeError> {
        self.child.kill().map_err(io("killing the node"))?;
        self.child.wait().map_err(io("reaping the node"))?;
        Ok(())
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `kB` field of `/proc/PID/status`.
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let text =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
}

/// A gRPC channel to `url`, connected within five seconds.
pub async fn channel(url: &str) -> Result<tonic::transport::Channel, NodeError> {
    let connect_error = |reason: String| NodeError::Connect {
        address: url.to_owned(),
        reason,
    };
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .map_err(|e| connect_error(e.to_string()))?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| connect_error(e.to_string()))
}
