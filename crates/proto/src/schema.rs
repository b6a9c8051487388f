//! Wire-level checks against the schema, giving a precise reason for non-canonical input.
//!
//! [`check_wire`] walks the protobuf encoding of a message once, front to back, against the
//! schema of `proto/` (decoded lazily, once, from [`crate::FILE_DESCRIPTOR_SET`]), and reports
//! the first rule the bytes break. It allocates nothing and keeps no per-field state beyond the
//! previous field number; nested messages are walked recursively in the same pass.
//!
//! # What is checked, in order
//!
//! For every field, in byte order (so the error is always the first fault in the input):
//!
//! 1. the **key** is a well-formed varint: it must not run past the end
//!    ([`DecodeError::Truncated`]), must fit in 64 bits ([`DecodeError::VarintOverflow`]) and
//!    must be minimal, i.e. not end in a `0x00` continuation byte
//!    ([`DecodeError::NonMinimalVarint`]);
//! 2. the key's field number is not 0 ([`DecodeError::TrailingBytes`], see below);
//! 3. the field number is in the message's schema ([`DecodeError::UnknownField`]);
//! 4. the wire type is the one of the field's type ([`DecodeError::WrongWireType`]); repeated
//!    numeric fields accept both the packed (length-delimited) and the plain form;
//! 5. the field number is greater than the previous field's ([`DecodeError::FieldOutOfOrder`]),
//!    or equal to it only for a repeated field ([`DecodeError::DuplicateField`]); a non-repeated
//!    field repeated after other fields is therefore reported as out of order;
//! 6. the value is well formed: varints as for keys, lengths as for keys and not running past
//!    the end, fixed-width values complete ([`DecodeError::Truncated`]);
//! 7. a nested message is no deeper than the limit ([`DecodeError::TooDeep`]; the top-level
//!    message is depth 0, its message fields depth 1, ...) and is walked by these same rules.
//!
//! **Trailing bytes.** Protobuf has no terminator: bytes after the last field of a message can
//! only be told apart from a next field when they cannot start one. Field number 0 is reserved
//! and never valid, so a key with field number 0 (any byte `0x00`–`0x07` where a key is
//! expected, the shape of zero padding) is reported as [`DecodeError::TrailingBytes`], at the top
//! level and inside nested messages alike. Any other extra bytes are read as a further field and
//! fail by the rules above (typically as an unknown field or a truncation).
//!
//! What this walk does not see is left to the later steps of [`crate::CanonicalMessage`]
//! decoding: prost's own checks such as UTF-8 in strings ([`DecodeError::InvalidProtobuf`]), and
//! the final re-encoding comparison ([`DecodeError::NonCanonical`]), which catches default values
//! written explicitly, unpacked repeated scalars, two members of one oneof, an out-of-range
//! `bool`, `int32` or `uint32` varint, and anything else whose value survives but whose bytes
//! differ from the one encoding.
//!
//! All offsets are byte offsets into the protobuf body, i.e. the canonical bytes after their
//! 4-byte type tag.

use std::sync::OnceLock;

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};

use crate::tag::TAGGED;
use crate::{DecodeError, Result, TypeTag};

/// The package whose messages are looked up by their short name.
const PACKAGE: &str = "switchyard.v1";

/// Protobuf wire types.
const WIRE_VARINT: u8 = 0;
const WIRE_FIXED64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_FIXED32: u8 = 5;

/// The embedded schema, decoded on first use; `Err` holds why it could not be.
static SCHEMA: OnceLock<std::result::Result<Schema, String>> = OnceLock::new();

/// Walks the protobuf wire format of `body`, an encoded top-level message of kind `tag`, and
/// reports the first rule it breaks (see the module docs). `max_depth` is the deepest nesting
/// of messages allowed, the top level being 0.
pub(crate) fn check_wire(tag: TypeTag, body: &[u8], max_depth: usize) -> Result<()> {
    let schema = schema()?;
    let index = schema.top_level(tag)?;
    Walker { schema, max_depth }.walk(index, body, 0, 0)
}

