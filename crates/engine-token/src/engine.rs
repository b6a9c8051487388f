//! The token engine: the [`Engine`] implementation.

use prost::Message;
use switchyard_proto::AnyMessage;
use switchyard_proto::v1::{Capability, MessageRequest};
use switchyard_router::domains::{NATIVE_TOKEN, TOKEN, metadata_address, native_account};
use switchyard_router::{
    AccessSet, Address, BigUint, Call, Domain, Engine, EngineError, ExecutionContext, Key, Output,
    StateRead, StateWrite,
};

use crate::error::{Failure, TokenError};
use crate::op::{Action, Deploy, Kind, Op, Update, kind_of, parse};
use crate::record::{
    Escrow, TokenInfo, escrow_id, is_transferable, load_account, load_token, pending_index_key,
    token_domain, update_pending_index,
};

/// The engine's name in the route table, metrics and errors.
pub(crate) const ENGINE_NAME: &str = "token";

/// The protocol identifier the engine advertises.
pub const PROTOCOL: &str = "switchyard/token";

/// The version of [`PROTOCOL`] the engine implements.
pub const PROTOCOL_VERSION: u32 = 1;

/// What each token operation costs: a base cost per kind plus a cost per byte of the request's
/// canonical encoding (type tag included). See the crate docs for the formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostSchedule {
    /// Base cost of a `TokenDeploy`. Default 10 000.
    pub deploy: u64,
    /// Base cost of a `TokenUpdate`. Default 2 000.
    pub update: u64,
    /// Base cost of a `Transaction`. Default 1 000.
    pub transfer: u64,
    /// Base cost of a `MintTransaction`. Default 1 500.
    pub mint: u64,
    /// Base cost of a pending create. Default 1 500.
    pub pending_create: u64,
    /// Base cost of a pending accept (and of a pending transaction without an action).
    /// Default 1 000.
    pub pending_accept: u64,
    /// Base cost of a pending refund. Default 1 000.
    pub pending_refund: u64,
    /// Cost per byte of the request's canonical bytes. Default 1.
    pub per_byte: u64,
}

impl Default for CostSchedule {
    fn default() -> Self {
        Self {
            deploy: 10_000,
            update: 2_000,
            transfer: 1_000,
            mint: 1_500,
            pending_create: 1_500,
            pending_accept: 1_000,
            pending_refund: 1_000,
            per_byte: 1,
        }
    }
}

impl CostSchedule {
    fn base(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Deploy => self.deploy,
            Kind::Update => self.update,
            Kind::Transfer => self.transfer,
            Kind::Mint => self.mint,
            Kind::PendingCreate => self.pending_create,
            Kind::PendingAccept => self.pending_accept,
            Kind::PendingRefund => self.pending_refund,
        }
    }
}

/// The token engine. Stateless apart from its [`CostSchedule`]; `Send + Sync`, cheap to clone.
///
/// It owns the token base domain (deploys) and the native token's domain; deployed tokens route
/// to it through their metadata records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenEngine {
    costs: CostSchedule,
}

impl TokenEngine {
    /// An engine with the default [`CostSchedule`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An engine with the given cost schedule.
    pub fn with_costs(costs: CostSchedule) -> Self {
        Self { costs }
    }

    /// The engine's cost schedule.
    pub fn costs(&self) -> &CostSchedule {
        &self.costs
    }
}

impl Engine for TokenEngine {
    fn name(&self) -> &'static str {
        ENGINE_NAME
    }

    fn base_domains(&self) -> Vec<Domain> {
        vec![TOKEN, NATIVE_TOKEN]
    }

    fn capabilities(&self) -> Vec<Capability> {
        vec![Capability {
            protocol: PROTOCOL.to_owned(),
            version: PROTOCOL_VERSION,
            metadata: b"deploy,update,transfer,mint,pending".to_vec(),
        }]
    }

    fn cost(&self, request: &MessageRequest) -> Result<BigUint, EngineError> {
        let Some((kind, _)) = kind_of(request) else {
            return Err(EngineError::Unsupported {
                engine: ENGINE_NAME,
                operation: request.operation(),
            });
        };
        let bytes = 4 + request.encoded_len() as u64;
        // u64 x u64 + u64 cannot overflow a u128: one conversion, no big-number arithmetic.
        let cost =
            u128::from(self.costs.base(kind)) + u128::from(self.costs.per_byte) * u128::from(bytes);
        Ok(BigUint::from(cost))
    }

    fn validate(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<(), EngineError> {
        let op = parse(call)?;
        check_expiry(ctx, &op).map_err(|e| EngineError::rejected(ENGINE_NAME, op.name, e))
    }

    fn access(
        &self,
        _ctx: &ExecutionContext,
        call: &Call<'_>,
        _state: &dyn StateRead,
    ) -> Result<AccessSet, EngineError> {
        let op = parse(call)?;
        Ok(access_of(&call.target, &op))
    }

    fn apply(
        &self,
        ctx: &ExecutionContext,
        call: &Call<'_>,
        state: &mut dyn StateWrite,
    ) -> Result<Output, EngineError> {
        let op = parse(call)?;
        execute(ctx, &call.target, &op, state).map_err(|e| e.into_engine(op.name))
    }

    fn query(
        &self,
        target: &Domain,
        query: &AnyMessage,
        state: &dyn StateRead,
    ) -> Result<Vec<u8>, EngineError> {
        crate::query::answer(target, query, state)
    }
}

