//! No input makes the engine panic or leave its declared access set.

use proptest::prelude::*;
use switchyard_compute::{ComputeEngine, examples};
use switchyard_proto::v1::{
    CodeDeploy, CodeExecute, CodeFinalize, ComputeDeploy, ComputeUpdate, MessageRequest,
};
use switchyard_router::domains::COMPUTE;
use switchyard_router::{Call, Domain, Engine, EngineError, StateError};

use crate::common::{Chain, Checked};

/// Runs every entry point; apply goes through the declared access set.
fn exercise(chain: &mut Chain, target: Domain, signer: [u8; 32], request: &MessageRequest) {
    let ctx = chain.ctx();
    let engine = chain.engine.clone();
    let _ = engine.cost(request);
    let call = Call {
        request,
        target,
        signer,
        nonce: 1,
    };
    let _ = engine.validate(&ctx, &call, &chain.state);
    if let Ok(access) = engine.access(&ctx, &call, &chain.state) {
        let mut checked = Checked::new(&mut chain.state, &access);
        if let Err(error) = engine.apply(&ctx, &call, &mut checked) {
            assert!(
                !matches!(
                    error,
                    EngineError::State(StateError::AccessViolation { .. })
                ),
                "{error}"
            );
        }
    } else {
        let mut scratch = chain.state.clone();
        assert!(engine.apply(&ctx, &call, &mut scratch).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_compute_operations_never_panic(
        deploy: ComputeDeploy,
        update: ComputeUpdate,
        code: CodeDeploy,
        mut execute: CodeExecute,
        finalize: CodeFinalize,
        pick: u8,
        use_real_code: bool,
    ) {
        let (mut chain, alice, app, counter, _) = Chain::with_examples();
        if use_real_code {
            execute.code_id = counter.to_vec();
            execute.fuel_limit %= 100_000;
        }
        let signer = alice.public_key();
        let target = match pick % 3 { 0 => COMPUTE, 1 => app, _ => Domain([pick; 32]) };
        for request in [deploy.into(), update.into(), code.into(), execute.into(), finalize.into()] {
            exercise(&mut chain, target, signer, &request);
        }
    }

    #[test]
    fn arbitrary_and_mutated_modules_never_panic_the_validator(
        bytes: Vec<u8>,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
    ) {
        let engine = ComputeEngine::new();
        let _ = engine.validate_module(&bytes);
        let mut module = examples::kv_module();
        for (at, byte) in flips {
            let len = module.len();
            module[at % len] = byte;
        }
        let _ = engine.validate_module(&module);
    }
}
