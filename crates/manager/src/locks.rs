//! The manager's lock table: global across engines and domains, all or nothing.

use std::collections::HashMap;

use switchyard_router::{AccessSet, Address};

/// How an address is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// Held by this many readers.
    Read(usize),
    /// Held by one writer.
    Write,
}

/// Addresses locked by `Manager::lock`, until `Manager::unlock`.
#[derive(Debug, Default)]
pub(crate) struct LockTable {
    held: HashMap<Address, Hold>,
}

impl LockTable {
    /// Acquires every address of `access` (writes exclusively, reads shared), or none of them:
    /// on a conflict it returns the first conflicting address and changes nothing.
    pub(crate) fn acquire(&mut self, access: &AccessSet) -> Result<(), Address> {
        if let Some(address) = access.writes.iter().find(|a| self.held.contains_key(*a)) {
            return Err(*address);
        }
        if let Some(address) = access
            .reads
            .iter()
            .find(|a| matches!(self.held.get(*a), Some(Hold::Write)))
        {
            return Err(*address);
        }
        for address in &access.writes {
            self.held.insert(*address, Hold::Write);
        }
        for address in &access.reads {
            let hold = self.held.entry(*address).or_insert(Hold::Read(0));
            if let Hold::Read(count) = hold {
                *count += 1;
            }
        }
        Ok(())
    }

    /// Releases everything.
    pub(crate) fn clear(&mut self) {
        self.held.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::access_set as set;

    #[test]
    fn shared_reads_exclusive_writes_and_no_partial_locks() {
        let mut table = LockTable::default();
        assert!(table.acquire(&set(&[1], &[2])).is_ok());
        assert!(table.acquire(&set(&[1], &[])).is_ok(), "read/read shares");
        assert!(
            table.acquire(&set(&[], &[1])).is_err(),
            "write over read conflicts"
        );
        assert!(
            table.acquire(&set(&[2], &[])).is_err(),
            "read over write conflicts"
        );
        assert!(table.acquire(&set(&[], &[3, 2])).is_err());
        assert!(
            table.acquire(&set(&[], &[3])).is_ok(),
            "the failed lock left 3 free"
        );
        table.clear();
        assert!(table.acquire(&set(&[], &[1, 2, 3])).is_ok());
    }
}
