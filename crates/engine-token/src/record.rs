//! The records the token engine keeps in state, and the reads users make of them.
//!
//! - Token metadata: at `metadata_address(token)`, a [`MetadataRecord`] with type domain
//!   [`TOKEN`] and a prost payload (config, owner, supply, revocation flag).
//! - Balances: at `(token, account)`, an [`AccountRecord`] (24 bytes). Its nonce is used in the
//!   native token only, where the record is also the signer's nonce record.
//! - Escrows: at `(token, escrow id)`, a prost payload of at least 68 bytes (so never mistaken
//!   for a 24-byte account record).
//! - Pending indexes: at `(token, pending_index_key(account))`, the escrows waiting for
//!   `account` to accept them (a `PendingIndex`, at least 36 bytes), so that queries list an
//!   account's pending transfers without scanning.

use prost::Message;
use switchyard_proto::v1::{TokenConfig, U128};
use switchyard_router::domains::{TOKEN, instance_domain, metadata_address};
use switchyard_router::fees::AccountRecord;
use switchyard_router::{Address, Domain, Key, MetadataRecord, StateError, StateRead, StateWrite};

use crate::error::{Failure, TokenError};

/// The domain of the token `deployer` deploys with `nonce`: BLAKE3(TOKEN, deployer, nonce).
///
/// ```
/// let a = switchyard_token::token_domain(&[1; 32], 1);
/// assert_ne!(a, switchyard_token::token_domain(&[1; 32], 2));
/// ```
pub fn token_domain(deployer: &Key, nonce: u64) -> Domain {
    instance_domain(&TOKEN, deployer, nonce)
}

/// The id of the escrow `sender` opens in `token` with the pending create signed at `nonce`:
/// BLAKE3(token domain || sender key || nonce as 8 big-endian bytes).
///
/// ```
/// use switchyard_router::domains::NATIVE_TOKEN;
/// let id = switchyard_token::escrow_id(&NATIVE_TOKEN, &[1; 32], 7);
/// assert_ne!(id, switchyard_token::escrow_id(&NATIVE_TOKEN, &[1; 32], 8));
/// ```
pub fn escrow_id(token: &Domain, sender: &Key, nonce: u64) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update(&token.0)
        .update(sender)
        .update(&nonce.to_be_bytes());
    *hasher.finalize().as_bytes()
}

/// What the token engine knows about a token: its configuration, owner and supply, as stored
/// in its metadata record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenInfo {
    /// Human-readable name.
    pub name: String,
    /// Ticker symbol.
    pub symbol: String,
    /// Decimal places shown to users.
    pub decimals: u32,
    /// Cap on the supply; `None` = uncapped.
    pub max_supply: Option<u128>,
    /// Key allowed to mint; `None` = nobody.
    pub mint_authority: Option<Key>,
    /// Whether units may be minted.
    pub mintable: bool,
    /// Whether holders may transfer units.
    pub transferable: bool,
    /// Key allowed to update the token; `None` = nobody (e.g. a native token without owner).
    pub owner: Option<Key>,
    /// Units in existence: balances plus escrowed amounts.
    pub supply: u128,
    /// Whether the mint authority was revoked for good.
    pub mint_revoked: bool,
}

/// The prost payload of a token's metadata record.
#[derive(Clone, PartialEq, Message)]
struct StoredToken {
    /// The configuration, with `mint_authority` and `max_supply` as currently in force;
    /// `initial_supply` and `initial_holder` are left empty.
    #[prost(message, optional, tag = "1")]
    config: Option<TokenConfig>,
    /// The owner key (32 bytes), empty for none.
    #[prost(bytes = "vec", tag = "2")]
    owner: Vec<u8>,
    /// The current supply.
    #[prost(message, optional, tag = "3")]
    supply: Option<U128>,
    /// Whether the mint authority was revoked for good.
    #[prost(bool, tag = "4")]
    mint_revoked: bool,
}

/// The flags a transfer reads, as a view of [`StoredToken`]: the same field numbers, and prost
/// skips every field the view does not declare without decoding it.
#[derive(Clone, PartialEq, Message)]
struct StoredTokenFlags {
    /// [`StoredToken::config`], field 1.
    #[prost(message, optional, tag = "1")]
    config: Option<TokenConfigFlags>,
}

