//! Content-Encoding decoding (gzip, x-gzip, deflate as zlib or raw, br) with a cap on output.
//!
//! Decoders are push-based (`std::io::Write`), so body bytes go in as they arrive and decoded
//! bytes come out without buffering the compressed body. The output sink refuses bytes over
//! the cap, which stops a decompression bomb after at most `cap` bytes of output.

use std::io::{self, Write};

/// A content coding this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Coding {
    /// `gzip` and `x-gzip`.
    Gzip,
    /// `deflate`, zlib-wrapped or raw.
    Deflate,
    /// `br`.
    Brotli,
}

impl Coding {
    /// Parses a Content-Encoding value; `None` for identity, unknown or stacked codings.
    pub fn from_header(value: &[u8]) -> Option<Coding> {
        let v = trim(value);
        if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") {
            Some(Coding::Gzip)
        } else if v.eq_ignore_ascii_case(b"deflate") {
            Some(Coding::Deflate)
        } else if v.eq_ignore_ascii_case(b"br") {
            Some(Coding::Brotli)
        } else {
            None
        }
    }

    /// The coding's name as in Content-Encoding.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }
}

pub(crate) fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e.saturating_add(1));
    v.get(start..end).unwrap_or_default()
}

/// Bytes a zlib inflater holds, for memory counts: its 32 KiB window and about 11 KiB of
/// state (content decoders and permessage-deflate alike).
pub(crate) const INFLATE_STATE: usize = 44 * 1024;

/// Bytes a brotli decoder holds besides its window (ring buffer), for memory counts: the
/// decoder state, the writer's 4 KiB input buffer and the Huffman tables and context maps
/// of a typical stream (an estimate: the tables are sized by the stream's block types and
/// trees, which the crate does not expose).
pub(crate) const BROTLI_STATE: usize = 96 * 1024;

/// What the first bits of a brotli stream declare (RFC 7932 section 9.1, and the
/// large-window extension of the reference decoder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BrotliHeader {
    /// The bytes so far do not hold the whole declaration (it takes at most 2 bytes).
    NeedMore,
    /// WBITS: 10..=24, or 10..=30 with the large-window extension (`large`). The window
    /// is `(1 << wbits) - 16` bytes.
    Window {
        /// Window bits.
        wbits: u8,
        /// Declared with the large-window extension (not RFC 7932; this crate's decoder
        /// refuses it as corrupt).
        large: bool,
    },
    /// Not a window declaration any decoder accepts.
    Invalid,
}

impl BrotliHeader {
    /// Parses the window declaration at the start of a brotli stream.
    pub(crate) fn parse(data: &[u8]) -> BrotliHeader {
        // Bits are read least significant first (RFC 7932 section 2).
        let bits = |start: usize, n: usize| -> Option<u8> {
            let mut v = 0u8;
            for k in 0..n {
                let i = start.saturating_add(k);
                let byte = data.get(i / 8)?;
                v |= ((byte >> (i % 8)) & 1) << k;
            }
            Some(v)
        };
        let Some(first) = bits(0, 1) else {
            return BrotliHeader::NeedMore;
        };
        let window = |wbits: u8| BrotliHeader::Window {
            wbits,
            large: false,
        };
        if first == 0 {
            return window(16);
        }
        // The first byte holds the next seven bits.
        let (Some(n), Some(m)) = (bits(1, 3), bits(4, 3)) else {
            return BrotliHeader::NeedMore;
        };
        match (n, m) {
            (1..=7, _) => window(17u8.saturating_add(n)),
            (0, 0) => window(17),
            (0, 1) => match (bits(7, 1), bits(8, 6)) {
                (Some(1), _) => BrotliHeader::Invalid,
                (_, None) => BrotliHeader::NeedMore,
                (_, Some(wbits @ 10..=30)) => BrotliHeader::Window { wbits, large: true },
                (_, Some(_)) => BrotliHeader::Invalid,
            },
            (_, m) => window(8u8.saturating_add(m)),
        }
    }
}

/// The window of `wbits` window bits, in bytes.
pub(crate) fn brotli_window(wbits: u8) -> u64 {
    (1u64 << wbits.min(62)).saturating_sub(16)
}

/// Collects decoded bytes until the caller drains them; refuses bytes over the cap.
#[derive(Debug)]
struct CappedSink {
    out: Vec<u8>,
    total: u64,
    cap: u64,
    over: bool,
}

