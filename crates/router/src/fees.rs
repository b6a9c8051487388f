//! Native-token accounts, and the fee and nonce settlement every signed operation goes through.
//!
//! A signer's native-token account is one record at `(NATIVE_TOKEN, public key)` holding its
//! balance and nonce, so a native transfer writes two records. Before an operation is applied,
//! the manager calls [`settle`] on the operation's overlay: the nonce must be one more than
//! the stored nonce and the balance must cover `cost x fee multiplier`; then the fee is debited and the
//! nonce bumped. Settlement that fails leaves no effect at all; settlement that succeeds stays
//! even when the operation then fails. The frame's fees are credited to the fee recipient once,
//! at commit, with [`credit`].

use num_bigint::BigUint;

use crate::domains::native_account;
pub use crate::error::FeeError;
use crate::{Key, StateError, StateRead, StateWrite};

/// A token account record: balance and nonce. The nonce is used in the native token only.
/// Stored as 24 bytes: balance (16, big-endian) then nonce (8, big-endian).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountRecord {
    /// Balance in the token's smallest unit.
    pub balance: u128,
    /// Number of operations the account has signed (native token only).
    pub nonce: u64,
}

impl AccountRecord {
    /// Encoded length in bytes.
    pub const LEN: usize = 24;

    /// Encodes the record as stored.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::LEN);
        bytes.extend_from_slice(&self.balance.to_be_bytes());
        bytes.extend_from_slice(&self.nonce.to_be_bytes());
        bytes
    }

    /// Decodes a stored record.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let (Some(balance), Some(nonce), Self::LEN) = (
            bytes.first_chunk::<16>(),
            bytes.last_chunk::<8>(),
            bytes.len(),
        ) else {
            return Err(StateError::Corrupt {
                what: "account record",
                reason: format!("{} bytes, expected 24", bytes.len()),
            });
        };
        Ok(Self {
            balance: u128::from_be_bytes(*balance),
            nonce: u64::from_be_bytes(*nonce),
        })
    }

    /// Reads the record at `address`; an absent record is an empty account.
    pub fn load(state: &dyn StateRead, address: &crate::Address) -> Result<Self, StateError> {
        state
            .get(address)?
            .map_or(Ok(Self::default()), |bytes| Self::decode(&bytes))
    }
}

/// The fee of an operation: `cost x multiplier`, which must fit in 128 bits.
pub fn fee_for(cost: &BigUint, multiplier: u64) -> Result<u128, FeeError> {
    let overflow = || FeeError::Overflow {
        cost: cost.clone(),
        multiplier,
    };
    // Every real cost fits in a u128: multiply there, without allocating.
    match u128::try_from(cost) {
        Ok(cost) => cost
            .checked_mul(u128::from(multiplier))
            .ok_or_else(overflow),
        Err(_) if multiplier == 0 => Ok(0),
        Err(_) => Err(overflow()),
    }
}

/// Checks `nonce` and that `fee` is payable, then debits the fee and bumps the nonce of
/// `signer`'s native account. On error nothing was written.
pub fn settle(
    state: &mut dyn StateWrite,
    signer: &Key,
    nonce: u64,
    fee: u128,
) -> Result<(), FeeError> {
    let address = native_account(*signer);
    let mut account = AccountRecord::load(state, &address)?;
    if account.nonce.checked_add(1) != Some(nonce) {
        return Err(FeeError::BadNonce {
            signer: hex::encode(signer),
            stored: account.nonce,
            found: nonce,
        });
    }
    account.balance = account
        .balance
        .checked_sub(fee)
        .ok_or_else(|| FeeError::Unpayable {
            signer: hex::encode(signer),
            fee,
            balance: account.balance,
        })?;
    account.nonce = nonce;
    state.put(address, account.encode())?;
    Ok(())
}

/// Credits `total` to `recipient`'s native account (the commit step of a frame).
pub fn credit(state: &mut dyn StateWrite, recipient: &Key, total: u128) -> Result<(), FeeError> {
    if total == 0 {
        return Ok(());
    }
    let address = native_account(*recipient);
    let mut account = AccountRecord::load(state, &address)?;
    account.balance = account
        .balance
        .checked_add(total)
        .ok_or(FeeError::RecipientOverflow { fee: total })?;
    state.put(address, account.encode())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryView;

    #[test]
    fn settle_checks_nonce_and_balance_and_writes_nothing_on_refusal() {
        let mut state = MemoryView::default();
        let signer = [1; 32];
        state
            .put(
                native_account(signer),
                AccountRecord {
                    balance: 10,
                    nonce: 4,
                }
                .encode(),
            )
            .ok();
        let before = state.clone();
        assert!(matches!(
            settle(&mut state, &signer, 4, 1),
            Err(FeeError::BadNonce {
                stored: 4,
                found: 4,
                ..
            })
        ));
        assert!(matches!(
            settle(&mut state, &signer, 5, 11),
            Err(FeeError::Unpayable {
                fee: 11,
                balance: 10,
                ..
            })
        ));
        assert_eq!(state, before);
        assert_eq!(settle(&mut state, &signer, 5, 10), Ok(()));
        assert_eq!(
            AccountRecord::load(&state, &native_account(signer)),
            Ok(AccountRecord {
                balance: 0,
                nonce: 5
            })
        );
    }

    #[test]
    fn fees_are_checked_products() {
        assert_eq!(fee_for(&BigUint::from(7u32), 3), Ok(21));
        assert!(matches!(
            fee_for(&BigUint::from(u128::MAX), 2),
            Err(FeeError::Overflow { .. })
        ));
        let beyond = BigUint::from(u128::MAX) + 1u32;
        assert!(matches!(
            fee_for(&beyond, 1),
            Err(FeeError::Overflow { .. })
        ));
        assert_eq!(fee_for(&beyond, 0), Ok(0), "anything times zero is free");
        assert_eq!(fee_for(&BigUint::from(u128::MAX), 1), Ok(u128::MAX));
    }

    #[test]
    fn corrupt_records_are_errors() {
        assert!(matches!(
            AccountRecord::decode(&[0; 23]),
            Err(StateError::Corrupt { .. })
        ));
    }
}
