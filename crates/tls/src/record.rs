//! The TLS record header (RFC 8446 section 5.1): five bytes, checked before anything is
//! buffered so an over-size or non-TLS record costs nothing.

/// Bytes in a record header.
pub(crate) const HEADER_LEN: usize = 5;

/// The largest record body TLS allows: 2^14 bytes of plaintext plus 2048 of expansion
/// (RFC 5246 section 6.2.3; TLS 1.3 allows only 256, so this covers both).
pub const MAX_RECORD: usize = (1 << 14) + 2048;

/// Record content types.
pub(crate) mod content {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

/// A parsed record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub ty: u8,
    pub len: usize,
    pub raw: [u8; HEADER_LEN],
}

impl Header {
    /// Reads a header from the first five bytes of `b`; `None` when fewer are given.
    pub(crate) fn read(b: &[u8]) -> Option<Header> {
        let raw: [u8; HEADER_LEN] = b.get(..HEADER_LEN)?.try_into().ok()?;
        let [ty, _, _, l0, l1] = raw;
        Some(Header {
            ty,
            len: usize::from(u16::from_be_bytes([l0, l1])),
            raw,
        })
    }

    /// A known content type and a version of the SSL 3.0 - TLS 1.3 family (the record
    /// version of TLS 1.3 is frozen at 0x0301..0x0303).
    pub(crate) fn plausible(&self) -> bool {
        let [_, major, minor, ..] = self.raw;
        (content::CHANGE_CIPHER_SPEC..=content::HEARTBEAT).contains(&self.ty)
            && major == 3
            && minor <= 4
    }
}

/// Cheap check for protocol detection: do these first bytes of a direction look like a TLS
/// record carrying a handshake (ClientHello, or ServerHello when the capture missed the
/// client's first bytes)? Bytes not yet present are assumed to fit, so a one-byte prefix
/// `0x16` is a yes; an empty prefix is a no (a session picked up mid-stream:
/// [`crate::TlsSession`] still recognises two records in a row as TLS).
pub fn looks_like_tls(prefix: &[u8]) -> bool {
    if prefix.first() != Some(&content::HANDSHAKE)
        || prefix.get(1).is_some_and(|&major| major != 3)
        || prefix.get(2).is_some_and(|&minor| minor > 4)
    {
        return false;
    }
    if let (Some(&l0), Some(&l1)) = (prefix.get(3), prefix.get(4)) {
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        if len == 0 || len > MAX_RECORD {
            return false;
        }
    }
    // ClientHello, or ServerHello when the capture started after the ClientHello.
    prefix.get(5).is_none_or(|&t| t == 1 || t == 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert!(looks_like_tls(&[22, 3, 1, 0, 200, 1, 0]));
        assert!(looks_like_tls(&[22, 3, 3]));
        assert!(looks_like_tls(&[22, 3]));
        assert!(looks_like_tls(&[22]));
        assert!(!looks_like_tls(&[]));
        assert!(!looks_like_tls(&[22, 2]));
        assert!(!looks_like_tls(b"GET / HTTP/1.1"));
        assert!(!looks_like_tls(&[22, 3, 1, 0, 0]));
        assert!(!looks_like_tls(&[22, 3, 1, 0, 200, 11]));
        assert!(!looks_like_tls(&[23, 3, 3, 0, 20]));
    }
}