/// The flags of a [`TokenConfig`] a transfer reads.
#[derive(Clone, PartialEq, Message)]
struct TokenConfigFlags {
    /// [`TokenConfig::transferable`], field 7.
    #[prost(bool, tag = "7")]
    transferable: bool,
}

/// What a [`StateError::Corrupt`] about a token's metadata names.
const TOKEN_RECORD: &str = "token metadata record";

/// A token's metadata record that does not read as one.
fn corrupt_token(reason: String) -> StateError {
    StateError::Corrupt {
        what: TOKEN_RECORD,
        reason,
    }
}

fn optional_key(bytes: &[u8], what: &'static str) -> Result<Option<Key>, StateError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    Key::try_from(bytes)
        .map(Some)
        .map_err(|_| StateError::Corrupt {
            what,
            reason: format!("key of {} bytes", bytes.len()),
        })
}

impl TokenInfo {
    /// The metadata record storing this token.
    pub fn to_metadata(&self) -> MetadataRecord {
        let stored = StoredToken {
            config: Some(TokenConfig {
                name: self.name.clone(),
                symbol: self.symbol.clone(),
                decimals: self.decimals,
                max_supply: self.max_supply.map(U128::from),
                mint_authority: self.mint_authority.map(|k| k.to_vec()).unwrap_or_default(),
                mintable: self.mintable,
                transferable: self.transferable,
                initial_supply: None,
                initial_holder: Vec::new(),
            }),
            owner: self.owner.map(|k| k.to_vec()).unwrap_or_default(),
            supply: Some(self.supply.into()),
            mint_revoked: self.mint_revoked,
        };
        MetadataRecord {
            type_domain: TOKEN,
            payload: stored.encode_to_vec(),
        }
    }

    /// Reads a token from its metadata record's payload (the type domain is the caller's
    /// business). A payload that does not decode is [`StateError::Corrupt`].
    pub fn from_payload(payload: &[u8]) -> Result<Self, StateError> {
        let stored = StoredToken::decode(payload).map_err(|e| corrupt_token(e.to_string()))?;
        let config = stored.config.unwrap_or_default();
        Ok(Self {
            name: config.name,
            symbol: config.symbol,
            decimals: config.decimals,
            max_supply: config.max_supply.map(u128::from),
            mint_authority: optional_key(&config.mint_authority, TOKEN_RECORD)?,
            mintable: config.mintable,
            transferable: config.transferable,
            owner: optional_key(&stored.owner, TOKEN_RECORD)?,
            supply: stored.supply.map_or(0, u128::from),
            mint_revoked: stored.mint_revoked,
        })
    }
}

/// Reads the token at `token`: `Ok(None)` when there is no metadata record; a record owned by
/// another engine, or one that does not decode, is [`StateError::Corrupt`].
pub fn token_info(state: &dyn StateRead, token: &Domain) -> Result<Option<TokenInfo>, StateError> {
    match load_token(state, token) {
        Ok(info) => Ok(Some(info)),
        Err(Failure::Token(TokenError::UnknownToken { .. })) => Ok(None),
        Err(Failure::Token(other)) => Err(corrupt_token(other.to_string())),
        Err(Failure::State(error)) => Err(error),
    }
}

/// The balance of `account` in `token` (0 when it has no record). A record that is not an
/// account record (an escrow) is [`StateError::Corrupt`].
pub fn balance(state: &dyn StateRead, token: &Domain, account: &Key) -> Result<u128, StateError> {
    AccountRecord::load(state, &Address::new(*token, *account)).map(|record| record.balance)
}

/// Loads a token's metadata for an operation on it.
pub(crate) fn load_token(state: &dyn StateRead, token: &Domain) -> Result<TokenInfo, Failure> {
    let bytes = token_record(state, token)?;
    Ok(TokenInfo::from_payload(token_payload(&bytes, token)?)?)
}

/// Whether holders may transfer units of `token`: the one flag of its metadata a transfer
/// needs, read without decoding the rest (its name and symbol would be allocated, for every
/// transfer). The errors are those of [`load_token`], except that fields the view skips are
/// not checked: the record is written by this engine only, and every node reads it alike.
pub(crate) fn is_transferable(state: &dyn StateRead, token: &Domain) -> Result<bool, Failure> {
    let bytes = token_record(state, token)?;
    let flags = StoredTokenFlags::decode(token_payload(&bytes, token)?)
        .map_err(|e| corrupt_token(e.to_string()))?;
    Ok(flags.config.is_some_and(|config| config.transferable))
}

