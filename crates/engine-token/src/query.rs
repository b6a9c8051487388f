//! Answers to [`TokenQuery`]: an account's balance, a token's info, an account's pending
//! transfers. Read-only, over whatever committed state the caller hands in.

use switchyard_proto::v1::token_query::Query;
use switchyard_proto::v1::token_query_response::{
    Escrow as EscrowEntry, Info, PendingList, Response,
};
use switchyard_proto::v1::{TokenConfig, TokenQuery, TokenQueryResponse, U128};
use switchyard_proto::{AnyMessage, CanonicalMessage};
use switchyard_router::{Domain, EngineError, Key, StateRead};

use crate::error::TokenError;
use crate::record::{escrow, pending_entries, token_info};

/// Answers `query`, sent to the token `target`, as the canonical bytes of a
/// [`TokenQueryResponse`].
pub(crate) fn answer(
    target: &Domain,
    query: &AnyMessage,
    state: &dyn StateRead,
) -> Result<Vec<u8>, EngineError> {
    let AnyMessage::TokenQuery(TokenQuery { query: Some(query) }) = query else {
        return Err(refuse(TokenError::BadQuery {
            reason: format!(
                "expected a TokenQuery with a question, got tag {}",
                query.tag()
            ),
        }));
    };
    let response = match query {
        Query::Balance(balance) => {
            let account = key("account", &balance.account)?;
            require_token(target, state)?;
            Response::Balance(crate::balance(state, target, &account)?.into())
        }
        Query::Info(_) => {
            let info = require_token(target, state)?;
            Response::Info(Info {
                config: Some(TokenConfig {
                    name: info.name,
                    symbol: info.symbol,
                    decimals: info.decimals,
                    max_supply: info.max_supply.map(U128::from),
                    mint_authority: info.mint_authority.map(|k| k.to_vec()).unwrap_or_default(),
                    mintable: info.mintable,
                    transferable: info.transferable,
                    initial_supply: None,
                    initial_holder: Vec::new(),
                }),
                owner: info.owner.map(|k| k.to_vec()).unwrap_or_default(),
                supply: Some(info.supply.into()),
                mint_revoked: info.mint_revoked,
            })
        }
        Query::Pending(pending) => {
            let account = key("account", &pending.account)?;
            require_token(target, state)?;
            let mut escrows = Vec::new();
            // Refunded escrows may still be listed until the index is next written: only the
            // escrows that exist are pending.
            for (id, _) in pending_entries(state, target, &account)? {
                if let Some(found) = escrow(state, target, &id)? {
                    escrows.push(EscrowEntry {
                        escrow_id: id.to_vec(),
                        sender: found.sender.to_vec(),
                        recipient: found.recipient.to_vec(),
                        amount: Some(found.amount.into()),
                        expiry_frame: found.expiry_frame,
                    });
                }
            }
            Response::Pending(PendingList { escrows })
        }
    };
    Ok(TokenQueryResponse {
        response: Some(response),
    }
    .to_canonical_bytes())
}

fn require_token(target: &Domain, state: &dyn StateRead) -> Result<crate::TokenInfo, EngineError> {
    token_info(state, target)?.ok_or_else(|| refuse(TokenError::UnknownToken { domain: *target }))
}

fn key(field: &'static str, bytes: &[u8]) -> Result<Key, EngineError> {
    crate::op::key(field, bytes).map_err(refuse)
}

fn refuse(error: TokenError) -> EngineError {
    EngineError::rejected(crate::ENGINE_NAME, "TokenQuery", error)
}