/// The access set of a parsed operation. It needs no state: every address follows from the
/// request (an accept or refund credits the signer, who must be the escrow's party).
fn access_of(target: &Domain, op: &Op) -> AccessSet {
    let mut set = AccessSet::new();
    let at = |key: Key| Address::new(*target, key);
    match &op.action {
        Action::Deploy(d) => {
            let domain = token_domain(&op.signer, op.nonce);
            set.write(metadata_address(domain));
            if d.initial_supply > 0 {
                set.write(Address::new(domain, d.initial_holder.unwrap_or(op.signer)));
            }
        }
        Action::Update(_) => {
            set.write(metadata_address(*target));
        }
        Action::Transfer { to, .. } => {
            set.read(metadata_address(*target))
                .write(at(op.signer))
                .write(at(*to));
        }
        Action::Mint { to, .. } => {
            set.write(metadata_address(*target)).write(at(*to));
        }
        Action::Create { to, .. } => {
            set.read(metadata_address(*target))
                .write(at(op.signer))
                .write(at(escrow_id(target, &op.signer, op.nonce)))
                .write(at(pending_index_key(to)));
        }
        Action::Accept { id } => {
            set.write(at(*id))
                .write(at(op.signer))
                .write(at(pending_index_key(&op.signer)));
        }
        Action::Refund { id } => {
            set.write(at(*id)).write(at(op.signer));
        }
    }
    // Written by the manager's fee and nonce settlement (declared here too, so the set is
    // complete for any caller).
    set.write(native_account(op.signer));
    set
}

fn check_expiry(ctx: &ExecutionContext, op: &Op) -> Result<(), TokenError> {
    match op.action {
        Action::Create { expiry_frame, .. } if expiry_frame < ctx.frame_number => {
            Err(TokenError::ExpiryInPast {
                expiry: expiry_frame,
                frame: ctx.frame_number,
            })
        }
        _ => Ok(()),
    }
}

/// Performs a parsed operation. A deploy returns the new token's domain; nothing else returns
/// a result.
fn execute(
    ctx: &ExecutionContext,
    target: &Domain,
    op: &Op,
    state: &mut dyn StateWrite,
) -> Result<Output, Failure> {
    check_expiry(ctx, op)?;
    if let Action::Deploy(d) = &op.action {
        let domain = deploy(op, d, state)?;
        return Ok(Output::result(domain.0));
    }
    execute_effect(ctx, target, op, state)?;
    Ok(Output::none())
}

fn execute_effect(
    ctx: &ExecutionContext,
    target: &Domain,
    op: &Op,
    state: &mut dyn StateWrite,
) -> Result<(), Failure> {
    match &op.action {
        // Handled by `execute`, which returns the new domain.
        Action::Deploy(_) => Ok(()),
        Action::Update(u) => update(target, op, u, state),
        Action::Transfer { to, amount } => {
            require_transferable(target, state)?;
            debit(state, target, &op.signer, *amount)?;
            credit(state, target, to, *amount)
        }
        Action::Mint { to, amount } => mint(target, op, to, *amount, state),
        Action::Create {
            to,
            amount,
            expiry_frame,
        } => {
            require_transferable(target, state)?;
            let id = escrow_id(target, &op.signer, op.nonce);
            let address = Address::new(*target, id);
            if state.get(&address)?.is_some() {
                return Err(TokenError::EscrowIdTaken { id }.into());
            }
            debit(state, target, &op.signer, *amount)?;
            let escrow = Escrow {
                sender: op.signer,
                recipient: *to,
                amount: *amount,
                expiry_frame: *expiry_frame,
            };
            state.put(address, escrow.encode())?;
            update_pending_index(state, target, to, ctx.frame_number, |index| {
                index.add(&id, *expiry_frame)
            })
        }
        Action::Accept { id } => {
            let escrow = load_escrow(state, target, id)?;
            if op.signer != escrow.recipient {
                return Err(TokenError::NotEscrowRecipient {
                    id: *id,
                    signer: op.signer,
                    recipient: escrow.recipient,
                }
                .into());
            }
            if ctx.frame_number > escrow.expiry_frame {
                return Err(TokenError::EscrowExpired {
                    id: *id,
                    expiry: escrow.expiry_frame,
                    frame: ctx.frame_number,
                }
                .into());
            }
            update_pending_index(state, target, &op.signer, ctx.frame_number, |index| {
                index.remove(id);
                Ok(())
            })?;
            settle_escrow(state, target, id, &op.signer, escrow.amount)
        }
        Action::Refund { id } => {
            let escrow = load_escrow(state, target, id)?;
            if op.signer != escrow.sender {
                return Err(TokenError::NotEscrowSender {
                    id: *id,
                    signer: op.signer,
                    sender: escrow.sender,
                }
                .into());
            }
            if ctx.frame_number <= escrow.expiry_frame {
                return Err(TokenError::EscrowNotExpired {
                    id: *id,
                    expiry: escrow.expiry_frame,
                    frame: ctx.frame_number,
                }
                .into());
            }
            settle_escrow(state, target, id, &op.signer, escrow.amount)
        }
    }
}

