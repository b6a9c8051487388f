//! The manager's lock table: global across engines and domains, all or nothing, and each
//! acquisition held by a [`LockLease`] that releases exactly what it acquired.

use std::collections::HashMap;

use parking_lot::Mutex;
use switchyard_router::{AccessSet, Address};

/// Identifies one successful acquisition.
type LeaseId = u64;

/// How an address is held.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hold {
    /// Held by these leases, for reading (a lease appears once per read it declared).
    Read(Vec<LeaseId>),
    /// Held by one lease, for writing.
    Write(LeaseId),
}

/// Addresses locked by `Manager::lock`, until their lease is released or `unlock_all`.
#[derive(Debug, Default)]
pub(crate) struct LockTable {
    held: HashMap<Address, Hold>,
    next_lease: LeaseId,
}

impl LockTable {
    /// Acquires every address of `access` (writes exclusively, reads shared), or none of them:
    /// on a conflict it returns the first conflicting address and changes nothing.
    pub(crate) fn acquire(&mut self, access: &AccessSet) -> Result<LeaseId, Address> {
        if let Some(address) = access.writes.iter().find(|a| self.held.contains_key(*a)) {
            return Err(*address);
        }
        if let Some(address) = access
            .reads
            .iter()
            .find(|a| matches!(self.held.get(*a), Some(Hold::Write(_))))
        {
            return Err(*address);
        }
        let lease = self.next_lease;
        self.next_lease = self.next_lease.wrapping_add(1);
        for address in &access.writes {
            self.held.insert(*address, Hold::Write(lease));
        }
        for address in &access.reads {
            let hold = self
                .held
                .entry(*address)
                .or_insert_with(|| Hold::Read(Vec::new()));
            if let Hold::Read(leases) = hold {
                leases.push(lease);
            }
        }
        Ok(lease)
    }

    /// Releases what `lease` acquired over `access`, and nothing another lease holds (after
    /// an `unlock_all`, the same address may be held by a newer lease).
    pub(crate) fn release(&mut self, lease: LeaseId, access: &AccessSet) {
        for address in &access.writes {
            if self.held.get(address) == Some(&Hold::Write(lease)) {
                self.held.remove(address);
            }
        }
        for address in &access.reads {
            let now_free = match self.held.get_mut(address) {
                Some(Hold::Read(leases)) => {
                    if let Some(at) = leases.iter().position(|l| *l == lease) {
                        leases.swap_remove(at);
                    }
                    leases.is_empty()
                }
                _ => false,
            };
            if now_free {
                self.held.remove(address);
            }
        }
    }

    /// Releases everything, whoever holds it.
    pub(crate) fn clear(&mut self) {
        self.held.clear();
    }
}

/// The locks one [`Manager::lock`](crate::Manager::lock) call acquired. Handing it back to
/// [`Manager::unlock`](crate::Manager::unlock) releases exactly those, and nothing another
/// caller holds; a lease never handed back keeps its locks until
/// [`Manager::unlock_all`](crate::Manager::unlock_all), as in the reference.
#[derive(Debug, PartialEq, Eq)]
pub struct LockLease {
    id: LeaseId,
    access: AccessSet,
}

impl LockLease {
    /// Acquires `access` in `table`, all or nothing.
    pub(crate) fn acquire(table: &Mutex<LockTable>, access: &AccessSet) -> Result<Self, Address> {
        let id = table.lock().acquire(access)?;
        Ok(Self {
            id,
            access: access.clone(),
        })
    }

    /// Releases the lease's locks in `table`.
    pub(crate) fn release(self, table: &Mutex<LockTable>) {
        table.lock().release(self.id, &self.access);
    }

    /// Every address locked: the writes, then the reads.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.access.writes.iter().chain(self.access.reads.iter())
    }

    /// The access set the locks were taken for (writes exclusive, reads shared).
    pub fn access(&self) -> &AccessSet {
        &self.access
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

    #[test]
    fn a_release_frees_only_what_its_lease_acquired() {
        let mut table = LockTable::default();
        let first = set(&[1], &[2]);
        let second = set(&[1], &[3]);
        let a = table.acquire(&first).unwrap();
        let b = table.acquire(&second).unwrap();
        table.release(a, &first);
        assert!(table.acquire(&set(&[], &[2])).is_ok(), "a's write is free");
        assert!(table.acquire(&set(&[], &[1])).is_err(), "b still reads 1");
        assert!(table.acquire(&set(&[], &[3])).is_err(), "b still writes 3");
        table.release(b, &second);
        assert!(table.acquire(&set(&[], &[1, 3])).is_ok());
    }

    #[test]
    fn a_stale_lease_does_not_release_a_newer_holder() {
        let mut table = LockTable::default();
        let access = set(&[], &[5]);
        let old = table.acquire(&access).unwrap();
        table.clear();
        let _new = table.acquire(&access).unwrap();
        table.release(old, &access);
        assert!(
            table.acquire(&access).is_err(),
            "the newer lease still holds 5"
        );
    }
}
