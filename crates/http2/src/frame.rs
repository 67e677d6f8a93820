//! HTTP/2 frames (RFC 9113 section 4 and 6): the 9-byte header and a borrowed view of each
//! frame type's payload. Parsing checks every length once and never copies.

use crate::error::FrameError;

/// Length of the frame header.
pub const HEADER_LEN: usize = 9;
/// The largest frame payload any peer may allow (2^24 - 1, section 4.2).
pub const MAX_FRAME_SIZE_LIMIT: u32 = (1 << 24) - 1;
/// SETTINGS_MAX_FRAME_SIZE before a peer's SETTINGS (section 6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;

/// Byte ranges of the header fields.
mod field {
    use std::ops::Range;
    pub(super) const LENGTH: Range<usize> = 0..3;
    pub(super) const TYPE: usize = 3;
    pub(super) const FLAGS: usize = 4;
    pub(super) const STREAM: Range<usize> = 5..9;
}

/// Frame flags (section 6).
pub mod flags {
    /// DATA, HEADERS: the sender's last frame on the stream.
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING: an acknowledgement.
    pub const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the header block ends here.
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE: a Pad Length byte and padding.
    pub const PADDED: u8 = 0x8;
    /// HEADERS: exclusive flag, stream dependency and weight.
    pub const PRIORITY: u8 = 0x20;
}

/// Frame types of RFC 9113, and the rest as `Unknown` (ignored, as section 4.1 asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameType {
    /// 0x0
    Data,
    /// 0x1
    Headers,
    /// 0x2
    Priority,
    /// 0x3
    RstStream,
    /// 0x4
    Settings,
    /// 0x5
    PushPromise,
    /// 0x6
    Ping,
    /// 0x7
    GoAway,
    /// 0x8
    WindowUpdate,
    /// 0x9
    Continuation,
    /// Any other type.
    Unknown(u8),
}

impl FrameType {
    /// The type of the octet on the wire.
    pub fn from_u8(t: u8) -> FrameType {
        match t {
            0 => FrameType::Data,
            1 => FrameType::Headers,
            2 => FrameType::Priority,
            3 => FrameType::RstStream,
            4 => FrameType::Settings,
            5 => FrameType::PushPromise,
            6 => FrameType::Ping,
            7 => FrameType::GoAway,
            8 => FrameType::WindowUpdate,
            9 => FrameType::Continuation,
            t => FrameType::Unknown(t),
        }
    }

    /// The octet on the wire.
    pub fn to_u8(self) -> u8 {
        match self {
            FrameType::Data => 0,
            FrameType::Headers => 1,
            FrameType::Priority => 2,
            FrameType::RstStream => 3,
            FrameType::Settings => 4,
            FrameType::PushPromise => 5,
            FrameType::Ping => 6,
            FrameType::GoAway => 7,
            FrameType::WindowUpdate => 8,
            FrameType::Continuation => 9,
            FrameType::Unknown(t) => t,
        }
    }

    /// The RFC's name, e.g. `RST_STREAM`.
    pub fn name(self) -> &'static str {
        match self {
            FrameType::Data => "DATA",
            FrameType::Headers => "HEADERS",
            FrameType::Priority => "PRIORITY",
            FrameType::RstStream => "RST_STREAM",
            FrameType::Settings => "SETTINGS",
            FrameType::PushPromise => "PUSH_PROMISE",
            FrameType::Ping => "PING",
            FrameType::GoAway => "GOAWAY",
            FrameType::WindowUpdate => "WINDOW_UPDATE",
            FrameType::Continuation => "CONTINUATION",
            FrameType::Unknown(_) => "unknown",
        }
    }
}

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length.
    pub len: u32,
    /// Frame type.
    pub kind: FrameType,
    /// Flags octet.
    pub flags: u8,
    /// Stream identifier (the reserved bit cleared).
    pub stream: u32,
}

impl FrameHeader {
    /// Parses the first [`HEADER_LEN`] bytes; `None` when there are fewer.
    pub fn parse(bytes: &[u8]) -> Option<FrameHeader> {
        let h = bytes.get(..HEADER_LEN)?;
        let len = h
            .get(field::LENGTH)?
            .iter()
            .fold(0u32, |a, &b| (a << 8) | u32::from(b));
        let stream = u32_at(h.get(field::STREAM)?)? & 0x7fff_ffff;
        Some(FrameHeader {
            len,
            kind: FrameType::from_u8(*h.get(field::TYPE)?),
            flags: *h.get(field::FLAGS)?,
            stream,
        })
    }

