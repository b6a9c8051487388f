//! Type tags: the 4-byte prefix of canonical bytes that says which message follows.

use std::fmt;

/// A message type tag (DESIGN §2). Written big-endian in the first four bytes of canonical bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeTag(pub u32);

impl TypeTag {
    /// The tag as the 4 bytes that open canonical bytes.
    pub const fn to_be_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for TypeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypeTag({:#06x})", self.0)
    }
}

impl fmt::Display for TypeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}
