//! Arbitrary bytes split into two directions and chunks, with gaps and ends, through an
//! HTTP/2 session (prior knowledge, upgraded or mid-stream, chosen by the first byte), and
//! every frame header through `Frame::parse`: never a panic, memory counted as it goes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_http_ws::Direction;
use pcap_http2::frame::{Frame, FrameHeader, HEADER_LEN};
use pcap_http2::{H2Config, H2Event, H2Session, PREFACE};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    // Every 9-byte window as a frame header over the rest.
    if let Some(h) = FrameHeader::parse(data) {
        let payload = data.get(HEADER_LEN..).unwrap_or_default();
        let len = (h.len as usize).min(payload.len());
        let _ = Frame::parse(&h, &payload[..len]);
        let _ = h.plausible(16_384);
    }
    let mut cfg = H2Config::default().with_decode_content(true);
    cfg.max_streams = 8;
    cfg.max_frame = 4096;
    cfg.max_grpc_message = 256;
    let mut session = match mode % 3 {
        0 => H2Session::new(cfg),
        1 => H2Session::upgraded(cfg),
        _ => H2Session::midstream(cfg),
    };
    let mut events = 0usize;
    let mut sink = |ev: H2Event<'_>| {
        events += 1;
        let _ = format!("{ev:?}");
    };
    if mode & 0x80 != 0 {
        session.data(Direction::ClientToServer, 0, PREFACE, &mut sink);
    }
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
        assert!(session.memory() >= std::mem::size_of::<H2Session>());
    }
    session.end(None, 0, &mut sink);
    assert_eq!(session.open_streams(), 0);
});