/// Creates the token and returns its domain.
fn deploy(op: &Op, d: &Deploy, state: &mut dyn StateWrite) -> Result<Domain, Failure> {
    let domain = token_domain(&op.signer, op.nonce);
    let metadata = metadata_address(domain);
    if state.get(&metadata)?.is_some() {
        return Err(TokenError::TokenExists { domain }.into());
    }
    let info = TokenInfo {
        name: d.name.clone(),
        symbol: d.symbol.clone(),
        decimals: d.decimals,
        max_supply: d.max_supply,
        mint_authority: d.mint_authority,
        mintable: d.mintable,
        transferable: d.transferable,
        owner: Some(op.signer),
        supply: d.initial_supply,
        mint_revoked: false,
    };
    state.put(metadata, info.to_metadata().encode())?;
    if d.initial_supply > 0 {
        credit(
            state,
            &domain,
            &d.initial_holder.unwrap_or(op.signer),
            d.initial_supply,
        )?;
    }
    Ok(domain)
}

fn update(target: &Domain, op: &Op, u: &Update, state: &mut dyn StateWrite) -> Result<(), Failure> {
    let mut token = load_token(state, target)?;
    if token.owner != Some(op.signer) {
        return Err(TokenError::NotOwner {
            signer: op.signer,
            owner: token.owner,
        }
        .into());
    }
    if let Some(authority) = u.new_mint_authority {
        if token.mint_revoked {
            return Err(TokenError::MintAuthorityRevoked { token: *target }.into());
        }
        token.mint_authority = Some(authority);
    }
    if u.revoke_mint_authority {
        token.mint_authority = None;
        token.mint_revoked = true;
    }
    if let Some(requested) = u.new_max_supply {
        if let Some(current) = token.max_supply
            && requested > current
        {
            return Err(TokenError::MaxSupplyIncrease { current, requested }.into());
        }
        if requested < token.supply {
            return Err(TokenError::MaxSupplyBelowSupply {
                supply: token.supply,
                requested,
            }
            .into());
        }
        token.max_supply = Some(requested);
    }
    if let Some(owner) = u.new_owner {
        token.owner = Some(owner);
    }
    state.put(metadata_address(*target), token.to_metadata().encode())?;
    Ok(())
}

fn mint(
    target: &Domain,
    op: &Op,
    to: &Key,
    amount: u128,
    state: &mut dyn StateWrite,
) -> Result<(), Failure> {
    let mut token = load_token(state, target)?;
    if !token.mintable {
        return Err(TokenError::NotMintable { token: *target }.into());
    }
    if token.mint_authority != Some(op.signer) {
        return Err(TokenError::NotMintAuthority {
            signer: op.signer,
            authority: token.mint_authority,
        }
        .into());
    }
    let supply = token
        .supply
        .checked_add(amount)
        .ok_or(TokenError::SupplyOverflow {
            supply: token.supply,
            amount,
        })?;
    if let Some(max) = token.max_supply
        && supply > max
    {
        return Err(TokenError::ExceedsMaxSupply {
            supply: token.supply,
            amount,
            max,
        }
        .into());
    }
    credit(state, target, to, amount)?;
    token.supply = supply;
    state.put(metadata_address(*target), token.to_metadata().encode())?;
    Ok(())
}

fn require_transferable(target: &Domain, state: &dyn StateRead) -> Result<(), Failure> {
    if !is_transferable(state, target)? {
        return Err(TokenError::NotTransferable { token: *target }.into());
    }
    Ok(())
}