/// The stored metadata record of `token`; none is [`TokenError::UnknownToken`].
fn token_record(state: &dyn StateRead, token: &Domain) -> Result<Vec<u8>, Failure> {
    Ok(state
        .get(&metadata_address(*token))?
        .ok_or(TokenError::UnknownToken { domain: *token })?)
}

/// The payload of a token's metadata record; a record of another engine is
/// [`TokenError::NotAToken`].
fn token_payload<'b>(bytes: &'b [u8], token: &Domain) -> Result<&'b [u8], Failure> {
    let (type_domain, payload) = MetadataRecord::split(bytes)?;
    if type_domain != TOKEN {
        return Err(TokenError::NotAToken {
            domain: *token,
            type_domain,
        }
        .into());
    }
    Ok(payload)
}

/// Loads an account record for an operation; an escrow record there is [`TokenError::NotAnAccount`].
pub(crate) fn load_account(
    state: &dyn StateRead,
    token: &Domain,
    key: &Key,
) -> Result<AccountRecord, Failure> {
    match state.get(&Address::new(*token, *key))? {
        None => Ok(AccountRecord::default()),
        Some(bytes) if bytes.len() == AccountRecord::LEN => Ok(AccountRecord::decode(&bytes)?),
        Some(_) => Err(TokenError::NotAnAccount { key: *key }.into()),
    }
}

/// An open escrow: funds moved out of the sender's balance, waiting for the recipient to accept
/// them (at or before `expiry_frame`) or for the sender to take them back (after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Escrow {
    /// The account the funds came from (the signer of the create).
    pub sender: Key,
    /// The account that may accept them.
    pub recipient: Key,
    /// The escrowed amount.
    pub amount: u128,
    /// The last frame at which the recipient may accept.
    pub expiry_frame: u64,
}

/// The prost payload of an escrow record.
#[derive(Clone, PartialEq, Message)]
struct StoredEscrow {
    #[prost(bytes = "vec", tag = "1")]
    sender: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    recipient: Vec<u8>,
    #[prost(message, optional, tag = "3")]
    amount: Option<U128>,
    #[prost(uint64, tag = "4")]
    expiry_frame: u64,
}

impl Escrow {
    /// The stored bytes of the escrow (at least 68 bytes: never the length of an account record).
    pub fn encode(&self) -> Vec<u8> {
        StoredEscrow {
            sender: self.sender.to_vec(),
            recipient: self.recipient.to_vec(),
            amount: Some(self.amount.into()),
            expiry_frame: self.expiry_frame,
        }
        .encode_to_vec()
    }

    /// Decodes stored escrow bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        const WHAT: &str = "escrow record";
        let stored = StoredEscrow::decode(bytes).map_err(|e| StateError::Corrupt {
            what: WHAT,
            reason: e.to_string(),
        })?;
        let key = |bytes: &[u8]| {
            Key::try_from(bytes).map_err(|_| StateError::Corrupt {
                what: WHAT,
                reason: format!("key of {} bytes", bytes.len()),
            })
        };
        Ok(Self {
            sender: key(&stored.sender)?,
            recipient: key(&stored.recipient)?,
            amount: stored.amount.map_or(0, u128::from),
            expiry_frame: stored.expiry_frame,
        })
    }
}

/// Reads the escrow `id` of `token`: `Ok(None)` when there is none (or the key holds an
/// account record instead).
pub fn escrow(
    state: &dyn StateRead,
    token: &Domain,
    id: &Key,
) -> Result<Option<Escrow>, StateError> {
    match state.get(&Address::new(*token, *id))? {
        None => Ok(None),
        Some(bytes) if bytes.len() == AccountRecord::LEN => Ok(None),
        Some(bytes) => Escrow::decode(&bytes).map(Some),
    }
}

/// The most escrows that may wait for one account to accept them at once (expired ones not
/// counted): each create rewrites the recipient's index, so the index stays small.
pub const MAX_PENDING_PER_ACCOUNT: usize = 256;

/// The key, inside a token's domain, of the index of escrows waiting for `account`:
/// BLAKE3("switchyard/token/pending-index" || account).
///
/// ```
/// let key = switchyard_token::pending_index_key(&[2; 32]);
/// assert_ne!(key, [2; 32]);
/// ```
pub fn pending_index_key(account: &Key) -> Key {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update(b"switchyard/token/pending-index")
        .update(account);
    *hasher.finalize().as_bytes()
}

