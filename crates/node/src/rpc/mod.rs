//! The gRPC layer: thin services over the manager and the producer. Each method decodes its
//! request, calls the manager, the mempool or the producer, and maps the result; every refusal
//! becomes a status in one place, [`RpcError::to_status`].

mod admission;
mod error;
mod execution;
mod node;

pub use admission::{
    ADMISSION_BATCH, ADMISSION_QUEUE, AdmissionHandle, MAX_SUBMIT_BATCH, MAX_SUBMIT_BATCH_BYTES,
};
pub use error::RpcError;
pub use execution::ExecutionService;
pub use node::{NodeService, NodeState};