/// Counts the top-level occurrences of field `number` in `body`. Meant for bytes that already
/// passed [`check_wire`]; on malformed bytes it stops early and returns the count so far.
pub(crate) fn count_field(body: &[u8], number: u64) -> usize {
    let mut pos = 0;
    let mut count = 0;
    while pos < body.len() {
        let Ok(key) = read_varint(body, &mut pos, "", 0) else {
            return count;
        };
        if key >> 3 == number {
            count += 1;
        }
        let skipped = match (key & 7) as u8 {
            WIRE_VARINT => read_varint(body, &mut pos, "", 0).map(|_| ()),
            WIRE_FIXED64 => take(body, &mut pos, 8, "", 0).map(|_| ()),
            WIRE_FIXED32 => take(body, &mut pos, 4, "", 0).map(|_| ()),
            WIRE_LEN => read_len(body, &mut pos, "", 0).map(|_| ()),
            _ => return count,
        };
        if skipped.is_err() {
            return count;
        }
    }
    count
}

/// The embedded schema, or the typed error saying why it is unusable.
fn schema() -> Result<&'static Schema> {
    SCHEMA
        .get_or_init(|| Schema::from_descriptor_set(crate::FILE_DESCRIPTOR_SET))
        .as_ref()
        .map_err(|reason| DecodeError::Schema {
            reason: reason.clone(),
        })
}

/// What the walk needs to know of every message of `proto/`.
#[derive(Debug)]
struct Schema {
    /// Every message, nested ones included; fields refer to each other by index.
    messages: Vec<MessageSchema>,
    /// `(name without the package, index)` for the messages of [`PACKAGE`], sorted by name.
    by_name: Vec<(String, usize)>,
    /// `(tag, index)` for the top-level messages ([`TAGGED`]) that the schema has, sorted by
    /// tag: decoding finds its message by comparing integers, not names.
    by_tag: Vec<(TypeTag, usize)>,
}

/// One message: its name and its fields sorted by number.
#[derive(Debug)]
struct MessageSchema {
    /// Name without the package (`"Transaction"`, `"PendingTransaction.Create"`).
    name: String,
    /// Fields, sorted by field number.
    fields: Vec<FieldSchema>,
}

/// One field of a message.
#[derive(Debug, Clone, Copy)]
struct FieldSchema {
    number: u32,
    repeated: bool,
    kind: Kind,
}

/// A field's type, as far as the wire format tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Varint scalars: integers, `bool`, enums.
    Varint,
    /// 8-byte scalars: `fixed64`, `sfixed64`, `double`.
    Fixed64,
    /// 4-byte scalars: `fixed32`, `sfixed32`, `float`.
    Fixed32,
    /// `string` and `bytes`.
    Bytes,
    /// A message, by its index in [`Schema::messages`].
    Message(usize),
}

impl Kind {
    /// The wire type of one value of this kind.
    fn wire_type(self) -> u8 {
        match self {
            Kind::Varint => WIRE_VARINT,
            Kind::Fixed64 => WIRE_FIXED64,
            Kind::Fixed32 => WIRE_FIXED32,
            Kind::Bytes | Kind::Message(_) => WIRE_LEN,
        }
    }
}

impl FieldSchema {
    /// Whether the field is a repeated numeric one, which may come packed.
    fn packable(&self) -> bool {
        self.repeated && matches!(self.kind, Kind::Varint | Kind::Fixed64 | Kind::Fixed32)
    }

    /// The wire type the canonical (prost) encoding uses for this field.
    fn canonical_wire_type(&self) -> u8 {
        if self.packable() {
            WIRE_LEN
        } else {
            self.kind.wire_type()
        }
    }
}

