//! Content-Encoding decoding (gzip, x-gzip, deflate as zlib or raw, br) with a cap on output.
//!
//! Decoders are push-based (`std::io::Write`), so body bytes go in as they arrive and decoded
//! bytes come out without buffering the compressed body. The output sink refuses bytes over
//! the cap, which stops a decompression bomb after at most `cap` bytes of output.

use std::io::{self, Write};

/// A content coding this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    /// Parses a Content-Encoding value; `None` for identity, unknown or stacked codings.
    pub(crate) fn from_header(value: &[u8]) -> Option<Coding> {
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

    pub(crate) fn name(self) -> &'static str {
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
    Brotli(Box<brotli::DecompressorWriter<CappedSink>>),
}

/// Why decoded output stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Over the cap.
    Cap,
    /// Corrupt data.
    Corrupt,
}

/// One body's content decoder.
pub(crate) struct ContentDecoder {
    coding: Coding,
    inner: Inner,
    /// Output when no decoder exists yet (deflate probe); also the cap bookkeeping.
    pending: Option<CappedSink>,
}

impl std::fmt::Debug for ContentDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentDecoder")
            .field("coding", &self.coding)
            .finish()
    }
}

impl ContentDecoder {
    pub(crate) fn new(coding: Coding, cap: u64) -> Self {
        let sink = CappedSink {
            out: Vec::new(),
            total: 0,
            cap,
            over: false,
        };
        let (inner, pending) = match coding {
            Coding::Gzip => (Inner::Gzip(flate2::write::MultiGzDecoder::new(sink)), None),
            Coding::Brotli => (
                Inner::Brotli(Box::new(brotli::DecompressorWriter::new(sink, 4096))),
                None,
            ),
            Coding::Deflate => (Inner::DeflateProbe(None), Some(sink)),
        };
        ContentDecoder {
            coding,
            inner,
            pending,
        }
    }

    /// Bytes held, approximately: the decompressor's state and window (zlib: a 32 KiB
    /// window plus about 11 KiB of state; brotli: its ring buffer, sized by the stream, which
    /// is counted as 1 MiB since the crate does not expose it) and the output buffer.
    pub(crate) fn memory(&self) -> usize {
        const BROTLI: usize = 1 << 20;
        let state = match self.inner {
            Inner::DeflateProbe(_) => 0,
            Inner::Gzip(_) | Inner::Zlib(_) | Inner::Raw(_) => INFLATE_STATE,
            Inner::Brotli(_) => BROTLI,
        };
        let out = match &self.inner {
            Inner::DeflateProbe(_) => self.pending.as_ref().map_or(0, |s| s.out.capacity()),
            Inner::Gzip(d) => d.get_ref().out.capacity(),
            Inner::Zlib(d) => d.get_ref().out.capacity(),
            Inner::Raw(d) => d.get_ref().out.capacity(),
            Inner::Brotli(d) => d.get_ref().out.capacity(),
        };
        std::mem::size_of::<Self>() + state + out
    }

    pub(crate) fn coding(&self) -> Coding {
        self.coding
    }

    fn sink(&mut self) -> Option<&mut CappedSink> {
        match &mut self.inner {
            Inner::DeflateProbe(_) => self.pending.as_mut(),
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

    /// Feeds compressed bytes; decoded bytes accumulate until [`Self::take_output`].
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(), Stop> {
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
        self.write_all(data)
    }

    fn write_all(&mut self, data: &[u8]) -> Result<(), Stop> {
        let r = match &mut self.inner {
            Inner::DeflateProbe(_) => Ok(()),
            Inner::Gzip(d) => d.write_all(data),
            Inner::Zlib(d) => d.write_all(data),
            Inner::Raw(d) => d.write_all(data),
            Inner::Brotli(d) => d.write_all(data),
        };
        r.map_err(|e| self.classify(e))
    }

    /// Flushes the decoder at the end of the body and checks the stream's integrity.
    pub(crate) fn finish(&mut self) -> Result<(), Stop> {
        let r = match &mut self.inner {
            Inner::DeflateProbe(None) => Ok(()),
            Inner::DeflateProbe(Some(_)) => Err(io::Error::other("truncated")),
            Inner::Gzip(d) => d.try_finish(),
            Inner::Zlib(d) => d.try_finish(),
            Inner::Raw(d) => d.try_finish(),
            Inner::Brotli(d) => d.close(),
        };
        r.map_err(|e| self.classify(e))
    }

    /// The decoded bytes produced since the last drain (the caller clears it).
    pub(crate) fn output(&mut self) -> Option<&mut Vec<u8>> {
        self.sink().map(|s| &mut s.out)
    }

    /// Decoded bytes so far.
    pub(crate) fn total(&mut self) -> u64 {
        self.sink().map_or(0, |s| s.total)
    }
}
