//! Arbitrary bytes split into two directions and chunks, with gaps and ends: never a panic.
//! Events also go through a `TransactionCollector` (packed heads read through the view, and
//! owned transactions, as http-trace's outputs and HAR read them), and the session's memory
//! count is checked as it goes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_http_ws::{
    Direction, HeadBuffers, HttpConfig, HttpSession, Transaction, TransactionCollector,
};

fuzz_target!(|data: &[u8]| {
    let mut session = HttpSession::new(HttpConfig::default().with_decode_content(true));
    let mut collector = TransactionCollector::new(Some(64));
    let mut buffers = HeadBuffers::new();
    let mut done = Vec::new();
    let mut sink = |ev: pcap_http_ws::HttpEvent<'_>| {
        collector.push_with(&ev, &mut buffers, |view| {
            // Every field of the view can be read (the packed heads unpacked).
            if let Some(r) = view.request() {
                let _ = (r.method, r.uri, r.host(), r.user_agent(), r.headers.count());
            }
            if let Some(r) = view.response() {
                let _ = (r.reason, r.headers.count());
            }
            done.push(Transaction::from(view));
        });
    };
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
        assert!(session.memory() >= std::mem::size_of::<HttpSession>());
    }
    // A third of the inputs end as if a memory budget stopped the session.
    if data.len() % 3 == 0 {
        session.abandon(0, 0, &mut sink);
    } else {
        session.end(None, 0, &mut sink);
    }
    collector.recycle(&mut buffers);
    for tx in done {
        let _ = (tx.method, tx.uri, tx.host, tx.request_headers.len());
    }
});