impl Write for CappedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.cap.saturating_sub(self.total);
        let take = usize::try_from(room).unwrap_or(usize::MAX).min(buf.len());
        self.out
            .extend_from_slice(buf.get(..take).unwrap_or_default());
        self.total = self.total.saturating_add(take as u64);
        if take < buf.len() {
            self.over = true;
            return Err(io::Error::other("decoded size cap"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Inner {
    /// `deflate` is zlib-wrapped by the spec but raw in practice; the first two bytes decide.
    DeflateProbe(Option<u8>),
    Gzip(flate2::write::MultiGzDecoder<CappedSink>),
    Zlib(flate2::write::ZlibDecoder<CappedSink>),
    Raw(flate2::write::DeflateDecoder<CappedSink>),
    /// Brotli before its window declaration is complete: the first bytes, held.
    BrotliProbe {
        held: [u8; 2],
        len: u8,
    },
    Brotli(Box<brotli::DecompressorWriter<CappedSink>>),
}

/// Why decoded output stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stop {
    /// Over the cap.
    Cap,
    /// Corrupt data.
    Corrupt,
    /// A brotli window over the cap: `window` bytes declared (not decoded).
    Window {
        /// The window the stream declares, in bytes.
        window: u64,
    },
}

/// One body's content decoder.
pub struct ContentDecoder {
    coding: Coding,
    inner: Inner,
    /// Output when no decoder exists yet (deflate and brotli probes); also the cap
    /// bookkeeping.
    pending: Option<CappedSink>,
    /// The brotli window declared, once known (bytes); 0 otherwise.
    window: u64,
    /// The largest brotli window accepted (bytes).
    max_window: u64,
}

impl std::fmt::Debug for ContentDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentDecoder")
            .field("coding", &self.coding)
            .finish()
    }
}

impl ContentDecoder {
    /// A decoder of `coding` whose output stops at `cap` bytes, refusing brotli streams
    /// whose window is over `max_window` bytes.
    pub fn new(coding: Coding, cap: u64, max_window: u64) -> Self {
        let sink = CappedSink {
            out: Vec::new(),
            total: 0,
            cap,
            over: false,
        };
        let (inner, pending) = match coding {
            Coding::Gzip => (Inner::Gzip(flate2::write::MultiGzDecoder::new(sink)), None),
            Coding::Brotli => (
                Inner::BrotliProbe {
                    held: [0; 2],
                    len: 0,
                },
                Some(sink),
            ),
            Coding::Deflate => (Inner::DeflateProbe(None), Some(sink)),
        };
        ContentDecoder {
            coding,
            inner,
            pending,
            window: 0,
            max_window,
        }
    }

    /// Bytes held, approximately: the decompressor's state and window (zlib: a 32 KiB
    /// window plus about 11 KiB of state; brotli: the window the stream declares, at most
    /// the cap, plus about 96 KiB of tables) and the output buffer.
    pub fn memory(&self) -> usize {
        let state = match self.inner {
            Inner::DeflateProbe(_) | Inner::BrotliProbe { .. } => 0,
            Inner::Gzip(_) | Inner::Zlib(_) | Inner::Raw(_) => INFLATE_STATE,
            Inner::Brotli(_) => usize::try_from(self.window)
                .unwrap_or(usize::MAX)
                .saturating_add(BROTLI_STATE),
        };
        let out = match &self.inner {
            Inner::DeflateProbe(_) | Inner::BrotliProbe { .. } => {
                self.pending.as_ref().map_or(0, |s| s.out.capacity())
            }
            Inner::Gzip(d) => d.get_ref().out.capacity(),
            Inner::Zlib(d) => d.get_ref().out.capacity(),
            Inner::Raw(d) => d.get_ref().out.capacity(),
            Inner::Brotli(d) => d.get_ref().out.capacity(),
        };
        std::mem::size_of::<Self>() + state + out
    }

    /// The largest brotli window accepted (bytes).
    pub fn max_window(&self) -> u64 {
        self.max_window
    }

    /// The coding decoded.
    pub fn coding(&self) -> Coding {
        self.coding
    }

    fn sink(&mut self) -> Option<&mut CappedSink> {
        match &mut self.inner {
            Inner::DeflateProbe(_) | Inner::BrotliProbe { .. } => self.pending.as_mut(),
            Inner::Gzip(d) => Some(d.get_mut()),
            Inner::Zlib(d) => Some(d.get_mut()),
            Inner::Raw(d) => Some(d.get_mut()),
            Inner::Brotli(d) => Some(d.get_mut()),
        }
    }

    fn classify(&mut self, err: io::Error) -> Stop {
        let _ = err;
        if self.sink().is_some_and(|s| s.over) {
            Stop::Cap
        } else {
            Stop::Corrupt
        }
    }

