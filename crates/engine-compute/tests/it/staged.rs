//! Staged executions: recorded instead of applied, finalized by the executor if nothing they
//! read changed, expiring, discarded.

use prost::Message;
use switchyard_compute::{
    ComputeConfig, ComputeEngine, ComputeError, ExecuteSpec, ExecutionResult, examples,
};

use crate::common::*;

#[test]
fn a_staged_execution_applies_nothing_until_finalized() {
    let (mut chain, mut alice, app, counter, _) = Chain::with_examples();
    let key = examples::COUNTER_KEY;
    chain
        .execute(
            &mut alice,
            app,
            ExecuteSpec::new(counter, "increment").writes([key]),
        )
        .unwrap();

    let (id, stage) = alice.stage(app, ExecuteSpec::new(counter, "increment").writes([key]));
    let result = ExecutionResult::decode(chain.submit(&stage).unwrap().as_slice()).unwrap();
    assert_eq!(
        (result.output.clone(), result.execution_id.clone()),
        (count(2), id.to_vec())
    );
    assert_eq!(chain.value(app, key), Some(count(1)), "nothing applied yet");
    let staged = switchyard_compute::staged_execution(&chain.state, &app, &id)
        .unwrap()
        .unwrap();
    assert_eq!(staged.executor, alice.public_key().to_vec());
    assert_eq!((staged.staged_frame, staged.expiry_frame), (1, 101));
    assert_eq!(staged.reads.len(), 1, "the counter read its key");
    assert_eq!(
        staged.reads[0].digest,
        switchyard_compute::value_digest(Some(&count(1))).to_vec()
    );
    assert_eq!(staged.writes.len(), 1);
    assert_eq!(staged.writes[0].value, count(2));

    chain.next_frame();
    let finalized = chain.submit(&alice.finalize(app, id, &[], &[key])).unwrap();
    assert_eq!(
        ExecutionResult::decode(finalized.as_slice()).unwrap(),
        result
    );
    assert_eq!(chain.value(app, key), Some(count(2)));
    assert!(
        switchyard_compute::staged_execution(&chain.state, &app, &id)
            .unwrap()
            .is_none()
    );
    // Finalized once: a second finalize finds nothing.
    let op = alice.finalize(app, id, &[], &[key]);
    assert_eq!(
        at_apply(chain.submit(&op)),
        ComputeError::UnknownExecution { id }
    );
}

#[test]
fn a_stale_read_is_a_named_rejection_and_the_record_stays_until_discarded() {
    let (mut chain, mut alice, app, counter, _) = Chain::with_examples();
    let key = examples::COUNTER_KEY;
    let (id, stage) = alice.stage(app, ExecuteSpec::new(counter, "increment").writes([key]));
    chain.submit(&stage).unwrap();
    // Someone else increments the counter in between.
    let mut bob = client(2);
    chain
        .execute(
            &mut bob,
            app,
            ExecuteSpec::new(counter, "increment").writes([key]),
        )
        .unwrap();

    let before = chain.state.clone();
    let op = alice.finalize(app, id, &[], &[key]);
    assert_eq!(
        at_apply(chain.submit(&op)),
        ComputeError::StaleRead { id, key }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert_eq!(
        chain.value(app, key),
        Some(count(1)),
        "bob's increment stands"
    );
    // Only the executor may discard it.
    assert!(matches!(
        at_apply(chain.submit(&bob.discard(app, id))),
        ComputeError::NotExecutor { .. }
    ));
    chain.submit(&alice.discard(app, id)).unwrap();
    assert!(
        switchyard_compute::staged_execution(&chain.state, &app, &id)
            .unwrap()
            .is_none()
    );
}

#[test]
fn finalize_is_for_the_executor_with_the_same_keys() {
    let (mut chain, mut alice, app, _, kv) = Chain::with_examples();
    let key = [4; 32];
    let put = ExecuteSpec::new(kv, "put")
        .input(examples::kv_put_input(&key, b"v"))
        .writes([key]);
    let (id, stage) = alice.stage(app, put);
    chain.submit(&stage).unwrap();
    let staged = switchyard_compute::staged_execution(&chain.state, &app, &id)
        .unwrap()
        .unwrap();
    assert!(staged.reads.is_empty(), "a blind write reads nothing");

    let mut bob = client(2);
    let op = bob.finalize(app, id, &[], &[key]);
    assert!(matches!(
        at_apply(chain.submit(&op)),
        ComputeError::NotExecutor { .. }
    ));
    let op = alice.finalize(app, id, &[key], &[]);
    assert_eq!(
        at_apply(chain.submit(&op)),
        ComputeError::FinalizeKeysMismatch { id }
    );
    let op = alice.finalize(app, [8; 32], &[], &[key]);
    assert_eq!(
        at_apply(chain.submit(&op)),
        ComputeError::UnknownExecution { id: [8; 32] }
    );
    // A discard with keys is malformed.
    let mut discard = alice.discard(app, id);
    if let Some(switchyard_proto::v1::message_request::Request::CodeFinalize(f)) =
        discard.request.request.as_mut()
    {
        f.write_keys = vec![
            switchyard_router::Address::new(app, key)
                .to_bytes()
                .to_vec(),
        ];
    }
    let call = switchyard_router::Call::from_request(&discard.request).unwrap();
    let error = switchyard_router::Engine::validate(
        chain.engine.as_ref(),
        &chain.ctx(),
        &call,
        &chain.state,
    )
    .unwrap_err();
    assert_eq!(
        error.downcast_ref::<ComputeError>(),
        Some(&ComputeError::DiscardWithKeys)
    );

    alice.set_next_nonce(chain.native(alice.public_key()).nonce + 1);
    chain.submit(&alice.finalize(app, id, &[], &[key])).unwrap();
    assert_eq!(chain.value(app, key), Some(b"v".to_vec()));
}

#[test]
fn staged_executions_expire_after_the_configured_frames() {
    let engine = ComputeEngine::with_config(ComputeConfig {
        staged_expiry_frames: 2,
        ..Default::default()
    });
    let mut chain = Chain::with_engine(1, engine);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let counter = chain.deploy_code(&mut alice, app, examples::counter_module());
    let key = examples::COUNTER_KEY;
    let spec = || ExecuteSpec::new(counter, "increment").writes([key]);

    // Staged at frame 1, finalized at frame 3 (1 + 2): still in time.
    let (early, stage) = alice.stage(app, spec());
    chain.submit(&stage).unwrap();
    chain.frame = 3;
    chain
        .submit(&alice.finalize(app, early, &[], &[key]))
        .unwrap();
    assert_eq!(chain.value(app, key), Some(count(1)));

    // Staged at frame 3, too late at frame 6.
    let (late, stage) = alice.stage(app, spec());
    chain.submit(&stage).unwrap();
    chain.frame = 6;
    let before = chain.state.clone();
    let op = alice.finalize(app, late, &[], &[key]);
    assert_eq!(
        at_apply(chain.submit(&op)),
        ComputeError::StagedExpired {
            id: late,
            expiry: 5,
            frame: 6
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert_eq!(chain.value(app, key), Some(count(1)));
    // The expired record is discarded by its executor.
    chain.submit(&alice.discard(app, late)).unwrap();
    assert!(
        switchyard_compute::staged_execution(&chain.state, &app, &late)
            .unwrap()
            .is_none()
    );
}