/// The escrows waiting for one account, as an operation edits them.
#[derive(Debug, Default)]
pub(crate) struct PendingIndex {
    entries: Vec<(Key, u64)>,
    account: Key,
}

impl PendingIndex {
    /// Adds an escrow, refusing past [`MAX_PENDING_PER_ACCOUNT`].
    pub(crate) fn add(&mut self, id: &Key, expiry_frame: u64) -> Result<(), Failure> {
        if self.entries.len() >= MAX_PENDING_PER_ACCOUNT {
            return Err(TokenError::TooManyPending {
                account: self.account,
                limit: MAX_PENDING_PER_ACCOUNT,
            }
            .into());
        }
        self.entries.push((*id, expiry_frame));
        Ok(())
    }

    /// Removes an escrow (a no-op when it is not listed).
    pub(crate) fn remove(&mut self, id: &Key) {
        self.entries.retain(|(entry, _)| entry != id);
    }
}

/// Reads the escrow ids listed for `account` with their expiry frames, in creation order.
pub(crate) fn pending_entries(
    state: &dyn StateRead,
    token: &Domain,
    account: &Key,
) -> Result<Vec<(Key, u64)>, StateError> {
    const WHAT: &str = "pending index";
    let Some(bytes) = state.get(&Address::new(*token, pending_index_key(account)))? else {
        return Ok(Vec::new());
    };
    let stored = switchyard_proto::v1::PendingIndex::decode(bytes.as_slice()).map_err(|e| {
        StateError::Corrupt {
            what: WHAT,
            reason: e.to_string(),
        }
    })?;
    stored
        .entries
        .into_iter()
        .map(|entry| {
            let id =
                Key::try_from(entry.escrow_id.as_slice()).map_err(|_| StateError::Corrupt {
                    what: WHAT,
                    reason: format!("escrow id of {} bytes", entry.escrow_id.len()),
                })?;
            Ok((id, entry.expiry_frame))
        })
        .collect()
}

