//! Frame execution of an arbitrary list of (target, bytes) messages.

use switchyard_manager::{Frame, FrameResult};
use switchyard_proto::v1::{MessageOutcome, MessageStatus};
use switchyard_state::{Overlay, Store};

use crate::entry::process_checked;
use crate::input::{FrameInput, Reader};
use crate::world::{FEE_RECIPIENT, managers, world};

/// `Manager::execute_frame` (two workers) and `execute_frame_serial` of the same frame, the
/// world's successor: no panic; the same result from both (receipt and head); one outcome per
/// message; rejected and malformed messages changed nothing (the frame without them commits
/// the same root, the other messages ending as before); and each message, run in order
/// through `process_message`, wrote nothing when refused and only its signers' native
/// accounts when failed.
pub fn target_frame(data: &[u8]) {
    let world = world();
    let input = Reader::new(data).frame(&world.targets);
    let frame = frame_of(&input, world.next_frame());
    let managers = managers();
    let _one = managers.enter();

    let parallel = managers.parallel.execute_frame(&frame);
    let serial = managers.serial.execute_frame_serial(&frame);
    let serial = match (parallel, serial) {
        (Ok(parallel), Ok(serial)) => {
            assert_eq!(parallel, serial, "parallel and serial execution differ");
            serial
        }
        (Err(parallel), Err(serial)) => {
            assert_eq!(
                parallel.to_string(),
                serial.to_string(),
                "parallel and serial execution fail differently"
            );
            panic!("a frame of arbitrary messages failed as a whole: {serial}");
        }
        (parallel, serial) => {
            panic!("one executor failed: parallel {parallel:?}, serial {serial:?}")
        }
    };
    assert_eq!(
        serial.receipt.outcomes.len(),
        frame.messages.len(),
        "one outcome per message"
    );
    without_refused(&frame, &serial);
    managers.reset();
    each_through_process_message(&frame);
}

/// The frame an input describes, numbered `number`.
fn frame_of(input: &FrameInput, number: u64) -> Frame {
    let mut frame = Frame::new(number)
        .fee_recipient(FEE_RECIPIENT)
        .fee_multiplier(input.fee_multiplier)
        .signatures_verified(input.signatures_verified);
    frame.messages = input.messages.clone();
    frame
}

/// A frame's message: target and bytes.
type Message = (Vec<u8>, Vec<u8>);

fn refused(outcome: &MessageOutcome) -> bool {
    matches!(
        outcome.status(),
        MessageStatus::Rejected | MessageStatus::Malformed
    )
}

/// Runs the frame again without its rejected and malformed messages: the same root, and the
/// same outcome for every other message.
fn without_refused(frame: &Frame, result: &FrameResult) {
    let kept: Vec<(&Message, &MessageOutcome)> = frame
        .messages
        .iter()
        .zip(&result.receipt.outcomes)
        .filter(|(_, outcome)| !refused(outcome))
        .collect();
    if kept.len() == frame.messages.len() {
        return;
    }
    let managers = managers();
    managers.reset();
    let mut smaller = frame.clone();
    smaller.messages = kept.iter().map(|(message, _)| (*message).clone()).collect();
    let again = managers
        .serial
        .execute_frame_serial(&smaller)
        .expect("the frame without its refused messages commits");
    assert_eq!(
        again.head.state_root, result.head.state_root,
        "refused messages changed the state"
    );
    for ((_, before), after) in kept.iter().zip(&again.receipt.outcomes) {
        let view = |o: &MessageOutcome| {
            (
                o.status(),
                o.cost,
                o.fee,
                o.message_hash.clone(),
                o.results.clone(),
            )
        };
        assert_eq!(
            view(before),
            view(after),
            "a refused message changed another message's outcome"
        );
    }
}

/// Each message through `process_message`, in frame order, on one overlay of the world.
fn each_through_process_message(frame: &Frame) {
    let managers = managers();
    let snapshot = managers
        .serial_store
        .snapshot()
        .expect("a snapshot of the world");
    let mut state = Overlay::new(snapshot.as_ref());
    for (target, message) in &frame.messages {
        let _ = process_checked(
            &managers.serial,
            frame.number,
            frame.fee_multiplier,
            target,
            message,
            &mut state,
        );
    }
}
