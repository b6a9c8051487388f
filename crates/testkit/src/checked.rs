//! A state view for engine unit tests: refuses addresses outside an access set, as the
//! manager's overlays do, and records every address touched, so a test can assert that
//! `apply` touched exactly what `access` declared.

use std::cell::RefCell;
use std::collections::BTreeSet;

use switchyard_router::{AccessSet, Address, MemoryView, StateError, StateRead, StateWrite};

/// A [`MemoryView`] seen through an access set: reads outside `access.may_read` and writes
/// outside `access.may_write` are [`StateError::AccessViolation`]; every address read or
/// written is recorded in `touched`.
#[derive(Debug)]
pub struct Checked<'a> {
    /// The state underneath.
    pub inner: &'a mut MemoryView,
    /// What the operation declared.
    pub access: &'a AccessSet,
    /// Every address read or written so far.
    pub touched: RefCell<BTreeSet<Address>>,
}

impl<'a> Checked<'a> {
    /// A view of `inner` limited to `access`, nothing touched yet.
    pub fn new(inner: &'a mut MemoryView, access: &'a AccessSet) -> Self {
        Self {
            inner,
            access,
            touched: RefCell::new(BTreeSet::new()),
        }
    }
}

impl StateRead for Checked<'_> {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        if !self.access.may_read(address) {
            return Err(StateError::AccessViolation {
                address: *address,
                op: "read",
            });
        }
        self.touched.borrow_mut().insert(*address);
        self.inner.get(address)
    }
}

impl StateWrite for Checked<'_> {
    fn put(&mut self, address: Address, value: Vec<u8>) -> Result<(), StateError> {
        if !self.access.may_write(&address) {
            return Err(StateError::AccessViolation {
                address,
                op: "write",
            });
        }
        self.touched.borrow_mut().insert(address);
        self.inner.put(address, value)
    }

    fn delete(&mut self, address: &Address) -> Result<(), StateError> {
        if !self.access.may_write(address) {
            return Err(StateError::AccessViolation {
                address: *address,
                op: "write",
            });
        }
        self.touched.borrow_mut().insert(*address);
        self.inner.delete(address)
    }
}
