//! Deploying and updating applications, and deploying code: success and every refusal, with
//! the state checked afterwards.

use switchyard_compute::{
    AppSpec, AppUpdate, ComputeConfig, ComputeEngine, ComputeError, examples,
};
use switchyard_router::domains::{COMPUTE, metadata_address};
use switchyard_router::{Domain, StateRead};

use crate::common::*;

#[test]
fn deploy_creates_the_app_with_its_configuration() {
    let mut chain = Chain::new(2);
    let mut alice = client(1);
    let bob = client(2).public_key();
    let (app, op) = alice.deploy(
        AppSpec::new("counters")
            .code_deployers([bob])
            .max_fuel(50_000),
    );
    assert_eq!(chain.submit(&op).unwrap(), app.0.to_vec());
    let info = switchyard_compute::app_info(&chain.state, &app)
        .unwrap()
        .unwrap();
    assert_eq!(info.name, "counters");
    assert_eq!(info.owner, alice.public_key().to_vec());
    assert_eq!(info.code_deployers, vec![bob.to_vec()]);
    assert_eq!(info.max_fuel, 50_000);
    // Routing reads the type domain.
    let record = chain.state.get(&metadata_address(app)).unwrap().unwrap();
    assert_eq!(&record[..32], &COMPUTE.0);
    // 0 asks for the engine's default ceiling.
    let (other, op) = alice.deploy(AppSpec::new("default"));
    chain.submit(&op).unwrap();
    let info = switchyard_compute::app_info(&chain.state, &other)
        .unwrap()
        .unwrap();
    assert_eq!(info.max_fuel, ComputeConfig::default().default_app_fuel);
}

#[test]
fn bad_deploys_are_rejected_at_validate_with_no_effect() {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let before = chain.state.clone();
    let (_, empty_name) = alice.deploy(AppSpec::new(""));
    assert_eq!(
        at_validate(chain.submit(&empty_name)),
        ComputeError::NameLength { len: 0 }
    );
    let (_, long_name) = alice.deploy(AppSpec::new("x".repeat(65)));
    assert_eq!(
        at_validate(chain.submit(&long_name)),
        ComputeError::NameLength { len: 65 }
    );
    let (_, greedy) = alice.deploy(AppSpec::new("app").max_fuel(u64::MAX));
    assert!(matches!(
        at_validate(chain.submit(&greedy)),
        ComputeError::FuelAboveEngineLimit {
            requested: u64::MAX,
            ..
        }
    ));
    let (_, twice) = alice.deploy(AppSpec::new("app").code_deployers([[3; 32], [3; 32]]));
    assert!(matches!(
        at_validate(chain.submit(&twice)),
        ComputeError::DuplicateKey {
            field: "code_deployers",
            ..
        }
    ));
    // A deploy sent to an app's domain, and an update sent to the base domain.
    let wrong = alice.sign(Domain([9; 32]), AppSpec::new("app").into_deploy());
    assert!(matches!(
        at_validate(chain.submit(&wrong)),
        ComputeError::DeployTarget { .. }
    ));
    let update = alice.update(COMPUTE, AppUpdate::new().max_fuel(5));
    assert!(matches!(
        at_validate(chain.submit(&update)),
        ComputeError::BaseDomainTarget {
            operation: "ComputeUpdate"
        }
    ));
    assert_eq!(chain.state, before, "rejections have no effect and no fee");
}