impl Schema {
    /// Builds the schema from an encoded `FileDescriptorSet`.
    fn from_descriptor_set(bytes: &[u8]) -> std::result::Result<Schema, String> {
        let set = FileDescriptorSet::decode(bytes)
            .map_err(|e| format!("descriptor set does not decode: {e}"))?;
        // First pass: number every message by its full name (".pkg.Outer.Inner").
        let mut names: Vec<(String, String)> = Vec::new(); // (full name, name without package)
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                collect_names(message, package, "", &mut names);
            }
        }
        let mut by_full_name: Vec<(&str, usize)> = names
            .iter()
            .enumerate()
            .map(|(i, (full, _))| (full.as_str(), i))
            .collect();
        by_full_name.sort_unstable();
        let twice = by_full_name.windows(2).find_map(|pair| match pair {
            [a, b] if a.0 == b.0 => Some(a.0),
            _ => None,
        });
        if let Some(full_name) = twice {
            return Err(format!("message {full_name} is defined twice"));
        }
        // Second pass: the fields, in the same order as the names.
        let mut messages = Vec::with_capacity(names.len());
        for file in &set.file {
            for message in &file.message_type {
                collect_fields(message, &by_full_name, &names, &mut messages)?;
            }
        }
        let in_package = |full: &str| {
            full.strip_prefix('.')
                .and_then(|f| f.strip_prefix(PACKAGE))
                .is_some_and(|rest| rest.starts_with('.'))
        };
        let mut by_name: Vec<(String, usize)> = names
            .iter()
            .enumerate()
            .filter(|(_, (full, _))| in_package(full))
            .map(|(i, (_, short))| (short.clone(), i))
            .collect();
        by_name.sort_unstable();
        let mut schema = Schema {
            messages,
            by_name,
            by_tag: Vec::new(),
        };
        schema.by_tag = TAGGED
            .iter()
            .filter_map(|(tag, name)| schema.lookup(name).ok().map(|index| (*tag, index)))
            .collect();
        schema.by_tag.sort_unstable();
        Ok(schema)
    }

    /// The index of the top-level message of kind `tag`.
    fn top_level(&self, tag: TypeTag) -> Result<usize> {
        self.by_tag
            .binary_search_by_key(&tag, |(t, _)| *t)
            .ok()
            .and_then(|i| self.by_tag.get(i))
            .map(|(_, index)| *index)
            .ok_or_else(|| DecodeError::Schema {
                reason: format!("no message of package {PACKAGE} has tag {tag}"),
            })
    }

    /// The index of message `name` of [`PACKAGE`].
    fn lookup(&self, name: &str) -> Result<usize> {
        self.by_name
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .and_then(|i| self.by_name.get(i))
            .map(|(_, index)| *index)
            .ok_or_else(|| DecodeError::Schema {
                reason: format!("message {name} is not in package {PACKAGE}"),
            })
    }
}

/// Appends the names of `message` and its nested messages, depth first.
fn collect_names(
    message: &DescriptorProto,
    package: &str,
    outer: &str,
    names: &mut Vec<(String, String)>,
) {
    let short = if outer.is_empty() {
        message.name().to_owned()
    } else {
        format!("{outer}.{}", message.name())
    };
    let full = if package.is_empty() {
        format!(".{short}")
    } else {
        format!(".{package}.{short}")
    };
    names.push((full, short.clone()));
    for nested in &message.nested_type {
        collect_names(nested, package, &short, names);
    }
}

