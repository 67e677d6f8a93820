//! gRPC over HTTP/2 (the gRPC "PROTOCOL-HTTP2" spec): length-prefixed messages in DATA,
//! status in trailers.

use std::borrow::Cow;
use std::io::Read;

/// Length of a message prefix: compressed flag and 4-byte length.
const PREFIX: usize = 5;

/// Whether a `content-type` value is gRPC's (`application/grpc`, `+proto`, `+json`, ...).
pub(crate) fn is_grpc(content_type: &[u8]) -> bool {
    content_type
        .get(..16)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"application/grpc"))
}

/// One message read out of a direction's DATA.
#[derive(Debug)]
pub(crate) struct Framed<'a> {
    pub(crate) len: u32,
    pub(crate) compressed: bool,
    /// The bytes, when the message fit the cap.
    pub(crate) data: Option<&'a [u8]>,
}

/// Reads the length-prefixed messages of one direction of a call, across DATA frames.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    prefix: [u8; PREFIX],
    have: usize,
    /// Bytes of the current message still to come (after its prefix).
    remaining: u64,
    /// The current message: kept whole when under the cap.
    buf: Vec<u8>,
    keep: bool,
    /// Broken framing (lost bytes): nothing more is read.
    lost: bool,
}

impl Reader {
    /// Bytes held.
    pub(crate) fn memory(&self) -> usize {
        self.buf.capacity()
    }

    /// Lost bytes in this direction: message boundaries are unknown from here on.
    pub(crate) fn lose(&mut self) {
        self.lost = true;
        self.buf = Vec::new();
    }

    /// Feeds DATA bytes; calls `done` for each message completed, `over` with the length
    /// of each message larger than `max` (reported without its bytes).
    pub(crate) fn feed(
        &mut self,
        mut data: &[u8],
        max: usize,
        done: &mut impl FnMut(Framed<'_>),
        over: &mut impl FnMut(u64),
    ) {
        if self.lost {
            return;
        }
        while !data.is_empty() || (self.have == PREFIX && self.remaining == 0) {
            if self.have < PREFIX {
                let take = (PREFIX - self.have).min(data.len());
                let (head, rest) = data.split_at(take);
                if let Some(slot) = self.prefix.get_mut(self.have..self.have + take) {
                    slot.copy_from_slice(head);
                }
                self.have += take;
                data = rest;
                if self.have < PREFIX {
                    return;
                }
                let [flag, l0, l1, l2, l3] = self.prefix;
                let len = u32::from_be_bytes([l0, l1, l2, l3]);
                let _ = flag;
                self.remaining = u64::from(len);
                self.keep = (len as usize) <= max;
                self.buf.clear();
                if !self.keep {
                    over(u64::from(len));
                }
            }
            let take = usize::try_from(self.remaining)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let (body, rest) = data.split_at(take);
            if self.keep {
                self.buf.extend_from_slice(body);
            }
            self.remaining -= take as u64;
            data = rest;
            if self.remaining == 0 {
                let [flag, l0, l1, l2, l3] = self.prefix;
                done(Framed {
                    len: u32::from_be_bytes([l0, l1, l2, l3]),
                    compressed: flag & 1 != 0,
                    data: self.keep.then_some(&self.buf[..]),
                });
                self.have = 0;
            }
        }
    }
}

/// Gunzips a compressed message into `out`, at most `max` bytes; false when corrupt or
/// over the cap.
pub(crate) fn gunzip(data: &[u8], max: usize, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut d = flate2::read::GzDecoder::new(data).take(max as u64 + 1);
    d.read_to_end(out).is_ok() && out.len() <= max
}

/// Percent-decodes a `grpc-message` value (the spec's percent-encoding of UTF-8).
pub(crate) fn percent_decode(v: &[u8]) -> Cow<'_, [u8]> {
    if !v.contains(&b'%') {
        return Cow::Borrowed(v);
    }
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while let Some(&b) = v.get(i) {
        let pair = (
            v.get(i + 1).copied().and_then(hex),
            v.get(i + 2).copied().and_then(hex),
        );
        match (b, pair) {
            (b'%', (Some(h), Some(l))) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// A protobuf field read without a schema: what `--grpc-raw` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawValue<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: a string, bytes or an embedded message (unknown without a schema).
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

/// One top-level protobuf field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawField<'a> {
    /// Field number.
    pub number: u64,
    /// Wire type (0, 1, 2 or 5).
    pub wire_type: u8,
    /// Value.
    pub value: RawValue<'a>,
}

fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The top-level fields of a protobuf message, without a schema. Stops (returning what it
/// read and `false`) at the first field that does not parse: the bytes may not be protobuf.
pub fn raw_fields(msg: &[u8]) -> (Vec<RawField<'_>>, bool) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < msg.len() {
        let Some(key) = varint(msg, &mut pos) else {
            return (out, false);
        };
        let number = key >> 3;
        let wire_type = (key & 7) as u8;
        let value = match wire_type {
            0 => varint(msg, &mut pos).map(RawValue::Varint),
            1 => msg.get(pos..pos + 8).map(|b| {
                pos += 8;
                RawValue::Fixed64(u64::from_le_bytes(b.try_into().unwrap_or_default()))
            }),
            2 => varint(msg, &mut pos)
                .and_then(|len| usize::try_from(len).ok())
                .and_then(|len| {
                    let b = msg.get(pos..pos.checked_add(len)?)?;
                    pos += len;
                    Some(RawValue::Bytes(b))
                }),
            5 => msg.get(pos..pos + 4).map(|b| {
                pos += 4;
                RawValue::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or_default()))
            }),
            _ => None,
        };
        match value {
            Some(value) if number > 0 => out.push(RawField {
                number,
                wire_type,
                value,
            }),
            _ => return (out, false),
        }
    }
    (out, true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_across_frames() {
        let mut r = Reader::default();
        let mut got = Vec::new();
        let mut over = Vec::new();
        let bytes = b"\0\0\0\0\x03abc\x01\0\0\0\x00\0\0\0\0\x02xy";
        for chunk in bytes.chunks(2) {
            r.feed(
                chunk,
                2,
                &mut |m| got.push((m.len, m.compressed, m.data.map(<[u8]>::to_vec))),
                &mut |l| over.push(l),
            );
        }
        assert_eq!(
            got,
            [
                (3, false, None),
                (0, true, Some(vec![])),
                (2, false, Some(b"xy".to_vec()))
            ]
        );
        assert_eq!(over, [3]);
    }

    #[test]
    fn raw_protobuf() {
        // 1: varint 150, 2: "hi", 3: fixed32 1
        let (f, ok) = raw_fields(b"\x08\x96\x01\x12\x02hi\x1d\x01\0\0\0");
        assert!(ok);
        assert_eq!(f[0].value, RawValue::Varint(150));
        assert_eq!(f[1].value, RawValue::Bytes(b"hi"));
        assert_eq!(f[2].value, RawValue::Fixed32(1));
        assert!(!raw_fields(b"\x12\x05hi").1);
    }

    #[test]
    fn percent() {
        assert_eq!(&*percent_decode(b"a%20b%zz"), b"a b%zz");
    }
}
