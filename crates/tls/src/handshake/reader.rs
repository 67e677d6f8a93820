//! A bounds-checked cursor over a handshake message: every read either succeeds or returns
//! `Malformed` naming the field and the offset where it stopped, never panics.

use crate::TlsError;

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` within the message, for error positions in nested vectors.
    base: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            base: 0,
            what,
        }
    }

    pub(crate) fn err(&self) -> TlsError {
        TlsError::Malformed {
            what: self.what,
            offset: self.base.saturating_add(self.pos),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], TlsError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.err())?;
        let out = self.buf.get(self.pos..end).ok_or_else(|| self.err())?;
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, TlsError> {
        Ok(self.bytes(1)?.first().copied().unwrap_or(0))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, TlsError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }

    pub(crate) fn u24(&mut self) -> Result<usize, TlsError> {
        let b = self.bytes(3)?;
        Ok(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x)))
    }

    /// A sub-reader over a vector with a 1-, 2- or 3-byte length prefix.
    pub(crate) fn vec(&mut self, len_bytes: u8) -> Result<Reader<'a>, TlsError> {
        let n = match len_bytes {
            1 => usize::from(self.u8()?),
            2 => usize::from(self.u16()?),
            _ => self.u24()?,
        };
        let base = self.base.saturating_add(self.pos);
        let buf = self.bytes(n)?;
        Ok(Reader {
            buf,
            pos: 0,
            base,
            what: self.what,
        })
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        out
    }

    /// Every u16 of the rest (a vector of u16 values); an odd byte is an error.
    pub(crate) fn u16s(&mut self) -> Result<Vec<u16>, TlsError> {
        let mut out = Vec::new();
        while !self.is_empty() {
            out.push(self.u16()?);
        }
        Ok(out)
    }
}
