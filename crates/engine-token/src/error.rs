//! Why the token engine refused an operation.

use switchyard_router::{Domain, EngineError, Key, StateError};

/// Result alias of this crate.
pub type Result<T, E = TokenError> = std::result::Result<T, E>;

fn hex_key(key: &Key) -> String {
    hex::encode(key)
}

fn hex_opt(key: &Option<Key>) -> String {
    key.as_ref().map_or_else(|| "none".to_owned(), hex::encode)
}

/// A token operation was refused. Each variant names the check that failed and the values it
/// failed on. The engine returns these inside [`EngineError::Rejected`]; get them back with
/// `err.downcast_ref::<TokenError>()`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    // ---- shape (checked by `validate` and again by `apply`) ----
    /// A required field is absent.
    #[error("{operation} is missing its {field}")]
    MissingField {
        /// Operation name.
        operation: &'static str,
        /// The absent field.
        field: &'static str,
    },
    /// A key field is not 32 bytes.
    #[error("{field} must be 32 bytes, got {len}")]
    BadKeyLength {
        /// The field (e.g. "recipient").
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// An account key equals the reserved metadata key `0xff` x 32.
    #[error("{field} may not be the reserved metadata key ff..ff")]
    ReservedKey {
        /// The field holding the key.
        field: &'static str,
    },
    /// The amount is zero; every amount must be non-zero.
    #[error("{operation} amount must be non-zero")]
    ZeroAmount {
        /// Operation name.
        operation: &'static str,
    },
    /// The token name is not 1 to 64 bytes.
    #[error("token name must be 1 to 64 bytes, got {len}")]
    NameLength {
        /// Its length in bytes.
        len: usize,
    },
    /// The token symbol is not 1 to 16 bytes.
    #[error("token symbol must be 1 to 16 bytes, got {len}")]
    SymbolLength {
        /// Its length in bytes.
        len: usize,
    },
    /// More than 38 decimals.
    #[error("decimals {decimals} exceed the maximum of 38")]
    TooManyDecimals {
        /// The decimals asked for.
        decimals: u32,
    },
    /// The transfer memo is over 256 bytes.
    #[error("memo of {len} bytes exceeds the limit of 256")]
    MemoTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The initial supply of a deploy exceeds its max supply.
    #[error("initial supply {initial} exceeds max supply {max}")]
    InitialSupplyExceedsMax {
        /// The initial supply.
        initial: u128,
        /// The max supply.
        max: u128,
    },
    /// An update both sets and revokes the mint authority.
    #[error("an update cannot both set and revoke the mint authority")]
    ConflictingMintAuthority,
    /// An update that changes nothing.
    #[error("the update changes nothing")]
    EmptyUpdate,
    /// A deploy sent anywhere but the token base domain.
    #[error("TokenDeploy must target the token base domain, not {target}")]
    DeployTarget {
        /// The target domain.
        target: Domain,
    },
    /// A non-deploy operation sent to the token base domain.
    #[error("{operation} must target a token's domain, not the token base domain")]
    BaseDomainTarget {
        /// Operation name.
        operation: &'static str,
    },
    /// An escrow whose expiry frame has already passed when it is created.
    #[error("expiry frame {expiry} is before the current frame {frame}")]
    ExpiryInPast {
        /// The expiry frame asked for.
        expiry: u64,
        /// The current frame.
        frame: u64,
    },

    // ---- state (checked by `apply`) ----
    /// No token metadata record at the target domain.
    #[error("unknown token {domain}")]
    UnknownToken {
        /// The target domain.
        domain: Domain,
    },
    /// The metadata record at the target belongs to another engine.
    #[error("domain {domain} is not a token: its type domain is {type_domain}")]
    NotAToken {
        /// The target domain.
        domain: Domain,
        /// The type domain its metadata record names.
        type_domain: Domain,
    },
    /// A deploy whose token domain already holds a metadata record.
    #[error("token {domain} already exists")]
    TokenExists {
        /// The token domain.
        domain: Domain,
    },
    /// The account cannot cover the amount.
    #[error("account {} has balance {balance}, less than the amount {amount}", hex_key(.account))]
    InsufficientBalance {
        /// The debited account.
        account: Key,
        /// Its balance.
        balance: u128,
        /// The amount asked for.
        amount: u128,
    },
    /// Crediting the account would overflow 128 bits.
    #[error("crediting {amount} to account {} with balance {balance} overflows", hex_key(.account))]
    BalanceOverflow {
        /// The credited account.
        account: Key,
        /// Its balance.
        balance: u128,
        /// The amount credited.
        amount: u128,
    },
    /// A transfer (or escrow) from an account to itself; refused because it can only be a mistake.
    #[error("account {} cannot transfer to itself", hex_key(.account))]
    SelfTransfer {
        /// The account.
        account: Key,
    },
    /// The token is not transferable (soulbound).
    #[error("token {token} is not transferable")]
    NotTransferable {
        /// The token domain.
        token: Domain,
    },
    /// The signer of an update is not the token's owner.
    #[error("signer {} is not the owner ({}) of the token", hex_key(.signer), hex_opt(.owner))]
    NotOwner {
        /// The signer.
        signer: Key,
        /// The owner, `None` when the token has none.
        owner: Option<Key>,
    },
    /// The token was deployed with `mintable` false.
    #[error("token {token} is not mintable")]
    NotMintable {
        /// The token domain.
        token: Domain,
    },
    /// The signer of a mint is not the mint authority.
    #[error("signer {} is not the mint authority ({})", hex_key(.signer), hex_opt(.authority))]
    NotMintAuthority {
        /// The signer.
        signer: Key,
        /// The mint authority, `None` when there is none.
        authority: Option<Key>,
    },
    /// An update sets a mint authority after the authority was revoked for good.
    #[error("the mint authority of token {token} was revoked for good")]
    MintAuthorityRevoked {
        /// The token domain.
        token: Domain,
    },
    /// Minting would take the supply beyond the max supply.
    #[error("minting {amount} on supply {supply} exceeds max supply {max}")]
    ExceedsMaxSupply {
        /// The current supply.
        supply: u128,
        /// The amount to mint.
        amount: u128,
        /// The max supply.
        max: u128,
    },
    /// Minting would overflow the 128-bit supply.
    #[error("minting {amount} on supply {supply} overflows 128 bits")]
    SupplyOverflow {
        /// The current supply.
        supply: u128,
        /// The amount to mint.
        amount: u128,
    },
    /// An update raises the max supply (it may only go down) or lifts the cap.
    #[error("max supply may only go down: current {current}, requested {requested}")]
    MaxSupplyIncrease {
        /// The current max supply.
        current: u128,
        /// The max supply asked for.
        requested: u128,
    },
    /// An update sets the max supply below the current supply.
    #[error("max supply {requested} is below the current supply {supply}")]
    MaxSupplyBelowSupply {
        /// The current supply.
        supply: u128,
        /// The max supply asked for.
        requested: u128,
    },
    /// The account address holds an escrow record, not an account.
    #[error("key {} of this token holds an escrow, not an account", hex_key(.key))]
    NotAnAccount {
        /// The key.
        key: Key,
    },
    /// A pending create whose escrow id is already in use.
    #[error("escrow id {} is already in use", hex_key(.id))]
    EscrowIdTaken {
        /// The escrow id.
        id: Key,
    },
    /// No escrow under this id.
    #[error("unknown escrow {}", hex_key(.id))]
    UnknownEscrow {
        /// The escrow id.
        id: Key,
    },
    /// An accept signed by someone other than the escrow's recipient.
    #[error("signer {} is not the recipient {} of escrow {}", hex_key(.signer), hex_key(.recipient), hex_key(.id))]
    NotEscrowRecipient {
        /// The escrow id.
        id: Key,
        /// The signer.
        signer: Key,
        /// The escrow's recipient.
        recipient: Key,
    },
    /// A refund signed by someone other than the escrow's sender.
    #[error("signer {} is not the sender {} of escrow {}", hex_key(.signer), hex_key(.sender), hex_key(.id))]
    NotEscrowSender {
        /// The escrow id.
        id: Key,
        /// The signer.
        signer: Key,
        /// The escrow's sender.
        sender: Key,
    },
    /// An accept after the escrow's expiry frame.
    #[error("escrow {} expired at frame {expiry}; the current frame is {frame}", hex_key(.id))]
    EscrowExpired {
        /// The escrow id.
        id: Key,
        /// Its expiry frame.
        expiry: u64,
        /// The current frame.
        frame: u64,
    },
    /// The recipient already has the most pending transfers an account may have.
    #[error("account {} already has {limit} pending transfers, the most it may have", hex_key(.account))]
    TooManyPending {
        /// The recipient.
        account: Key,
        /// The limit ([`crate::MAX_PENDING_PER_ACCOUNT`]).
        limit: usize,
    },
    /// A query the engine cannot answer: a query of another engine, or one without a question.
    #[error("{reason}")]
    BadQuery {
        /// What was wrong with it.
        reason: String,
    },
    /// A refund at or before the escrow's expiry frame.
    #[error("escrow {} expires at frame {expiry}; it cannot be refunded at frame {frame}", hex_key(.id))]
    EscrowNotExpired {
        /// The escrow id.
        id: Key,
        /// Its expiry frame.
        expiry: u64,
        /// The current frame.
        frame: u64,
    },

    // ---- genesis ----
    /// The native genesis lists an account twice.
    #[error("genesis lists account {} twice", hex_key(.account))]
    DuplicateGenesisAccount {
        /// The account.
        account: Key,
    },
    /// The native genesis balances sum to more than 128 bits.
    #[error("genesis balances overflow 128 bits at account {}", hex_key(.account))]
    GenesisSupplyOverflow {
        /// The account whose balance overflowed the sum.
        account: Key,
    },
}

/// Why [`write_genesis`](crate::write_genesis) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenesisError {
    /// The configuration was refused.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Writing failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// An internal failure: the engine's own refusal, or a state access that failed. Converted to
/// an [`EngineError`] at the trait boundary, with the operation name.
#[derive(Debug)]
pub(crate) enum Failure {
    Token(TokenError),
    State(StateError),
}

impl From<TokenError> for Failure {
    fn from(error: TokenError) -> Self {
        Failure::Token(error)
    }
}

impl From<StateError> for Failure {
    fn from(error: StateError) -> Self {
        Failure::State(error)
    }
}

impl Failure {
    pub(crate) fn into_engine(self, operation: &'static str) -> EngineError {
        match self {
            Failure::Token(error) => EngineError::rejected(crate::ENGINE_NAME, operation, error),
            Failure::State(error) => EngineError::State(error),
        }
    }
}
