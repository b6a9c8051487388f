//! A tiny chain for tests: genesis, then the manager's pipeline for each signed operation
//! (decode, validate, access, cost, fee settlement, apply on an access-checking view, rollback
//! of a failed apply but not of its fee), and a per-frame credit of the fees collected.

use prost::Message;
use switchyard_proto::CanonicalMessage;
use switchyard_proto::v1::{MessageRequest, PendingIndex};
use switchyard_router::auth::SigningKey;
use switchyard_router::domains::{NATIVE_TOKEN, native_account};
use switchyard_router::fees::{self, AccountRecord};
use switchyard_router::{Domain, ExecutionContext, Key, MemoryView};
use switchyard_testkit::Pipeline;
use switchyard_token::{
    Escrow, NativeGenesis, SignedRequest, TokenClient, TokenEngine, TokenError, TokenInfo,
    write_genesis,
};

pub const NET: u32 = 7;
pub const FEE_RECIPIENT: Key = [0xee; 32];

/// A client for test signer `n` (key bytes `[n; 32]`), next nonce 1.
pub fn client(n: u8) -> TokenClient {
    TokenClient::new(SigningKey::from_bytes(&[n; 32]), NET, 1)
}

/// The access-checking view every engine harness uses.
pub use switchyard_testkit::Checked;

/// Where the pipeline stopped (the errors are shown through `Debug` when a test fails).
pub use switchyard_testkit::Failure;

pub struct Chain {
    pub state: MemoryView,
    pub engine: TokenEngine,
    pub frame: u64,
    pub fee_multiplier: u64,
    /// Fees settled in the current frame, credited to the fee recipient by `end_frame`.
    pub fees_pending: u128,
    /// The fee of the last operation that got through settlement.
    pub last_fee: u128,
}

impl Chain {
    /// A chain whose native token holds `balances`, at frame 1.
    pub fn new(balances: &[(Key, u128)]) -> Self {
        let mut state = MemoryView::default();
        let genesis = NativeGenesis {
            balances: balances.to_vec(),
            ..Default::default()
        };
        write_genesis(&mut state, &genesis).unwrap();
        Self {
            state,
            engine: TokenEngine::new(),
            frame: 1,
            fee_multiplier: 1,
            fees_pending: 0,
            last_fee: 0,
        }
    }

    pub fn ctx(&self) -> ExecutionContext {
        let mut ctx = ExecutionContext::new(self.frame, NET);
        ctx.fee_multiplier = self.fee_multiplier;
        ctx.fee_recipient = FEE_RECIPIENT;
        ctx
    }

    /// Runs `op` through the whole pipeline.
    pub fn submit(&mut self, op: &SignedRequest) -> Result<(), Failure> {
        self.run(op.target, &op.to_bytes(), true)
    }

    /// Runs canonical request bytes sent to `target`.
    pub fn run(&mut self, target: Domain, bytes: &[u8], validate: bool) -> Result<(), Failure> {
        let request = MessageRequest::from_canonical_bytes(bytes)
            .expect("the builders produce canonical bytes");
        let ctx = self.ctx();
        let outcome = Pipeline::new(&self.engine).validate(validate).submit(
            &ctx,
            &request,
            Some(target),
            &mut self.state,
        );
        if let Some(fee) = outcome.fee {
            self.fees_pending += fee;
            self.last_fee = fee;
        }
        outcome.result.map(|_| ())
    }

    /// Credits the frame's fees to the fee recipient and moves to the next frame.
    pub fn end_frame(&mut self) {
        fees::credit(&mut self.state, &FEE_RECIPIENT, self.fees_pending).unwrap();
        self.fees_pending = 0;
        self.frame += 1;
    }

    /// Sets `client`'s next nonce to its stored nonce + 1 (after operations refused before
    /// settlement, which consume no nonce).
    pub fn sync(&self, client: &mut TokenClient) {
        client.set_next_nonce(self.native(client.public_key()).nonce + 1);
    }

    pub fn balance(&self, token: Domain, account: Key) -> u128 {
        switchyard_token::balance(&self.state, &token, &account).unwrap()
    }

    pub fn native(&self, account: Key) -> AccountRecord {
        AccountRecord::load(&self.state, &native_account(account)).unwrap()
    }

    pub fn info(&self, token: Domain) -> TokenInfo {
        switchyard_token::token_info(&self.state, &token)
            .unwrap()
            .expect("token exists")
    }

    pub fn escrow(&self, token: Domain, id: Key) -> Option<Escrow> {
        switchyard_token::escrow(&self.state, &token, &id).unwrap()
    }

    /// `before` with only `signer`'s fee and nonce settled: what a rejected apply leaves.
    pub fn assert_only_fee_charged(&self, before: &MemoryView, signer: Key) {
        let mut expected = before.clone();
        fees::settle(
            &mut expected,
            &signer,
            self.native(signer).nonce,
            self.last_fee,
        )
        .unwrap();
        assert_eq!(
            self.state, expected,
            "a rejected apply leaves only its fee and nonce"
        );
    }

    /// The native token's balances (all accounts), escrowed total and supply.
    pub fn totals(&self, token: Domain) -> (u128, u128) {
        let mut balances: u128 = 0;
        let mut escrowed: u128 = 0;
        for (address, bytes) in &self.state.entries {
            if address.domain != token || address.key == switchyard_router::domains::METADATA_KEY {
                continue;
            }
            if bytes.len() == AccountRecord::LEN {
                let record = AccountRecord::decode(bytes).unwrap();
                balances = balances
                    .checked_add(record.balance)
                    .expect("balances never wrap");
            } else if let Ok(escrow) = Escrow::decode(bytes) {
                escrowed = escrowed
                    .checked_add(escrow.amount)
                    .expect("escrows never wrap");
            } else {
                // The only other record in a token's domain: a pending index.
                let index = PendingIndex::decode(bytes.as_slice()).unwrap();
                assert!(index.entries.iter().all(|e| e.escrow_id.len() == 32));
            }
        }
        (balances, escrowed)
    }
}

/// The token error of a rejection at `validate`.
#[track_caller]
pub fn at_validate(result: Result<(), Failure>) -> TokenError {
    match result {
        Err(Failure::Validate(error)) => error
            .downcast_ref::<TokenError>()
            .cloned()
            .unwrap_or_else(|| {
                panic!("validate failed with a non-token error: {error}");
            }),
        other => panic!("expected a validate rejection, got {other:?}"),
    }
}

/// The token error of a rejection at `apply`.
#[track_caller]
pub fn at_apply(result: Result<(), Failure>) -> TokenError {
    match result {
        Err(Failure::Apply(error)) => {
            error
                .downcast_ref::<TokenError>()
                .cloned()
                .unwrap_or_else(|| {
                    panic!("apply failed with a non-token error: {error}");
                })
        }
        other => panic!("expected an apply rejection, got {other:?}"),
    }
}

/// The native token's domain, for brevity.
pub const NATIVE: Domain = NATIVE_TOKEN;