#[test]
fn updates_are_for_the_owner_only() {
    let mut chain = Chain::new(2);
    let mut alice = client(1);
    let mut bob = client(2);
    let app = chain.deploy_app(&mut alice);

    let before = chain.state.clone();
    let op = bob.update(app, AppUpdate::new().max_fuel(5));
    assert!(matches!(
        at_apply(chain.submit(&op)),
        ComputeError::NotOwner { .. }
    ));
    chain.assert_only_fee_charged(&before, bob.public_key());

    let empty = alice.update(app, AppUpdate::new());
    assert_eq!(at_validate(chain.submit(&empty)), ComputeError::EmptyUpdate);
    let conflicting = alice.update(
        app,
        AppUpdate::new()
            .code_deployers([[1; 32]])
            .clear_code_deployers(),
    );
    assert_eq!(
        at_validate(chain.submit(&conflicting)),
        ComputeError::ConflictingDeployers
    );
    alice.set_next_nonce(chain.native(alice.public_key()).nonce + 1);

    let op = alice.update(
        app,
        AppUpdate::new()
            .code_deployers([bob.public_key()])
            .max_fuel(7_777)
            .new_owner(bob.public_key()),
    );
    chain.submit(&op).unwrap();
    let info = switchyard_compute::app_info(&chain.state, &app)
        .unwrap()
        .unwrap();
    assert_eq!(
        (info.owner, info.max_fuel),
        (bob.public_key().to_vec(), 7_777)
    );
    assert_eq!(info.code_deployers, vec![bob.public_key().to_vec()]);
    // The new owner clears the deployers; the old owner can no longer update.
    chain
        .submit(&bob.update(app, AppUpdate::new().clear_code_deployers()))
        .unwrap();
    assert!(
        switchyard_compute::app_info(&chain.state, &app)
            .unwrap()
            .unwrap()
            .code_deployers
            .is_empty()
    );
    let op = alice.update(app, AppUpdate::new().max_fuel(1));
    assert!(matches!(
        at_apply(chain.submit(&op)),
        ComputeError::NotOwner { .. }
    ));
    // An update of an app that does not exist.
    let op = alice.update(Domain([8; 32]), AppUpdate::new().max_fuel(1));
    assert!(matches!(
        at_apply(chain.submit(&op)),
        ComputeError::UnknownApp { .. }
    ));
}

