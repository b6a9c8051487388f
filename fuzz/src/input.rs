//! How a fuzz input's bytes become targets, messages and frames, and back (for seeds).
//!
//! - A **target** is one byte: below [`RAW_TARGET`] it picks one of the world's known targets
//!   (its index modulo their number), so mutations of a message stay aimed at a domain that
//!   exists; from [`RAW_TARGET`] on, a length byte (modulo 81) and that many raw bytes follow.
//! - A **message** input (`validate`, `lock`, `process`, `query`) is a target, then the
//!   message bytes (the rest of the input).
//! - A **frame** input is a flags byte (bit 0: signatures already verified; bits 1 and 2: the
//!   fee multiplier minus one), then up to [`MAX_FRAME_MESSAGES`] messages, each a target,
//!   a little-endian `u16` length and that many bytes (fewer at the end of the input).

/// The first target byte that starts a raw target.
pub(crate) const RAW_TARGET: u8 = 0xF0;

/// Most messages a fuzzed frame holds.
pub(crate) const MAX_FRAME_MESSAGES: usize = 24;

/// A frame as read from an input, before it is numbered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FrameInput {
    pub(crate) signatures_verified: bool,
    pub(crate) fee_multiplier: u64,
    pub(crate) messages: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Reads an input front to back; a missing byte reads as nothing, never as an error.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(*first)
    }

    fn take(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        taken
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The rest of the input.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.data
    }

    /// A target: a known one by index, or raw bytes.
    pub(crate) fn target(&mut self, known: &[Vec<u8>]) -> Vec<u8> {
        match self.byte() {
            None => Vec::new(),
            Some(index) if index < RAW_TARGET => known
                .get(usize::from(index) % known.len().max(1))
                .cloned()
                .unwrap_or_default(),
            Some(_) => {
                let len = self.byte().map_or(0, |b| usize::from(b) % 81);
                self.take(len).to_vec()
            }
        }
    }

    /// A message of a frame: target, length, bytes.
    fn framed_message(&mut self, known: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
        let target = self.target(known);
        let len = match (self.byte(), self.byte()) {
            (Some(low), Some(high)) => usize::from(u16::from_le_bytes([low, high])),
            _ => 0,
        };
        (target, self.take(len).to_vec())
    }

    /// A whole frame input.
    pub(crate) fn frame(mut self, known: &[Vec<u8>]) -> FrameInput {
        let flags = self.byte().unwrap_or(0);
        let mut messages = Vec::new();
        while !self.is_empty() && messages.len() < MAX_FRAME_MESSAGES {
            messages.push(self.framed_message(known));
        }
        FrameInput {
            signatures_verified: flags & 1 == 1,
            fee_multiplier: 1 + u64::from((flags >> 1) & 3),
            messages,
        }
    }
}

/// Writes inputs in the format [`Reader`] reads (for seeds).
pub(crate) fn write_target(out: &mut Vec<u8>, known: &[Vec<u8>], target: &[u8]) {
    match known.iter().position(|k| k == target) {
        Some(index) if index < usize::from(RAW_TARGET) => out.push(index as u8),
        _ => {
            let len = target.len().min(80);
            out.push(RAW_TARGET);
            out.push(len as u8);
            out.extend_from_slice(target.get(..len).unwrap_or_default());
        }
    }
}

/// A message input: target, then the message.
pub(crate) fn write_message(known: &[Vec<u8>], target: &[u8], message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 2);
    write_target(&mut out, known, target);
    out.extend_from_slice(message);
    out
}

/// A frame input.
pub(crate) fn write_frame(known: &[Vec<u8>], frame: &FrameInput) -> Vec<u8> {
    let multiplier = frame.fee_multiplier.clamp(1, 4) - 1;
    let mut out = vec![u8::from(frame.signatures_verified) | ((multiplier as u8) << 1)];
    for (target, message) in frame.messages.iter().take(MAX_FRAME_MESSAGES) {
        write_target(&mut out, known, target);
        let len = message.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(message.get(..len).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_as_written() {
        let known = vec![vec![1; 32], vec![2; 64]];
        let frame = FrameInput {
            signatures_verified: true,
            fee_multiplier: 3,
            messages: vec![
                (vec![2; 64], b"first".to_vec()),
                (vec![9; 32], Vec::new()),
                (vec![1; 32], vec![7; 300]),
            ],
        };
        let bytes = write_frame(&known, &frame);
        assert_eq!(Reader::new(&bytes).frame(&known), frame);
    }

    #[test]
    fn messages_read_back_as_written() {
        let known = vec![vec![1; 32]];
        for target in [vec![1; 32], vec![5; 64], Vec::new()] {
            let bytes = write_message(&known, &target, b"body");
            let mut reader = Reader::new(&bytes);
            assert_eq!(reader.target(&known), target);
            assert_eq!(reader.rest(), b"body");
        }
    }
}
