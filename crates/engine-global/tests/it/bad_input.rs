//! Bad input: other addresses, malformed fields, bad proofs of possession, closed windows and
//! the all-filters forms, each refused by name with no effect (or none but the nonce).

use switchyard_global::{
    GlobalError, MAX_FILTERS_PER_OPERATION, Operation, RegistryConfig, Rejection, Status,
};
use switchyard_proto::v1::{ProverJoin, ProverUpdate};
use switchyard_router::domains::{GLOBAL, NATIVE_TOKEN};
use switchyard_router::{Address, Call, Engine, ExecutionContext, MemoryView};

use crate::common::*;

const P: u8 = 1;

#[test]
fn operations_at_any_other_address_are_refused() {
    let engine = switchyard_global::GlobalEngine::new();
    let mut p = client(P);
    let request = p
        .signer()
        .sign(
            NATIVE_TOKEN,
            ProverUpdate {
                delegate_address: vec![1; 64],
                auth: None,
            },
        )
        .request;
    let call = Call::from_request(&request).unwrap();
    let ctx = ExecutionContext::new(1, NET);
    for error in [
        engine
            .validate(&ctx, &call, &MemoryView::default())
            .unwrap_err(),
        engine
            .access(&ctx, &call, &MemoryView::default())
            .unwrap_err(),
        engine
            .apply(&ctx, &call, &mut MemoryView::default())
            .unwrap_err(),
    ] {
        assert_eq!(
            error.downcast_ref::<GlobalError>(),
            Some(&GlobalError::WrongTarget {
                operation: "ProverUpdate",
                target: NATIVE_TOKEN
            })
        );
    }
    // Another engine's operation is unsupported, never free.
    let transfer: switchyard_proto::v1::MessageRequest =
        switchyard_proto::v1::Transaction::default().into();
    assert!(matches!(
        engine.cost(&transfer),
        Err(switchyard_router::EngineError::Unsupported { .. })
    ));
}

#[test]
fn malformed_operations_are_refused_at_validate_with_no_effect() {
    let p = client(P);
    let proof = p.proof_of_possession();
    let join = |filters: Vec<Vec<u8>>, proof: Vec<u8>, delegate: Vec<u8>| ProverJoin {
        filters,
        proof_of_possession: proof,
        delegate_address: delegate,
        auth: None,
    };
    let mut bad_proof = proof.clone();
    bad_proof[3] ^= 1;
    // Another key's proof: valid signature, wrong key.
    let stolen = client(2).proof_of_possession();
    let cases: Vec<(&str, ProverJoin, GlobalError)> = vec![
        (
            "no filters",
            join(vec![], proof.clone(), vec![]),
            GlobalError::NoFilters,
        ),
        (
            "short filter",
            join(vec![vec![1; 31]], proof.clone(), vec![]),
            GlobalError::BadKeyLength {
                field: "filter",
                len: 31,
            },
        ),
        (
            "duplicate filter",
            join(vec![vec![1; 32], vec![1; 32]], proof.clone(), vec![]),
            GlobalError::DuplicateFilter { filter: [1; 32] },
        ),
        (
            "too many filters",
            join(
                (0..=MAX_FILTERS_PER_OPERATION as u8)
                    .map(|n| vec![n; 32])
                    .collect(),
                proof.clone(),
                vec![],
            ),
            GlobalError::TooManyFilters {
                count: MAX_FILTERS_PER_OPERATION + 1,
                limit: MAX_FILTERS_PER_OPERATION,
            },
        ),
        (
            "short proof",
            join(vec![vec![1; 32]], vec![0; 63], vec![]),
            GlobalError::BadProofLength { len: 63 },
        ),
        (
            "bad proof",
            join(vec![vec![1; 32]], bad_proof, vec![]),
            GlobalError::InvalidProofOfPossession { prover: key(P) },
        ),
        (
            "another key's proof",
            join(vec![vec![1; 32]], stolen, vec![]),
            GlobalError::InvalidProofOfPossession { prover: key(P) },
        ),
        (
            "short delegate",
            join(vec![vec![1; 32]], proof.clone(), vec![1; 32]),
            GlobalError::BadDelegateLength { len: 32 },
        ),
    ];
    for (name, op, expected) in cases {
        let mut chain = Chain::new();
        let before = chain.state.clone();
        let error = at_validate(chain.send(&mut client(P), |c| c.sign(op)));
        assert_eq!(error, expected, "{name}");
        assert_eq!(chain.state, before, "{name}");
    }
    let mut chain = Chain::new();
    let error = at_validate(chain.send(&mut client(P), |c| {
        c.sign(ProverUpdate {
            delegate_address: vec![],
            auth: None,
        })
    }));
    assert_eq!(
        error,
        GlobalError::MissingField {
            operation: "ProverUpdate",
            field: "delegate address"
        }
    );
}