/// Appends the schemas of `message` and its nested messages, in [`collect_names`] order.
fn collect_fields(
    message: &DescriptorProto,
    by_full_name: &[(&str, usize)],
    names: &[(String, String)],
    messages: &mut Vec<MessageSchema>,
) -> std::result::Result<(), String> {
    let index = messages.len();
    let name = names
        .get(index)
        .map(|(_, short)| short.clone())
        .unwrap_or_default();
    let mut fields = Vec::with_capacity(message.field.len());
    for field in &message.field {
        let number = u32::try_from(field.number())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                format!(
                    "field {} of {name} has number {}",
                    field.name(),
                    field.number()
                )
            })?;
        let ty = Type::try_from(field.r#type.unwrap_or_default()).map_err(|_| {
            format!(
                "field {number} of {name} has unknown type {:?}",
                field.r#type
            )
        })?;
        let kind = match ty {
            Type::Int64
            | Type::Uint64
            | Type::Int32
            | Type::Bool
            | Type::Uint32
            | Type::Enum
            | Type::Sint32
            | Type::Sint64 => Kind::Varint,
            Type::Double | Type::Fixed64 | Type::Sfixed64 => Kind::Fixed64,
            Type::Float | Type::Fixed32 | Type::Sfixed32 => Kind::Fixed32,
            Type::String | Type::Bytes => Kind::Bytes,
            Type::Message => {
                let type_name = field.type_name();
                let target = by_full_name
                    .binary_search_by(|(n, _)| (*n).cmp(type_name))
                    .ok()
                    .and_then(|i| by_full_name.get(i))
                    .map(|(_, i)| *i)
                    .ok_or_else(|| {
                        format!("field {number} of {name} has unresolved type {type_name}")
                    })?;
                Kind::Message(target)
            }
            Type::Group => return Err(format!("field {number} of {name} is a group")),
        };
        let repeated = field.label() == Label::Repeated;
        fields.push(FieldSchema {
            number,
            repeated,
            kind,
        });
    }
    fields.sort_unstable_by_key(|f| f.number);
    let twice = fields.windows(2).find_map(|pair| match pair {
        [a, b] if a.number == b.number => Some(a.number),
        _ => None,
    });
    if let Some(number) = twice {
        return Err(format!("field number {number} of {name} is used twice"));
    }
    messages.push(MessageSchema { name, fields });
    for nested in &message.nested_type {
        collect_fields(nested, by_full_name, names, messages)?;
    }
    Ok(())
}

/// One walk over one message tree.
struct Walker {
    schema: &'static Schema,
    max_depth: usize,
}

