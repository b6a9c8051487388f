//! Reading a `MessageRequest` into a typed token operation, with every shape check.
//!
//! `validate`, `access` and `apply` all go through [`parse`], so an operation is read the same
//! way at every entry point and `apply` never trusts that `validate` ran.

use switchyard_proto::v1::message_request::Request;
use switchyard_proto::v1::pending_transaction::Action as Pending;
use switchyard_proto::v1::{MessageRequest, TokenConfig, TokenUpdate, U128};
use switchyard_router::domains::{METADATA_KEY, TOKEN};
use switchyard_router::{Call, EngineError, Key};

use crate::error::TokenError;

/// Longest token name, in bytes.
pub(crate) const MAX_NAME: usize = 64;
/// Longest token symbol, in bytes.
pub(crate) const MAX_SYMBOL: usize = 16;
/// Most decimals.
pub(crate) const MAX_DECIMALS: u32 = 38;
/// Longest memo, in bytes.
pub(crate) const MAX_MEMO: usize = 256;

/// The kind of a token operation, which also selects its base cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Deploy,
    Update,
    Transfer,
    Mint,
    PendingCreate,
    PendingAccept,
    PendingRefund,
}

/// The kind and name of a token operation; `None` for anything else (or an empty request).
/// A pending transaction without an action is priced as an accept (its cheapest kind).
pub(crate) fn kind_of(request: &MessageRequest) -> Option<(Kind, &'static str)> {
    let kind = match request.request.as_ref()? {
        Request::TokenDeploy(_) => Kind::Deploy,
        Request::TokenUpdate(_) => Kind::Update,
        Request::Transaction(_) => Kind::Transfer,
        Request::MintTransaction(_) => Kind::Mint,
        Request::PendingTransaction(p) => match p.action {
            Some(Pending::Create(_)) => Kind::PendingCreate,
            Some(Pending::Refund(_)) => Kind::PendingRefund,
            Some(Pending::Accept(_)) | None => Kind::PendingAccept,
        },
        _ => return None,
    };
    Some((kind, request.operation()))
}

/// A checked deploy configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deploy {
    pub(crate) name: String,
    pub(crate) symbol: String,
    pub(crate) decimals: u32,
    pub(crate) max_supply: Option<u128>,
    pub(crate) mint_authority: Option<Key>,
    pub(crate) mintable: bool,
    pub(crate) transferable: bool,
    pub(crate) initial_supply: u128,
    /// `None` = the deployer.
    pub(crate) initial_holder: Option<Key>,
}

/// A checked update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Update {
    pub(crate) new_mint_authority: Option<Key>,
    pub(crate) revoke_mint_authority: bool,
    pub(crate) new_max_supply: Option<u128>,
    pub(crate) new_owner: Option<Key>,
}

/// What a token operation does, with its fields checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Deploy(Deploy),
    Update(Update),
    Transfer {
        to: Key,
        amount: u128,
    },
    Mint {
        to: Key,
        amount: u128,
    },
    Create {
        to: Key,
        amount: u128,
        expiry_frame: u64,
    },
    Accept {
        id: Key,
    },
    Refund {
        id: Key,
    },
}

/// A checked token operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Op {
    /// Operation name, for errors.
    pub(crate) name: &'static str,
    /// The signer's public key.
    pub(crate) signer: Key,
    /// The signer's nonce.
    pub(crate) nonce: u64,
    /// What it does.
    pub(crate) action: Action,
}

/// Reads `call` as a token operation. Anything that is not a token operation is
/// [`EngineError::Unsupported`]; a token operation of the wrong shape is a [`TokenError`]
/// rejection.
pub(crate) fn parse(call: &Call<'_>) -> Result<Op, EngineError> {
    let Some((_, name)) = kind_of(call.request) else {
        return Err(EngineError::Unsupported {
            engine: crate::ENGINE_NAME,
            operation: call.operation(),
        });
    };
    parse_token(call, name).map_err(|e| EngineError::rejected(crate::ENGINE_NAME, name, e))
}

