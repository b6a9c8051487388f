//! Kicks: valid evidence kicks for good; each kind of bad evidence is refused by name.

use switchyard_global::{GlobalError, Operation, Rejection, Status, filter_index, status_index};
use switchyard_proto::v1::FrameHeader;
use switchyard_router::auth::SigningKey;

use crate::common::*;

const P: u8 = 1;

/// A chain where `P` is active on filters 1 and 2 (joined at 10, confirmed at 400).
fn with_active_prover() -> Chain {
    let mut chain = Chain::new();
    chain.at(10);
    chain
        .send(&mut client(P), |c| c.join(&[filter(1), filter(2)], None))
        .unwrap();
    chain.at(400);
    chain.send(&mut client(P), |c| c.confirm(None)).unwrap();
    chain
}

fn kick(chain: &mut Chain, a: FrameHeader, b: FrameHeader) -> Result<(), Failure> {
    chain.send(&mut client(GENESIS_PROVERS[0]), |c| c.kick(key(P), a, b))
}

#[test]
fn valid_evidence_kicks_on_every_filter_and_for_good() {
    let mut chain = with_active_prover();
    chain.at(500);
    let (a, b) = equivocation(&client(P), 42);
    kick(&mut chain, a, b).unwrap();
    let record = chain.record(key(P)).unwrap();
    assert!(record.kicked);
    assert!(record.filters.values().all(|s| s.status == Status::Kicked));
    assert!(filter_index(&chain.state, &filter(1)).unwrap().is_empty());
    let kicked = status_index(&chain.state, Status::Kicked).unwrap();
    assert_eq!(kicked.len(), 2);
    assert!(
        status_index(&chain.state, Status::Active)
            .unwrap()
            .iter()
            .all(|e| e.prover != key(P))
    );
    chain.check_indexes(&[key(P)], &[filter(1), filter(2)]);

    // Never again: not on its filters, not on a new one.
    chain.at(501);
    let error = at_apply(chain.send(&mut client(P), |c| c.join(&[filter(3)], None)));
    assert_eq!(
        error,
        GlobalError::Transition {
            operation: Operation::Join,
            filter: Some(filter(3)),
            status: Status::Kicked,
            rejection: Rejection::Kicked
        }
    );
    // Nor kicked twice, nor kicking others.
    let (a, b) = equivocation(&client(P), 43);
    let error = at_apply(kick(&mut chain, a, b));
    assert!(
        matches!(
            error,
            GlobalError::Transition {
                rejection: Rejection::AlreadyKicked,
                ..
            }
        ),
        "{error}"
    );
    let (a, b) = equivocation(&client(GENESIS_PROVERS[1]), 43);
    let error = at_apply(chain.send(&mut client(P), |c| c.kick(key(GENESIS_PROVERS[1]), a, b)));
    assert_eq!(error, GlobalError::KickerNotRegistered { signer: key(P) });
}

/// Each kind of bad evidence, with the error it must get at `validate`.
#[test]
fn bad_evidence_is_refused_by_name_with_no_effect() {
    let p = client(P);
    let other = client(9);
    let (a, b) = equivocation(&p, 42);
    let mut short_root = a.clone();
    short_root.state_root.pop();
    let mut tampered = b.clone();
    tampered.signature[0] ^= 1;
    let other_network = ProverClient::new(SigningKey::from_bytes(&[P; 32]), NET + 1, 1);
    let (foreign_a, _) = equivocation(&other_network, 42);
    let later = p.frame_header(43, [1; 32], [4; 32], [3; 32]);
    // A header naming P but signed by another key.
    let mut forged = other.sign_frame_header(FrameHeader {
        prover: key(P).to_vec(),
        ..b.clone()
    });
    forged.prover = key(P).to_vec();
    let (other_a, _) = equivocation(&other, 42);
    let resigned = p.sign_frame_header(a.clone());
    let cases: Vec<(&str, Option<FrameHeader>, Option<FrameHeader>, GlobalError)> = vec![
        (
            "missing header",
            Some(a.clone()),
            None,
            GlobalError::MissingHeader { which: "b" },
        ),
        (
            "malformed header",
            Some(short_root),
            Some(b.clone()),
            GlobalError::MalformedHeader {
                which: "a",
                field: "state root",
                expected: 32,
                len: 31,
            },
        ),
        (
            "equal headers",
            Some(a.clone()),
            Some(resigned),
            GlobalError::EqualHeaders,
        ),
        (
            "different frame numbers",
            Some(a.clone()),
            Some(later),
            GlobalError::DifferentFrameNumbers { a: 42, b: 43 },
        ),
        (
            "another prover's header",
            Some(a.clone()),
            Some(other_a),
            GlobalError::HeaderProverMismatch {
                which: "b",
                header_prover: other.public_key(),
                kicked: key(P),
            },
        ),
        (
            "another prover's signature",
            Some(a.clone()),
            Some(forged),
            GlobalError::BadHeaderSignature {
                which: "b",
                prover: key(P),
            },
        ),
        (
            "bad signature",
            Some(a.clone()),
            Some(tampered),
            GlobalError::BadHeaderSignature {
                which: "b",
                prover: key(P),
            },
        ),
        (
            "another network",
            Some(foreign_a),
            Some(b.clone()),
            GlobalError::WrongNetwork {
                which: "a",
                found: NET + 1,
                expected: NET,
            },
        ),
    ];
    for (name, a, b, expected) in cases {
        let mut chain = with_active_prover();
        chain.at(500);
        let before = chain.state.clone();
        let result = chain.send(&mut client(GENESIS_PROVERS[0]), |c| {
            c.sign(switchyard_proto::v1::ProverKick {
                kicked_prover: key(P).to_vec(),
                conflicting_a: a,
                conflicting_b: b,
                auth: None,
            })
        });
        assert_eq!(at_validate(result), expected, "{name}");
        assert_eq!(chain.state, before, "{name}: no effect at all");
    }
}

#[test]
fn kicks_need_a_registered_signer_and_subject() {
    let mut chain = with_active_prover();
    chain.at(500);
    // An unregistered signer.
    let (a, b) = equivocation(&client(P), 1);
    let error = at_apply(chain.send(&mut client(8), |c| c.kick(key(P), a, b)));
    assert_eq!(error, GlobalError::KickerNotRegistered { signer: key(8) });
    // An unregistered subject.
    let (a, b) = equivocation(&client(8), 1);
    let error = at_apply(chain.send(&mut client(GENESIS_PROVERS[0]), |c| c.kick(key(8), a, b)));
    assert_eq!(
        error,
        GlobalError::Transition {
            operation: Operation::Kick,
            filter: None,
            status: Status::None,
            rejection: Rejection::NotRegistered
        }
    );
}

#[test]
fn a_kick_in_the_frame_of_a_join_is_refused_and_works_in_the_next() {
    let mut chain = with_active_prover();
    chain.at(500);
    chain
        .send(&mut client(P), |c| c.join(&[filter(3)], None))
        .unwrap();
    let (a, b) = equivocation(&client(P), 1);
    let error = at_apply(kick(&mut chain, a.clone(), b.clone()));
    assert_eq!(
        error,
        GlobalError::JoinedThisFrame {
            prover: key(P),
            frame: 500
        }
    );
    chain.at(501);
    kick(&mut chain, a, b).unwrap();
    assert_eq!(chain.stored(key(P), filter(3)), Some(Status::Kicked));
    chain.check_indexes(&[key(P)], &[filter(1), filter(2), filter(3)]);
}

use switchyard_global::ProverClient;
