//! Bad input over the wire: each refusal has its status code and a reason, and the node stays
//! up and keeps committing.

use std::time::Duration;

use switchyard_node::client::Client;
use switchyard_node::config::ServeConfig;
use switchyard_node::genesis::DEV_NETWORK_ID;
use switchyard_node::keys::dev_key;
use switchyard_proto::v1::node_client::NodeClient;
use switchyard_proto::v1::{MessageStatus, StatusRequest, SubmitBatchRequest, SubmitRequest};
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_token::TokenClient;
use tonic::Code;

use crate::node_common::{STEP, channel, start_in_process, stop_in_process};

fn submit_request(request: &switchyard_router::SignedRequest) -> SubmitRequest {
    SubmitRequest {
        target: request.target.0.to_vec(),
        message: request.to_bytes(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_its_code_and_the_node_keeps_committing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::dev(dir.path());
    config.mempool_max = 3;
    config.max_message_bytes = 4_096;
    config.frame_interval = Duration::from_millis(1_500);
    let node = start_in_process(config).await;
    let url = format!("http://{}", node.started.grpc_addr);
    tokio::time::timeout(STEP, async {
        let mut raw = NodeClient::new(channel(&url).await);
        let mut alice = TokenClient::new(dev_key("alice").unwrap(), DEV_NETWORK_ID, 1);
        let bob = dev_key("bob").unwrap().verifying_key().to_bytes();

        let cases: Vec<(&str, SubmitRequest, Code, &str)> = vec![
            (
                "malformed bytes",
                SubmitRequest {
                    target: NATIVE_TOKEN.0.to_vec(),
                    message: vec![0xde, 0xad, 0xbe, 0xef, 1, 2],
                },
                Code::InvalidArgument,
                "",
            ),
            (
                "oversized",
                SubmitRequest {
                    target: NATIVE_TOKEN.0.to_vec(),
                    message: vec![0; 5_000],
                },
                Code::InvalidArgument,
                "exceeds the limit",
            ),
            (
                "bad target",
                SubmitRequest {
                    target: vec![1, 2, 3],
                    message: alice.transfer(NATIVE_TOKEN, bob, 1).to_bytes(),
                },
                Code::InvalidArgument,
                "",
            ),
            (
                "signed for another network",
                submit_request(&TokenClient::new(dev_key("carol").unwrap(), 7, 1).transfer(
                    NATIVE_TOKEN,
                    bob,
                    1,
                )),
                Code::InvalidArgument,
                "",
            ),
        ];
        for (name, request, code, reason) in cases {
            let status = raw.submit(request).await.unwrap_err();
            assert_eq!(status.code(), code, "{name}: {}", status.message());
            assert!(!status.message().is_empty(), "{name}: no reason");
            assert!(
                status.message().contains(reason),
                "{name}: {}",
                status.message()
            );
        }

        // A flood beyond the mempool bound (3 messages).
        alice.set_next_nonce(1);
        let flood: Vec<_> = (0..6)
            .map(|i| alice.transfer(NATIVE_TOKEN, bob, 100 + i))
            .collect();
        let mut admitted = Vec::new();
        let mut exhausted = 0;
        for request in &flood {
            match raw.submit(submit_request(request)).await {
                Ok(answer) => admitted.push(answer.into_inner().message_hash),
                Err(status) => {
                    assert_eq!(
                        status.code(),
                        Code::ResourceExhausted,
                        "{}",
                        status.message()
                    );
                    assert!(status.message().contains("mempool full"));
                    exhausted += 1;
                }
            }
        }
        assert_eq!(admitted.len(), 3);
        assert_eq!(exhausted, 3);
        // A duplicate of a pending message.
        let duplicate = raw.submit(submit_request(&flood[0])).await.unwrap_err();
        assert_eq!(duplicate.code(), Code::AlreadyExists);

        // The node stays up and commits what it admitted.
        let mut client = Client::connect(&url).await.unwrap();
        for hash in &admitted {
            let hash: [u8; 32] = hash.as_slice().try_into().unwrap();
            let done = client.wait(hash, STEP).await.unwrap();
            assert_eq!(done.message_status(), MessageStatus::Applied);
        }
        // A duplicate of a committed message.
        let duplicate = raw.submit(submit_request(&flood[1])).await.unwrap_err();
        assert_eq!(duplicate.code(), Code::AlreadyExists);
        // Nonce 5 skipped 4 (refused by the flood): admitted, then rejected in its frame with
        // the reason recorded.
        let gap = raw
            .submit(submit_request(&flood[4]))
            .await
            .unwrap()
            .into_inner();
        let hash: [u8; 32] = gap.message_hash.as_slice().try_into().unwrap();
        let done = client.wait(hash, STEP).await.unwrap();
        assert_eq!(done.message_status(), MessageStatus::Rejected);
        assert!(!done.status.outcome.unwrap().reason.is_empty());
        // And a good one after all that.
        let next = raw
            .submit(submit_request(&flood[3]))
            .await
            .unwrap()
            .into_inner();
        let hash: [u8; 32] = next.message_hash.as_slice().try_into().unwrap();
        assert_eq!(
            client.wait(hash, STEP).await.unwrap().message_status(),
            MessageStatus::Applied
        );
        // Unknown and malformed hashes.
        let unknown = raw
            .status(StatusRequest {
                message_hash: vec![0; 32],
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
        let short = raw
            .status(StatusRequest {
                message_hash: vec![0; 3],
            })
            .await
            .unwrap_err();
        assert_eq!(short.code(), Code::InvalidArgument);
    })
    .await
    .expect("bad input test timed out");
    stop_in_process(node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_batch_answers_each_message_as_submit_would() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::dev(dir.path());
    config.mempool_max = 4;
    config.max_message_bytes = 4_096;
    config.frame_interval = Duration::from_millis(1_500);
    let node = start_in_process(config).await;
    let url = format!("http://{}", node.started.grpc_addr);
    tokio::time::timeout(STEP, async {
        let mut raw = NodeClient::new(channel(&url).await);
        let mut alice = TokenClient::new(dev_key("alice").unwrap(), DEV_NETWORK_ID, 1);
        let bob = dev_key("bob").unwrap().verifying_key().to_bytes();
        let good: Vec<_> = (0..5)
            .map(|i| submit_request(&alice.transfer(NATIVE_TOKEN, bob, 10 + i)))
            .collect();
        let mut forged = good[1].clone();
        // A flipped byte of the signature (the message's last bytes).
        if let Some(last) = forged.message.last_mut() {
            *last ^= 1;
        }
        let batch = vec![
            good[0].clone(),
            good[0].clone(),
            SubmitRequest {
                target: NATIVE_TOKEN.0.to_vec(),
                message: vec![0xde, 0xad, 0xbe, 0xef, 1, 2],
            },
            SubmitRequest {
                target: NATIVE_TOKEN.0.to_vec(),
                message: vec![0; 5_000],
            },
            forged,
            good[1].clone(),
            good[2].clone(),
            good[3].clone(),
            good[4].clone(),
        ];
        let results = raw
            .submit_batch(SubmitBatchRequest {
                submissions: batch.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .results;
        let codes: Vec<Code> = results.iter().map(|r| Code::from(r.code as i32)).collect();
        assert_eq!(
            codes,
            [
                Code::Ok,
                Code::AlreadyExists,
                Code::InvalidArgument,
                Code::InvalidArgument,
                Code::InvalidArgument,
                Code::Ok,
                Code::Ok,
                Code::Ok,
                Code::ResourceExhausted,
            ],
            "{results:?}"
        );
        for (result, request) in results.iter().zip(&batch) {
            assert_eq!(
                result.message_hash,
                blake3::hash(&request.message).as_bytes().to_vec()
            );
            assert_eq!(result.code == 0, result.reason.is_empty(), "{result:?}");
        }
        // Too many messages: the call is refused.
        let too_many = raw
            .submit_batch(SubmitBatchRequest {
                submissions: vec![good[0].clone(); switchyard_node::rpc::MAX_SUBMIT_BATCH + 1],
            })
            .await
            .unwrap_err();
        assert_eq!(too_many.code(), Code::InvalidArgument);
        // The admitted ones commit.
        let mut client = Client::connect(&url).await.unwrap();
        for result in results.iter().filter(|r| r.code == 0) {
            let hash: [u8; 32] = result.message_hash.as_slice().try_into().unwrap();
            let done = client.wait(hash, STEP).await.unwrap();
            assert_eq!(done.message_status(), MessageStatus::Applied);
        }
    })
    .await
    .expect("batch test timed out");
    stop_in_process(node).await;
}
