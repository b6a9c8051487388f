//! Shared fixtures of the node tests: a `switchyard serve` child process on free loopback
//! ports, the CLI, and an in-process node.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use switchyard_node::config::ServeConfig;
use switchyard_node::server::RunningNode;

pub const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

/// Longest any one step of a node test may take.
pub const STEP: Duration = Duration::from_secs(60);

/// A `switchyard serve --dev` child process; killed on drop if still running.
pub struct NodeProcess {
    child: Child,
    pub grpc: String,
    pub metrics: String,
    pub banner: String,
}

impl NodeProcess {
    /// Starts `switchyard serve --dev` on `data_dir` with free loopback ports (and frames every
    /// 50 ms unless `extra` sets `--frame-interval-ms`) and waits for its banner.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Self {
        let interval = match extra.contains(&"--frame-interval-ms") {
            true => &[][..],
            false => &["--frame-interval-ms", "50"][..],
        };
        let mut child = Command::new(BIN)
            .args(["serve", "--dev", "--data-dir"])
            .arg(data_dir)
            .args([
                "--grpc-addr",
                "127.0.0.1:0",
                "--metrics-addr",
                "127.0.0.1:0",
            ])
            .args(interval)
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn switchyard serve");
        let stdout = child.stdout.take().expect("stdout");
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + STEP;
        let mut banner = String::new();
        let (mut grpc, mut metrics) = (None, None);
        // The dev banner ends with a "try:" line.
        while !banner.contains("\ntry: ") {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match line_rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!("no banner from switchyard serve; got {banner:?}");
                }
            };
            banner.push_str(&line);
            banner.push('\n');
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("gRPC"), Some(addr)) => grpc = Some(addr.to_owned()),
                (Some("metrics"), Some(addr)) => metrics = Some(addr.to_owned()),
                _ => {}
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || while line_rx.recv().is_ok() {});
        Self {
            child,
            grpc: grpc.unwrap(),
            metrics: metrics.unwrap(),
            banner,
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("switchyard serve did not stop within {STEP:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the CLI against `node`; returns (success, stdout, stderr).
pub fn cli(node: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("SWITCHYARD_NODE", node)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A dev node in this process (producer mode unless `config` says otherwise).
pub async fn start_in_process(config: ServeConfig) -> RunningNode {
    tokio::time::timeout(STEP, switchyard_node::server::start(config))
        .await
        .expect("node start timed out")
        .expect("node start")
}

/// Stops an in-process node (bounded).
pub async fn stop_in_process(node: RunningNode) {
    node.shutdown();
    tokio::time::timeout(STEP, node.wait())
        .await
        .expect("node stop timed out")
        .expect("node stop");
}

/// `GET path` over HTTP/1.1 on `addr` with an optional `Accept` header; (content type, body).
pub fn http_get(addr: &str, path: &str, accept: Option<&str>) -> (String, String) {
    let addr = addr.trim_start_matches("http://");
    let host = addr.split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(STEP)).unwrap();
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let body = match head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        true => dechunk(body),
        false => body.to_owned(),
    };
    (content_type, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

/// A channel to `url` (`http://host:port`).
pub async fn channel(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}
