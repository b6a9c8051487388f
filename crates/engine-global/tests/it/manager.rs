//! The global engine inside a real manager, with the token engine (the native token holds
//! nonces and pays fees): capabilities, routing only at the global address, zero fees with
//! nonces settled, queries, and frames whose parallel execution equals the serial reference
//! on 1, 2 and 4 threads.

use std::sync::Arc;

use switchyard_global::{
    GenesisProver, GlobalEngine, GlobalGenesis, ProverClient, RegistryConfig, Status,
};
use switchyard_manager::{Frame, FrameResult, Manager};
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::global_query::{Prover, Query};
use switchyard_proto::v1::global_query_response::Response;
use switchyard_proto::v1::{
    FrameReceipt, GlobalQuery, GlobalQueryResponse, MessageStatus, ProverStatus,
};
use switchyard_router::domains::{GLOBAL, NATIVE_TOKEN, native_account};
use switchyard_router::fees::AccountRecord;
use switchyard_router::{Domain, Key, StateRead};
use switchyard_state::ChangeSet;
use switchyard_token::{NativeGenesis, TokenClient, TokenEngine};

use crate::common::{NET, client, equivocation, filter, key};

const RICH: u128 = 1_000_000_000;

/// Genesis: the native token with rich signers 1..=8, and the registry with provers 100 and
/// 101 active on filters 100 and 101, and short windows (confirm from 1 to 5 frames after).
pub(crate) fn genesis() -> ChangeSet {
    let native = NativeGenesis {
        balances: (1..=8).map(|n| (key(n), RICH)).collect(),
        ..Default::default()
    };
    let registry = GlobalGenesis {
        config: RegistryConfig {
            confirm_min_delay: 1,
            confirm_max_delay: 5,
            resume_window: 5,
            ..Default::default()
        },
        provers: [100u8, 101]
            .iter()
            .map(|n| GenesisProver {
                key: key(*n),
                filters: vec![filter(*n)],
                delegate: None,
            })
            .collect(),
        frame: 0,
    };
    switchyard_token::genesis(&native)
        .unwrap()
        .into_iter()
        .chain(switchyard_global::genesis(&registry).unwrap())
        .collect()
}

fn manager(threads: usize) -> Manager {
    let manager = Manager::builder()
        .engine(Arc::new(TokenEngine::new()))
        .engine(Arc::new(GlobalEngine::new()))
        .network_id(NET)
        .threads(threads)
        .build()
        .unwrap();
    manager.genesis(0, &genesis()).unwrap();
    manager
}

fn token(n: u8, nonce: u64) -> TokenClient {
    TokenClient::new(
        switchyard_router::auth::SigningKey::from_bytes(&[n; 32]),
        NET,
        nonce,
    )
}

fn prover(n: u8, nonce: u64) -> ProverClient {
    let mut c = client(n);
    c.set_next_nonce(nonce);
    c
}

fn statuses(receipt: &FrameReceipt) -> Vec<MessageStatus> {
    receipt
        .outcomes
        .iter()
        .map(|o| MessageStatus::try_from(o.status).unwrap())
        .collect()
}

fn native(state: &dyn StateRead, account: Key) -> AccountRecord {
    AccountRecord::load(state, &native_account(account)).unwrap()
}

#[test]
fn the_manager_advertises_the_registry_and_routes_prover_operations_only_at_global() {
    let manager = manager(2);
    let protocols: Vec<String> = manager
        .capabilities()
        .into_iter()
        .map(|c| c.protocol)
        .collect();
    assert!(protocols.contains(&switchyard_global::PROTOCOL.to_owned()));
    assert!(protocols.contains(&switchyard_token::PROTOCOL.to_owned()));

    let join = prover(1, 1).join(&[filter(1)], None);
    assert_eq!(manager.cost(&join.to_bytes()).unwrap(), 0u32.into());
    // The same join signed for the native token's domain, or a domain nobody owns.
    let mut misdirected = prover(2, 1);
    let op = join_op(&misdirected);
    let at_token = misdirected.signer().sign(NATIVE_TOKEN, op);
    let nowhere = Domain([0x42; 32]);
    let mut lost = prover(3, 1);
    let op = join_op(&lost);
    let at_nowhere = lost.signer().sign(nowhere, op);
    let transfer = token(4, 1).transfer(NATIVE_TOKEN, key(5), 10);

    let result = manager
        .execute_frame(
            &Frame::new(1)
                .message(GLOBAL.0, join.to_bytes())
                .message(NATIVE_TOKEN.0, at_token.to_bytes())
                .message(nowhere.0, at_nowhere.to_bytes())
                .message(NATIVE_TOKEN.0, transfer.to_bytes()),
        )
        .unwrap();
    assert_eq!(
        statuses(&result.receipt),
        [
            MessageStatus::Applied,
            MessageStatus::Rejected,
            MessageStatus::Rejected,
            MessageStatus::Applied
        ],
        "{:?}",
        result.receipt.outcomes
    );
    let outcome = &result.receipt.outcomes[0];
    assert_eq!(
        outcome.fee.map(u128::from).unwrap_or_default(),
        0,
        "prover operations are free"
    );
    assert!(
        result.receipt.outcomes[1].reason.contains("ProverJoin"),
        "{}",
        result.receipt.outcomes[1].reason
    );

    let snapshot = manager.store().snapshot().unwrap();
    let state: &dyn StateRead = snapshot.as_ref();
    assert_eq!(
        native(state, key(1)),
        AccountRecord {
            balance: RICH,
            nonce: 1
        },
        "the nonce is settled, no fee is taken"
    );
    assert_eq!(native(state, key(2)).nonce, 0);
    assert_eq!(
        switchyard_global::prover(state, &key(1))
            .unwrap()
            .unwrap()
            .filters[&filter(1)]
            .status,
        Status::Joining
    );

    // The registry answers through the manager.
    let query = GlobalQuery {
        query: Some(Query::Prover(Prover {
            key: key(1).to_vec(),
        })),
        at_frame: 0,
    }
    .to_canonical_bytes();
    let answer = manager.query(&GLOBAL.0, &query).unwrap();
    let Some(Response::Prover(found)) = GlobalQueryResponse::from_canonical_bytes(&answer.response)
        .unwrap()
        .response
    else {
        panic!("expected a prover answer")
    };
    assert_eq!(
        found.prover.unwrap().filters[0].status,
        ProverStatus::Joining as i32
    );
    // A global query sent to the token's domain is the wrong engine.
    assert!(manager.query(&NATIVE_TOKEN.0, &query).is_err());
}

