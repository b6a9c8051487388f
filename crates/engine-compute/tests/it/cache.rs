//! The module cache: bounded, and invisible in results (the same fuel cold and warm).

use std::sync::Arc;

use switchyard_compute::{ComputeConfig, ComputeEngine, ExecuteSpec, examples};

use crate::common::*;

#[test]
fn fuel_is_the_same_on_a_cold_and_a_warm_cache() {
    let (mut chain, mut alice, app, counter, kv) = Chain::with_examples();
    let key = [3; 32];
    let ops = [
        alice.execute(
            app,
            ExecuteSpec::new(counter, "increment").writes([examples::COUNTER_KEY]),
        ),
        alice.execute(
            app,
            ExecuteSpec::new(kv, "put")
                .input(examples::kv_put_input(&key, b"abc"))
                .writes([key]),
        ),
        alice.execute(
            app,
            ExecuteSpec::new(kv, "get").input(key.to_vec()).reads([key]),
        ),
    ];
    // Warm: the engine compiled both modules at deploy.
    let mut warm = Chain {
        state: chain.state.clone(),
        engine: chain.engine.clone(),
        frame: 1,
        last_fee: 0,
    };
    assert_eq!(warm.engine.cache_stats().modules, 2);
    // Cold: a fresh engine that never saw them, and the same engine with its cache emptied.
    let mut cold = Chain {
        state: chain.state.clone(),
        engine: Arc::new(ComputeEngine::new()),
        frame: 1,
        last_fee: 0,
    };
    assert_eq!(cold.engine.cache_stats().modules, 0);
    let results: Vec<Vec<u8>> = ops.iter().map(|op| warm.submit(op).unwrap()).collect();
    for op in &ops {
        chain.engine.clear_cache();
        assert_eq!(chain.engine.cache_stats().modules, 0);
        chain.submit(op).unwrap();
    }
    let cold_results: Vec<Vec<u8>> = ops.iter().map(|op| cold.submit(op).unwrap()).collect();
    assert_eq!(
        results, cold_results,
        "results (output and fuel) do not depend on the cache"
    );
    assert_eq!(warm.state, cold.state);
    assert_eq!(warm.state, chain.state);
    assert!(cold.engine.cache_stats().misses >= 2);
    assert!(warm.engine.cache_stats().hits >= 3);
}

#[test]
fn the_cache_is_bounded_by_count_and_bytes() {
    let engine = ComputeEngine::with_config(ComputeConfig {
        cache_modules: 2,
        ..Default::default()
    });
    let mut chain = Chain::with_engine(1, engine);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let mut codes = Vec::new();
    for n in 0..4 {
        let module = wasm(&format!(
            r#"(module
                (import "switchyard" "output" (func $output (param i32 i32)))
                (memory (export "memory") 1)
                (data (i32.const 0) "{n}")
                (func (export "run") (call $output (i32.const 0) (i32.const 1))))"#
        ));
        codes.push(chain.deploy_code(&mut alice, app, module));
        assert!(chain.engine.cache_stats().modules <= 2);
    }
    for (n, code) in codes.iter().enumerate() {
        let result = chain
            .execute(&mut alice, app, ExecuteSpec::new(*code, "run"))
            .unwrap();
        assert_eq!(result.output, n.to_string().into_bytes());
        assert!(chain.engine.cache_stats().modules <= 2);
    }
    // By bytes: a cache smaller than any module keeps nothing, and everything still runs.
    let tiny = ComputeEngine::with_config(ComputeConfig {
        cache_bytes: 10,
        ..Default::default()
    });
    let mut chain = Chain::with_engine(1, tiny);
    let mut alice = client(1);
    let app = chain.deploy_app(&mut alice);
    let counter = chain.deploy_code(&mut alice, app, examples::counter_module());
    let spec = ExecuteSpec::new(counter, "increment").writes([examples::COUNTER_KEY]);
    assert_eq!(
        chain.execute(&mut alice, app, spec).unwrap().output,
        count(1)
    );
    assert_eq!(chain.engine.cache_stats().modules, 0);
}