#[test]
fn code_deploy_stores_the_module_under_its_id() {
    let mut chain = Chain::new(3);
    let mut alice = client(1);
    let mut bob = client(2);
    let mut carol = client(3);
    let (app, op) = alice.deploy(AppSpec::new("app").code_deployers([bob.public_key()]));
    chain.submit(&op).unwrap();
    chain.next_frame();
    let counter = chain.deploy_code(&mut bob, app, examples::counter_module());
    assert_eq!(
        counter,
        switchyard_compute::code_id(&examples::counter_module())
    );
    let info = switchyard_compute::code_info(&chain.state, &app, &counter)
        .unwrap()
        .unwrap();
    assert_eq!(info.exports, ["get", "increment"]);
    assert_eq!(info.deployer, bob.public_key().to_vec());
    assert_eq!(info.deployed_frame, 2);
    assert_eq!(info.size, examples::counter_module().len() as u64);

    // Twice: refused, fee kept.
    let before = chain.state.clone();
    let (_, again) = alice.deploy_code(app, examples::counter_module());
    assert_eq!(
        at_apply(chain.submit(&again)),
        ComputeError::CodeExists { code_id: counter }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    // Not a deployer.
    let (_, op) = carol.deploy_code(app, examples::kv_module());
    assert!(matches!(
        at_apply(chain.submit(&op)),
        ComputeError::NotCodeDeployer { .. }
    ));
    // No such app.
    let (_, op) = alice.deploy_code(Domain([5; 32]), examples::kv_module());
    assert!(matches!(
        at_apply(chain.submit(&op)),
        ComputeError::UnknownApp { .. }
    ));
}

/// Deploys `wasm` into a fresh app and returns the validate rejection.
fn refusal(wasm: Vec<u8>) -> ComputeError {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let before = chain.state.clone();
    let (_, op) = alice.deploy_code(app, wasm);
    let error = at_validate(chain.submit(&op));
    assert_eq!(
        chain.state, before,
        "a refused module has no effect and no fee"
    );
    error
}

#[test]
fn invalid_modules_are_refused_with_the_validators_reason() {
    let table: Vec<(&str, Check)> = vec![
        (
            "garbage",
            Box::new(|e| matches!(e, ComputeError::InvalidModule { .. })),
        ),
        (
            r#"(module (func (export "f") (drop (f64.add (f64.const 1) (f64.const 2)))))"#,
            Box::new(
                |e| matches!(e, ComputeError::InvalidModule { reason } if reason.contains("floating-point")),
            ),
        ),
        (
            r#"(module (func (export "f") (param f32)))"#,
            Box::new(
                |e| matches!(e, ComputeError::InvalidModule { reason } if reason.contains("floating-point")),
            ),
        ),
        (
            r#"(module (global f64 (f64.const 0)))"#,
            Box::new(|e| matches!(e, ComputeError::InvalidModule { .. })),
        ),
        (
            r#"(module (import "env" "abort" (func)))"#,
            Box::new(
                |e| matches!(e, ComputeError::ForbiddenImport { module, .. } if module == "env"),
            ),
        ),
        (
            r#"(module (import "switchyard" "launch" (func)))"#,
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::ForbiddenImport {
                        reason: "no such host function",
                        ..
                    }
                )
            }),
        ),
        (
            r#"(module (import "switchyard" "get" (func (param i32))))"#,
            Box::new(|e| matches!(e, ComputeError::ForbiddenImport { name, .. } if name == "get")),
        ),
        (
            r#"(module (import "switchyard" "memory" (memory 1)))"#,
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::ForbiddenImport {
                        reason: "only functions may be imported",
                        ..
                    }
                )
            }),
        ),
        (
            r#"(module (func $s) (start $s))"#,
            Box::new(|e| matches!(e, ComputeError::StartFunction)),
        ),
        (
            r#"(module (memory 17))"#,
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::ModuleLimit {
                        what: "initial memory pages",
                        found: 17,
                        limit: 16
                    }
                )
            }),
        ),
        (
            r#"(module (table 10001 funcref))"#,
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::ModuleLimit {
                        what: "table elements",
                        found: 10_001,
                        ..
                    }
                )
            }),
        ),
        (
            r#"(module (table 1 funcref) (table 1 funcref))"#,
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::ModuleLimit {
                        what: "tables",
                        found: 2,
                        limit: 1
                    }
                )
            }),
        ),
        (
            r#"(module (memory 1) (data (i32.const 65530) "0123456789"))"#,
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::DataOutOfBounds {
                        segment: 0,
                        end: 65_540,
                        memory: 65_536
                    }
                )
            }),
        ),
    ];
    for (source, expected) in table {
        let module = if source == "garbage" {
            b"not a module".to_vec()
        } else {
            wasm(source)
        };
        let error = refusal(module);
        assert!(expected(&error), "{source}: {error}");
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn modules_beyond_the_size_and_count_limits_are_refused() {
    // A huge data segment: within the module size limit, beyond the data limit.
    let data = "a".repeat(70_000);
    let huge_data = wasm(&format!(
        r#"(module (memory 2) (data (i32.const 0) "{data}"))"#
    ));
    assert!(matches!(
        refusal(huge_data),
        ComputeError::ModuleLimit {
            what: "bytes of data",
            found: 70_000,
            ..
        }
    ));
    // Too many functions.
    let funcs = "(func)".repeat(1_001);
    assert!(matches!(
        refusal(wasm(&format!("(module {funcs})"))),
        ComputeError::ModuleLimit {
            what: "functions",
            found: 1_001,
            ..
        }
    ));
    // Too large a module: refused before it is even parsed.
    let engine = ComputeEngine::with_config(ComputeConfig {
        max_module_bytes: 64,
        ..Default::default()
    });
    assert!(matches!(
        engine.validate_module(&examples::kv_module()),
        Err(ComputeError::ModuleTooLarge { limit: 64, .. })
    ));
    let mut chain = Chain::with_engine(1, engine);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let (_, op) = alice.deploy_code(app, examples::kv_module());
    assert!(matches!(
        at_validate(chain.submit(&op)),
        ComputeError::ModuleTooLarge { .. }
    ));
}
