//! Handshake messages: the hellos in full, the rest only as far as a summary or the key
//! schedule needs them.

pub(crate) mod hello;
pub(crate) mod reader;

use crate::TlsError;
use crate::record::{HEADER_LEN, content};
pub use hello::{ClientHello, ServerHello};

/// Handshake message types (RFC 8446 section 4, RFC 5246 section 7.4).
pub(crate) mod msg {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const END_OF_EARLY_DATA: u8 = 5;
    pub const ENCRYPTED_EXTENSIONS: u8 = 8;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const FINISHED: u8 = 20;
    pub const KEY_UPDATE: u8 = 24;
    pub const COMPRESSED_CERTIFICATE: u8 = 25;
}

/// Parses the ClientHello in one TCP payload that holds its whole first record, for
/// per-packet display. Trailing bytes after the message (more records) are ignored.
pub fn parse_client_hello(payload: &[u8]) -> Result<ClientHello, TlsError> {
    let malformed = |offset| TlsError::Malformed {
        what: "ClientHello record",
        offset,
    };
    let header = crate::record::Header::read(payload).ok_or(malformed(0))?;
    if header.ty != content::HANDSHAKE || !header.plausible() {
        return Err(malformed(0));
    }
    let end = HEADER_LEN.saturating_add(header.len);
    let record = payload
        .get(HEADER_LEN..end)
        .ok_or(malformed(payload.len()))?;
    let mut r = reader::Reader::new(record, "ClientHello record");
    if r.u8()? != msg::CLIENT_HELLO {
        return Err(malformed(HEADER_LEN));
    }
    let body = r.vec(3)?;
    let mut body = body;
    hello::parse_client_hello_body(body.rest())
}
