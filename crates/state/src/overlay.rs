//! Write overlays: a transactional view over a base state, optionally confined to an access set.

use std::cell::{Ref, RefCell};
use std::fmt;

use switchyard_router::{AccessSet, Address, AddressSet, StateError, StateRead, StateWrite};

use crate::ChangeSet;

/// A write overlay over a base state: reads see the overlay's own writes first, then the base;
/// writes stay in the overlay's [`ChangeSet`] until the caller takes them.
///
/// An overlay made [`with_access`](Overlay::with_access) refuses, with
/// [`StateError::AccessViolation`] naming the address, any read outside the access set's reads
/// and writes and any write outside its writes: the engine contract is enforced here, not
/// trusted. The overlay records every address read and written.
///
/// Overlays nest: an overlay over an overlay is how a bundle rolls back. Apply a request on an
/// inner overlay over the bundle's; on success [`merge`](Overlay::merge) the inner changes into
/// the outer one, on failure drop the inner overlay and nothing of it remains.
///
/// ```
/// use switchyard_router::{AccessSet, Address, Domain, MemoryView, StateRead, StateWrite};
/// use switchyard_state::Overlay;
///
/// let (a, b) = (Address::new(Domain([1; 32]), [1; 32]), Address::new(Domain([2; 32]), [2; 32]));
/// let base = MemoryView::default();
/// let mut access = AccessSet::new();
/// access.write(a);
/// let mut bundle = Overlay::with_access(&base, &access);
///
/// let mut request = Overlay::new(&bundle);
/// request.put(a, b"1".to_vec())?;
/// let changes = request.into_changes(); // the request succeeded: keep its writes
/// bundle.merge(changes)?;
/// assert_eq!(bundle.get(&a)?, Some(b"1".to_vec()));
///
/// assert!(bundle.get(&b).is_err()); // b is outside the access set
/// # Ok::<(), switchyard_router::StateError>(())
/// ```
pub struct Overlay<'a> {
    base: &'a dyn StateRead,
    access: Option<&'a AccessSet>,
    changes: ChangeSet,
    /// Addresses read; a cell because [`StateRead::get`] takes `&self`. (The write set is the
    /// change set's addresses.)
    reads: RefCell<AddressSet>,
}

impl<'a> Overlay<'a> {
    /// An overlay over `base` that allows every read and write.
    pub fn new(base: &'a dyn StateRead) -> Self {
        Self {
            base,
            access: None,
            changes: ChangeSet::new(),
            reads: RefCell::default(),
        }
    }

    /// An overlay over `base` that refuses reads and writes outside `access`.
    pub fn with_access(base: &'a dyn StateRead, access: &'a AccessSet) -> Self {
        Self {
            access: Some(access),
            ..Self::new(base)
        }
    }

    /// The access set this overlay enforces, if any.
    pub fn access(&self) -> Option<&'a AccessSet> {
        self.access
    }

    /// Every address read through this overlay so far (including reads of its own writes and
    /// reads made by overlays nested over it). Release the returned guard before reading
    /// through the overlay again.
    pub fn read_set(&self) -> Ref<'_, AddressSet> {
        self.reads.borrow()
    }

    /// Every address written or deleted through this overlay so far, including by
    /// [`merge`](Overlay::merge), in address order.
    pub fn write_set(&self) -> impl Iterator<Item = &Address> {
        self.changes.addresses()
    }

    /// The pending writes.
    pub fn changes(&self) -> &ChangeSet {
        &self.changes
    }

    /// Ends the overlay and returns its writes.
    pub fn into_changes(self) -> ChangeSet {
        self.changes
    }

    /// Applies `changes` (typically those of an overlay nested over this one) on top of this
    /// overlay's writes, later writes winning. All or nothing: if any address is outside the
    /// access set, nothing is applied and the error names the first such address.
    pub fn merge(&mut self, changes: ChangeSet) -> Result<(), StateError> {
        if let Some(address) = changes.addresses().find(|address| !self.may_write(address)) {
            return Err(StateError::AccessViolation {
                address: *address,
                op: "write",
            });
        }
        self.changes.merge(changes);
        Ok(())
    }

    fn may_write(&self, address: &Address) -> bool {
        self.access.is_none_or(|access| access.may_write(address))
    }

    fn check_write(&self, address: &Address) -> Result<(), StateError> {
        if self.may_write(address) {
            Ok(())
        } else {
            Err(StateError::AccessViolation {
                address: *address,
                op: "write",
            })
        }
    }
}

impl StateRead for Overlay<'_> {
    fn get(&self, address: &Address) -> Result<Option<Vec<u8>>, StateError> {
        if self.access.is_some_and(|access| !access.may_read(address)) {
            return Err(StateError::AccessViolation {
                address: *address,
                op: "read",
            });
        }
        self.reads
            .try_borrow_mut()
            .map_err(|_| StateError::Backend {
                reason: format!("reading {address} while the overlay's read set is borrowed"),
            })?
            .insert(*address);
        match self.changes.get(address) {
            Some(value) => Ok(value.map(<[u8]>::to_vec)),
            None => self.base.get(address),
        }
    }
}

impl StateWrite for Overlay<'_> {
    fn put(&mut self, address: Address, value: Vec<u8>) -> Result<(), StateError> {
        self.check_write(&address)?;
        self.changes.put(address, value);
        Ok(())
    }

    fn delete(&mut self, address: &Address) -> Result<(), StateError> {
        self.check_write(address)?;
        self.changes.delete(*address);
        Ok(())
    }
}

impl fmt::Debug for Overlay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overlay")
            .field("access", &self.access)
            .field("changes", &self.changes)
            .field(
                "reads",
                &self.reads.try_borrow().map(|reads| reads.len()).ok(),
            )
            .field("writes", &self.changes.len())
            .finish_non_exhaustive()
    }
}
