//! Follower mode: frames handed in through the execution API give the receipts and roots of
//! the same frames run in process; a repeated frame is idempotent; gaps and conflicts are
//! refused.

use switchyard_manager::{Frame, Manager};
use switchyard_node::config::ServeConfig;
use switchyard_node::genesis::{DEV_NETWORK_ID, Genesis};
use switchyard_node::keys::dev_key;
use switchyard_node::producer::Mode;
use switchyard_proto::v1::execution_client::ExecutionClient;
use switchyard_proto::v1::node_client::NodeClient;
use switchyard_proto::v1::{ExecuteFrameRequest, HeadRequest, SubmitRequest};
use switchyard_router::domains::NATIVE_TOKEN;
use switchyard_token::TokenClient;
use tonic::Code;

use crate::node_common::{STEP, channel, start_in_process, stop_in_process};

/// Three frames of signed native transfers between the dev keys (one rejected: a nonce gap).
fn frames() -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut alice = TokenClient::new(dev_key("alice").unwrap(), DEV_NETWORK_ID, 1);
    let mut bob = TokenClient::new(dev_key("bob").unwrap(), DEV_NETWORK_ID, 1);
    let carol = dev_key("carol").unwrap().verifying_key().to_bytes();
    let mut frames = Vec::new();
    for round in 0..3u128 {
        let mut messages = Vec::new();
        for i in 0..4 {
            let (target, bytes) = alice
                .transfer(NATIVE_TOKEN, carol, 10 + round * 4 + i)
                .into_parts();
            messages.push((target.0.to_vec(), bytes));
        }
        let (target, bytes) = bob.transfer(NATIVE_TOKEN, carol, 5).into_parts();
        messages.push((target.0.to_vec(), bytes));
        frames.push(messages);
    }
    // A nonce gap: recorded as rejected in the receipt.
    bob.set_next_nonce(99);
    let (target, bytes) = bob.transfer(NATIVE_TOKEN, carol, 1).into_parts();
    frames[2].push((target.0.to_vec(), bytes));
    frames
}

fn request(number: u64, messages: &[(Vec<u8>, Vec<u8>)]) -> ExecuteFrameRequest {
    ExecuteFrameRequest {
        frame_number: number,
        fee_multiplier: 2,
        fee_recipient: vec![9; 32],
        messages: messages
            .iter()
            .map(|(target, message)| SubmitRequest {
                target: target.clone(),
                message: message.clone(),
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_from_the_orderer_match_in_process_execution() {
    let frames = frames();
    // In process, on a memory store with the same genesis.
    let reference = Manager::builder()
        .engines(switchyard_node::engines::all())
        .network_id(DEV_NETWORK_ID)
        .build()
        .unwrap();
    reference
        .genesis(0, &Genesis::dev().changes().unwrap())
        .unwrap();
    let mut expected = Vec::new();
    for (number, messages) in (1..).zip(&frames) {
        let mut frame = Frame::new(number).fee_multiplier(2).fee_recipient([9; 32]);
        frame.messages = messages.clone();
        expected.push(reference.execute_frame(&frame).unwrap());
    }

    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::dev(dir.path());
    config.mode = Mode::Follower;
    let node = start_in_process(config).await;
    let url = format!("http://{}", node.started.grpc_addr);
    tokio::time::timeout(STEP, async {
        let mut execution = ExecutionClient::new(channel(&url).await);
        for ((number, messages), expected) in (1..).zip(&frames).zip(&expected) {
            let answer = execution
                .execute_frame(request(number, messages))
                .await
                .unwrap()
                .into_inner();
            assert!(!answer.already_executed);
            assert_eq!(answer.receipt.as_ref(), Some(&expected.receipt));
            let head = answer.head.unwrap();
            assert_eq!(head.frame_number, expected.head.frame_number);
            assert_eq!(head.state_root, expected.head.state_root.0.to_vec());
        }
        // Idempotent: a repeated frame answers with its stored receipt.
        let again = execution
            .execute_frame(request(2, &frames[1]))
            .await
            .unwrap()
            .into_inner();
        assert!(again.already_executed);
        assert_eq!(again.receipt.as_ref(), Some(&expected[1].receipt));
        // A gap and a conflicting frame are refused with a reason.
        let gap = execution
            .execute_frame(request(5, &frames[0]))
            .await
            .unwrap_err();
        assert_eq!(gap.code(), Code::FailedPrecondition);
        assert!(
            gap.message().contains("does not follow"),
            "{}",
            gap.message()
        );
        let conflict = execution
            .execute_frame(request(2, &frames[0]))
            .await
            .unwrap_err();
        assert_eq!(conflict.code(), Code::FailedPrecondition);
        assert!(
            conflict.message().contains("other content"),
            "{}",
            conflict.message()
        );
        let head = execution.head(HeadRequest {}).await.unwrap().into_inner();
        assert_eq!(head.frame_number, 3);
        // A follower takes no submissions.
        let mut node_client = NodeClient::new(channel(&url).await);
        let refused = node_client
            .submit(request(4, &frames[0]).messages[0].clone())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition);
    })
    .await
    .expect("follower test timed out");
    stop_in_process(node).await;
}