    /// True when `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Whether this header could start a frame of a live connection allowing frames of up
    /// to `max_len` bytes: a known type, only that type's flags, and a stream identifier
    /// the type allows. What resynchronisation after lost bytes looks for.
    pub fn plausible(&self, max_len: u32) -> bool {
        use FrameType as T;
        use flags::*;
        if self.len > max_len {
            return false;
        }
        let (allowed, on_stream) = match self.kind {
            T::Data => (END_STREAM | PADDED, true),
            T::Headers => (END_STREAM | END_HEADERS | PADDED | PRIORITY, true),
            T::Priority => (0, true),
            T::RstStream => (0, true),
            T::Settings => (ACK, false),
            T::PushPromise => (END_HEADERS | PADDED, true),
            T::Ping => (ACK, false),
            T::GoAway => (0, false),
            T::WindowUpdate => (0, self.stream != 0),
            T::Continuation => (END_HEADERS, true),
            T::Unknown(_) => return false,
        };
        let fixed_ok = match self.kind {
            T::Priority => self.len == 5,
            T::RstStream | T::WindowUpdate => self.len == 4,
            T::Ping => self.len == 8,
            T::Settings => self.len % 6 == 0,
            T::GoAway => self.len >= 8,
            _ => true,
        };
        self.flags & !allowed == 0 && (self.stream != 0) == on_stream && fixed_ok
    }
}

fn u32_at(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// HEADERS' priority fields (deprecated by RFC 9113, still sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    /// Exclusive flag.
    pub exclusive: bool,
    /// Stream it depends on.
    pub dependency: u32,
    /// Weight minus one, as sent.
    pub weight: u8,
}

impl Priority {
    fn parse(b: &[u8]) -> Option<Priority> {
        let d = u32_at(b)?;
        Some(Priority {
            exclusive: d & 0x8000_0000 != 0,
            dependency: d & 0x7fff_ffff,
            weight: *b.get(4)?,
        })
    }
}

/// SETTINGS parameters (section 6.5.2).
pub mod setting {
    /// SETTINGS_HEADER_TABLE_SIZE
    pub const HEADER_TABLE_SIZE: u16 = 1;
    /// SETTINGS_ENABLE_PUSH
    pub const ENABLE_PUSH: u16 = 2;
    /// SETTINGS_MAX_CONCURRENT_STREAMS
    pub const MAX_CONCURRENT_STREAMS: u16 = 3;
    /// SETTINGS_INITIAL_WINDOW_SIZE
    pub const INITIAL_WINDOW_SIZE: u16 = 4;
    /// SETTINGS_MAX_FRAME_SIZE
    pub const MAX_FRAME_SIZE: u16 = 5;
    /// SETTINGS_MAX_HEADER_LIST_SIZE
    pub const MAX_HEADER_LIST_SIZE: u16 = 6;
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441)
    pub const ENABLE_CONNECT_PROTOCOL: u16 = 8;
}

/// The parameters of a SETTINGS frame, borrowed: `(identifier, value)` pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings<'a> {
    raw: &'a [u8],
}

impl<'a> Settings<'a> {
    /// Settings over `raw` (a multiple of 6 bytes; a trailing partial entry is ignored).
    pub fn new(raw: &'a [u8]) -> Self {
        Settings { raw }
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u32)> + 'a {
        self.raw.chunks_exact(6).filter_map(|c| {
            let id = u16::from_be_bytes([*c.first()?, *c.get(1)?]);
            Some((id, u32_at(c.get(2..)?)?))
        })
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.raw.len() / 6
    }

    /// True without pairs (an ACK).
    pub fn is_empty(&self) -> bool {
        self.raw.len() < 6
    }
}

/// One frame's payload, borrowed, padding removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame<'a> {
    /// DATA
    Data {
        /// Data, without padding.
        data: &'a [u8],
        /// Padding bytes (with the Pad Length byte), for flow-control counts.
        padding: usize,
    },
    /// HEADERS
    Headers {
        /// Priority fields, with the PRIORITY flag.
        priority: Option<Priority>,
        /// Header block fragment.
        fragment: &'a [u8],
    },
    /// PRIORITY
    Priority(Priority),
    /// RST_STREAM
    RstStream {
        /// Error code.
        code: u32,
    },
    /// SETTINGS
    Settings(Settings<'a>),
    /// PUSH_PROMISE
    PushPromise {
        /// The stream the server reserves.
        promised: u32,
        /// Header block fragment (the promised request).
        fragment: &'a [u8],
    },
    /// PING
    Ping {
        /// Opaque data.
        data: [u8; 8],
    },
    /// GOAWAY
    GoAway {
        /// Highest stream the sender may have processed.
        last_stream: u32,
        /// Error code.
        code: u32,
        /// Additional debug data.
        debug: &'a [u8],
    },
    /// WINDOW_UPDATE
    WindowUpdate {
        /// Window size increment.
        increment: u32,
    },
    /// CONTINUATION
    Continuation {
        /// Header block fragment.
        fragment: &'a [u8],
    },
    /// A type RFC 9113 does not define (ignored).
    Unknown {
        /// The type octet.
        kind: u8,
        /// The payload.
        payload: &'a [u8],
    },
}

