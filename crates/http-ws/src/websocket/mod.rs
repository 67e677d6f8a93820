//! RFC 6455 WebSocket: handshake check, frame parsing, message assembly, permessage-deflate.
//!
//! The frame header is parsed with tungstenite's discipline: bytes are kept (at most 14) until
//! the header is whole, and size limits are checked against the header before any payload is
//! buffered. Only the message being assembled is unmasked; over-cap payloads are skipped.

mod handshake;
mod payload;

use flate2::Decompress;
use pcap_tcp_reassembly::Direction;

use crate::error::{ErrorKind, ProtocolError, WsError};
use crate::event::{HttpEvent, WsControl, WsControlKind, WsFrameInfo, WsMessage, WsPayload};

pub use handshake::{PerMessageDeflate, accept_key};
#[cfg(test)]
use payload::apply_mask;
use payload::{Inflater, append_unmasked, close_code_valid, inflate_masked, utf8_prefix_ok};

/// Longest frame header: 2 + 8 (64-bit length) + 4 (mask key).
const MAX_HEADER: usize = 14;
/// Largest control frame payload (RFC 6455 5.5).
const MAX_CONTROL: u64 = 125;
/// Tail that permessage-deflate strips from each message (RFC 7692 7.2.2).
const DEFLATE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Frame opcodes (RFC 6455 5.2).
mod opcode {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xa;
}

/// Where the payload of the current frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Skip,
    Control,
    Data,
}

#[derive(Debug)]
struct Frame {
    opcode: u8,
    mask: Option<[u8; 4]>,
    remaining: u64,
    /// Payload bytes seen so far (mask index).
    pos: usize,
    fin: bool,
    target: Target,
}

#[derive(Debug)]
struct Message {
    text: bool,
    compressed: bool,
    frames: u32,
    /// Sum of frame payload lengths (wire size).
    wire_len: u64,
    /// Discarded (over cap, bad UTF-8, lost bytes): tracked to its end but not reported.
    discard: bool,
    /// Bytes of `buf` known to be valid UTF-8 (text only).
    utf8_ok: usize,
}

/// Decoder for one direction of a WebSocket connection: frames in (any chunking), the
/// [`HttpEvent::WsFrame`], [`HttpEvent::WsMessage`], [`HttpEvent::WsControl`] and
/// [`HttpEvent::Error`] events out.
///
/// [`crate::HttpSession`] makes two after an HTTP/1.1 upgrade; other decoders that carry
/// WebSocket (HTTP/2 extended CONNECT, RFC 8441) make their own pair.
///
/// ```
/// use pcap_http_ws::{HttpEvent, WsDecoder, WsPayload};
/// use pcap_tcp_reassembly::Direction;
///
/// let mut ws = WsDecoder::new(Direction::ServerToClient, None, 1 << 20, 1 << 20);
/// let mut texts = Vec::new();
/// ws.data(1, 0, b"\x81\x02hi", &mut |ev| {
///     if let HttpEvent::WsMessage(m) = ev {
///         if let WsPayload::Text(t) = m.payload {
///             texts.push(t.to_owned());
///         }
///     }
/// });
/// assert_eq!(texts, ["hi"]);
/// ```
pub struct WsDecoder {
    dir: Direction,
    deflate: Option<Inflater>,
    hdr: [u8; MAX_HEADER],
    hdr_len: usize,
    frame: Option<Frame>,
    msg: Option<Message>,
    buf: Vec<u8>,
    ctrl: Vec<u8>,
    dead: bool,
    max_frame: u64,
    max_message: u64,
}

impl std::fmt::Debug for WsDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsDecoder").field("dir", &self.dir).finish()
    }
}

/// Where and when the bytes being decoded are.
struct Pos {
    ts_ns: i64,
    offset: u64,
}

