//! The `Execution` service: the orderer's API in follower mode.

use std::sync::Arc;

use switchyard_manager::ManagerError;
use switchyard_proto::v1::execution_server::Execution;
use switchyard_proto::v1::{ExecuteFrameRequest, ExecuteFrameResponse, HeadRequest, NodeHead};
use tonic::{Request, Response, Status};

use super::{NodeState, RpcError};
use crate::producer::{ProducerHandle, node_head};

/// The `Execution` service: hands frames to the producer's ordered queue.
#[derive(Debug, Clone)]
pub struct ExecutionService {
    state: Arc<NodeState>,
    producer: ProducerHandle,
}

impl ExecutionService {
    /// The service over `state`, feeding `producer`.
    pub fn new(state: Arc<NodeState>, producer: ProducerHandle) -> Self {
        Self { state, producer }
    }

    fn answer<T>(
        &self,
        method: &'static str,
        result: Result<T, RpcError>,
    ) -> Result<Response<T>, Status> {
        let code = result
            .as_ref()
            .map_or_else(RpcError::code, |_| tonic::Code::Ok);
        self.state.metrics.grpc_call(method, code);
        result.map(Response::new).map_err(|e| e.to_status())
    }
}

#[tonic::async_trait]
impl Execution for ExecutionService {
    async fn execute_frame(
        &self,
        request: Request<ExecuteFrameRequest>,
    ) -> Result<Response<ExecuteFrameResponse>, Status> {
        let result = self.producer.execute(request.into_inner()).await;
        self.answer("ExecuteFrame", result)
    }

    async fn head(&self, _request: Request<HeadRequest>) -> Result<Response<NodeHead>, Status> {
        let result = self
            .state
            .manager
            .head()
            .map(|h| node_head(&h))
            .ok_or_else(|| RpcError::from(ManagerError::NoHead));
        self.answer("Execution.Head", result)
    }
}
