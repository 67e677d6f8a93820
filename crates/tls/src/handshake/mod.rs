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
    let body = first_message(payload, msg::CLIENT_HELLO, "ClientHello record")?;
    hello::parse_client_hello_body(body)
}

/// Parses the ServerHello (or HelloRetryRequest) in one TCP payload that holds its whole
/// first record, for per-packet display, as [`parse_client_hello`] does the ClientHello.
pub fn parse_server_hello(payload: &[u8]) -> Result<ServerHello, TlsError> {
    let body = first_message(payload, msg::SERVER_HELLO, "ServerHello record")?;
    hello::parse_server_hello_body(body)
}

/// The body of the handshake message of type `ty` that starts the first record of
/// `payload`, when that record and the message are whole.
fn first_message<'a>(payload: &'a [u8], ty: u8, what: &'static str) -> Result<&'a [u8], TlsError> {
    let malformed = |offset| TlsError::Malformed { what, offset };
    let header = crate::record::Header::read(payload).ok_or(malformed(0))?;
    if header.ty != content::HANDSHAKE || !header.plausible() {
        return Err(malformed(0));
    }
    let end = HEADER_LEN.saturating_add(header.len);
    let record = payload
        .get(HEADER_LEN..end)
        .ok_or(malformed(payload.len()))?;
    let mut r = reader::Reader::new(record, what);
    if r.u8()? != ty {
        return Err(malformed(HEADER_LEN));
    }
    Ok(r.vec(3)?.rest())
}