fn err(dir: Direction, pos: &Pos, e: WsError, sink: &mut impl FnMut(HttpEvent<'_>)) {
    sink(HttpEvent::Error(ProtocolError {
        dir,
        ts_ns: pos.ts_ns,
        offset: pos.offset,
        kind: ErrorKind::WebSocket(e),
    }));
}

impl WsDecoder {
    /// A decoder of the frames sent in direction `dir` (client frames must be masked,
    /// server frames must not), with permessage-deflate as agreed, and caps on one
    /// frame's and one message's payload (checked at the header, before buffering).
    pub fn new(
        dir: Direction,
        deflate: Option<PerMessageDeflate>,
        max_frame: u64,
        max_message: u64,
    ) -> Self {
        let deflate = deflate.map(|p| Inflater {
            d: Decompress::new(false),
            reset_each_message: match dir {
                Direction::ClientToServer => p.client_no_context_takeover,
                Direction::ServerToClient => p.server_no_context_takeover,
            },
        });
        WsDecoder {
            dir,
            deflate,
            hdr: [0; MAX_HEADER],
            hdr_len: 0,
            frame: None,
            msg: None,
            buf: Vec::new(),
            ctrl: Vec::new(),
            dead: false,
            max_frame,
            max_message,
        }
    }

    /// Bytes held, approximately: the struct, the message and control buffers, and the
    /// permessage-deflate inflater (a 32 KiB window plus its state).
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.buf.capacity()
            + self.ctrl.capacity()
            + self
                .deflate
                .as_ref()
                .map_or(0, |_| crate::content::INFLATE_STATE)
    }

    fn is_client(&self) -> bool {
        self.dir == Direction::ClientToServer
    }

    /// Decodes the next bytes of the direction, seen at `ts_ns`; `offset` is the stream
    /// offset of `input[0]` (reported in events).
    pub fn data(
        &mut self,
        ts_ns: i64,
        offset: u64,
        mut input: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let mut pos = Pos { ts_ns, offset };
        while !input.is_empty() && !self.dead {
            let used = if self.frame.is_some() {
                self.payload(&pos, input, sink)
            } else {
                self.header(&pos, input, sink)
            };
            let used = used.min(input.len()).max(1);
            input = input.get(used..).unwrap_or_default();
            pos.offset = pos.offset.saturating_add(used as u64);
        }
    }

    /// Length of the header whose first bytes are in `hdr`, if known yet.
    fn header_need(&self) -> usize {
        let Some(&b1) = self.hdr.get(1) else {
            return 2;
        };
        if self.hdr_len < 2 {
            return 2;
        }
        let ext = match b1 & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
        2 + ext + mask
    }

    fn header(&mut self, pos: &Pos, input: &[u8], sink: &mut impl FnMut(HttpEvent<'_>)) -> usize {
        let mut used = 0;
        loop {
            let need = self.header_need();
            if self.hdr_len >= need {
                break;
            }
            let take = (need - self.hdr_len).min(input.len().saturating_sub(used));
            if take == 0 {
                return used;
            }
            let (Some(dst), Some(src)) = (
                self.hdr.get_mut(self.hdr_len..self.hdr_len + take),
                input.get(used..used + take),
            ) else {
                return used.max(1);
            };
            dst.copy_from_slice(src);
            self.hdr_len += take;
            used += take;
        }
        let start = Pos {
            ts_ns: pos.ts_ns,
            offset: pos
                .offset
                .saturating_add(used as u64)
                .saturating_sub(self.hdr_len as u64),
        };
        self.on_header(&start, sink);
        self.hdr_len = 0;
        if self.frame.as_ref().is_some_and(|f| f.remaining == 0) {
            self.frame_end(&start, sink);
        }
        used
    }

    fn on_header(&mut self, pos: &Pos, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let [b0, b1, rest @ ..] = self.hdr;
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x7;
        let op = b0 & 0x0f;
        let masked = b1 & 0x80 != 0;
        let (len, mask_at) = match b1 & 0x7f {
            126 => (u64::from(u16::from_be_bytes([rest[0], rest[1]])), 2),
            127 => (
                u64::from_be_bytes([
                    rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6], rest[7],
                ]),
                8,
            ),
            n => (u64::from(n), 0),
        };
        let mask = masked.then(|| {
            rest.get(mask_at..mask_at + 4)
                .and_then(|m| <[u8; 4]>::try_from(m).ok())
                .unwrap_or([0; 4])
        });
        sink(HttpEvent::WsFrame(WsFrameInfo {
            dir: self.dir,
            ts_ns: pos.ts_ns,
            offset: pos.offset,
            opcode: op,
            fin,
            rsv1: rsv & 0b100 != 0,
            masked,
            payload_len: len,
        }));
        let dir = self.dir;
        if self.is_client() && !masked {
            err(dir, pos, WsError::UnmaskedFrameFromClient, sink);
        } else if !self.is_client() && masked {
            err(dir, pos, WsError::MaskedFrameFromServer, sink);
        }
        // RSV1 is allowed only on the first frame of a data message with permessage-deflate.
        let rsv1_ok = self.deflate.is_some() && matches!(op, opcode::TEXT | opcode::BINARY);
        let bad_rsv = if rsv1_ok { rsv & 0b011 } else { rsv };
        if bad_rsv != 0 {
            err(
                dir,
                pos,
                WsError::NonZeroReservedBits { bits: bad_rsv },
                sink,
            );
        }
        let mut target = Target::Data;
        match op {
            opcode::CONTINUATION => {
                if self.msg.is_none() {
                    err(dir, pos, WsError::UnexpectedContinuation, sink);
                    target = Target::Skip;
                }
            }
            opcode::TEXT | opcode::BINARY => {
                if self.msg.take().is_some() {
                    err(dir, pos, WsError::ExpectedContinuation, sink);
                }
                self.buf.clear();
                self.msg = Some(Message {
                    text: op == opcode::TEXT,
                    compressed: rsv1_ok && rsv & 0b100 != 0,
                    frames: 0,
                    wire_len: 0,
                    discard: false,
                    utf8_ok: 0,
                });
            }
            opcode::CLOSE | opcode::PING | opcode::PONG => {
                target = Target::Control;
                if !fin {
                    err(dir, pos, WsError::FragmentedControlFrame, sink);
                }
                if len > MAX_CONTROL {
                    err(dir, pos, WsError::ControlFrameTooBig { len }, sink);
                    target = Target::Skip;
                }
                self.ctrl.clear();
            }
            _ => {
                err(dir, pos, WsError::InvalidOpcode(op), sink);
                target = Target::Skip;
            }
        }
        if target != Target::Skip && len > self.max_frame {
            err(
                dir,
                pos,
                WsError::FrameTooBig {
                    size: len,
                    max: self.max_frame,
                },
                sink,
            );
            target = Target::Skip;
            if let Some(m) = self.msg.as_mut() {
                m.discard = true;
            }
        }
        if target == Target::Data {
            if let Some(m) = self.msg.as_mut() {
                m.frames = m.frames.saturating_add(1);
                m.wire_len = m.wire_len.saturating_add(len);
                if !m.discard && m.wire_len > self.max_message {
                    err(
                        dir,
                        pos,
                        WsError::MessageTooBig {
                            max: self.max_message,
                        },
                        sink,
                    );
                    m.discard = true;
                }
                if m.discard {
                    target = Target::Skip;
                }
            }
        }
        if target == Target::Skip && op == opcode::CONTINUATION {
            // The frame still ends the (discarded) message when FIN is set.
            if let Some(m) = self.msg.as_mut() {
                m.discard = true;
            }
        }
        self.frame = Some(Frame {
            opcode: op,
            mask,
            remaining: len,
            pos: 0,
            fin,
            target,
        });
    }

    fn payload(&mut self, pos: &Pos, input: &[u8], sink: &mut impl FnMut(HttpEvent<'_>)) -> usize {
        let Some(frame) = self.frame.as_mut() else {
            return 0;
        };
        let n = usize::try_from(frame.remaining)
            .unwrap_or(usize::MAX)
            .min(input.len());
        let chunk = input.get(..n).unwrap_or_default();
        let mask = frame.mask;
        let mask_pos = frame.pos;
        frame.pos = frame.pos.wrapping_add(n);
        frame.remaining = frame.remaining.saturating_sub(n as u64);
        let done = frame.remaining == 0;
        match frame.target {
            Target::Skip => {}
            Target::Control => append_unmasked(&mut self.ctrl, chunk, mask, mask_pos),
            Target::Data => self.data_payload(pos, chunk, mask, mask_pos, sink),
        }
        if done {
            let end = Pos {
                ts_ns: pos.ts_ns,
                offset: pos.offset.saturating_add(n as u64),
            };
            self.frame_end(&end, sink);
        }
        n
    }

    fn data_payload(
        &mut self,
        pos: &Pos,
        chunk: &[u8],
        mask: Option<[u8; 4]>,
        mask_pos: usize,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let Some(msg) = self.msg.as_mut() else {
            return;
        };
        if msg.discard {
            return;
        }
        let result = if msg.compressed {
            match self.deflate.as_mut() {
                Some(inf) => {
                    inflate_masked(inf, chunk, mask, mask_pos, &mut self.buf, self.max_message)
                }
                None => Err(WsError::Decompression),
            }
        } else {
            append_unmasked(&mut self.buf, chunk, mask, mask_pos);
            Ok(())
        };
        let result = result.and_then(|()| {
            if msg.text && !utf8_prefix_ok(&self.buf, &mut msg.utf8_ok) {
                Err(WsError::InvalidUtf8)
            } else {
                Ok(())
            }
        });
        if let Err(e) = result {
            err(self.dir, pos, e, sink);
            msg.discard = true;
            self.buf.clear();
        }
    }

    fn frame_end(&mut self, pos: &Pos, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let Some(frame) = self.frame.take() else {
            return;
        };
        match frame.target {
            Target::Control => self.control_end(pos, frame.opcode, sink),
            Target::Skip | Target::Data if frame.fin && frame.opcode <= opcode::BINARY => {
                self.message_end(pos, sink);
            }
            _ => {}
        }
    }

    fn control_end(&mut self, pos: &Pos, op: u8, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let dir = self.dir;
        let payload = std::mem::take(&mut self.ctrl);
        let kind = match op {
            opcode::PING => WsControlKind::Ping(&payload),
            opcode::PONG => WsControlKind::Pong(&payload),
            _ => match payload.as_slice() {
                [] => WsControlKind::Close {
                    code: None,
                    reason: "",
                },
                [_] => {
                    err(dir, pos, WsError::InvalidClosePayload, sink);
                    WsControlKind::Close {
                        code: None,
                        reason: "",
                    }
                }
                [hi, lo, reason @ ..] => {
                    let code = u16::from_be_bytes([*hi, *lo]);
                    if !close_code_valid(code) {
                        err(dir, pos, WsError::InvalidCloseCode(code), sink);
                    }
                    let reason = std::str::from_utf8(reason).unwrap_or_else(|_| {
                        err(dir, pos, WsError::InvalidUtf8, sink);
                        ""
                    });
                    WsControlKind::Close {
                        code: Some(code),
                        reason,
                    }
                }
            },
        };
        sink(HttpEvent::WsControl(WsControl {
            dir,
            ts_ns: pos.ts_ns,
            kind,
        }));
        self.ctrl = payload;
        self.ctrl.clear();
    }

    fn message_end(&mut self, pos: &Pos, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let Some(mut msg) = self.msg.take() else {
            return;
        };
        let dir = self.dir;
        if msg.compressed && !msg.discard {
            if let Some(inf) = self.deflate.as_mut() {
                let r =
                    inflate_masked(inf, &DEFLATE_TAIL, None, 0, &mut self.buf, self.max_message);
                let r = r.and_then(|()| {
                    if msg.text && !utf8_prefix_ok(&self.buf, &mut msg.utf8_ok) {
                        Err(WsError::InvalidUtf8)
                    } else {
                        Ok(())
                    }
                });
                if let Err(e) = r {
                    err(dir, pos, e, sink);
                    msg.discard = true;
                }
            }
        }
        if msg.compressed {
            if let Some(inf) = self.deflate.as_mut() {
                if inf.reset_each_message || msg.discard {
                    inf.d.reset(false);
                }
            }
        }
        if !msg.discard {
            let payload = if msg.text {
                match std::str::from_utf8(&self.buf) {
                    Ok(s) => Some(WsPayload::Text(s)),
                    Err(_) => {
                        err(dir, pos, WsError::InvalidUtf8, sink);
                        None
                    }
                }
            } else {
                Some(WsPayload::Binary(&self.buf))
            };
            if let Some(payload) = payload {
                sink(HttpEvent::WsMessage(WsMessage {
                    dir,
                    ts_ns: pos.ts_ns,
                    frames: msg.frames,
                    compressed: msg.compressed,
                    payload,
                }));
            }
        }
        self.buf.clear();
        if self.buf.capacity() > 1 << 20 {
            self.buf.shrink_to(64 * 1024);
        }
    }

    /// `len` bytes at stream offset `offset` were lost: they are skipped inside a payload
    /// (the message is dropped, with an error); between frames, decoding stops.
    pub fn gap(&mut self, ts_ns: i64, offset: u64, len: u64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let pos = Pos { ts_ns, offset };
        if self.dead {
            return;
        }
        if let Some(frame) = self
            .frame
            .as_mut()
            .filter(|f| f.remaining >= len && self.hdr_len == 0)
        {
            frame.remaining -= len;
            frame.pos = frame.pos.wrapping_add(usize::try_from(len).unwrap_or(0));
            let what = match frame.target {
                Target::Control => {
                    frame.target = Target::Skip;
                    "bytes not captured inside a control frame"
                }
                Target::Data => {
                    frame.target = Target::Skip;
                    "bytes not captured inside a message"
                }
                Target::Skip => "bytes not captured inside a skipped frame",
            };
            if let Some(m) = self.msg.as_mut() {
                m.discard = true;
            }
            err(self.dir, &pos, WsError::Truncated { what }, sink);
            if frame.remaining == 0 {
                self.frame_end(&pos, sink);
            }
            return;
        }
        err(
            self.dir,
            &pos,
            WsError::Truncated {
                what: "bytes not captured between frames; direction no longer decoded",
            },
            sink,
        );
        self.dead = true;
    }

    /// The direction ended at stream offset `offset`: an unfinished frame or message is
    /// reported as an error.
    pub fn end(&mut self, ts_ns: i64, offset: u64, sink: &mut impl FnMut(HttpEvent<'_>)) {
        let pos = Pos { ts_ns, offset };
        if self.dead {
            return;
        }
        if self.frame.is_some() || self.hdr_len > 0 {
            err(
                self.dir,
                &pos,
                WsError::Truncated {
                    what: "stream ended inside a frame",
                },
                sink,
            );
        } else if self.msg.is_some() {
            err(
                self.dir,
                &pos,
                WsError::Truncated {
                    what: "stream ended inside a fragmented message",
                },
                sink,
            );
        }
        self.dead = true;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    /// The byte-by-byte reference the word-wise unmasking is checked against.
    fn mask_reference(data: &mut [u8], mask: [u8; 4], pos: usize) {
        for (i, b) in data.iter_mut().enumerate() {
            *b ^= mask[(pos + i) % 4];
        }
    }

    #[test]
    fn fast_mask_matches_reference_for_all_lengths_and_offsets() {
        let mask = [0x6d, 0xb6, 0xb2, 0x80];
        for len in 0..=16 {
            for pos in 0..=3 {
                let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
                let (mut fast, mut slow) = (data.clone(), data);
                apply_mask(&mut fast, mask, pos);
                mask_reference(&mut slow, mask, pos);
                assert_eq!(fast, slow, "len {len} pos {pos}");
            }
        }
    }

    #[test]
    fn accept_key_rfc6455_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn permessage_deflate_parameters() {
        let p = PerMessageDeflate::from_header(
            b"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=\"10\"; server_no_context_takeover",
        )
        .unwrap();
        assert!(p.server_no_context_takeover && !p.client_no_context_takeover);
        assert_eq!(
            (p.client_max_window_bits, p.server_max_window_bits),
            (Some(10), None)
        );
        assert_eq!(PerMessageDeflate::from_header(b"foo; bar"), None);
    }

    #[test]
    fn close_codes() {
        for ok in [1000, 1001, 1003, 1007, 1011, 3000, 4999] {
            assert!(close_code_valid(ok), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
            assert!(!close_code_valid(bad), "{bad}");
        }
    }
}
