//! The engines a node registers: every engine of the workspace, in one list that `serve`,
//! `bench` and the tests share.

use std::sync::Arc;

use switchyard_router::Engine;

/// Every engine this binary includes, in registration order (the token engine first: its
/// native token pays every fee).
pub fn all() -> Vec<Arc<dyn Engine>> {
    vec![
        Arc::new(switchyard_token::TokenEngine::new()),
        Arc::new(switchyard_hypergraph::HypergraphEngine::new()),
        Arc::new(switchyard_global::GlobalEngine::new()),
        Arc::new(switchyard_compute::ComputeEngine::new()),
    ]
}