/// Strips the Pad Length byte and padding when `padded`; returns the rest and the padding
/// size (Pad Length byte included).
fn unpad<'a>(
    frame: &'static str,
    padded: bool,
    payload: &'a [u8],
) -> Result<(&'a [u8], usize), FrameError> {
    if !padded {
        return Ok((payload, 0));
    }
    let len = payload.len();
    let Some((&pad, rest)) = payload.split_first() else {
        return Err(FrameError::Size {
            frame,
            len,
            expected: 1,
        });
    };
    let keep = rest
        .len()
        .checked_sub(usize::from(pad))
        .ok_or(FrameError::Padding { frame, pad, len })?;
    Ok((
        rest.get(..keep).unwrap_or_default(),
        usize::from(pad).saturating_add(1),
    ))
}

impl<'a> Frame<'a> {
    /// Parses the payload of a frame with header `h`.
    pub fn parse(h: &FrameHeader, payload: &'a [u8]) -> Result<Frame<'a>, FrameError> {
        use FrameType as T;
        let frame = h.kind.name();
        let len = payload.len();
        let size = |expected: usize| FrameError::Size {
            frame,
            len,
            expected,
        };
        let stream_frame = !matches!(h.kind, T::Settings | T::Ping | T::GoAway | T::WindowUpdate);
        if stream_frame && !matches!(h.kind, T::Unknown(_)) && h.stream == 0 {
            return Err(FrameError::StreamId {
                frame,
                stream: h.stream,
            });
        }
        if matches!(h.kind, T::Settings | T::Ping | T::GoAway) && h.stream != 0 {
            return Err(FrameError::StreamId {
                frame,
                stream: h.stream,
            });
        }
        Ok(match h.kind {
            T::Data => {
                let (data, padding) = unpad(frame, h.has(flags::PADDED), payload)?;
                Frame::Data { data, padding }
            }
            T::Headers => {
                let (mut rest, _) = unpad(frame, h.has(flags::PADDED), payload)?;
                let priority = if h.has(flags::PRIORITY) {
                    let p = Priority::parse(rest).ok_or(size(5))?;
                    rest = rest.get(5..).unwrap_or_default();
                    Some(p)
                } else {
                    None
                };
                Frame::Headers {
                    priority,
                    fragment: rest,
                }
            }
            T::Priority => {
                if len != 5 {
                    return Err(size(5));
                }
                Frame::Priority(Priority::parse(payload).ok_or(size(5))?)
            }
            T::RstStream => {
                if len != 4 {
                    return Err(size(4));
                }
                Frame::RstStream {
                    code: u32_at(payload).ok_or(size(4))?,
                }
            }
            T::Settings => {
                if len % 6 != 0 || (h.has(flags::ACK) && len != 0) {
                    return Err(size(len - len % 6));
                }
                Frame::Settings(Settings::new(payload))
            }
            T::PushPromise => {
                let (rest, _) = unpad(frame, h.has(flags::PADDED), payload)?;
                let promised = u32_at(rest).ok_or(size(4))? & 0x7fff_ffff;
                Frame::PushPromise {
                    promised,
                    fragment: rest.get(4..).unwrap_or_default(),
                }
            }
            T::Ping => Frame::Ping {
                data: payload.try_into().map_err(|_| size(8))?,
            },
            T::GoAway => {
                let last_stream = u32_at(payload).ok_or(size(8))? & 0x7fff_ffff;
                let code = payload.get(4..).and_then(u32_at).ok_or(size(8))?;
                Frame::GoAway {
                    last_stream,
                    code,
                    debug: payload.get(8..).unwrap_or_default(),
                }
            }
            T::WindowUpdate => {
                if len != 4 {
                    return Err(size(4));
                }
                Frame::WindowUpdate {
                    increment: u32_at(payload).ok_or(size(4))? & 0x7fff_ffff,
                }
            }
            T::Continuation => Frame::Continuation { fragment: payload },
            T::Unknown(kind) => Frame::Unknown { kind, payload },
        })
    }
}

/// The name of an HTTP/2 error code (section 7), e.g. `CANCEL`; `None` for codes RFC 9113
/// does not define.
pub fn error_code_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut v = len.to_be_bytes()[1..].to_vec();
        v.push(kind);
        v.push(flags);
        v.extend_from_slice(&stream.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn parse(bytes: &[u8]) -> Result<Frame<'_>, FrameError> {
        let h = FrameHeader::parse(bytes).unwrap();
        Frame::parse(&h, &bytes[HEADER_LEN..])
    }