fn parse_token(call: &Call<'_>, name: &'static str) -> Result<Op, TokenError> {
    let (target, request) = (&call.target, call.request);
    let is_deploy = matches!(request.request, Some(Request::TokenDeploy(_)));
    if is_deploy && *target != TOKEN {
        return Err(TokenError::DeployTarget { target: *target });
    }
    if !is_deploy && *target == TOKEN {
        return Err(TokenError::BaseDomainTarget { operation: name });
    }
    let action = match &request.request {
        Some(Request::TokenDeploy(d)) => {
            let config = d.config.as_ref().ok_or(TokenError::MissingField {
                operation: name,
                field: "config",
            })?;
            Action::Deploy(deploy(config)?)
        }
        Some(Request::TokenUpdate(u)) => Action::Update(update(u)?),
        Some(Request::Transaction(t)) => {
            if t.memo.len() > MAX_MEMO {
                return Err(TokenError::MemoTooLong { len: t.memo.len() });
            }
            let to = account("recipient", &t.to)?;
            Action::Transfer {
                to,
                amount: amount(name, t.amount)?,
            }
        }
        Some(Request::MintTransaction(m)) => {
            let to = account("recipient", &m.to)?;
            Action::Mint {
                to,
                amount: amount(name, m.amount)?,
            }
        }
        Some(Request::PendingTransaction(p)) => match &p.action {
            None => {
                return Err(TokenError::MissingField {
                    operation: name,
                    field: "action",
                });
            }
            Some(Pending::Create(c)) => Action::Create {
                to: account("recipient", &c.to)?,
                amount: amount(name, c.amount)?,
                expiry_frame: c.expiry_frame,
            },
            Some(Pending::Accept(a)) => Action::Accept {
                id: escrow_key(&a.escrow_id)?,
            },
            Some(Pending::Refund(r)) => Action::Refund {
                id: escrow_key(&r.escrow_id)?,
            },
        },
        // `kind_of` admitted only the token operations above.
        _ => {
            return Err(TokenError::MissingField {
                operation: name,
                field: "operation",
            });
        }
    };
    // The manager authenticated the signer; a signer key that names no account (the
    // metadata key) is still refused, as every account key is.
    let signer = account("signer public key", &call.signer)?;
    if matches!(action, Action::Transfer { to, .. } | Action::Create { to, .. } if to == signer) {
        return Err(TokenError::SelfTransfer { account: signer });
    }
    Ok(Op {
        name,
        signer,
        nonce: call.nonce,
        action,
    })
}

/// A 32-byte key.
pub(crate) fn key(field: &'static str, bytes: &[u8]) -> Result<Key, TokenError> {
    Key::try_from(bytes).map_err(|_| TokenError::BadKeyLength {
        field,
        len: bytes.len(),
    })
}

/// A 32-byte key naming an account: the metadata key is reserved.
pub(crate) fn account(field: &'static str, bytes: &[u8]) -> Result<Key, TokenError> {
    let key = key(field, bytes)?;
    if key == METADATA_KEY {
        return Err(TokenError::ReservedKey { field });
    }
    Ok(key)
}

fn escrow_key(bytes: &[u8]) -> Result<Key, TokenError> {
    account("escrow id", bytes)
}

/// An empty field, or a 32-byte key.
fn optional_key(field: &'static str, bytes: &[u8]) -> Result<Option<Key>, TokenError> {
    if bytes.is_empty() {
        Ok(None)
    } else {
        key(field, bytes).map(Some)
    }
}

fn amount(name: &'static str, amount: Option<U128>) -> Result<u128, TokenError> {
    let amount = u128::from(amount.ok_or(TokenError::MissingField {
        operation: name,
        field: "amount",
    })?);
    if amount == 0 {
        return Err(TokenError::ZeroAmount { operation: name });
    }
    Ok(amount)
}

/// Checks a token's name, symbol and decimals.
pub(crate) fn check_labels(name: &str, symbol: &str, decimals: u32) -> Result<(), TokenError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(TokenError::NameLength { len: name.len() });
    }
    if symbol.is_empty() || symbol.len() > MAX_SYMBOL {
        return Err(TokenError::SymbolLength { len: symbol.len() });
    }
    if decimals > MAX_DECIMALS {
        return Err(TokenError::TooManyDecimals { decimals });
    }
    Ok(())
}

fn deploy(config: &TokenConfig) -> Result<Deploy, TokenError> {
    check_labels(&config.name, &config.symbol, config.decimals)?;
    let max_supply = config.max_supply.map(u128::from);
    let initial_supply = config.initial_supply.map_or(0, u128::from);
    if let Some(max) = max_supply
        && initial_supply > max
    {
        return Err(TokenError::InitialSupplyExceedsMax {
            initial: initial_supply,
            max,
        });
    }
    let initial_holder = if config.initial_holder.is_empty() {
        None
    } else {
        Some(account("initial holder", &config.initial_holder)?)
    };
    Ok(Deploy {
        name: config.name.clone(),
        symbol: config.symbol.clone(),
        decimals: config.decimals,
        max_supply,
        mint_authority: optional_key("mint authority", &config.mint_authority)?,
        mintable: config.mintable,
        transferable: config.transferable,
        initial_supply,
        initial_holder,
    })
}

fn update(u: &TokenUpdate) -> Result<Update, TokenError> {
    let update = Update {
        new_mint_authority: optional_key("new mint authority", &u.new_mint_authority)?,
        revoke_mint_authority: u.revoke_mint_authority,
        new_max_supply: u.new_max_supply.map(u128::from),
        new_owner: optional_key("new owner", &u.new_owner)?,
    };
    if update.new_mint_authority.is_some() && update.revoke_mint_authority {
        return Err(TokenError::ConflictingMintAuthority);
    }
    if update.new_mint_authority.is_none()
        && !update.revoke_mint_authority
        && update.new_max_supply.is_none()
        && update.new_owner.is_none()
    {
        return Err(TokenError::EmptyUpdate);
    }
    Ok(update)
}