fn join_op(client: &ProverClient) -> switchyard_proto::v1::ProverJoin {
    switchyard_proto::v1::ProverJoin {
        filters: vec![filter(1).to_vec()],
        proof_of_possession: client.proof_of_possession(),
        delegate_address: Vec::new(),
        auth: None,
    }
}

/// Three frames mixing prover operations (joins, confirms, rejects, pauses, resumes, leaves,
/// updates, kicks, refused ones) with native transfers.
pub(crate) fn frames() -> Vec<Frame> {
    let t = |from: u8, nonce: u64, to: u8, amount: u128| {
        token(from, nonce)
            .transfer(NATIVE_TOKEN, key(to), amount)
            .to_bytes()
    };
    let g = |op: switchyard_router::SignedRequest| op.to_bytes();
    let (a, b) = equivocation(&client(101), 9);
    let first = Frame::new(1)
        .message(GLOBAL.0, g(prover(1, 1).join(&[filter(1)], None)))
        .message(
            GLOBAL.0,
            g(prover(2, 1).join(&[filter(1), filter(2)], None)),
        )
        .message(NATIVE_TOKEN.0, t(3, 1, 4, 10))
        .message(GLOBAL.0, g(prover(3, 2).join(&[filter(2)], None)))
        .message(GLOBAL.0, g(prover(100, 1).pause(None)))
        .message(NATIVE_TOKEN.0, t(4, 1, 5, 20))
        // Equal headers: refused at validate.
        .message(
            GLOBAL.0,
            g(prover(100, 2).kick(key(101), a.clone(), a.clone())),
        )
        .message(GLOBAL.0, g(prover(4, 2).confirm(None)));
    let second = Frame::new(2)
        .message(GLOBAL.0, g(prover(1, 2).confirm(None)))
        .message(GLOBAL.0, g(prover(2, 2).confirm(Some(filter(1)))))
        .message(GLOBAL.0, g(prover(3, 3).reject(None)))
        .message(NATIVE_TOKEN.0, t(5, 1, 6, 30))
        .message(GLOBAL.0, g(prover(100, 2).resume(None)))
        .message(
            GLOBAL.0,
            g(prover(101, 1).update(switchyard_router::Address::new(GLOBAL, [9; 32]))),
        )
        .message(GLOBAL.0, g(prover(100, 3).kick(key(101), a, b)));
    let third = Frame::new(3)
        .message(GLOBAL.0, g(prover(1, 3).leave(&[])))
        .message(GLOBAL.0, g(prover(2, 3).pause(Some(filter(1)))))
        .message(NATIVE_TOKEN.0, t(6, 1, 7, 40))
        .message(GLOBAL.0, g(prover(101, 2).join(&[filter(3)], None)))
        .message(GLOBAL.0, g(prover(2, 4).confirm(Some(filter(2)))));
    vec![first, second, third]
}

fn run(manager: &Manager, frames: &[Frame], serial: bool) -> Vec<FrameResult> {
    frames
        .iter()
        .map(|frame| {
            if serial {
                manager.execute_frame_serial(frame).unwrap()
            } else {
                manager.execute_frame(frame).unwrap()
            }
        })
        .collect()
}

#[test]
fn frames_with_prover_operations_equal_the_serial_reference_on_every_thread_count() {
    let frames = frames();
    let reference_manager = manager(1);
    let reference = run(&reference_manager, &frames, true);
    use MessageStatus::{Applied as A, Failed as F, Rejected as R};
    assert_eq!(
        statuses(&reference[0].receipt),
        [A, A, A, A, A, A, R, F],
        "{:?}",
        reference[0].receipt.outcomes
    );
    assert_eq!(statuses(&reference[1].receipt), [A, A, A, A, A, A, A]);
    assert_eq!(
        statuses(&reference[2].receipt),
        [A, A, A, F, A],
        "{:?}",
        reference[2].receipt.outcomes
    );
    let snapshot = reference_manager.store().snapshot().unwrap();
    let state: &dyn StateRead = snapshot.as_ref();
    let stored = |p: u8, f: u8| {
        switchyard_global::prover(state, &key(p))
            .unwrap()
            .and_then(|r| r.filters.get(&filter(f)).map(|s| s.status))
    };
    assert_eq!(stored(1, 1), Some(Status::Leaving));
    assert_eq!(stored(2, 1), Some(Status::Paused));
    assert_eq!(stored(2, 2), Some(Status::Active));
    assert_eq!(stored(3, 2), Some(Status::Rejected));
    assert_eq!(stored(100, 100), Some(Status::Active));
    assert_eq!(stored(101, 101), Some(Status::Kicked));
    for threads in [1, 2, 4] {
        let manager = manager(threads);
        let results = run(&manager, &frames, false);
        assert_eq!(results, reference, "{threads} threads");
        assert_eq!(
            manager.store().recompute_root().unwrap(),
            reference[2].head.state_root
        );
    }
}