#[test]
fn unknown_filters_and_unregistered_provers_are_named() {
    let mut chain = Chain::new();
    chain.at(10);
    let before = chain.state.clone();
    let error = at_apply(chain.send(&mut client(P), |c| c.pause(Some(filter(4)))));
    assert_eq!(
        error,
        GlobalError::Transition {
            operation: Operation::Pause,
            filter: Some(filter(4)),
            status: Status::None,
            rejection: Rejection::NotJoined
        }
    );
    chain.assert_only_nonce(&before, key(P));
    let error = at_apply(chain.send(&mut client(P), |c| c.confirm(None)));
    assert_eq!(
        error,
        GlobalError::Transition {
            operation: Operation::Confirm,
            filter: None,
            status: Status::None,
            rejection: Rejection::NotJoined
        }
    );
    let error = at_apply(chain.send(&mut client(P), |c| c.update(Address::new(GLOBAL, [1; 32]))));
    assert!(
        matches!(
            error,
            GlobalError::Transition {
                rejection: Rejection::NotRegistered,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn closed_windows_are_named_and_lapsed_statuses_read_as_such() {
    let mut chain = Chain::new();
    let mut p = client(P);
    chain.at(10);
    chain
        .send(&mut p, |c| c.join(&[filter(1), filter(2)], None))
        .unwrap();
    // The last frame of the window still confirms one filter; the other expires.
    chain.at(730);
    chain.send(&mut p, |c| c.confirm(Some(filter(1)))).unwrap();
    chain.at(731);
    let before = chain.state.clone();
    let error = at_apply(chain.send(&mut p, |c| c.confirm(Some(filter(2)))));
    assert_eq!(
        error,
        GlobalError::WindowClosed {
            operation: Operation::Confirm,
            filter: filter(2),
            stored: Status::Joining,
            status: Status::Expired,
            closed: 730,
            frame: 731,
            rejection: Rejection::JoinExpired
        }
    );
    chain.assert_only_nonce(&before, key(P));
    // An expired join may be made again.
    chain.send(&mut p, |c| c.join(&[filter(2)], None)).unwrap();

    // A pause not resumed within the resume window: the prover has left.
    chain.at(800);
    chain.send(&mut p, |c| c.pause(Some(filter(1)))).unwrap();
    chain.at(800 + 1440 + 1);
    let error = at_apply(chain.send(&mut p, |c| c.resume(Some(filter(1)))));
    assert!(
        matches!(
            error,
            GlobalError::WindowClosed {
                stored: Status::Paused,
                status: Status::Left,
                closed: 2240,
                rejection: Rejection::NotPaused,
                ..
            }
        ),
        "{error}"
    );
    // ... and may join again.
    chain.send(&mut p, |c| c.join(&[filter(1)], None)).unwrap();
    chain.check_indexes(&[key(P)], &[filter(1), filter(2)]);
}

#[test]
fn all_filter_forms_move_what_they_can_and_skip_the_rest() {
    let mut chain = Chain::new();
    let mut p = client(P);
    chain.at(10);
    chain.send(&mut p, |c| c.join(&[filter(1)], None)).unwrap();
    chain.at(100);
    chain.send(&mut p, |c| c.join(&[filter(2)], None)).unwrap();
    // At 400 only the first join's window is open.
    chain.at(400);
    chain.send(&mut p, |c| c.confirm(None)).unwrap();
    assert_eq!(chain.stored(key(P), filter(1)), Some(Status::Active));
    assert_eq!(chain.stored(key(P), filter(2)), Some(Status::Joining));
    // Nothing left to confirm yet: the first refusal is the answer.
    let error = at_apply(chain.send(&mut p, |c| c.confirm(None)));
    assert!(
        matches!(
            error,
            GlobalError::Transition {
                rejection: Rejection::NothingToConfirm,
                ..
            } | GlobalError::WindowNotOpen { .. }
        ),
        "{error}"
    );
    // Leave all: the active filter leaves; the joining one is skipped.
    chain.send(&mut p, |c| c.leave(&[])).unwrap();
    assert_eq!(chain.stored(key(P), filter(1)), Some(Status::Leaving));
    assert_eq!(chain.stored(key(P), filter(2)), Some(Status::Joining));
    // A named leave of a joining filter is refused as a whole.
    let error = at_apply(chain.send(&mut p, |c| c.leave(&[filter(2)])));
    assert!(matches!(
        error,
        GlobalError::Transition {
            rejection: Rejection::NotServing,
            ..
        }
    ));
    chain.check_indexes(&[key(P)], &[filter(1), filter(2)]);
}

#[test]
fn full_indexes_refuse_moves_and_drop_lapsed_entries_first() {
    let config = RegistryConfig {
        max_filter_entries: 1,
        ..Default::default()
    };
    let mut chain = Chain::with_config(config);
    chain.at(10);
    chain
        .send(&mut client(1), |c| c.join(&[filter(1)], None))
        .unwrap();
    let error = at_apply(chain.send(&mut client(2), |c| c.join(&[filter(1)], None)));
    assert_eq!(
        error,
        GlobalError::FilterFull {
            filter: filter(1),
            limit: 1
        }
    );
    // Once the first join expired, its entry makes room.
    chain.at(731);
    chain
        .send(&mut client(2), |c| c.join(&[filter(1)], None))
        .unwrap();
}