fn debit(
    state: &mut dyn StateWrite,
    token: &Domain,
    account: &Key,
    amount: u128,
) -> Result<(), Failure> {
    adjust_balance(state, token, account, amount, Direction::Debit)
}

fn credit(
    state: &mut dyn StateWrite,
    token: &Domain,
    account: &Key,
    amount: u128,
) -> Result<(), Failure> {
    adjust_balance(state, token, account, amount, Direction::Credit)
}

/// Which way a balance moves.
#[derive(Debug, Clone, Copy)]
enum Direction {
    Debit,
    Credit,
}

/// Moves `account`'s balance of `token` by `amount` with checked arithmetic; an underflow is
/// `InsufficientBalance`, an overflow `BalanceOverflow`, and neither writes anything.
fn adjust_balance(
    state: &mut dyn StateWrite,
    token: &Domain,
    account: &Key,
    amount: u128,
    direction: Direction,
) -> Result<(), Failure> {
    let mut record = load_account(state, token, account)?;
    let balance = record.balance;
    record.balance = match direction {
        Direction::Debit => balance
            .checked_sub(amount)
            .ok_or(TokenError::InsufficientBalance {
                account: *account,
                balance,
                amount,
            })?,
        Direction::Credit => balance
            .checked_add(amount)
            .ok_or(TokenError::BalanceOverflow {
                account: *account,
                balance,
                amount,
            })?,
    };
    state.put(Address::new(*token, *account), record.encode())?;
    Ok(())
}

fn load_escrow(state: &dyn StateRead, token: &Domain, id: &Key) -> Result<Escrow, Failure> {
    crate::record::escrow(state, token, id)?
        .ok_or_else(|| TokenError::UnknownEscrow { id: *id }.into())
}

/// Pays an escrow out to `to` and deletes it.
fn settle_escrow(
    state: &mut dyn StateWrite,
    token: &Domain,
    id: &Key,
    to: &Key,
    amount: u128,
) -> Result<(), Failure> {
    credit(state, token, to, amount)?;
    state.delete(&Address::new(*token, *id))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_proto::v1;

    fn signed_transfer(amount: u128) -> MessageRequest {
        v1::Transaction {
            to: vec![2; 32],
            amount: Some(amount.into()),
            auth: Some(v1::Auth {
                public_key: vec![1; 32],
                nonce: 1,
                signature: vec![0; 64],
                target: NATIVE_TOKEN.0.to_vec(),
            }),
            ..Default::default()
        }
        .into()
    }

    #[test]
    fn cost_is_base_plus_canonical_bytes() {
        let engine = TokenEngine::new();
        let request = signed_transfer(5);
        let bytes = switchyard_proto::CanonicalMessage::to_canonical_bytes(&request).len() as u64;
        assert_eq!(engine.cost(&request).unwrap(), BigUint::from(1_000 + bytes));
        let bigger = signed_transfer(u128::MAX);
        assert!(engine.cost(&bigger).unwrap() > engine.cost(&request).unwrap());
    }

    #[test]
    fn foreign_and_empty_operations_are_unsupported_never_free() {
        let engine = TokenEngine::new();
        let vertex: MessageRequest = v1::VertexAdd::default().into();
        assert!(matches!(
            engine.cost(&vertex),
            Err(EngineError::Unsupported {
                engine: "token",
                ..
            })
        ));
        assert!(matches!(
            engine.cost(&MessageRequest::default()),
            Err(EngineError::Unsupported { .. })
        ));
        let ctx = ExecutionContext::new(1, 1);
        let state = switchyard_router::MemoryView::default();
        let call = Call {
            request: &vertex,
            target: NATIVE_TOKEN,
            signer: [1; 32],
            nonce: 1,
        };
        assert!(matches!(
            engine.access(&ctx, &call, &state),
            Err(EngineError::Unsupported {
                operation: "VertexAdd",
                ..
            })
        ));
    }

    #[test]
    fn transfer_access_shares_only_the_metadata_read() {
        let ctx = ExecutionContext::new(1, 1);
        let state = switchyard_router::MemoryView::default();
        let engine = TokenEngine::new();
        let request = signed_transfer(1);
        let a = engine
            .access(&ctx, &Call::from_request(&request).unwrap(), &state)
            .unwrap();
        assert_eq!(a.reads.len(), 1);
        assert!(a.reads.contains(&metadata_address(NATIVE_TOKEN)));
        assert!(a.writes.contains(&native_account([1; 32])));
        assert!(a.writes.contains(&native_account([2; 32])));
        assert_eq!(
            a.writes.len(),
            2,
            "native sender record is its nonce record"
        );
    }

    #[test]
    fn the_engine_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<TokenEngine>();
    }
}