    #[test]
    fn header_fields() {
        let b = frame(1, 0x25, 0x8000_0003, b"abc");
        let h = FrameHeader::parse(&b).unwrap();
        assert_eq!(
            h,
            FrameHeader {
                len: 3,
                kind: FrameType::Headers,
                flags: 0x25,
                stream: 3
            }
        );
        for n in 0..HEADER_LEN {
            assert_eq!(FrameHeader::parse(&b[..n]), None);
        }
    }

    #[test]
    fn data_padding() {
        let b = frame(0, flags::PADDED, 1, b"\x03helloXYZ");
        assert_eq!(
            parse(&b).unwrap(),
            Frame::Data {
                data: b"hello",
                padding: 4
            }
        );
        let b = frame(0, flags::PADDED, 1, b"\x09hello");
        assert!(matches!(parse(&b), Err(FrameError::Padding { pad: 9, .. })));
        let b = frame(0, flags::PADDED, 1, b"");
        assert!(parse(&b).is_err());
    }

    #[test]
    fn headers_priority_and_padding() {
        let b = frame(
            1,
            flags::PADDED | flags::PRIORITY | flags::END_HEADERS,
            5,
            b"\x02\x80\x00\x00\x03\x0f\x82\x84\x00\x00",
        );
        assert_eq!(
            parse(&b).unwrap(),
            Frame::Headers {
                priority: Some(Priority {
                    exclusive: true,
                    dependency: 3,
                    weight: 15
                }),
                fragment: b"\x82\x84",
            }
        );
    }

    #[test]
    fn fixed_size_frames() {
        assert_eq!(
            parse(&frame(3, 0, 1, &8u32.to_be_bytes())).unwrap(),
            Frame::RstStream { code: 8 }
        );
        assert!(parse(&frame(3, 0, 1, b"\0\0\0")).is_err());
        assert!(parse(&frame(3, 0, 0, b"\0\0\0\x08")).is_err());
        assert_eq!(
            parse(&frame(6, 1, 0, b"12345678")).unwrap(),
            Frame::Ping { data: *b"12345678" }
        );
        assert!(parse(&frame(6, 0, 0, b"1234567")).is_err());
        assert_eq!(
            parse(&frame(8, 0, 0, &[0x80, 0, 1, 0])).unwrap(),
            Frame::WindowUpdate { increment: 256 }
        );
        assert!(parse(&frame(2, 0, 3, b"\0\0\0\x01\x10")).is_ok());
        let b = frame(7, 0, 0, b"\0\0\0\x05\0\0\0\x0bcalm");
        assert_eq!(
            parse(&b).unwrap(),
            Frame::GoAway {
                last_stream: 5,
                code: 11,
                debug: b"calm"
            }
        );
        assert_eq!(error_code_name(11), Some("ENHANCE_YOUR_CALM"));
    }

    #[test]
    fn settings_and_unknown() {
        let b = frame(4, 0, 0, b"\0\x01\0\0\x10\0\0\x05\0\0\x40\0");
        let Frame::Settings(s) = parse(&b).unwrap() else {
            panic!()
        };
        assert_eq!(s.iter().collect::<Vec<_>>(), [(1, 4096), (5, 16384)]);
        assert!(parse(&frame(4, 0, 0, b"\0\x01\0")).is_err());
        assert!(parse(&frame(4, 1, 0, b"\0\x01\0\0\x10\0")).is_err());
        assert_eq!(
            parse(&frame(0xbb, 0xff, 0, b"x")).unwrap(),
            Frame::Unknown {
                kind: 0xbb,
                payload: b"x"
            }
        );
        let b = frame(5, 4, 1, b"\0\0\0\x02\x82");
        assert_eq!(
            parse(&b).unwrap(),
            Frame::PushPromise {
                promised: 2,
                fragment: b"\x82"
            }
        );
    }

    #[test]
    fn plausibility() {
        let h = |b: Vec<u8>| FrameHeader::parse(&b).unwrap();
        assert!(h(frame(0, 1, 1, b"")).plausible(16384));
        assert!(!h(frame(0, 0x40, 1, b"")).plausible(16384));
        assert!(!h(frame(4, 0, 1, b"")).plausible(16384));
        assert!(!h(frame(0x0c, 0, 1, b"")).plausible(16384));
    }
}
