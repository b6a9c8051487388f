//! Answers to [`ComputeQuery`]: an application's configuration, deployed code's metadata, a
//! staged execution, a key of an application's state. Read-only, over whatever committed
//! state the caller hands in.

use switchyard_proto::v1::compute_query::Query;
use switchyard_proto::v1::compute_query_response::{Response, Value};
use switchyard_proto::v1::{ComputeQuery, ComputeQueryResponse};
use switchyard_proto::{AnyMessage, CanonicalMessage};
use switchyard_router::{Domain, EngineError, Key, StateRead};

use crate::error::{ComputeError, Failure};
use crate::record::{app_value, code_info, load_app, staged_execution};

/// Answers `query`, sent to the application `target`, as the canonical bytes of a
/// [`ComputeQueryResponse`].
pub(crate) fn answer(
    target: &Domain,
    query: &AnyMessage,
    state: &dyn StateRead,
) -> Result<Vec<u8>, EngineError> {
    let AnyMessage::ComputeQuery(ComputeQuery { query: Some(query) }) = query else {
        return Err(refuse(ComputeError::BadQuery {
            reason: format!(
                "expected a ComputeQuery with a question, got tag {}",
                query.tag()
            ),
        }));
    };
    let app = load_app(state, target).map_err(|e| e.into_engine(OPERATION))?;
    let response = match query {
        Query::App(_) => Response::App(app),
        Query::Code(code) => {
            let code_id = key("code id", &code.code_id)?;
            let info = code_info(state, target, &code_id)?
                .ok_or_else(|| refuse(ComputeError::UnknownCode { code_id }))?;
            Response::Code(info)
        }
        Query::Staged(staged) => {
            let id = key("execution id", &staged.execution_id)?;
            let record = staged_execution(state, target, &id)?
                .ok_or_else(|| refuse(ComputeError::UnknownExecution { id }))?;
            Response::Staged(record)
        }
        Query::State(entry) => {
            let key = key("key", &entry.key)?;
            let value = app_value(state, target, &key)?;
            Response::State(Value {
                found: value.is_some(),
                value: value.unwrap_or_default(),
            })
        }
    };
    Ok(ComputeQueryResponse {
        response: Some(response),
    }
    .to_canonical_bytes())
}

const OPERATION: &str = "ComputeQuery";

fn key(field: &'static str, bytes: &[u8]) -> Result<Key, EngineError> {
    crate::op::key(field, bytes).map_err(refuse)
}

fn refuse(error: ComputeError) -> EngineError {
    Failure::Compute(error).into_engine(OPERATION)
}
