//! Every cell of the state machine, generated from the table: for each status and each
//! operation, a prover is brought into the status with real operations, the operation is
//! sent, and the outcome must be the cell's: the move (with the indexes following), no change,
//! or the cell's named rejection with no effect but the nonce. A new status or operation
//! lands in these loops by itself.

use switchyard_global::{
    GlobalError, Next, Operation, ProverClient, Rejection, SignedRequest, Status, transition,
};
use switchyard_router::Address;
use switchyard_router::domains::GLOBAL;

use crate::common::*;

/// The prover under test and its filter.
const P: u8 = 1;
const F: [u8; 32] = [1; 32];
/// Where the scenarios start.
const START: u64 = 1_000;

/// Sends an operation of `P` at `frame`, which must succeed; returns `frame`.
fn step(
    chain: &mut Chain,
    frame: u64,
    build: impl FnOnce(&mut ProverClient) -> SignedRequest,
) -> u64 {
    chain.at(frame);
    chain.send(&mut client(P), build).unwrap();
    frame
}

/// Brings `P` active on `F`; returns the frame it became active.
fn activate(chain: &mut Chain) -> u64 {
    step(chain, START, |c| c.join(&[F], None));
    step(chain, START + 400, |c| c.confirm(Some(F)))
}

/// Brings `P` into `status` on `F`; returns the frame it entered it (for `None`, `START`).
fn reach(chain: &mut Chain, status: Status) -> u64 {
    match status {
        Status::None => START,
        Status::Joining | Status::Expired => step(chain, START, |c| c.join(&[F], None)),
        Status::Active => activate(chain),
        Status::Paused => {
            let since = activate(chain);
            step(chain, since + 400, |c| c.pause(Some(F)))
        }
        Status::Leaving => {
            let since = activate(chain);
            step(chain, since + 400, |c| c.leave(&[F]))
        }
        Status::Left => {
            let since = activate(chain);
            let leaving = step(chain, since + 400, |c| c.leave(&[F]));
            step(chain, leaving + 400, |c| c.confirm(Some(F)))
        }
        Status::Rejected => {
            let joined = step(chain, START, |c| c.join(&[F], None));
            step(chain, joined + 400, |c| c.reject(Some(F)))
        }
        Status::Kicked => {
            let since = activate(chain);
            let frame = since + 400;
            chain.at(frame);
            let (a, b) = equivocation(&client(P), 5);
            chain
                .send(&mut client(GENESIS_PROVERS[0]), |c| c.kick(key(P), a, b))
                .unwrap();
            frame
        }
    }
}

/// The frame at which the operation runs: inside every window of a status entered at
/// `since`, except for an expired join (past its window).
fn op_frame(status: Status, since: u64) -> u64 {
    if status == Status::Expired {
        since + 800
    } else {
        since + 400
    }
}

/// Sends `operation` about `P` on `F` (`all`: the all-filters form where there is one).
fn send(chain: &mut Chain, operation: Operation, all: bool) -> Result<(), Failure> {
    let scope = if all { None } else { Some(F) };
    let mut p = client(P);
    match operation {
        Operation::Join => chain.send(&mut p, |c| c.join(&[F], None)),
        Operation::Confirm => chain.send(&mut p, |c| c.confirm(scope)),
        Operation::Reject => chain.send(&mut p, |c| c.reject(scope)),
        Operation::Leave => chain.send(&mut p, |c| c.leave(if all { &[] } else { &[F] })),
        Operation::Pause => chain.send(&mut p, |c| c.pause(scope)),
        Operation::Resume => chain.send(&mut p, |c| c.resume(scope)),
        Operation::Update => chain.send(&mut p, |c| c.update(Address::new(GLOBAL, [9; 32]))),
        Operation::Kick => {
            let (a, b) = equivocation(&client(P), 5);
            chain.send(&mut client(GENESIS_PROVERS[1]), |c| c.kick(key(P), a, b))
        }
    }
}

fn signer_of(operation: Operation) -> u8 {
    if operation == Operation::Kick {
        GENESIS_PROVERS[1]
    } else {
        P
    }
}

fn rejection_of(error: &GlobalError) -> Option<Rejection> {
    match error {
        GlobalError::Transition { rejection, .. } | GlobalError::WindowClosed { rejection, .. } => {
            Some(*rejection)
        }
        _ => None,
    }
}

fn has_all_form(operation: Operation) -> bool {
    !matches!(
        operation,
        Operation::Join | Operation::Update | Operation::Kick
    )
}

