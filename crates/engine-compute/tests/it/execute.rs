//! Executions: results, writes, and every refusal and failure (writes rolled back, fee kept).

use switchyard_compute::{AppSpec, ComputeError, ExecuteSpec, HOST_CALL_FUEL, examples};
use switchyard_proto::v1::CodeExecute;
use switchyard_router::{Address, Domain};

use crate::common::*;

#[test]
fn the_counter_counts_and_reports_its_fuel() {
    let (mut chain, mut alice, app, counter, _) = Chain::with_examples();
    let key = examples::COUNTER_KEY;
    for n in 1..=3u64 {
        let spec = ExecuteSpec::new(counter, "increment").writes([key]);
        let result = chain.execute(&mut alice, app, spec).unwrap();
        assert_eq!(result.output, count(n));
        assert!(result.fuel_used > 4 * HOST_CALL_FUEL && result.fuel_used < 10_000);
        assert!(result.execution_id.is_empty());
    }
    assert_eq!(chain.value(app, key), Some(count(3)));
    // A read-only `get`, with the key declared for reading.
    let result = chain
        .execute(
            &mut alice,
            app,
            ExecuteSpec::new(counter, "get").reads([key]),
        )
        .unwrap();
    assert_eq!(result.output, count(3));
    // Another counter, named by the input.
    let other = [9; 32];
    let spec = ExecuteSpec::new(counter, "increment")
        .input(other.to_vec())
        .writes([other]);
    assert_eq!(
        chain.execute(&mut alice, app, spec).unwrap().output,
        count(1)
    );
    assert_eq!(chain.value(app, key), Some(count(3)));
}

#[test]
fn the_key_value_store_puts_gets_and_deletes() {
    let (mut chain, _, app, _, kv) = Chain::with_examples();
    let mut bob = client(2);
    let key = [7; 32];
    let put = ExecuteSpec::new(kv, "put")
        .input(examples::kv_put_input(&key, b"hello"))
        .writes([key]);
    assert!(chain.execute(&mut bob, app, put).unwrap().output.is_empty());
    assert_eq!(chain.value(app, key), Some(b"hello".to_vec()));
    let get = || ExecuteSpec::new(kv, "get").input(key.to_vec()).reads([key]);
    assert_eq!(
        chain.execute(&mut bob, app, get()).unwrap().output,
        b"hello"
    );
    let delete = ExecuteSpec::new(kv, "delete")
        .input(key.to_vec())
        .writes([key]);
    chain.execute(&mut bob, app, delete).unwrap();
    assert_eq!(chain.value(app, key), None);
    assert!(
        chain
            .execute(&mut bob, app, get())
            .unwrap()
            .output
            .is_empty()
    );
}

#[test]
fn undeclared_keys_trap_with_an_access_violation_and_roll_back() {
    let (mut chain, mut alice, app, counter, kv) = Chain::with_examples();
    // Increment without declaring the counter's key.
    let before = chain.state.clone();
    let spec = ExecuteSpec::new(counter, "increment");
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, spec)),
        ComputeError::AccessViolation {
            key: examples::COUNTER_KEY,
            op: "read"
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    // Declared for reading only: the write traps, nothing is written.
    let before = chain.state.clone();
    let spec = ExecuteSpec::new(counter, "increment").reads([examples::COUNTER_KEY]);
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, spec)),
        ComputeError::AccessViolation {
            key: examples::COUNTER_KEY,
            op: "write"
        }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    // A put that writes one declared key, then... the kv module writes only the key it names:
    // naming another key than the declared one is a violation too.
    let spec = ExecuteSpec::new(kv, "put")
        .input(examples::kv_put_input(&[1; 32], b"x"))
        .writes([[2; 32]]);
    assert!(matches!(
        at_apply(chain.execute(&mut alice, app, spec)),
        ComputeError::AccessViolation { op: "write", .. }
    ));
    assert_eq!(chain.value(app, [1; 32]), None);
}

