//! Memory stays bounded on hostile input: a SYN flood of a million distinct flows, a hole
//! that never fills, and many sessions each holding out-of-order bytes. The caps are
//! checked after every segment.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pcap_tcp_reassembly::{CloseReason, Config, Event, EventKind, Reassembler, Segment, TcpFlags};

/// A million flows (a hundred times the session cap) in release builds; debug builds,
/// several times slower, run a quarter million, still 25 times the cap.
const FLOWS: u32 = if cfg!(debug_assertions) {
    250_000
} else {
    1_000_000
};

fn seg(
    src: IpAddr,
    sport: u16,
    seq: u32,
    flags: TcpFlags,
    payload: &[u8],
    ts_ns: i64,
) -> Segment<'_> {
    Segment {
        ts_ns,
        src,
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        src_port: sport,
        dst_port: 80,
        seq,
        ack: 0,
        flags,
        window: 65535,
        wscale: None,
        payload,
        orig_payload_len: None,
        tunnel: 0,
    }
}

#[test]
fn syn_flood_of_distinct_flows_stays_under_session_cap() {
    let mut config = Config::default();
    config.max_sessions = 10_000;
    let cap = config.max_sessions;
    let mut r = Reassembler::new(config);
    let mut evicted = 0u64;
    let mut started = 0u64;
    let mut sink = |e: Event<'_>| match e.kind {
        EventKind::Start { .. } => started += 1,
        EventKind::Closed {
            reason: CloseReason::Evicted,
            ..
        } => evicted += 1,
        _ => {}
    };
    for i in 0..FLOWS {
        let src = IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + (i >> 4)));
        let sport = 1024 + (i & 0xf) as u16;
        r.push(
            &seg(
                src,
                sport,
                i.wrapping_mul(2_654_435_761),
                TcpFlags::SYN,
                b"",
                i64::from(i),
            ),
            &mut sink,
        );
        assert!(
            r.session_count() <= cap,
            "{} sessions after {i} SYNs",
            r.session_count()
        );
        assert_eq!(r.buffered_bytes(), 0);
    }
    assert_eq!(r.session_count(), cap);
    assert_eq!(started, u64::from(FLOWS));
    assert_eq!(evicted, u64::from(FLOWS) - cap as u64);
    assert_eq!(r.stats().sessions_evicted, evicted);
}

#[test]
fn hole_that_never_fills_stays_under_buffer_cap() {
    let mut config = Config::default();
    config.max_buffered_per_direction = 256 * 1024;
    let cap = config.max_buffered_per_direction;
    let mut r = Reassembler::new(config);
    let payload = [0x5a_u8; 1448];
    let mut data = 0u64;
    let mut gaps = Vec::new();
    let mut sink = |e: Event<'_>| match e.kind {
        EventKind::Data { bytes, .. } => data += bytes.len() as u64,
        EventKind::Gap { offset, len, .. } => gaps.push((offset, len)),
        _ => {}
    };
    let client = IpAddr::V6(Ipv6Addr::LOCALHOST);
    r.push(&seg(client, 5000, 0, TcpFlags::SYN, b"", 0), &mut sink);
    // The first segment (offset 0..1448) is never sent; 64 MiB follow without any ACK.
    let segments: u32 = 64 * 1024 * 1024 / 1448;
    for k in 1..=segments {
        let seq = 1 + k * 1448;
        r.push(
            &seg(client, 5000, seq, TcpFlags::PSH, &payload, 0),
            &mut sink,
        );
        assert!(
            r.buffered_bytes() <= cap,
            "{} bytes buffered",
            r.buffered_bytes()
        );
    }
    r.finish(&mut sink);
    assert_eq!(r.buffered_bytes(), 0);
    // The hole is reported once, when the cap is first hit; everything else is delivered.
    assert_eq!(gaps, [(0, 1448)]);
    assert_eq!(data, u64::from(segments) * 1448);
    assert_eq!(r.stats().cap_flushes, 1);
}

#[test]
fn many_sessions_with_holes_stay_under_total_cap() {
    let mut config = Config::default();
    config.max_buffered_total = 1 << 20;
    config.max_sessions = 50_000;
    let total_cap = config.max_buffered_total;
    let mut r = Reassembler::new(config);
    let payload = [7u8; 1000];
    let mut sink = |_e: Event<'_>| {};
    let flows: u32 = 100_000;
    for i in 0..flows {
        let src = IpAddr::V4(Ipv4Addr::from(0x0c00_0000 + i));
        r.push(&seg(src, 6000, 100, TcpFlags::SYN, b"", 0), &mut sink);
        // Bytes 1000.. arrive, bytes 0..1000 never do.
        r.push(&seg(src, 6000, 1101, TcpFlags::PSH, &payload, 0), &mut sink);
        assert!(
            r.buffered_bytes() <= total_cap,
            "{} bytes buffered",
            r.buffered_bytes()
        );
        assert!(r.session_count() <= 50_000);
    }
    assert!(r.stats().cap_flushes > 0);
    r.finish(&mut sink);
    assert_eq!(r.buffered_bytes(), 0);
}
