//! `switchyard serve` as a user runs it: the README's tour with the CLI, and a token's life
//! over gRPC through a SIGTERM and a restart on the same data dir.

use switchyard_node::client::Client;
use switchyard_node::keys::dev_key;
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::status_response::State;
use switchyard_proto::v1::{
    MessageStatus, TokenQuery, TokenQueryResponse, token_query, token_query_response,
};
use switchyard_router::Domain;
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_token::{TokenClient, TokenSpec};

use crate::node_common::{NodeProcess, STEP, cli};

/// The commands of the README's tour: the lines starting with `switchyard ` between the
/// `<!-- tour:begin -->` and `<!-- tour:end -->` markers.
fn tour_commands() -> Vec<Vec<String>> {
    let readme = include_str!("../../../../README.md");
    let tour = readme
        .split("<!-- tour:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- tour:end -->").next())
        .expect("README.md has a tour between <!-- tour:begin --> and <!-- tour:end -->");
    tour.lines()
        .filter_map(|line| line.trim().strip_prefix("switchyard "))
        .map(|command| command.split(" #").next().unwrap_or(command))
        .map(|command| command.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_readme_tour_runs_against_a_dev_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    assert!(node.banner.contains("dev:alice"), "{}", node.banner);
    let commands = tour_commands();
    assert!(
        commands.len() >= 4,
        "the tour has {} commands",
        commands.len()
    );
    for command in &commands {
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let (ok, stdout, stderr) = cli(&node.grpc, &args);
        assert!(
            ok,
            "`switchyard {}` failed: {stderr}{stdout}",
            args.join(" ")
        );
    }
    // /metrics saw the tour's calls: one submit per signing command.
    let submits = commands
        .iter()
        .filter(|c| c.iter().any(|a| a == "--key"))
        .count();
    assert!(submits >= 2, "the tour signs {submits} messages");
    let (_, metrics) = crate::node_common::http_get(&node.metrics, "/metrics", None);
    assert!(
        metrics.contains(&format!(
            "switchyard_grpc_requests_total{{method=\"Submit\",code=\"Ok\"}} {submits}"
        )),
        "{metrics}"
    );
    // The tour moved units to bob.
    let (ok, stdout, _) = cli(&node.grpc, &["token", "balance", "dev:bob"]);
    assert!(ok);
    assert_ne!(
        stdout.trim(),
        switchyard_node::genesis::DEV_BALANCE.to_string()
    );
    // A bad command is one line on stderr and a non-zero exit.
    let (ok, _, stderr) = cli(
        &node.grpc,
        &[
            "token",
            "transfer",
            "--key",
            "dev:nobody",
            "--to",
            "dev:bob",
            "--amount",
            "1",
        ],
    );
    assert!(!ok);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(node.terminate().success());
}