#[test]
fn a_trap_after_writes_rolls_them_back_and_keeps_the_fee() {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let module = wasm(
        r#"(module
            (import "switchyard" "set" (func $set (param i32 i32 i32)))
            (memory (export "memory") 1)
            (func (export "run")
                (call $set (i32.const 0) (i32.const 0) (i32.const 4))
                unreachable))"#,
    );
    let code = chain.deploy_code(&mut alice, app, module);
    let before = chain.state.clone();
    let spec = ExecuteSpec::new(code, "run").writes([[0; 32]]);
    let error = at_apply(chain.execute(&mut alice, app, spec));
    assert!(
        matches!(&error, ComputeError::Trap { reason, fuel_used } if reason.contains("unreachable") && *fuel_used > 0),
        "{error}"
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert!(chain.last_fee > 0);
}

#[test]
fn missing_exports_and_wrong_signatures_fail() {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let module = wasm(
        r#"(module (memory (export "memory") 1)
            (func (export "takes") (param i32))
            (func (export "gives") (result i64) (i64.const 1)))"#,
    );
    let code = chain.deploy_code(&mut alice, app, module);
    let info = switchyard_compute::code_info(&chain.state, &app, &code)
        .unwrap()
        .unwrap();
    assert!(info.exports.is_empty(), "no export is callable");
    let cases = [
        (
            "absent",
            ComputeError::MissingExport {
                function: "absent".into(),
            },
        ),
        (
            "memory",
            ComputeError::MissingExport {
                function: "memory".into(),
            },
        ),
        (
            "takes",
            ComputeError::WrongSignature {
                function: "takes".into(),
                found: "[i32] -> []".into(),
            },
        ),
        (
            "gives",
            ComputeError::WrongSignature {
                function: "gives".into(),
                found: "[] -> [i64]".into(),
            },
        ),
    ];
    for (function, expected) in cases {
        let before = chain.state.clone();
        let spec = ExecuteSpec::new(code, function);
        assert_eq!(at_apply(chain.execute(&mut alice, app, spec)), expected);
        chain.assert_only_fee_charged(&before, alice.public_key());
    }
    // Unknown code.
    let spec = ExecuteSpec::new([3; 32], "run");
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, spec)),
        ComputeError::UnknownCode { code_id: [3; 32] }
    );
    // Unknown app: nothing is routed there by a manager, but the engine refuses it too.
    let spec = ExecuteSpec::new(code, "run");
    assert!(matches!(
        at_apply(chain.execute(&mut alice, Domain([4; 32]), spec)),
        ComputeError::UnknownApp { .. }
    ));
}

#[test]
fn fuel_limits_are_checked_against_the_engine_and_the_app() {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let (app, op) = alice.deploy(AppSpec::new("frugal").max_fuel(5_000));
    chain.submit(&op).unwrap();
    let code = chain.deploy_code(&mut alice, app, examples::counter_module());
    let spec = |fuel| {
        ExecuteSpec::new(code, "increment")
            .writes([examples::COUNTER_KEY])
            .fuel(fuel)
    };
    assert_eq!(
        at_validate(chain.execute(&mut alice, app, spec(0))),
        ComputeError::ZeroFuel
    );
    assert!(matches!(
        at_validate(chain.execute(&mut alice, app, spec(10_000_001))),
        ComputeError::FuelAboveEngineLimit {
            requested: 10_000_001,
            limit: 10_000_000
        }
    ));
    alice.set_next_nonce(chain.native(alice.public_key()).nonce + 1);
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, spec(5_001))),
        ComputeError::FuelAboveCeiling {
            requested: 5_001,
            ceiling: 5_000
        }
    );
    assert_eq!(
        chain.execute(&mut alice, app, spec(5_000)).unwrap().output,
        count(1)
    );
    // Too little fuel for the counter: out of fuel, nothing written.
    let before = chain.state.clone();
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, spec(150))),
        ComputeError::OutOfFuel { limit: 150 }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
}