/// Runs one cell and checks its outcome.
fn run_cell(status: Status, operation: Operation, all: bool) {
    let context = format!("{status} x {operation}{}", if all { " (all)" } else { "" });
    let mut chain = Chain::new();
    let since = reach(&mut chain, status);
    chain.at(op_frame(status, since));
    let before = chain.state.clone();
    let record_before = chain.record(key(P));
    let result = send(&mut chain, operation, all);
    match transition(status, operation) {
        Next::To(to) | Next::AfterDelay(to) => {
            result.unwrap_or_else(|e| panic!("{context}: expected a move to {to}, got {e:?}"));
            assert_eq!(chain.stored(key(P), F), Some(to), "{context}");
            let record = chain.record(key(P)).unwrap();
            assert_eq!(record.filters[&F].since_frame, chain.frame, "{context}");
        }
        Next::Stay => {
            result.unwrap_or_else(|e| panic!("{context}: expected success, got {e:?}"));
            let record = chain.record(key(P)).unwrap();
            assert_eq!(
                record.filters,
                record_before.unwrap().filters,
                "{context}: no status changes"
            );
        }
        Next::Refuse(rejection) => {
            let error = at_apply(result);
            assert_eq!(rejection_of(&error), Some(rejection), "{context}: {error}");
            chain.assert_only_nonce(&before, key(signer_of(operation)));
        }
    }
    chain.check_indexes(
        &[key(P), key(GENESIS_PROVERS[0]), key(GENESIS_PROVERS[1])],
        &[F, filter(GENESIS_PROVERS[0]), filter(GENESIS_PROVERS[1])],
    );
}

#[test]
fn every_cell_of_the_table_does_what_it_says() {
    for status in Status::ALL {
        for operation in Operation::ALL {
            run_cell(status, operation, false);
            if has_all_form(operation) {
                run_cell(status, operation, true);
            }
        }
    }
}

#[test]
fn moves_after_a_delay_are_refused_before_the_window_opens() {
    for status in Status::ALL {
        for operation in Operation::ALL {
            if !matches!(transition(status, operation), Next::AfterDelay(_)) {
                continue;
            }
            let mut chain = Chain::new();
            let since = reach(&mut chain, status);
            chain.at(since + 359);
            let before = chain.state.clone();
            let error = at_apply(send(&mut chain, operation, false));
            assert_eq!(
                error,
                GlobalError::WindowNotOpen {
                    operation,
                    filter: F,
                    opens: since + 360,
                    frame: since + 359
                },
                "{status} x {operation}"
            );
            chain.assert_only_nonce(&before, key(P));
            // The first frame of the window works.
            chain.at(since + 360);
            send(&mut chain, operation, false).unwrap();
        }
    }
}

#[test]
fn a_filter_the_prover_never_joined_is_status_none_for_named_operations() {
    // P is registered (on filter 2) but never joined F.
    for operation in Operation::ALL {
        if !has_all_form(operation) && operation != Operation::Join {
            continue;
        }
        let mut chain = Chain::new();
        chain.at(START);
        chain
            .send(&mut client(P), |c| c.join(&[filter(2)], None))
            .unwrap();
        chain.at(START + 1);
        let before = chain.state.clone();
        let result = send(&mut chain, operation, false);
        match transition(Status::None, operation) {
            Next::To(to) => {
                result.unwrap();
                assert_eq!(chain.stored(key(P), F), Some(to));
            }
            Next::Refuse(rejection) => {
                let error = at_apply(result);
                assert_eq!(
                    rejection_of(&error),
                    Some(rejection),
                    "{operation}: {error}"
                );
                chain.assert_only_nonce(&before, key(P));
            }
            other => panic!("unexpected cell {other:?}"),
        }
    }
}

#[test]
fn the_table_has_a_cell_for_every_pair_and_moves_only_to_stored_statuses() {
    let mut moves = 0;
    for status in Status::ALL {
        for operation in Operation::ALL {
            match transition(status, operation) {
                Next::To(to) | Next::AfterDelay(to) => {
                    assert!(to.is_stored(), "{status} x {operation} -> {to}");
                    moves += 1;
                }
                Next::Stay => assert_eq!(operation, Operation::Update),
                Next::Refuse(_) => {}
            }
        }
        // Nothing but a kick leaves kicked.
        if status == Status::Kicked {
            assert!(
                Operation::ALL
                    .iter()
                    .all(|op| matches!(transition(status, *op), Next::Refuse(_)))
            );
        }
    }
    assert_eq!(moves, 18);
}