impl Walker {
    /// Walks `body`, an encoded message number `index` found at `base` in the top-level body,
    /// nested `depth` levels deep.
    fn walk(&self, index: usize, body: &[u8], base: usize, depth: usize) -> Result<()> {
        let Some(message) = self.schema.messages.get(index) else {
            return Err(DecodeError::Schema {
                reason: format!("no message number {index}"),
            });
        };
        let name = message.name.as_str();
        let mut pos = 0;
        let mut previous: u32 = 0;
        while pos < body.len() {
            let key_at = base + pos;
            let key = read_varint(body, &mut pos, name, base)?;
            let number = key >> 3;
            let wire = (key & 7) as u8;
            if number == 0 {
                return Err(DecodeError::TrailingBytes {
                    message: name,
                    offset: key_at,
                });
            }
            let field = u32::try_from(number)
                .ok()
                .and_then(|n| message.fields.binary_search_by_key(&n, |f| f.number).ok())
                .and_then(|i| message.fields.get(i))
                .ok_or(DecodeError::UnknownField {
                    message: name,
                    field: number,
                    offset: key_at,
                })?;
            let packed = field.packable() && wire == WIRE_LEN;
            if wire != field.kind.wire_type() && !packed {
                return Err(DecodeError::WrongWireType {
                    message: name,
                    field: field.number,
                    expected: field.canonical_wire_type(),
                    found: wire,
                    offset: key_at,
                });
            }
            if field.number < previous {
                return Err(DecodeError::FieldOutOfOrder {
                    message: name,
                    field: field.number,
                    previous,
                    offset: key_at,
                });
            }
            if field.number == previous && !field.repeated {
                return Err(DecodeError::DuplicateField {
                    message: name,
                    field: field.number,
                    offset: key_at,
                });
            }
            previous = field.number;
            match (wire, field.kind) {
                (WIRE_VARINT, _) => {
                    read_varint(body, &mut pos, name, base)?;
                }
                (WIRE_FIXED64, _) => {
                    take(body, &mut pos, 8, name, base)?;
                }
                (WIRE_FIXED32, _) => {
                    take(body, &mut pos, 4, name, base)?;
                }
                (_, Kind::Message(nested)) => {
                    let value_at = pos;
                    let value = read_len(body, &mut pos, name, base)?;
                    if depth >= self.max_depth {
                        let nested_name = self.schema.messages.get(nested).map_or("", |m| &m.name);
                        return Err(DecodeError::TooDeep {
                            message: nested_name,
                            limit: self.max_depth,
                            offset: base + value_at,
                        });
                    }
                    let value_base = base + pos - value.len();
                    self.walk(nested, value, value_base, depth + 1)?;
                }
                (_, kind) => {
                    let value = read_len(body, &mut pos, name, base)?;
                    if packed {
                        let value_base = base + pos - value.len();
                        check_packed(value, kind, name, value_base)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Checks the elements of a packed repeated field.
fn check_packed(value: &[u8], kind: Kind, message: &'static str, base: usize) -> Result<()> {
    let mut pos = 0;
    while pos < value.len() {
        match kind {
            Kind::Fixed64 => take(value, &mut pos, 8, message, base).map(|_| ())?,
            Kind::Fixed32 => take(value, &mut pos, 4, message, base).map(|_| ())?,
            _ => read_varint(value, &mut pos, message, base).map(|_| ())?,
        }
    }
    Ok(())
}

/// Reads a minimal varint of at most 64 bits at `*pos` and moves past it.
fn read_varint(bytes: &[u8], pos: &mut usize, message: &'static str, base: usize) -> Result<u64> {
    let start = *pos;
    let mut value: u64 = 0;
    let mut i = 0;
    loop {
        let Some(&byte) = bytes.get(start + i) else {
            return Err(DecodeError::Truncated {
                message,
                offset: base + start,
            });
        };
        if i == 9 && byte > 1 {
            return Err(DecodeError::VarintOverflow {
                message,
                offset: base + start,
            });
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            if byte == 0 && i > 0 {
                return Err(DecodeError::NonMinimalVarint {
                    message,
                    offset: base + start,
                });
            }
            *pos = start + i + 1;
            return Ok(value);
        }
        i += 1;
    }
}

/// Takes `len` bytes at `*pos` and moves past them.
fn take<'a>(
    bytes: &'a [u8],
    pos: &mut usize,
    len: usize,
    message: &'static str,
    base: usize,
) -> Result<&'a [u8]> {
    let start = *pos;
    let value = start
        .checked_add(len)
        .and_then(|end| bytes.get(start..end))
        .ok_or(DecodeError::Truncated {
            message,
            offset: base + start,
        })?;
    *pos = start + len;
    Ok(value)
}

/// Reads a length prefix and the bytes it covers, and moves past them. A length running past
/// the end is reported at the offset of the length prefix.
fn read_len<'a>(
    bytes: &'a [u8],
    pos: &mut usize,
    message: &'static str,
    base: usize,
) -> Result<&'a [u8]> {
    let len_at = *pos;
    let len = read_varint(bytes, pos, message, base)?;
    let truncated = DecodeError::Truncated {
        message,
        offset: base + len_at,
    };
    let len = usize::try_from(len).map_err(|_| truncated.clone())?;
    take(bytes, pos, len, message, base).map_err(|_| truncated)
}

#[cfg(test)]
mod tests {

    use super::*;

    fn varint(bytes: &[u8]) -> Result<(u64, usize)> {
        let mut pos = 0;
        read_varint(bytes, &mut pos, "M", 10).map(|v| (v, pos))
    }

    #[test]
    fn varints_decode_minimal_forms_only() {
        assert_eq!(varint(&[0x00]), Ok((0, 1)));
        assert_eq!(varint(&[0x7f, 0xff]), Ok((127, 1)));
        assert_eq!(varint(&[0xac, 0x02]), Ok((300, 2)));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&max), Ok((u64::MAX, 10)));
        assert_eq!(
            varint(&[0x80, 0x00]),
            Err(DecodeError::NonMinimalVarint {
                message: "M",
                offset: 10
            })
        );
        assert_eq!(
            varint(&[0xff, 0x80, 0x00]),
            Err(DecodeError::NonMinimalVarint {
                message: "M",
                offset: 10
            })
        );
        assert_eq!(
            varint(&[0x80]),
            Err(DecodeError::Truncated {
                message: "M",
                offset: 10
            })
        );
        assert_eq!(
            varint(&[]),
            Err(DecodeError::Truncated {
                message: "M",
                offset: 10
            })
        );
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(
            varint(&over),
            Err(DecodeError::VarintOverflow {
                message: "M",
                offset: 10
            })
        );
        let long = [0x80; 11];
        assert_eq!(
            varint(&long),
            Err(DecodeError::VarintOverflow {
                message: "M",
                offset: 10
            })
        );
    }

