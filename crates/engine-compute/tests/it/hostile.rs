//! Hostile modules: bounded by fuel and limits, never crashing the process.

use switchyard_compute::{ComputeConfig, ComputeError, ExecuteSpec, PAGE_BYTES, examples};

use crate::common::*;

fn app_with(
    module: &str,
) -> (
    Chain,
    switchyard_compute::ComputeClient,
    switchyard_router::Domain,
    [u8; 32],
) {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let code = chain.deploy_code(&mut alice, app, wasm(module));
    (chain, alice, app, code)
}

#[test]
fn an_infinite_loop_runs_out_of_fuel_and_pays() {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let code = chain.deploy_code(&mut alice, app, examples::out_of_fuel_module());
    let before = chain.state.clone();
    let spec = ExecuteSpec::new(code, "run").fuel(1_000_000);
    assert_eq!(
        at_apply(chain.execute(&mut alice, app, spec)),
        ComputeError::OutOfFuel { limit: 1_000_000 }
    );
    chain.assert_only_fee_charged(&before, alice.public_key());
    assert!(chain.last_fee >= 10_000, "the fee covers the fuel limit");
}

#[test]
fn memory_growth_stops_at_the_limit() {
    // Grows one page at a time until memory.grow fails, then outputs the page count.
    let (mut chain, mut alice, app, code) = app_with(
        r#"(module
            (import "switchyard" "output" (func $output (param i32 i32)))
            (memory (export "memory") 1)
            (func (export "grow")
                (block $full (loop $more
                    (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
                    (br $more)))
                (i32.store (i32.const 0) (memory.size))
                (call $output (i32.const 0) (i32.const 4)))
            (func (export "leap")
                (drop (memory.grow (i32.const 65535)))
                (i32.store (i32.const 0) (memory.size))
                (call $output (i32.const 0) (i32.const 4))))"#,
    );
    let limit = ComputeConfig::default().max_memory_pages;
    for function in ["grow", "leap"] {
        let result = chain
            .execute(&mut alice, app, ExecuteSpec::new(code, function))
            .unwrap();
        let pages = u32::from_le_bytes(result.output.try_into().unwrap());
        assert_eq!(
            pages,
            if function == "grow" { limit } else { 1 },
            "{function}"
        );
        assert!(u64::from(pages) * PAGE_BYTES <= ComputeConfig::default().execution_memory_bound());
    }
}

#[test]
fn deep_recursion_traps_when_the_call_stack_is_exhausted() {
    let (mut chain, mut alice, app, code) = app_with(
        r#"(module
            (func $down (call $down))
            (func (export "run") (call $down)))"#,
    );
    let spec = ExecuteSpec::new(code, "run").fuel(1_000_000);
    let error = at_apply(chain.execute(&mut alice, app, spec));
    assert!(
        matches!(&error, ComputeError::Trap { reason, .. } if reason.contains("call stack exhausted")),
        "{error}"
    );
}

#[test]
fn tables_grow_only_to_the_limit() {
    let (mut chain, mut alice, app, code) = app_with(
        r#"(module
            (import "switchyard" "output" (func $output (param i32 i32)))
            (memory (export "memory") 1)
            (table 1 funcref)
            (func (export "grow")
                (i32.store (i32.const 0) (table.grow (ref.null func) (i32.const 1000000)))
                (i32.store (i32.const 4) (table.size))
                (call $output (i32.const 0) (i32.const 8))))"#,
    );
    let result = chain
        .execute(&mut alice, app, ExecuteSpec::new(code, "grow"))
        .unwrap();
    assert_eq!(result.output[..4], (-1i32).to_le_bytes());
    assert_eq!(result.output[4..], 1u32.to_le_bytes());
}

#[test]
fn huge_tables_and_data_segments_are_refused_at_deploy() {
    let mut chain = Chain::new(1);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let data = "z".repeat(200_000);
    for module in [
        "(module (table 4000000000 funcref))".to_owned(),
        format!(r#"(module (memory 16) (data (i32.const 0) "{data}"))"#),
        "(module (memory 65536))".to_owned(),
    ] {
        let (_, op) = alice.deploy_code(app, wasm(&module));
        assert!(
            matches!(
                at_validate(chain.submit(&op)),
                ComputeError::ModuleLimit { .. }
            ),
            "{}",
            &module[..40.min(module.len())]
        );
    }
}
