//! Arbitrary bytes as a sequence of TCP segments between a few fixed endpoints, with small
//! caps: no panic, the caps hold after every segment, and per (session, direction) the
//! Data and Gap events tile the stream.
#![no_main]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use pcap_tcp_reassembly::{Config, Direction, Event, EventKind, Reassembler, Segment, TcpFlags};

const ADDRS: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
];
const PORTS: [u16; 4] = [80, 443, 40000, 40001];
const HEADER: usize = 12;

fuzz_target!(|data: &[u8]| {
    let Some((cfg, mut rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let mut config = Config::default();
    config.max_sessions = usize::from(cfg[0] % 8) + 1;
    config.max_buffered_per_direction = usize::from(cfg[1]) * 16;
    config.max_buffered_total = usize::from(cfg[2]) * 32;
    config.max_chunks_per_direction = usize::from(cfg[3] % 16);
    config.gap_on_ack = cfg[3] & 0x80 != 0;
    config.idle_timeout_ns = Some(1000);
    let caps = config.clone();
    let mut r = Reassembler::new(config);
    let mut next: HashMap<(u64, bool), u64> = HashMap::new();
    let mut sink = |e: Event<'_>| {
        let (dir, offset, len) = match e.kind {
            EventKind::Data { dir, offset, bytes } => (dir, offset, bytes.len() as u64),
            EventKind::Gap { dir, offset, len } => (dir, offset, len),
            _ => return,
        };
        let at = next
            .entry((e.session, dir == Direction::ClientToServer))
            .or_insert(offset);
        assert_eq!(*at, offset, "data/gap events must tile the stream");
        *at = offset + len;
    };
    let mut ts = 0i64;
    while let Some((h, tail)) = rest.split_first_chunk::<HEADER>() {
        let sel = h[0];
        let len = usize::from(h[11] % 64).min(tail.len());
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        ts += i64::from(h[1] >> 4) * 100;
        let (a, b) = (usize::from(sel & 3), usize::from((sel >> 2) & 3));
        let v6 = sel & 0x10 != 0;
        let (src, dst) = if v6 {
            (ADDRS[2 + (a & 1)], ADDRS[2 + (b & 1)])
        } else {
            (ADDRS[a & 1], ADDRS[b & 1])
        };
        let seg = Segment {
            ts_ns: ts,
            src,
            dst,
            src_port: PORTS[a],
            dst_port: PORTS[b],
            seq: u32::from_be_bytes([h[2], h[3], h[4], h[5]]),
            ack: u32::from_be_bytes([h[6], h[7], h[8], h[9]]),
            flags: TcpFlags(u16::from(h[10])),
            window: u16::from(h[1] & 0xf),
            wscale: (h[1] & 0x80 != 0).then_some((h[1] >> 4) & 7),
            payload,
            orig_payload_len: (sel & 0x20 != 0).then_some(len as u32 + u32::from(h[1] & 0xf)),
            tunnel: u64::from(h[1] >> 7),
        };
        r.push(&seg, &mut sink);
        assert!(r.session_count() <= caps.max_sessions);
        assert!(r.buffered_bytes() <= caps.max_buffered_total);
    }
    r.finish(&mut sink);
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(r.session_count(), 0);
});
