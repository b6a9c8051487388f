//! Integration tests of the canonical codec: round trips, robustness against arbitrary and
//! mutated bytes, one test per strictness rule, and golden vectors of the wire format.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// Calls the macro `$m` with every top-level message type of the tag table (DESIGN §2).
/// `tag_table_is_covered` checks that this list and the decoder's table are the same.
macro_rules! for_each_message {
    ($m:ident) => {
        $m! {
            MessageBundle,
            MessageRequest,
            ProverJoin,
            ProverLeave,
            ProverPause,
            ProverResume,
            ProverConfirm,
            ProverReject,
            ProverKick,
            ProverUpdate,
            FrameHeader,
            HypergraphConfig,
            HypergraphDeploy,
            HypergraphUpdate,
            VertexAdd,
            VertexRemove,
            HyperedgeAdd,
            HyperedgeRemove,
            TokenConfig,
            TokenDeploy,
            TokenUpdate,
            Transaction,
            PendingTransaction,
            MintTransaction,
            ComputeDeploy,
            ComputeUpdate,
            CodeDeploy,
            CodeExecute,
            CodeFinalize,
            TokenQuery,
            TokenQueryResponse,
            ComputeQuery,
            ComputeQueryResponse,
            GlobalQuery,
            GlobalQueryResponse,
            HypergraphQuery,
            HypergraphQueryResponse,
            FrameReceipt,
        }
    };
}

mod golden;
mod robustness;
mod roundtrip;
mod strictness;
