//! The narrow state views an engine reads and writes through.

use std::collections::BTreeMap;

use crate::{Address, StateError};

/// Read access to state. Implementations decide what is visible: a snapshot of the last
/// committed frame, or an overlay that also refuses addresses outside an access set.
pub trait StateRead {
    /// The value at `address`; `Ok(None)` when nothing is stored there. Errors are
    /// [`StateError::AccessViolation`] for an undeclared address, or a backend failure.
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError>;
}

/// Write access to state (a transactional overlay). Writes become visible to later reads
/// through the same view, and reach the store only when the frame commits.
pub trait StateWrite: StateRead {
    /// Stores `value` at `address`.
    fn put(&mut self, address: Address, value: Vec<u8>) -> Result<(), StateError>;
    /// Removes whatever is stored at `address` (a no-op when nothing is).
    fn delete(&mut self, address: &Address) -> Result<(), StateError>;
}

impl<T: StateRead + ?Sized> StateRead for &T {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(address)
    }
}

impl<T: StateRead + ?Sized> StateRead for &mut T {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(address)
    }
}

impl<T: StateWrite + ?Sized> StateWrite for &mut T {
    fn put(&mut self, address: Address, value: Vec<u8>) -> Result<(), StateError> {
        (**self).put(address, value)
    }
    fn delete(&mut self, address: &Address) -> Result<(), StateError> {
        (**self).delete(address)
    }
}

impl<T: StateRead + ?Sized> StateRead for Box<T> {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(address)
    }
}

/// A plain in-memory map with no access checks: for doc examples, genesis building and unit
/// tests of engines. Real execution goes through `switchyard-state` overlays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryView {
    /// The stored values, ordered by address.
    pub entries: BTreeMap<Address, Vec<u8>>,
}

impl StateRead for MemoryView {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.entries.get(address).cloned())
    }
}

impl StateWrite for MemoryView {
    fn put(&mut self, address: Address, value: Vec<u8>) -> Result<(), StateError> {
        self.entries.insert(address, value);
        Ok(())
    }
    fn delete(&mut self, address: &Address) -> Result<(), StateError> {
        self.entries.remove(address);
        Ok(())
    }
}
