//! The manager's byte-level entry points: `cost`, `validate_message`, `lock` (and `unlock`),
//! `process_message` and `query`, each on the world's last committed state.

use switchyard_manager::{Manager, ManagerError};
use switchyard_proto::v1::{MessageRequest, MessageStatus};
use switchyard_proto::{AnyMessage, decode_any};
use switchyard_router::domains::native_account;
use switchyard_router::{Address, Call, StateError, StateRead, StateWrite};
use switchyard_state::{Overlay, Store};

use crate::input::Reader;
use crate::world::{managers, world};

/// `Manager::cost` of the whole input as a message: no panic.
pub fn target_cost(data: &[u8]) {
    let managers = managers();
    let _one = managers.enter();
    let _ = managers.serial.cost(data);
}

/// `Manager::validate_message` of a target and a message at the next frame: no panic.
pub fn target_validate(data: &[u8]) {
    let world = world();
    let managers = managers();
    let _one = managers.enter();
    let mut reader = Reader::new(data);
    let target = reader.target(&world.targets);
    let _ = managers
        .serial
        .validate_message(world.next_frame(), &target, reader.rest());
}

/// `Manager::lock`, then `unlock`: no panic; a lease that writes conflicts with a second lock
/// of the same message, which leaves nothing locked; after `unlock`, the same lock succeeds
/// again (the lease released exactly what it took); a lock with nothing held never conflicts.
pub fn target_lock(data: &[u8]) {
    let world = world();
    let managers = managers();
    let _one = managers.enter();
    let manager = &managers.serial;
    let mut reader = Reader::new(data);
    let target = reader.target(&world.targets);
    let message = reader.rest();
    let frame = world.next_frame();
    let first = match manager.lock(frame, &target, message) {
        Ok(lease) => lease,
        Err(error) => {
            assert!(
                !matches!(error, ManagerError::LockConflict { .. }),
                "a lock conflicted with nothing held: {error}"
            );
            return;
        }
    };
    let writes = first.access().conflicts_with(first.access());
    match manager.lock(frame, &target, message) {
        Ok(second) => {
            assert!(!writes, "a lease that writes was granted twice");
            manager.unlock(second);
        }
        Err(ManagerError::LockConflict { .. }) => {
            assert!(writes, "a read-only lease conflicted with itself");
        }
        Err(error) => panic!("the same lock failed the second time: {error}"),
    }
    manager.unlock(first);
    match manager.lock(frame, &target, message) {
        Ok(again) => manager.unlock(again),
        Err(error) => panic!("the lock failed after its lease was released: {error}"),
    }
}

/// `Manager::process_message` on an overlay of the world at the next frame: no panic; a
/// refused message (an error) wrote nothing, a failed one only its signers' native accounts
/// (fee and nonce); an accepted one also passes `validate_message` and is priced by `cost`
/// as `process_message` charged it.
pub fn target_process(data: &[u8]) {
    let world = world();
    let managers = managers();
    let _one = managers.enter();
    let mut reader = Reader::new(data);
    let target = reader.target(&world.targets);
    let message = reader.rest();
    let snapshot = managers
        .serial_store
        .snapshot()
        .expect("a snapshot of the world");
    let mut state = Overlay::new(snapshot.as_ref());
    let result = process_checked(
        &managers.serial,
        world.next_frame(),
        1,
        &target,
        message,
        &mut state,
    );
    if let Ok(processed) = result {
        if let Err(error) = managers
            .serial
            .validate_message(world.next_frame(), &target, message)
        {
            panic!("process_message accepted what validate_message refuses: {error}");
        }
        match managers.serial.cost(message) {
            Ok(cost) => assert_eq!(
                cost,
                switchyard_router::BigUint::from(processed),
                "cost disagrees with what process_message charged"
            ),
            Err(error) => panic!("cost refuses a message process_message accepted: {error}"),
        }
    }
}

/// Runs one message through `process_message` on `state` and checks that a refusal wrote
/// nothing and a failure wrote only its signers' native accounts (as the conformance kit's
/// `process_checked` does). Returns the cost of an accepted message.
pub(crate) fn process_checked(
    manager: &Manager,
    frame_number: u64,
    fee_multiplier: u64,
    target: &[u8],
    message: &[u8],
    state: &mut Overlay<'_>,
) -> Result<u64, ()> {
    let mut recorder = Recorder {
        inner: state,
        written: Vec::new(),
    };
    let result =
        manager.process_message(frame_number, fee_multiplier, target, message, &mut recorder);
    let written = recorder.written;
    let (status, allowed, outcome) = match &result {
        Ok(processed) if processed.status == MessageStatus::Applied => return Ok(processed.cost),
        Ok(processed) => ("failed", signer_accounts(message), Ok(processed.cost)),
        Err(error) if error.status() != MessageStatus::Failed => ("refused", Vec::new(), Err(())),
        // Not the message's fault (a store failure): nothing to hold the message to.
        Err(_) => return Err(()),
    };
    if let Some(address) = written.iter().find(|a| !allowed.contains(a)) {
        panic!(
            "a {status} message wrote {address:?} (allowed: its signers' native accounts {allowed:?}); result {result:?}"
        );
    }
    outcome
}

/// The native accounts of every signer of a message's requests.
fn signer_accounts(bytes: &[u8]) -> Vec<Address> {
    let requests: Vec<MessageRequest> = match decode_any(bytes) {
        Ok(AnyMessage::MessageBundle(bundle)) => bundle.requests,
        Ok(other) => other.into_request().into_iter().collect(),
        Err(_) => Vec::new(),
    };
    requests
        .iter()
        .filter_map(|request| Call::from_request(request).ok())
        .map(|call| native_account(call.signer))
        .collect()
}

/// A state that records every address written through it.
struct Recorder<'s, 'b> {
    inner: &'s mut Overlay<'b>,
    written: Vec<Address>,
}

impl StateRead for Recorder<'_, '_> {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        self.inner.get(address)
    }
}

impl StateWrite for Recorder<'_, '_> {
    fn put(&mut self, address: Address, value: Vec<u8>) -> Result<(), StateError> {
        self.written.push(address);
        self.inner.put(address, value)
    }
    fn delete(&mut self, address: &Address) -> Result<(), StateError> {
        self.written.push(*address);
        self.inner.delete(address)
    }
}

/// `Manager::query` of a target and a query message: no panic; an answer is a canonical
/// `*QueryResponse` message read from the world's head.
pub fn target_query(data: &[u8]) {
    let world = world();
    let managers = managers();
    let _one = managers.enter();
    let mut reader = Reader::new(data);
    let target = reader.target(&world.targets);
    let Ok(answer) = managers.serial.query(&target, reader.rest()) else {
        return;
    };
    assert_eq!(answer.head, world.head, "an answer from another head");
    match decode_any(&answer.response) {
        Ok(
            AnyMessage::TokenQueryResponse(_)
            | AnyMessage::ComputeQueryResponse(_)
            | AnyMessage::GlobalQueryResponse(_)
            | AnyMessage::HypergraphQueryResponse(_),
        ) => {}
        Ok(other) => panic!("a query answered with a {:?}", other.tag()),
        Err(error) => panic!("a query answered with bytes that do not decode: {error}"),
    }
}
