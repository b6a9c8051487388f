//! Why a call was refused, and the one mapping of refusals to gRPC status codes.

use switchyard_manager::ManagerError;
use switchyard_proto::v1::MessageStatus;
use switchyard_router::Severity;
use tonic::{Code, Status};

/// Why a gRPC call was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The manager refused (decode, route, signature, validation) or failed.
    #[error(transparent)]
    Manager(Box<ManagerError>),
    /// A request field has the wrong shape.
    #[error("{0}")]
    Malformed(String),
    /// A message over the size limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    Oversized {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The same message is pending or committed.
    #[error("message {} is already pending or committed", hex::encode(.0))]
    Duplicate([u8; 32]),
    /// The mempool is at its bound.
    #[error("mempool full ({messages} messages, {bytes} bytes): retry later")]
    MempoolFull {
        /// Messages queued.
        messages: usize,
        /// Bytes queued.
        bytes: usize,
    },
    /// The admission queue (submissions waiting for validation) is at its bound.
    #[error("admission queue full: retry later")]
    AdmissionFull,
    /// The producer's work queue is at its bound.
    #[error("the frame queue is full: retry later")]
    QueueFull,
    /// The node is draining.
    #[error("the node is shutting down")]
    ShuttingDown,
    /// The call does not apply in the node's mode.
    #[error("{0}")]
    WrongMode(&'static str),
    /// Nothing is known under the key asked.
    #[error("{0}")]
    NotFound(String),
    /// A frame that does not follow the head.
    #[error("frame {found} does not follow head frame {head}: expected frame {}", .head.saturating_add(1))]
    Gap {
        /// The head.
        head: u64,
        /// The frame number handed in.
        found: u64,
    },
    /// A frame at an executed height with other content.
    #[error("frame {frame} was already executed with other content: {reason}")]
    Conflict {
        /// The frame number.
        frame: u64,
        /// What differs.
        reason: String,
    },
    /// The node failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ManagerError> for RpcError {
    fn from(error: ManagerError) -> Self {
        RpcError::Manager(Box::new(error))
    }
}

impl From<crate::NodeError> for RpcError {
    fn from(error: crate::NodeError) -> Self {
        RpcError::Internal(error.to_string())
    }
}

impl RpcError {
    /// The gRPC code of this refusal: the one mapping (reasons go in the message; no secret
    /// is ever in one: keys never reach this layer).
    pub fn code(&self) -> Code {
        match self {
            RpcError::Manager(error) => manager_code(error),
            RpcError::Malformed(_) | RpcError::Oversized { .. } => Code::InvalidArgument,
            RpcError::Duplicate(_) => Code::AlreadyExists,
            RpcError::MempoolFull { .. } | RpcError::QueueFull | RpcError::AdmissionFull => {
                Code::ResourceExhausted
            }
            RpcError::ShuttingDown => Code::Unavailable,
            RpcError::WrongMode(_) | RpcError::Gap { .. } | RpcError::Conflict { .. } => {
                Code::FailedPrecondition
            }
            RpcError::NotFound(_) => Code::NotFound,
            RpcError::Internal(_) => Code::Internal,
        }
    }

    /// The status sent to the client: [`RpcError::code`] and the reason.
    pub fn to_status(&self) -> Status {
        Status::new(self.code(), self.to_string())
    }

    /// The `reason` label of an admission refusal.
    pub fn reason(&self) -> &'static str {
        match self {
            RpcError::Manager(error) => match error.status() {
                MessageStatus::Malformed => "malformed",
                MessageStatus::Rejected => match **error {
                    ManagerError::Auth(_) => "signature",
                    _ => "rejected",
                },
                _ => "failed",
            },
            RpcError::Malformed(_) => "malformed",
            RpcError::Oversized { .. } => "oversized",
            RpcError::Duplicate(_) => "duplicate",
            RpcError::MempoolFull { .. } | RpcError::QueueFull | RpcError::AdmissionFull => {
                "mempool_full"
            }
            RpcError::ShuttingDown => "shutting_down",
            RpcError::WrongMode(_) => "wrong_mode",
            RpcError::NotFound(_)
            | RpcError::Gap { .. }
            | RpcError::Conflict { .. }
            | RpcError::Internal(_) => "other",
        }
    }
}

impl From<RpcError> for Status {
    fn from(error: RpcError) -> Self {
        error.to_status()
    }
}

/// The code of a manager refusal, from its receipt status and severity: the input's shape is
/// `INVALID_ARGUMENT`, a refusal by the state (nonce, balance, unknown domain)
/// `FAILED_PRECONDITION`, a passing failure `UNAVAILABLE`, anything else `INTERNAL`.
fn manager_code(error: &ManagerError) -> Code {
    match error {
        ManagerError::NoHead | ManagerError::Cancelled => return Code::Unavailable,
        ManagerError::Auth(_)
        | ManagerError::TargetMismatch { .. }
        | ManagerError::CostOverflow { .. }
        | ManagerError::WrongEngine { .. } => return Code::InvalidArgument,
        ManagerError::FrameOutOfOrder { .. } => return Code::FailedPrecondition,
        _ => {}
    }
    match error.status() {
        MessageStatus::Malformed => Code::InvalidArgument,
        MessageStatus::Rejected => Code::FailedPrecondition,
        _ => match error.severity() {
            Severity::Temporary => Code::Unavailable,
            _ => Code::Internal,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_their_codes() {
        let cases: Vec<(RpcError, Code)> = vec![
            (
                ManagerError::NotAnOperation("empty bundle".into()).into(),
                Code::InvalidArgument,
            ),
            (
                ManagerError::FeeTotalOverflow.into(),
                Code::FailedPrecondition,
            ),
            (ManagerError::NoHead.into(), Code::Unavailable),
            (ManagerError::Internal("x".into()).into(), Code::Internal),
            (RpcError::Duplicate([0; 32]), Code::AlreadyExists),
            (
                RpcError::MempoolFull {
                    messages: 1,
                    bytes: 2,
                },
                Code::ResourceExhausted,
            ),
            (
                RpcError::Oversized { size: 2, limit: 1 },
                Code::InvalidArgument,
            ),
            (
                RpcError::Gap { head: 1, found: 3 },
                Code::FailedPrecondition,
            ),
            (RpcError::ShuttingDown, Code::Unavailable),
            (RpcError::AdmissionFull, Code::ResourceExhausted),
        ];
        for (error, code) in cases {
            let status = error.to_status();
            assert_eq!(status.code(), code, "{error}");
            assert!(!status.message().is_empty());
        }
    }
}
