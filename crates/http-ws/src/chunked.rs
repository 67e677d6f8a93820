//! Chunked transfer coding (RFC 9112 7.1), decoded incrementally without buffering data.

use crate::error::HttpError;

/// Most hex digits a chunk size may have (16 fill a u64; httparse uses a similar limit).
pub(crate) const MAX_CHUNK_SIZE_DIGITS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailer,
    Done,
}

/// What one [`Chunked::step`] produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Out {
    /// Framing bytes consumed, nothing to report.
    Nothing,
    /// The consumed bytes are chunk data.
    Data,
    /// The body is over; the trailer section (possibly empty) is in [`Chunked::trailer`].
    End,
    /// A framing error.
    Error(HttpError),
}

/// Decoder state for one chunked body.
#[derive(Debug)]
pub(crate) struct Chunked {
    state: State,
    size: u64,
    digits: usize,
    line_len: usize,
    trailer: Vec<u8>,
}

impl Chunked {
    /// Bytes held: the struct and the trailer buffer.
    pub(crate) fn memory(&self) -> usize {
        std::mem::size_of::<Self>() + self.trailer.capacity()
    }

    pub(crate) fn new() -> Self {
        Chunked {
            state: State::Size,
            size: 0,
            digits: 0,
            line_len: 0,
            trailer: Vec::new(),
        }
    }

    /// The trailer section bytes (without the final empty line when no trailers were sent).
    pub(crate) fn trailer(&self) -> &[u8] {
        &self.trailer
    }

    /// Bytes of the current chunk still to come (for skipping lost bytes).
    pub(crate) fn data_remaining(&self) -> Option<u64> {
        (self.state == State::Data).then_some(self.size)
    }

    /// Skips `len` lost bytes of chunk data; false when they do not fit the current chunk.
    pub(crate) fn skip_data(&mut self, len: u64) -> bool {
        match self.data_remaining() {
            Some(rem) if rem >= len => {
                self.size = rem - len;
                if self.size == 0 {
                    self.state = State::DataCr;
                }
                true
            }
            _ => false,
        }
    }

    /// Consumes a prefix of `input`; returns how many bytes and what they were.
    pub(crate) fn step(&mut self, input: &[u8], max_line: usize) -> (usize, Out) {
        if self.state == State::Data {
            let n = usize::try_from(self.size)
                .unwrap_or(usize::MAX)
                .min(input.len());
            self.size = self.size.saturating_sub(n as u64);
            if self.size == 0 {
                self.state = State::DataCr;
            }
            return (n, Out::Data);
        }
        for (i, &b) in input.iter().enumerate() {
            let used = i.saturating_add(1);
            match self.state {
                State::Size => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        self.digits = self.digits.saturating_add(1);
                        if self.digits > MAX_CHUNK_SIZE_DIGITS {
                            return (
                                used,
                                Out::Error(HttpError::ChunkSizeTooLong {
                                    max: MAX_CHUNK_SIZE_DIGITS,
                                }),
                            );
                        }
                        let v = match b {
                            b'0'..=b'9' => b - b'0',
                            b'a'..=b'f' => b - b'a' + 10,
                            _ => b - b'A' + 10,
                        };
                        self.size = self.size << 4 | u64::from(v);
                    }
                    b';' | b' ' | b'\t' if self.digits > 0 => self.state = State::Ext,
                    b'\r' if self.digits > 0 => self.state = State::SizeLf,
                    b'\n' if self.digits > 0 => {
                        if let Some(out) = self.size_line_end() {
                            return (used, out);
                        }
                    }
                    _ => return (used, Out::Error(HttpError::InvalidChunkSize { byte: b })),
                },
                State::Ext => {
                    self.line_len = self.line_len.saturating_add(1);
                    if self.line_len > max_line {
                        return (
                            used,
                            Out::Error(HttpError::TrailerTooLarge { max: max_line }),
                        );
                    }
                    if b == b'\n' {
                        if let Some(out) = self.size_line_end() {
                            return (used, out);
                        }
                    }
                }
                State::SizeLf => {
                    if b != b'\n' {
                        return (used, Out::Error(HttpError::InvalidChunkSize { byte: b }));
                    }
                    if let Some(out) = self.size_line_end() {
                        return (used, out);
                    }
                }
                State::DataCr => match b {
                    b'\r' => self.state = State::DataLf,
                    b'\n' => self.next_chunk(),
                    _ => return (used, Out::Error(HttpError::MissingChunkCrlf)),
                },
                State::DataLf => {
                    if b != b'\n' {
                        return (used, Out::Error(HttpError::MissingChunkCrlf));
                    }
                    self.next_chunk();
                }
                State::Trailer => {
                    if self.trailer.len() >= max_line {
                        return (
                            used,
                            Out::Error(HttpError::TrailerTooLarge { max: max_line }),
                        );
                    }
                    self.trailer.push(b);
                    let t = self.trailer.as_slice();
                    if t == b"\r\n" || t == b"\n" {
                        self.trailer.clear();
                        self.state = State::Done;
                        return (used, Out::End);
                    }
                    if t.ends_with(b"\r\n\r\n") || t.ends_with(b"\n\n") {
                        self.state = State::Done;
                        return (used, Out::End);
                    }
                }
                State::Data | State::Done => return (i, Out::Nothing),
            }
        }
        (input.len(), Out::Nothing)
    }

    fn next_chunk(&mut self) {
        self.state = State::Size;
        self.size = 0;
        self.digits = 0;
        self.line_len = 0;
    }

    /// A chunk-size line ended: data follows, or the last chunk opened the trailer section.
    fn size_line_end(&mut self) -> Option<Out> {
        self.state = if self.size == 0 {
            State::Trailer
        } else {
            State::Data
        };
        (self.state == State::Data).then_some(Out::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `input` through the decoder in one piece; returns (data, trailer, error).
    fn decode(input: &[u8]) -> (Vec<u8>, Vec<u8>, Option<HttpError>, bool) {
        let mut c = Chunked::new();
        let mut data = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let (n, out) = c.step(rest, 1024);
            match out {
                Out::Data => data.extend_from_slice(&rest[..n]),
                Out::End => return (data, c.trailer().to_vec(), None, true),
                Out::Error(e) => return (data, Vec::new(), Some(e), false),
                Out::Nothing => {}
            }
            rest = &rest[n..];
        }
        (data, Vec::new(), None, false)
    }

    #[test]
    fn every_prefix_is_incomplete_never_an_error() {
        let body = b"4;name=v\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n";
        for cut in 0..body.len() {
            let (_, _, err, done) = decode(&body[..cut]);
            assert!(err.is_none() && !done, "prefix {cut}");
        }
        let (data, trailer, err, done) = decode(body);
        assert_eq!(
            (data.as_slice(), trailer.as_slice(), err, done),
            (
                b"Wikipedia".as_slice(),
                b"X-T: 1\r\n\r\n".as_slice(),
                None,
                true
            )
        );
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert_eq!(
            decode(b"zz\r\n").2,
            Some(HttpError::InvalidChunkSize { byte: b'z' })
        );
        assert_eq!(
            decode(b"\r\n").2,
            Some(HttpError::InvalidChunkSize { byte: b'\r' })
        );
        assert_eq!(
            decode(b"11111111111111111\r\n").2,
            Some(HttpError::ChunkSizeTooLong { max: 16 })
        );
        assert_eq!(decode(b"1\r\nab").2, Some(HttpError::MissingChunkCrlf));
        assert_eq!(decode(b"ffffffffffffffff\r\n").2, None);
    }
}
