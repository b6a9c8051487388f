//! Type tags: the 4-byte prefix of canonical bytes that says which message follows.

use std::fmt;

use crate::{DecodeError, Limits, Result};

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

/// Calls `$callback! { Name = tag, ... }` with every top-level message kind but the bundle
/// (`0x0312`, which `any.rs` handles apart): the one list of DESIGN §2's tags, plus the
/// queries and the receipt. Adding a top-level message means adding one line here.
macro_rules! for_each_tagged {
    ($callback:ident) => {
        $callback! {
        MessageRequest = 0x0311,
        ProverJoin = 0x0301,
        ProverLeave = 0x0302,
        ProverPause = 0x0303,
        ProverResume = 0x0304,
        ProverConfirm = 0x0305,
        ProverReject = 0x0306,
        ProverKick = 0x0307,
        ProverUpdate = 0x0308,
        FrameHeader = 0x0309,
        HypergraphConfig = 0x0401,
        HypergraphDeploy = 0x0402,
        HypergraphUpdate = 0x0403,
        VertexAdd = 0x0404,
        VertexRemove = 0x0405,
        HyperedgeAdd = 0x0406,
        HyperedgeRemove = 0x0407,
        TokenConfig = 0x0503,
        TokenDeploy = 0x0504,
        TokenUpdate = 0x0505,
        Transaction = 0x0509,
        PendingTransaction = 0x050C,
        MintTransaction = 0x050F,
        ComputeDeploy = 0x0601,
        ComputeUpdate = 0x0602,
        CodeDeploy = 0x0603,
        CodeExecute = 0x060C,
        CodeFinalize = 0x060F,
        TokenQuery = 0x0520,
        TokenQueryResponse = 0x0521,
        ComputeQuery = 0x0620,
        ComputeQueryResponse = 0x0621,
        GlobalQuery = 0x0320,
        GlobalQueryResponse = 0x0321,
        HypergraphQuery = 0x0420,
        HypergraphQueryResponse = 0x0421,
        FrameReceipt = 0x0901,
            }
    };
}
pub(crate) use for_each_tagged;

/// Defines the tag table from the list.
macro_rules! tag_table {
    ($($variant:ident = $tag:literal),* $(,)?) => {
        /// Every top-level message kind: its tag and its name in `proto/`.
        pub(crate) const TAGGED: &[(TypeTag, &str)] = &[
            (TypeTag(0x0312), "MessageBundle"),
            $((TypeTag($tag), stringify!($variant)),)*
        ];

        /// The name of the message kind a tag stands for, or `None` for an unknown tag.
        pub fn tag_name(tag: TypeTag) -> Option<&'static str> {
            match tag.0 {
                0x0312 => Some("MessageBundle"),
                $($tag => Some(stringify!($variant)),)*
                _ => None,
            }
        }
    };
}

for_each_tagged!(tag_table);

/// The tag that opens `bytes`.
pub(crate) fn read_tag(bytes: &[u8]) -> Result<TypeTag> {
    match bytes.first_chunk::<4>() {
        Some(tag) => Ok(TypeTag(u32::from_be_bytes(*tag))),
        None => Err(DecodeError::MissingTag { len: bytes.len() }),
    }
}

/// Checks the tag (known, and `expected` if given) and the size limit; returns the protobuf
/// body.
pub(crate) fn check_tag<'a>(
    bytes: &'a [u8],
    expected: Option<TypeTag>,
    limits: &Limits,
) -> Result<&'a [u8]> {
    let tag = read_tag(bytes)?;
    let Some(found_name) = tag_name(tag) else {
        return Err(DecodeError::UnknownTag { tag });
    };
    if let Some(expected) = expected
        && expected != tag
    {
        return Err(DecodeError::WrongTag {
            expected,
            expected_name: tag_name(expected).unwrap_or("?"),
            found: tag,
            found_name,
        });
    }
    if bytes.len() > limits.max_message_bytes {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit: limits.max_message_bytes,
        });
    }
    Ok(bytes.get(4..).unwrap_or_default())
}