    /// Feeds compressed bytes; decoded bytes accumulate in [`Self::output`] until the caller drains them.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Stop> {
        if let Inner::DeflateProbe(first) = &mut self.inner {
            let (b0, b1) = match (*first, data) {
                (_, []) => return Ok(()),
                (None, [b0]) => {
                    *first = Some(*b0);
                    return Ok(());
                }
                (None, [b0, b1, ..]) => (*b0, *b1),
                (Some(b0), [b1, ..]) => (b0, *b1),
            };
            let Some(sink) = self.pending.take() else {
                return Err(Stop::Corrupt);
            };
            let zlib = b0 & 0x0f == 8 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0;
            let had_first = first.is_some();
            self.inner = if zlib {
                Inner::Zlib(flate2::write::ZlibDecoder::new(sink))
            } else {
                Inner::Raw(flate2::write::DeflateDecoder::new(sink))
            };
            if had_first {
                self.write_all(&[b0])?;
            }
        }
        if let Inner::BrotliProbe { held, len } = &mut self.inner {
            // Hold the first bytes until the window declaration is whole (two at most).
            let have = usize::from(*len).min(2);
            let mut head = [0u8; 2];
            let mut known = 0;
            let first = held.get(..have).unwrap_or_default().iter();
            for (slot, b) in head.iter_mut().zip(first.chain(data)) {
                *slot = *b;
                known += 1;
            }
            let parsed = BrotliHeader::parse(head.get(..known).unwrap_or_default());
            if parsed == BrotliHeader::NeedMore && known < 2 {
                *held = head;
                *len = known as u8;
                return Ok(());
            }
            if let BrotliHeader::Window { wbits, .. } = parsed {
                let window = brotli_window(wbits);
                if window > self.max_window {
                    return Err(Stop::Window { window });
                }
                self.window = window;
            }
            // An invalid declaration goes to the decoder, which reports it as corrupt.
            let Some(sink) = self.pending.take() else {
                return Err(Stop::Corrupt);
            };
            self.inner = Inner::Brotli(Box::new(brotli::DecompressorWriter::new(sink, 4096)));
            self.write_all(head.get(..have).unwrap_or_default())?;
        }
        self.write_all(data)
    }

    fn write_all(&mut self, data: &[u8]) -> Result<(), Stop> {
        let r = match &mut self.inner {
            Inner::DeflateProbe(_) | Inner::BrotliProbe { .. } => Ok(()),
            Inner::Gzip(d) => d.write_all(data),
            Inner::Zlib(d) => d.write_all(data),
            Inner::Raw(d) => d.write_all(data),
            Inner::Brotli(d) => d.write_all(data),
        };
        r.map_err(|e| self.classify(e))
    }

    /// Flushes the decoder at the end of the body and checks the stream's integrity.
    pub fn finish(&mut self) -> Result<(), Stop> {
        if let Inner::BrotliProbe { held, len } = self.inner {
            // A body shorter than the window declaration: the decoder judges it.
            let Some(sink) = self.pending.take() else {
                return Err(Stop::Corrupt);
            };
            self.inner = Inner::Brotli(Box::new(brotli::DecompressorWriter::new(sink, 4096)));
            self.write_all(held.get(..usize::from(len)).unwrap_or_default())?;
        }
        let r = match &mut self.inner {
            Inner::DeflateProbe(None) => Ok(()),
            Inner::DeflateProbe(Some(_)) | Inner::BrotliProbe { .. } => {
                Err(io::Error::other("truncated"))
            }
            Inner::Gzip(d) => d.try_finish(),
            Inner::Zlib(d) => d.try_finish(),
            Inner::Raw(d) => d.try_finish(),
            Inner::Brotli(d) => d.close(),
        };
        r.map_err(|e| self.classify(e))
    }

    /// The decoded bytes produced since the last drain (the caller clears it).
    pub fn output(&mut self) -> Option<&mut Vec<u8>> {
        self.sink().map(|s| &mut s.out)
    }

    /// Decoded bytes so far.
    pub fn total(&mut self) -> u64 {
        self.sink().map_or(0, |s| s.total)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn brotli(data: &[u8], lgwin: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, lgwin);
            w.write_all(data).unwrap();
        }
        out
    }

    const CAP: u64 = 16 << 20;

    #[test]
    fn header_declares_every_standard_window() {
        for lgwin in 10..=24u8 {
            let s = brotli(b"hello hello hello", u32::from(lgwin));
            let want = BrotliHeader::Window {
                wbits: lgwin,
                large: false,
            };
            assert_eq!(BrotliHeader::parse(&s), want, "lgwin {lgwin}");
            // The standard declaration fits in the first byte.
            assert_eq!(BrotliHeader::parse(&s[..1]), want, "lgwin {lgwin}");
        }
        // Hand-built: 0 -> 16; 1,n (n != 0) -> 17 + n; 1,000,m (m > 1) -> 8 + m; 1,000,000 -> 17.
        assert_eq!(
            BrotliHeader::parse(&[0x00]),
            BrotliHeader::Window {
                wbits: 16,
                large: false
            }
        );
        assert_eq!(
            BrotliHeader::parse(&[0x01]),
            BrotliHeader::Window {
                wbits: 17,
                large: false
            }
        );
        assert_eq!(
            BrotliHeader::parse(&[0x0f]),
            BrotliHeader::Window {
                wbits: 24,
                large: false
            }
        );
        assert_eq!(
            BrotliHeader::parse(&[0x21]),
            BrotliHeader::Window {
                wbits: 10,
                large: false
            }
        );
        assert_eq!(BrotliHeader::parse(&[]), BrotliHeader::NeedMore);
        assert_eq!(brotli_window(24), (16 << 20) - 16);
        assert_eq!(brotli_window(10), 1008);
    }

    #[test]
    fn header_large_window_needs_a_second_byte() {
        // 1, 000, 100 (the value 1 is the large-window marker), a 0 bit, then 6 bits of WBITS.
        assert_eq!(BrotliHeader::parse(&[0x11]), BrotliHeader::NeedMore);
        for wbits in 10..=30u8 {
            assert_eq!(
                BrotliHeader::parse(&[0x11, wbits]),
                BrotliHeader::Window { wbits, large: true }
            );
        }
        assert_eq!(BrotliHeader::parse(&[0x11, 9]), BrotliHeader::Invalid);
        assert_eq!(BrotliHeader::parse(&[0x11, 31]), BrotliHeader::Invalid);
        // The reserved bit after the marker set.
        assert_eq!(BrotliHeader::parse(&[0x91]), BrotliHeader::Invalid);
        assert_eq!(brotli_window(30), (1 << 30) - 16);
    }

    fn decode(stream: &[u8], max_window: u64, cut: usize) -> (Result<(), Stop>, Vec<u8>) {
        let mut d = ContentDecoder::new(Coding::Brotli, CAP, max_window);
        let mut out = Vec::new();
        for part in stream.chunks(cut) {
            let r = d.feed(part);
            out.append(d.output().unwrap());
            if r.is_err() {
                return (r, out);
            }
        }
        let r = d.finish();
        out.append(d.output().unwrap());
        (r, out)
    }

    #[test]
    fn windows_up_to_the_cap_decode_in_any_chunking() {
        let text = b"the quick brown fox jumps over the lazy dog ".repeat(500);
        for lgwin in [10, 16, 22] {
            let s = brotli(&text, lgwin);
            for cut in [1, 2, 3, s.len()] {
                let (r, out) = decode(&s, (4 << 20) - 16, cut);
                assert_eq!(r, Ok(()), "lgwin {lgwin} cut {cut}");
                assert_eq!(out, text, "lgwin {lgwin} cut {cut}");
            }
        }
    }

    #[test]
    fn window_over_the_cap_is_refused_before_decoding() {
        let s = brotli(b"some text", 24);
        for cut in [1, s.len()] {
            let (r, out) = decode(&s, (4 << 20) - 16, cut);
            assert_eq!(
                r,
                Err(Stop::Window {
                    window: (16 << 20) - 16
                })
            );
            assert!(out.is_empty());
        }
        // A large-window declaration over the cap is refused the same way, once known.
        let mut d = ContentDecoder::new(Coding::Brotli, CAP, (4 << 20) - 16);
        assert_eq!(d.feed(&[0x11]), Ok(()));
        assert_eq!(
            d.feed(&[30]),
            Err(Stop::Window {
                window: (1 << 30) - 16
            })
        );
    }

    #[test]
    fn memory_counts_the_declared_window() {
        let text = b"abc".repeat(100);
        let mut d = ContentDecoder::new(Coding::Brotli, CAP, CAP);
        let before = d.memory();
        assert!(before < 1024, "{before}");
        d.feed(&brotli(&text, 24)[..1]).unwrap();
        assert!(d.memory() >= (16 << 20) - 16 + BROTLI_STATE);
        let mut d = ContentDecoder::new(Coding::Brotli, CAP, CAP);
        d.feed(&brotli(&text, 10)[..1]).unwrap();
        assert!(d.memory() < 1008 + BROTLI_STATE + 1024, "{}", d.memory());
    }

    #[test]
    fn short_and_empty_bodies_are_judged_by_the_decoder() {
        // Empty: as before the header probe, the decoder's verdict on no input.
        let mut d = ContentDecoder::new(Coding::Brotli, CAP, CAP);
        let mut old = brotli::DecompressorWriter::new(Vec::new(), 4096);
        let want = old.close().map_err(|_| Stop::Corrupt);
        assert_eq!(d.finish(), want);
        // One byte of a large-window declaration: truncated.
        let mut d = ContentDecoder::new(Coding::Brotli, CAP, CAP);
        d.feed(&[0x11]).unwrap();
        assert_eq!(d.finish(), Err(Stop::Corrupt));
    }
}