/// Loads `account`'s pending index in `token`, drops the entries that expired before `frame`
/// (they can only be refunded now, which does not touch the recipient's index), lets `edit`
/// change it, and stores it (deleting it when empty).
pub(crate) fn update_pending_index(
    state: &mut dyn StateWrite,
    token: &Domain,
    account: &Key,
    frame: u64,
    edit: impl FnOnce(&mut PendingIndex) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut index = PendingIndex {
        entries: pending_entries(state, token, account)?,
        account: *account,
    };
    index.entries.retain(|(_, expiry)| *expiry >= frame);
    edit(&mut index)?;
    let address = Address::new(*token, pending_index_key(account));
    if index.entries.is_empty() {
        state.delete(&address)?;
    } else {
        let stored = switchyard_proto::v1::PendingIndex {
            entries: index
                .entries
                .iter()
                .map(|(id, expiry)| switchyard_proto::v1::pending_index::Entry {
                    escrow_id: id.to_vec(),
                    expiry_frame: *expiry,
                })
                .collect(),
        };
        state.put(address, stored.encode_to_vec())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use switchyard_router::MemoryView;

    #[test]
    fn token_info_round_trips_through_its_metadata_record() {
        let info = TokenInfo {
            name: "Gold".into(),
            symbol: "GLD".into(),
            decimals: 6,
            max_supply: Some(1 << 100),
            mint_authority: Some([3; 32]),
            mintable: true,
            transferable: false,
            owner: Some([4; 32]),
            supply: 77,
            mint_revoked: false,
        };
        let record = info.to_metadata();
        assert_eq!(record.type_domain, TOKEN);
        assert_eq!(TokenInfo::from_payload(&record.payload).unwrap(), info);
        let bare = TokenInfo::default();
        assert_eq!(
            TokenInfo::from_payload(&bare.to_metadata().payload).unwrap(),
            bare
        );
    }

    fn any_token() -> impl Strategy<Value = TokenInfo> {
        (
            (
                "\\PC{0,12}",
                "\\PC{0,6}",
                any::<u32>(),
                any::<Option<u128>>(),
            ),
            (any::<Option<[u8; 32]>>(), any::<Option<[u8; 32]>>()),
            (any::<bool>(), any::<bool>(), any::<bool>(), any::<u128>()),
        )
            .prop_map(
                |(
                    (name, symbol, decimals, max_supply),
                    (mint_authority, owner),
                    (mintable, transferable, mint_revoked, supply),
                )| TokenInfo {
                    name,
                    symbol,
                    decimals,
                    max_supply,
                    mint_authority,
                    mintable,
                    transferable,
                    owner,
                    supply,
                    mint_revoked,
                },
            )
    }

    proptest! {
        /// The flag view agrees with the full decode, whatever the rest of the token holds.
        #[test]
        fn the_transfer_flag_view_reads_what_the_full_decode_reads(info in any_token()) {
            let token = Domain([6; 32]);
            let mut state = MemoryView::default();
            state
                .entries
                .insert(metadata_address(token), info.to_metadata().encode());
            prop_assert_eq!(is_transferable(&state, &token).ok(), Some(info.transferable));
            prop_assert_eq!(load_token(&state, &token).ok(), Some(info));
        }
    }

    #[test]
    fn the_transfer_flag_of_a_missing_or_foreign_record_is_an_error() {
        let token = Domain([6; 32]);
        // What a transfer reads with `record` stored as the token's metadata (none: no record).
        let read = |record: Option<MetadataRecord>| {
            let mut state = MemoryView::default();
            if let Some(record) = record {
                state
                    .entries
                    .insert(metadata_address(token), record.encode());
            }
            is_transferable(&state, &token)
        };
        assert!(matches!(
            read(None),
            Err(Failure::Token(TokenError::UnknownToken { .. }))
        ));
        let foreign = MetadataRecord {
            type_domain: Domain([1; 32]),
            payload: TokenInfo::default().to_metadata().payload,
        };
        assert!(matches!(
            read(Some(foreign)),
            Err(Failure::Token(TokenError::NotAToken { .. }))
        ));
        let garbage = MetadataRecord {
            type_domain: TOKEN,
            payload: vec![0x0a, 0x05, 0x38],
        };
        assert!(matches!(
            read(Some(garbage)),
            Err(Failure::State(StateError::Corrupt { .. }))
        ));
    }

    #[test]
    fn escrow_records_never_look_like_account_records() {
        let escrow = Escrow {
            sender: [1; 32],
            recipient: [2; 32],
            amount: 0,
            expiry_frame: 0,
        };
        let bytes = escrow.encode();
        assert!(bytes.len() >= 68);
        assert_eq!(Escrow::decode(&bytes).unwrap(), escrow);
        assert!(matches!(
            Escrow::decode(&[0x0a, 0x01, 0x00]),
            Err(StateError::Corrupt { .. })
        ));
    }

    #[test]
    fn reads_tell_records_apart() {
        let token = Domain([9; 32]);
        let mut state = MemoryView::default();
        let escrow_rec = Escrow {
            sender: [1; 32],
            recipient: [2; 32],
            amount: 5,
            expiry_frame: 3,
        };
        state
            .entries
            .insert(Address::new(token, [7; 32]), escrow_rec.encode());
        state.entries.insert(
            Address::new(token, [8; 32]),
            AccountRecord {
                balance: 4,
                nonce: 0,
            }
            .encode(),
        );
        assert_eq!(escrow(&state, &token, &[7; 32]).unwrap(), Some(escrow_rec));
        assert_eq!(escrow(&state, &token, &[8; 32]).unwrap(), None);
        assert!(matches!(
            load_account(&state, &token, &[7; 32]),
            Err(Failure::Token(TokenError::NotAnAccount { .. }))
        ));
        assert_eq!(balance(&state, &token, &[8; 32]).unwrap(), 4);
        assert_eq!(token_info(&state, &token).unwrap(), None);
        state.entries.insert(
            metadata_address(token),
            MetadataRecord {
                type_domain: Domain([1; 32]),
                payload: vec![],
            }
            .encode(),
        );
        assert!(matches!(
            token_info(&state, &token),
            Err(StateError::Corrupt { .. })
        ));
    }

    #[test]
    fn escrow_ids_depend_on_every_input() {
        let a = escrow_id(&TOKEN, &[1; 32], 1);
        assert_ne!(a, escrow_id(&Domain([2; 32]), &[1; 32], 1));
        assert_ne!(a, escrow_id(&TOKEN, &[2; 32], 1));
        assert_ne!(a, escrow_id(&TOKEN, &[1; 32], 2));
    }
}
