//! Health, reflection (v1 and v1alpha) and `/metrics` (checked by `promtool check metrics`
//! when it can be had).

use std::process::{Command, Stdio};

use switchyard_node::client::Client;
use switchyard_node::config::ServeConfig;
use switchyard_node::keys::dev_key;
use switchyard_proto::v1::MessageStatus;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_token::TokenClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::node_common::{STEP, channel, http_get, start_in_process, stop_in_process};

/// `promtool`, installed with Debian's `prometheus` package when missing and running as root;
/// `None` (with the reason printed) when it cannot be had.
fn promtool() -> Option<&'static str> {
    let found = || {
        Command::new("promtool")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if found() {
        return Some("promtool");
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        eprintln!(
            "SKIPPED promtool check: promtool is not installed and this is not root (apt-get install prometheus)"
        );
        return None;
    }
    let install = Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "prometheus",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status();
    if !install.is_ok_and(|s| s.success()) {
        let _ = Command::new("apt-get")
            .args(["update", "-q"])
            .stdout(Stdio::null())
            .status();
        let _ = Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "prometheus",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status();
    }
    if found() {
        Some("promtool")
    } else {
        eprintln!("SKIPPED promtool check: installing Debian's prometheus package failed");
        None
    }
}

async fn reflection_services_v1(url: &str) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel(url).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    match response.message_response.unwrap() {
        MessageResponse::ListServicesResponse(list) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("not a service list: {other:?}"),
    }
}

async fn reflection_services_v1alpha(url: &str) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel(url).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "switchyard.v1.Node".into(),
        )),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let response = stream.message().await.unwrap().unwrap();
    match response.message_response.unwrap() {
        MessageResponse::FileDescriptorResponse(files) => {
            assert!(!files.file_descriptor_proto.is_empty());
            vec!["switchyard.v1.Node".to_owned()]
        }
        other => panic!("not a file descriptor: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reflection_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_in_process(ServeConfig::dev(dir.path())).await;
    let url = format!("http://{}", node.started.grpc_addr);
    let metrics_addr = node.started.metrics_addr.to_string();
    tokio::time::timeout(STEP, async {
        let mut health = HealthClient::new(channel(&url).await);
        for service in ["", "switchyard.v1.Node", "switchyard.v1.Execution"] {
            let answer = health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
        }
        let services = reflection_services_v1(&url).await;
        for expected in [
            "switchyard.v1.Node",
            "switchyard.v1.Execution",
            "grpc.health.v1.Health",
        ] {
            assert!(
                services.iter().any(|s| s == expected),
                "{expected} not in {services:?}"
            );
        }
        assert_eq!(
            reflection_services_v1alpha(&url).await,
            ["switchyard.v1.Node"]
        );

        // Some traffic: a transfer and a refusal.
        let mut client = Client::connect(&url).await.unwrap();
        let mut alice = TokenClient::new(
            dev_key("alice").unwrap(),
            switchyard_node::genesis::DEV_NETWORK_ID,
            1,
        );
        let transfer = alice.transfer(NATIVE_TOKEN, [5; 32], 10);
        let hash = client.submit(&transfer).await.unwrap();
        assert_eq!(
            client.wait(hash, STEP).await.unwrap().message_status(),
            MessageStatus::Applied
        );
        assert!(client.submit(&transfer).await.is_err());
    })
    .await
    .expect("observability test timed out");

    let (content_type, classic) = tokio::task::spawn_blocking({
        let addr = metrics_addr.clone();
        move || http_get(&addr, "/metrics", None)
    })
    .await
    .unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    for expected in [
        "switchyard_grpc_requests_total{method=\"Submit\",code=\"Ok\"} 1",
        "switchyard_grpc_requests_total{method=\"Submit\",code=\"AlreadyExists\"} 1",
        "switchyard_admission_refusals_total{reason=\"duplicate\"} 1",
        "switchyard_mempool_messages ",
        "switchyard_mempool_bytes ",
        "switchyard_queue_depth{queue=\"producer\"}",
        "switchyard_frame_height ",
    ] {
        assert!(
            classic.contains(expected),
            "{expected} missing from\n{classic}"
        );
    }
    let parsed =
        prometheus_parse::Scrape::parse(classic.lines().map(|l| Ok(l.to_owned()))).unwrap();
    assert!(
        parsed
            .samples
            .iter()
            .any(|s| s.metric == "switchyard_grpc_requests_total")
    );
    let (content_type, openmetrics) = tokio::task::spawn_blocking({
        let addr = metrics_addr.clone();
        move || {
            http_get(
                &addr,
                "/metrics",
                Some("application/openmetrics-text; version=1.0.0"),
            )
        }
    })
    .await
    .unwrap();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(openmetrics.ends_with("# EOF\n"));

    if let Some(promtool) = promtool() {
        let path = dir.path().join("metrics.txt");
        std::fs::write(&path, &classic).unwrap();
        let output = Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(std::fs::File::open(&path).unwrap())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "promtool check metrics failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stop_in_process(node).await;
}
