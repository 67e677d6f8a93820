//! Arbitrary WebSocket frame bytes in both directions after a synthetic upgrade that
//! negotiates permessage-deflate: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_http_ws::{Direction, HttpConfig, HttpSession};

const REQUEST: &[u8] =
    b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let mut config = HttpConfig::default();
    config.ws_max_message = 1 << 20;
    config.ws_max_frame = 1 << 20;
    let mut session = HttpSession::new(config);
    let mut sink = |_ev: pcap_http_ws::HttpEvent<'_>| {};
    session.data(Direction::ClientToServer, 0, REQUEST, &mut sink);
    session.data(Direction::ServerToClient, 0, RESPONSE, &mut sink);
    let mut rest = data;
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 0x80 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let n = usize::from(ctl & 0x7f).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        session.data(dir, 0, chunk, &mut sink);
        rest = next;
    }
    session.end(None, 0, &mut sink);
});
