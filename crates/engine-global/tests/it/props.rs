//! Random sequences of prover operations over a few provers and filters, with frames moving
//! on by random amounts: every status change observed is a cell of the table, made by the
//! operation sent, on the prover and filters it is about; refusals are named; the indexes
//! always agree with the records.

use proptest::prelude::*;
use switchyard_global::{
    GlobalError, Next, Operation, ProverClient, SignedRequest, Status, transition,
};
use switchyard_router::Address;
use switchyard_router::domains::GLOBAL;

use crate::common::*;

const PROVERS: [u8; 3] = [1, 2, 3];
const FILTERS: [u8; 3] = [1, 2, 3];

#[derive(Debug, Clone)]
enum Step {
    /// `prover` sends `operation` on `filter` (`None`: all its filters); a kick is sent by
    /// `prover` against `subject`.
    Op {
        prover: usize,
        operation: usize,
        filter: Option<usize>,
        subject: usize,
    },
    Advance(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..PROVERS.len() + 1, 0..Operation::ALL.len(), proptest::option::of(0..FILTERS.len()), 0..PROVERS.len())
            .prop_map(|(prover, operation, filter, subject)| Step::Op { prover, operation, filter, subject }),
        2 => prop_oneof![Just(1u64), Just(200), Just(365), Just(400), Just(800)].prop_map(Step::Advance),
    ]
}

/// The signer of index `n`: a test prover, or (past them) a genesis prover.
fn signer(n: usize) -> u8 {
    PROVERS.get(n).copied().unwrap_or(GENESIS_PROVERS[0])
}

fn everyone() -> Vec<u8> {
    PROVERS.iter().chain(&GENESIS_PROVERS).copied().collect()
}

/// The status of `p` on `f` as the state machine reads it now.
fn read(chain: &Chain, p: u8, f: u8) -> Status {
    let config = switchyard_global::registry_config(&chain.state).unwrap();
    match chain.record(key(p)) {
        Some(record) if record.kicked => Status::Kicked,
        Some(record) => record
            .filters
            .get(&filter(f))
            .map_or(Status::None, |s| s.at(chain.frame, &config)),
        None => Status::None,
    }
}

fn build(
    operation: Operation,
    filter_arg: Option<u8>,
    subject: u8,
    frame: u64,
) -> impl FnOnce(&mut ProverClient) -> SignedRequest {
    move |c| {
        let one = filter_arg.map(filter);
        match operation {
            Operation::Join => c.join(&[filter(filter_arg.unwrap_or(1))], None),
            Operation::Confirm => c.confirm(one),
            Operation::Reject => c.reject(one),
            Operation::Leave => c.leave(&one.map(|f| vec![f]).unwrap_or_default()),
            Operation::Pause => c.pause(one),
            Operation::Resume => c.resume(one),
            Operation::Update => c.update(Address::new(GLOBAL, [7; 32])),
            Operation::Kick => {
                let (a, b) = equivocation(&client(subject), frame);
                c.kick(key(subject), a, b)
            }
        }
    }
}

fn run(steps: &[Step]) {
    let mut chain = Chain::new();
    chain.at(10);
    let keys: Vec<_> = everyone().into_iter().map(key).collect();
    let filters: Vec<_> = FILTERS
        .iter()
        .chain(&GENESIS_PROVERS)
        .map(|f| filter(*f))
        .collect();
    for step in steps {
        let (n, operation, filter_arg, subject) = match *step {
            Step::Advance(frames) => {
                let next = chain.frame + frames;
                chain.at(next);
                continue;
            }
            Step::Op {
                prover,
                operation,
                filter,
                subject,
            } => (
                signer(prover),
                Operation::ALL[operation],
                filter.map(|f| FILTERS[f]),
                PROVERS[subject],
            ),
        };
        let about = if operation == Operation::Kick {
            subject
        } else {
            n
        };
        let before: Vec<(u8, u8, Status, Option<_>)> = everyone()
            .into_iter()
            .flat_map(|p| FILTERS.iter().map(move |f| (p, *f)))
            .map(|(p, f)| {
                let stored = chain
                    .record(key(p))
                    .and_then(|r| r.filters.get(&filter(f)).copied());
                (p, f, read(&chain, p, f), stored)
            })
            .collect();
        let frame = chain.frame;
        let result = chain.send(&mut client(n), build(operation, filter_arg, subject, frame));
        match result {
            Ok(()) => {}
            Err(Failure::Validate(e) | Failure::Apply(e)) => {
                assert!(e.downcast_ref::<GlobalError>().is_some(), "{e}");
            }
            Err(other) => panic!("{operation}: unexpected failure {other:?}"),
        }
        for (p, f, status, stored) in before {
            let now = chain
                .record(key(p))
                .and_then(|r| r.filters.get(&filter(f)).copied());
            if now == stored {
                continue;
            }
            let now = now.unwrap();
            assert_eq!(p, about, "{operation} changed another prover");
            let named = match operation {
                Operation::Kick | Operation::Update => true,
                Operation::Join => filter_arg.unwrap_or(1) == f,
                _ => filter_arg.is_none_or(|g| g == f),
            };
            assert!(named, "{operation} changed filter {f} it does not name");
            assert_eq!(
                transition(status, operation).target(),
                Some(now.status),
                "{status} x {operation} stored {:?}",
                now.status
            );
            assert_eq!(now.since_frame, frame);
            if let Next::AfterDelay(_) = transition(status, operation) {
                assert!(frame >= stored.unwrap().since_frame + 360);
            }
        }
        chain.check_indexes(&keys, &filters);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_operation_sequences_stay_inside_the_table(steps in proptest::collection::vec(step(), 1..60)) {
        run(&steps);
    }
}