#[test]
fn commands_that_do_not_wait_queue_behind_each_other() {
    let dir = tempfile::tempdir().unwrap();
    // Frames of two, and no timer to speak of: the first transfer waits in the mempool until
    // the second arrives.
    let node = NodeProcess::start(
        dir.path(),
        &["--frame-max", "2", "--frame-interval-ms", "600000"],
    );
    let transfer = [
        "token",
        "transfer",
        "--key",
        "dev:alice",
        "--to",
        "dev:bob",
        "--amount",
    ];
    let run = |args: &[&str]| {
        let (ok, stdout, stderr) = cli(&node.grpc, args);
        assert!(
            ok,
            "`switchyard {}` failed: {stderr}{stdout}",
            args.join(" ")
        );
        stdout
    };
    run(&[&transfer[..], &["5", "--no-wait"]].concat());
    let account = run(&["account", "dev:alice", "--json"]);
    let account: serde_json::Value = serde_json::from_str(&account).unwrap();
    assert_eq!(
        (account["nonce"].as_u64(), account["pending_nonce"].as_u64()),
        (Some(0), Some(1))
    );
    // Signed with nonce 2, not 1 again: the two fill the frame and both apply.
    run(&[&transfer[..], &["7", "--no-wait"]].concat());
    let mut nonce = None;
    for _ in 0..200 {
        let account: serde_json::Value =
            serde_json::from_str(&run(&["account", "dev:alice", "--json"])).unwrap();
        nonce = account["nonce"].as_u64();
        if nonce == Some(2) {
            assert_eq!(account["pending_nonce"].as_u64(), Some(2));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(nonce, Some(2), "both transfers committed");
    let bob = run(&["token", "balance", "dev:bob"]);
    assert_eq!(
        bob.trim(),
        (switchyard_node::genesis::DEV_BALANCE + 12).to_string()
    );
    assert!(node.terminate().success());
}

async fn balance(client: &mut Client, token: Domain, account: [u8; 32]) -> u128 {
    let query = TokenQuery {
        query: Some(token_query::Query::Balance(token_query::Balance {
            account: account.to_vec(),
        })),
    };
    let answer = client
        .query(&token.0, query.to_canonical_bytes())
        .await
        .unwrap();
    match TokenQueryResponse::from_canonical_bytes(&answer.response)
        .unwrap()
        .response
        .unwrap()
    {
        token_query_response::Response::Balance(b) => u128::from(b),
        other => panic!("not a balance: {other:?}"),
    }
}

#[test]
fn a_token_lives_through_sigterm_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let node = NodeProcess::start(dir.path(), &[]);
    let alice = dev_key("alice").unwrap();
    let bob = dev_key("bob").unwrap().verifying_key().to_bytes();
    let (token, hashes, head, receipts, balances) = runtime.block_on(async {
        tokio::time::timeout(STEP, async {
            let mut client = Client::connect(&node.grpc).await.unwrap();
            let mut heads = client.watch().await.unwrap();
            let signer = client.signer(alice.clone()).await.unwrap();
            let mut owner =
                TokenClient::new(alice.clone(), signer.network_id(), signer.next_nonce());
            let (token, deploy) = owner.deploy(TokenSpec::new("Test", "TST").initial_supply(1_000));
            let deploy_hash = client.submit(&deploy).await.unwrap();
            let deployed = client.wait(deploy_hash, STEP).await.unwrap();
            assert_eq!(deployed.message_status(), MessageStatus::Applied);
            let transfer = owner.transfer(token, bob, 400);
            let transfer_hash = client.submit(&transfer).await.unwrap();
            let native = owner.transfer(NATIVE_TOKEN, bob, 7);
            let native_hash = client.submit(&native).await.unwrap();
            let done = client.wait(native_hash, STEP).await.unwrap();
            assert_eq!(done.message_status(), MessageStatus::Applied);
            let transferred = client.wait(transfer_hash, STEP).await.unwrap();
            assert_eq!(transferred.message_status(), MessageStatus::Applied);
            // The head stream saw the frames commit.
            let last_frame = done.status.frame_number;
            loop {
                let head = heads.message().await.unwrap().unwrap();
                if head.frame_number >= last_frame {
                    break;
                }
            }
            // A duplicate is refused.
            let again = client.submit(&transfer).await.unwrap_err();
            assert!(again.to_string().contains("AlreadyExists"), "{again}");
            let head = client.head().await.unwrap();
            let mut receipts = Vec::new();
            for frame in 1..=head.frame_number {
                receipts.push(client.receipt(frame).await.unwrap());
            }
            let balances = (
                balance(&mut client, token, bob).await,
                balance(&mut client, token, alice.verifying_key().to_bytes()).await,
                balance(&mut client, NATIVE_TOKEN, bob).await,
            );
            assert_eq!((balances.0, balances.1), (400, 600));
            (
                token,
                vec![deploy_hash, transfer_hash, native_hash],
                head,
                receipts,
                balances,
            )
        })
        .await
        .expect("the token's life timed out")
    });
    assert!(node.terminate().success(), "SIGTERM must exit 0");

    let node = NodeProcess::start(dir.path(), &[]);
    runtime.block_on(async {
        tokio::time::timeout(STEP, async {
            let mut client = Client::connect(&node.grpc).await.unwrap();
            assert_eq!(client.head().await.unwrap(), head);
            for (frame, receipt) in (1..).zip(&receipts) {
                assert_eq!(&client.receipt(frame).await.unwrap(), receipt);
            }
            for hash in &hashes {
                let status = client.status(*hash).await.unwrap();
                assert_eq!(status.state(), State::Committed);
            }
            let now = (
                balance(&mut client, token, bob).await,
                balance(&mut client, token, alice.verifying_key().to_bytes()).await,
                balance(&mut client, NATIVE_TOKEN, bob).await,
            );
            assert_eq!(now, balances);
            // It goes on committing from its head.
            let signer = client.signer(alice.clone()).await.unwrap();
            let mut owner =
                TokenClient::new(alice.clone(), signer.network_id(), signer.next_nonce());
            let hash = client
                .submit(&owner.transfer(NATIVE_TOKEN, bob, 1))
                .await
                .unwrap();
            let done = client.wait(hash, STEP).await.unwrap();
            assert_eq!(done.message_status(), MessageStatus::Applied);
            assert_eq!(done.status.frame_number, head.frame_number + 1);
        })
        .await
        .expect("the restart timed out")
    });
    assert!(node.terminate().success());
}
