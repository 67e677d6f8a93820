//! Arbitrary bytes split into two directions and chunks, with gaps and ends: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_http_ws::{Direction, HttpConfig, HttpSession};

fuzz_target!(|data: &[u8]| {
    let mut session = HttpSession::new(HttpConfig::default().with_decode_content(true));
    let mut sink = |_ev: pcap_http_ws::HttpEvent<'_>| {};
    // Control byte per chunk: bit 7 = direction, bits 0..5 = chunk length, 0x40 = gap/end.
    let mut rest = data;
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 0x80 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let n = usize::from(ctl & 0x3f).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        if ctl & 0x40 != 0 {
            if n % 2 == 0 {
                session.gap(dir, 0, n as u64, &mut sink);
            } else {
                session.end(Some(dir), 0, &mut sink);
            }
        } else {
            session.data(dir, 0, chunk, &mut sink);
        }
        rest = next;
    }
    session.end(None, 0, &mut sink);
});