#[test]
fn bad_requests_are_rejected_at_validate_with_no_fee() {
    let (mut chain, mut alice, app, counter, _) = Chain::with_examples();
    let before = chain.state.clone();
    let mut raw = |op: CodeExecute| alice.sign(app, op);
    let base = ExecuteSpec::new(counter, "increment").into_execute(app, false);
    let foreign = Address::new(Domain([1; 32]), [2; 32]);
    let metadata = Address::new(app, [0xff; 32]);
    let cases: Vec<(CodeExecute, Check)> = vec![
        (
            CodeExecute {
                code_id: vec![1; 31],
                ..base.clone()
            },
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::BadKeyLength {
                        field: "code id",
                        len: 31
                    }
                )
            }),
        ),
        (
            CodeExecute {
                function: String::new(),
                ..base.clone()
            },
            Box::new(|e| matches!(e, ComputeError::FunctionNameLength { len: 0 })),
        ),
        (
            CodeExecute {
                input: vec![0; 16 * 1024 + 1],
                ..base.clone()
            },
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::InputTooLarge {
                        len: 16_385,
                        limit: 16_384
                    }
                )
            }),
        ),
        (
            CodeExecute {
                read_keys: vec![vec![0; 63]],
                ..base.clone()
            },
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::BadAddressLength {
                        field: "read_keys",
                        len: 63
                    }
                )
            }),
        ),
        (
            CodeExecute {
                write_keys: vec![foreign.to_bytes().to_vec()],
                ..base.clone()
            },
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::ForeignAddress {
                        field: "write_keys",
                        ..
                    }
                )
            }),
        ),
        (
            CodeExecute {
                write_keys: vec![metadata.to_bytes().to_vec()],
                ..base.clone()
            },
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::ReservedKey {
                        field: "write_keys"
                    }
                )
            }),
        ),
        (
            CodeExecute {
                read_keys: vec![Address::new(app, [1; 32]).to_bytes().to_vec()],
                write_keys: vec![Address::new(app, [1; 32]).to_bytes().to_vec()],
                ..base.clone()
            },
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::DuplicateKey {
                        field: "write_keys",
                        ..
                    }
                )
            }),
        ),
        (
            CodeExecute {
                read_keys: (0..33u8)
                    .map(|n| Address::new(app, [n; 32]).to_bytes().to_vec())
                    .collect(),
                ..base.clone()
            },
            Box::new(|e| {
                matches!(
                    e,
                    ComputeError::TooMany {
                        field: "read_keys",
                        count: 33,
                        limit: 32
                    }
                )
            }),
        ),
    ];
    for (op, expected) in cases {
        let error = at_validate(chain.submit(&raw(op)));
        assert!(expected(&error), "{error}");
    }
    assert_eq!(chain.state, before);
}

#[test]
fn oversized_outputs_and_values_fail() {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let module = wasm(
        r#"(module
            (import "switchyard" "output" (func $output (param i32 i32)))
            (import "switchyard" "set" (func $set (param i32 i32 i32)))
            (memory (export "memory") 1)
            (func (export "shout") (call $output (i32.const 0) (i32.const 16385)))
            (func (export "hoard") (call $set (i32.const 0) (i32.const 0) (i32.const 16385)))
            (func (export "stray") (call $output (i32.const 65535) (i32.const 2))))"#,
    );
    let code = chain.deploy_code(&mut alice, app, module);
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, ExecuteSpec::new(code, "shout"))),
        ComputeError::OutputTooLarge {
            len: 16_385,
            limit: 16_384
        }
    );
    let spec = ExecuteSpec::new(code, "hoard").writes([[0; 32]]);
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, spec)),
        ComputeError::ValueTooLarge {
            len: 16_385,
            limit: 16_384
        }
    );
    assert!(matches!(
        at_apply(chain.execute(&mut alice, app, ExecuteSpec::new(code, "stray"))),
        ComputeError::Trap { .. }
    ));
}
