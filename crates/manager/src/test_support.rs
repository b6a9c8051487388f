//! Fixtures shared by the unit tests of this crate.

use switchyard_router::{AccessSet, Address, Domain};

/// An access set reading and writing the addresses `(n x 32, 0 x 32)` for the given `n`s.
pub(crate) fn access_set(reads: &[u8], writes: &[u8]) -> AccessSet {
    let mut set = AccessSet::new();
    for n in reads {
        set.read(Address::new(Domain([*n; 32]), [0; 32]));
    }
    for n in writes {
        set.write(Address::new(Domain([*n; 32]), [0; 32]));
    }
    set
}