    #[test]
    fn lengths_past_the_end_are_truncations_at_the_prefix() {
        let mut pos = 1;
        let bytes = [0x0a, 0x05, 1, 2, 3];
        assert_eq!(
            read_len(&bytes, &mut pos, "M", 4),
            Err(DecodeError::Truncated {
                message: "M",
                offset: 5
            })
        );
        let mut pos = 1;
        let huge = [
            0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(
            read_len(&huge, &mut pos, "M", 0),
            Err(DecodeError::Truncated {
                message: "M",
                offset: 1
            })
        );
    }

    #[test]
    fn embedded_schema_knows_every_message() {
        let schema = schema().unwrap();
        for name in [
            "MessageBundle",
            "Transaction",
            "PendingTransaction.Create",
            "U128",
            "Auth",
        ] {
            schema.lookup(name).unwrap();
        }
        assert!(matches!(
            schema.lookup("Nope"),
            Err(DecodeError::Schema { .. })
        ));
        let bundle = &schema.messages[schema.lookup("MessageBundle").unwrap()];
        assert_eq!(bundle.fields.len(), 2);
        assert!(bundle.fields[0].repeated);
        let request = schema.lookup("MessageRequest").unwrap();
        assert_eq!(bundle.fields[0].kind, Kind::Message(request));
        // Every top-level kind is found by its tag, as the message of its name.
        for (tag, name) in TAGGED {
            assert_eq!(
                schema.top_level(*tag).unwrap(),
                schema.lookup(name).unwrap(),
                "{name}"
            );
        }
        assert!(matches!(
            schema.top_level(TypeTag(0xffff)),
            Err(DecodeError::Schema { .. })
        ));
    }

    #[test]
    fn a_corrupt_schema_is_an_error_not_a_panic() {
        assert!(Schema::from_descriptor_set(&[0xff, 0xff]).is_err());
        // A message whose field refers to a type that does not exist.
        let set = FileDescriptorSet {
            file: vec![prost_types::FileDescriptorProto {
                package: Some(PACKAGE.into()),
                message_type: vec![DescriptorProto {
                    name: Some("A".into()),
                    field: vec![prost_types::FieldDescriptorProto {
                        name: Some("b".into()),
                        number: Some(1),
                        r#type: Some(Type::Message.into()),
                        type_name: Some(".switchyard.v1.Missing".into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let err = Schema::from_descriptor_set(&set.encode_to_vec()).unwrap_err();
        assert!(
            err.contains("unresolved type .switchyard.v1.Missing"),
            "{err}"
        );
    }

    #[test]
    fn count_field_counts_top_level_occurrences() {
        // Field 1 (len 0) three times, then field 2 = 5.
        assert_eq!(
            count_field(&[0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x10, 0x05], 1),
            3
        );
        assert_eq!(count_field(&[0x0a, 0x00, 0x10, 0x05], 2), 1);
        assert_eq!(count_field(&[0x0a, 0x05], 1), 1);
    }
}
