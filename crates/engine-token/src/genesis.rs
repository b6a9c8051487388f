//! The native token's genesis: its metadata record and initial balances.

use std::collections::BTreeMap;

use switchyard_router::domains::{METADATA_KEY, NATIVE_TOKEN, metadata_address, native_account};
use switchyard_router::fees::AccountRecord;
use switchyard_router::{Address, Key, StateWrite};

use crate::error::{GenesisError, TokenError};
use crate::op::check_labels;
use crate::record::TokenInfo;

/// The native token as created at genesis. Its supply is the sum of `balances`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeGenesis {
    /// Human-readable name. Default "Switchyard".
    pub name: String,
    /// Ticker symbol. Default "SWY".
    pub symbol: String,
    /// Decimal places. Default 9.
    pub decimals: u32,
    /// Cap on the supply; default `None` (uncapped).
    pub max_supply: Option<u128>,
    /// Whether the native token can be minted after genesis. Default false.
    pub mintable: bool,
    /// Key allowed to mint; default `None`.
    pub mint_authority: Option<Key>,
    /// Key allowed to update the native token; default `None` (nobody).
    pub owner: Option<Key>,
    /// Initial balances (each account at most once; zero balances write no record).
    pub balances: Vec<(Key, u128)>,
}

impl Default for NativeGenesis {
    fn default() -> Self {
        Self {
            name: "Switchyard".to_owned(),
            symbol: "SWY".to_owned(),
            decimals: 9,
            max_supply: None,
            mintable: false,
            mint_authority: None,
            owner: None,
            balances: Vec::new(),
        }
    }
}

/// The records that create the native token: its metadata record, then one account record per
/// non-zero balance (nonce 0), ordered by address. Refuses a bad name, symbol or decimals, an
/// account listed twice or equal to the metadata key, balances summing past 128 bits or past
/// the max supply.
///
/// ```
/// let genesis = switchyard_token::NativeGenesis { balances: vec![([1; 32], 500)], ..Default::default() };
/// let records = switchyard_token::genesis(&genesis)?;
/// assert_eq!(records.len(), 2);
/// # Ok::<(), switchyard_token::TokenError>(())
/// ```
pub fn genesis(config: &NativeGenesis) -> Result<Vec<(Address, Vec<u8>)>, TokenError> {
    check_labels(&config.name, &config.symbol, config.decimals)?;
    let mut records = BTreeMap::new();
    let mut supply: u128 = 0;
    let mut seen = std::collections::BTreeSet::new();
    for (account, balance) in &config.balances {
        if *account == METADATA_KEY {
            return Err(TokenError::ReservedKey {
                field: "genesis account",
            });
        }
        if !seen.insert(*account) {
            return Err(TokenError::DuplicateGenesisAccount { account: *account });
        }
        supply = supply
            .checked_add(*balance)
            .ok_or(TokenError::GenesisSupplyOverflow { account: *account })?;
        if *balance > 0 {
            records.insert(
                native_account(*account),
                AccountRecord {
                    balance: *balance,
                    nonce: 0,
                }
                .encode(),
            );
        }
    }
    if let Some(max) = config.max_supply
        && supply > max
    {
        return Err(TokenError::InitialSupplyExceedsMax {
            initial: supply,
            max,
        });
    }
    let info = TokenInfo {
        name: config.name.clone(),
        symbol: config.symbol.clone(),
        decimals: config.decimals,
        max_supply: config.max_supply,
        mint_authority: config.mint_authority,
        mintable: config.mintable,
        transferable: true,
        owner: config.owner,
        supply,
        mint_revoked: false,
    };
    records.insert(metadata_address(NATIVE_TOKEN), info.to_metadata().encode());
    Ok(records.into_iter().collect())
}

/// Writes the native token's [`genesis`] records into `state`.
pub fn write_genesis(
    state: &mut dyn StateWrite,
    config: &NativeGenesis,
) -> Result<(), GenesisError> {
    for (address, value) in genesis(config)? {
        state.put(address, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{balance, token_info};
    use switchyard_router::MemoryView;

    #[test]
    fn genesis_supply_is_the_sum_of_balances() {
        let config = NativeGenesis {
            balances: vec![([2; 32], 7), ([1; 32], 5), ([3; 32], 0)],
            ..Default::default()
        };
        let mut state = MemoryView::default();
        write_genesis(&mut state, &config).unwrap();
        let info = token_info(&state, &NATIVE_TOKEN).unwrap().unwrap();
        assert_eq!(info.supply, 12);
        assert!(info.transferable && !info.mintable && info.owner.is_none());
        assert_eq!(balance(&state, &NATIVE_TOKEN, &[1; 32]).unwrap(), 5);
        assert_eq!(
            state.entries.len(),
            3,
            "metadata plus two non-zero balances"
        );
    }

    #[test]
    fn bad_genesis_configs_are_named() {
        let dup = NativeGenesis {
            balances: vec![([1; 32], 1), ([1; 32], 2)],
            ..Default::default()
        };
        assert_eq!(
            genesis(&dup),
            Err(TokenError::DuplicateGenesisAccount { account: [1; 32] })
        );
        let over = NativeGenesis {
            balances: vec![([1; 32], u128::MAX), ([2; 32], 1)],
            ..Default::default()
        };
        assert_eq!(
            genesis(&over),
            Err(TokenError::GenesisSupplyOverflow { account: [2; 32] })
        );
        let capped = NativeGenesis {
            balances: vec![([1; 32], 11)],
            max_supply: Some(10),
            ..Default::default()
        };
        assert_eq!(
            genesis(&capped),
            Err(TokenError::InitialSupplyExceedsMax {
                initial: 11,
                max: 10
            })
        );
        let reserved = NativeGenesis {
            balances: vec![([0xff; 32], 1)],
            ..Default::default()
        };
        assert_eq!(
            genesis(&reserved),
            Err(TokenError::ReservedKey {
                field: "genesis account"
            })
        );
        let unnamed = NativeGenesis {
            name: String::new(),
            ..Default::default()
        };
        assert_eq!(genesis(&unnamed), Err(TokenError::NameLength { len: 0 }));
    }
}
