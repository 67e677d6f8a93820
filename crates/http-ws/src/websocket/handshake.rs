//! The WebSocket handshake's computed values: the accept key and the permessage-deflate
//! parameters (RFC 6455 4.2.2, RFC 7692 7.1).

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

use crate::content::trim;

/// The GUID of RFC 6455 section 1.3, appended to the key before hashing.
const WS_GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value a server must answer for `key` (RFC 6455 4.2.2).
pub fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(trim(key));
    h.update(WS_GUID);
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// permessage-deflate parameters agreed in the handshake (RFC 7692 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PerMessageDeflate {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// LZ77 window bits the server uses (8..=15); decoding uses a 32 KiB window regardless.
    pub server_max_window_bits: Option<u8>,
    /// LZ77 window bits the client uses.
    pub client_max_window_bits: Option<u8>,
}

impl PerMessageDeflate {
    /// Finds permessage-deflate in a `Sec-WebSocket-Extensions` value.
    pub fn from_header(value: &[u8]) -> Option<PerMessageDeflate> {
        for ext in value.split(|&b| b == b',') {
            let mut parts = ext.split(|&b| b == b';');
            let name = trim(parts.next().unwrap_or_default());
            if !name.eq_ignore_ascii_case(b"permessage-deflate") {
                continue;
            }
            let mut p = PerMessageDeflate::default();
            for param in parts {
                let (k, v) = match param.iter().position(|&b| b == b'=') {
                    Some(i) => (
                        trim(param.get(..i).unwrap_or_default()),
                        Some(trim(param.get(i.saturating_add(1)..).unwrap_or_default())),
                    ),
                    None => (trim(param), None),
                };
                let bits = v.and_then(|v| {
                    let v: Vec<u8> = v.iter().copied().filter(|&b| b != b'"').collect();
                    std::str::from_utf8(&v).ok()?.parse::<u8>().ok()
                });
                if k.eq_ignore_ascii_case(b"server_no_context_takeover") {
                    p.server_no_context_takeover = true;
                } else if k.eq_ignore_ascii_case(b"client_no_context_takeover") {
                    p.client_no_context_takeover = true;
                } else if k.eq_ignore_ascii_case(b"server_max_window_bits") {
                    p.server_max_window_bits = bits;
                } else if k.eq_ignore_ascii_case(b"client_max_window_bits") {
                    p.client_max_window_bits = bits;
                }
            }
            return Some(p);
        }
        None
    }
}
